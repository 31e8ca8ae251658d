-- drop-type: DROP TYPE / DROP DOMAIN of a type that exists before this run.
local tree = require("stallmig.sqltree")

return {
  id = "drop-type",
  severity = "error",
  explanation = "dropping a type (an enum's values with it) fails while a column uses it, and with CASCADE drops those columns",
  suggestion = "move the columns to another type first; PostgreSQL cannot drop one enum value, so rename the type, create the new one and convert",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("drop_type")) do
      local cascade = s.node.behavior == "DROP_CASCADE" and ", and CASCADE drops every column of that type" or ""
      out[#out + 1] = f.what .. " " .. tree.qualified(f.schema, f.type_name) .. " removes the type" .. cascade
    end
    return out
  end,
}

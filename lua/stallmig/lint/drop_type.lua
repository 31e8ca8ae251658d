-- drop-type: DROP TYPE / DROP DOMAIN of a type that exists before this run.
-- An error with CASCADE (the columns go with it); without it the DROP fails
-- while a column uses the type, so nothing is lost: a warning, and nothing
-- for a type renamed away earlier in the run (Prisma's enum swap:
-- RENAME TO "x_old", CREATE TYPE x, ALTER the columns, DROP TYPE "x_old").
local tree = require("stallmig.sqltree")

return {
  id = "drop-type",
  severity = "error",
  explanation = "dropping a type (an enum's values with it) fails while a column uses it, and with CASCADE drops those columns",
  suggestion = "move the columns to another type first; PostgreSQL cannot drop one enum value, so rename the type, create the new one and convert",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("drop_type")) do
      local name = f.what .. " " .. tree.qualified(f.schema, f.type_name)
      if f.cascade then
        out[#out + 1] = name .. " CASCADE drops every column of that type with its values"
      elseif not f.renamed then -- renamed away in this run: the enum swap, its columns converted
        out[#out + 1] = { severity = "warning", message = name
          .. " fails while a column uses it (nothing is lost); code that names the type breaks" }
      end
    end
    return out
  end,
}

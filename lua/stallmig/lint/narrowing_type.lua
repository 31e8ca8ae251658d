-- narrowing-type: ALTER COLUMN TYPE to a type that cannot hold every old value.
-- An error when the current type is known (snapshot or this run); a warning
-- when only the new type says it bounds what it holds.
local typechange = require("stallmig.typechange")

return {
  id = "narrowing-type",
  severity = "error",
  explanation = "a narrower column type refuses or rounds the values that do not fit",
  suggestion = "check the data first (the evidence step measures it), or add a new column and backfill it",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("alter_type")) do
      local col = s.name(f) .. "." .. f.column
      if f.new_column then
        -- added in this run: no values yet
      elseif f.old then
        local why = typechange.loss(f.old, f.type)
        if why then
          out[#out + 1] = "ALTER COLUMN " .. col .. " TYPE " .. f.old.sql .. " -> " .. f.type.sql .. ": " .. why
        end
      else
        local why = typechange.may_lose(f.type)
        if why then
          out[#out + 1] = { severity = "warning", message = "ALTER COLUMN " .. col .. " TYPE " .. f.type.sql
            .. ": " .. why .. " (the current type is not known from the migrations)" }
        end
      end
    end
    return out
  end,
}

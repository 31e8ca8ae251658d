-- domain-constraint: ALTER DOMAIN ... ADD CONSTRAINT without NOT VALID checks
-- every column of the domain while it holds their tables' locks.
-- squawk: ban-alter-domain-with-add-constraint.
local tree = require("stallmig.sqltree")

return {
  id = "domain-constraint",
  severity = "warning",
  explanation = "a new domain constraint is checked against every value of every column of that domain, under locks on their tables",
  suggestion = "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later migration",
  check = function(s)
    local out = {}
    for _, f in ipairs(s.facts) do
      if f.action == "domain_constraint" and not f.new_table then
        out[#out + 1] = "ALTER DOMAIN " .. tree.qualified(f.schema, f.type_name)
          .. " ADD CONSTRAINT without NOT VALID checks every column of that domain"
      end
    end
    return out
  end,
}

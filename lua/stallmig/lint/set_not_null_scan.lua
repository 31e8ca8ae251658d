-- set-not-null-scan: SET NOT NULL scans the table unless a validated
-- CHECK (col IS NOT NULL) from this run proves it first (PostgreSQL 12+).
return {
  id = "set-not-null-scan",
  severity = "warning",
  explanation = "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
  suggestion = "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c; then SET NOT NULL (no scan) and drop c",
  check = function(s, state)
    local out = {}
    for _, f in ipairs(s:existing("set_not_null")) do
      if not state:has_not_null_check(f.schema, f.table, f.column) then
        out[#out + 1] = "SET NOT NULL on " .. s.name(f) .. "." .. f.column
          .. " scans the table under an ACCESS EXCLUSIVE lock (no validated CHECK (" .. f.column .. " IS NOT NULL) first)"
      end
    end
    return out
  end,
}

-- constraint-not-valid: ADD FOREIGN KEY / CHECK validated under the lock.
return {
  id = "constraint-not-valid",
  severity = "warning",
  explanation = "adding a FOREIGN KEY or CHECK without NOT VALID scans the whole table while holding a lock that blocks writes",
  suggestion = "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later statement or migration",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("lock")) do
      if f.validates then
        out[#out + 1] = f.what:gsub(" without NOT VALID", "") .. " on " .. s.name(f)
          .. " without NOT VALID checks every row under the lock"
      end
    end
    return out
  end,
}

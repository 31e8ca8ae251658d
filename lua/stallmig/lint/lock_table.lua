-- lock-table: an explicit LOCK TABLE in a mode that blocks writes.
return {
  id = "lock-table",
  severity = "warning",
  explanation = "LOCK TABLE holds a lock that blocks the application until the migration's transaction ends",
  suggestion = "let each statement take the lock it needs, keep the migration short, and set lock_timeout",
  check = function(s)
    if s.kind ~= "LockStmt" then return nil end
    local out = {}
    for _, f in ipairs(s:existing("lock")) do
      out[#out + 1] = "LOCK TABLE " .. s.name(f) .. " blocks the application until the migration ends"
    end
    return out
  end,
}

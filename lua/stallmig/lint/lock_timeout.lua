-- lock-timeout: a strong lock on an existing table with no lock_timeout set
-- earlier in the file (like squawk's require-timeout-settings). Reported once
-- per file, at the first such statement.
local tree = require("stallmig.sqltree")

return {
  id = "lock-timeout",
  severity = "warning",
  explanation = "waiting for a strong lock queues every later query on the table behind the migration; lock_timeout makes it give up instead",
  suggestion = "start the file with SET LOCAL lock_timeout = '5s' (SET lock_timeout in a non-transactional migration)",
  check = function(s, state)
    if state:lock_timeout_set() or state.file.lock_timeout_reported then return nil end
    for _, f in ipairs(s.facts) do
      if f.locks and not f.new_table and (f.table or f.index) then
        state.file.lock_timeout_reported = true -- once per file: the fix is one SET at the top
        local on = f.table and s.name(f) or tree.qualified(f.schema, f.index)
        return "no lock_timeout before " .. f.what .. " on " .. on
      end
    end
    return nil
  end,
}

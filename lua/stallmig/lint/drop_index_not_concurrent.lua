-- drop-index-not-concurrent: DROP INDEX without CONCURRENTLY takes an ACCESS
-- EXCLUSIVE lock on its table. Quiet for an index on a table created in this
-- run. squawk: require-concurrent-index-deletion.
local tree = require("stallmig.sqltree")

return {
  id = "drop-index-not-concurrent",
  severity = "warning",
  explanation = "DROP INDEX without CONCURRENTLY locks its table against reads and writes, and queues every query behind it while it waits",
  suggestion = "DROP INDEX CONCURRENTLY alone in its own migration",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("index_lock")) do
      if f.drop_index then
        out[#out + 1] = "DROP INDEX " .. tree.qualified(f.schema, f.index)
          .. (f.table and (" locks " .. s.name(f)) or " locks its table") .. " against reads and writes"
      end
    end
    return out
  end,
}

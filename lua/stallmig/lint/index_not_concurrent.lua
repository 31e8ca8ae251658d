-- index-not-concurrent: an index built under a write-blocking lock on an
-- existing table: CREATE INDEX without CONCURRENTLY, ADD PRIMARY KEY / UNIQUE
-- without USING INDEX; REINDEX without CONCURRENTLY (squawk's
-- require-concurrent-reindex).
local tree = require("stallmig.sqltree")

return {
  id = "index-not-concurrent",
  severity = "warning",
  explanation = "building an index without CONCURRENTLY blocks every write to the table until it is built",
  suggestion = "CREATE INDEX CONCURRENTLY alone in its own migration (then ADD CONSTRAINT ... USING INDEX for a key)",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("index_lock")) do
      if f.builds_index then
        out[#out + 1] = f.builds_index .. " " .. tree.qualified(f.schema, f.index)
          .. " rebuilds it while blocking writes to its table"
      end
    end
    for _, f in ipairs(s:existing("lock")) do
      if f.builds_index and s.kind == "IndexStmt" then
        out[#out + 1] = "CREATE INDEX on " .. s.name(f) .. " without CONCURRENTLY blocks writes while it builds"
      elseif f.builds_index then
        out[#out + 1] = f.builds_index .. " on " .. s.name(f) .. " builds its index while blocking writes"
      end
    end
    return out
  end,
}

-- index-not-concurrent: CREATE INDEX without CONCURRENTLY on an existing table.
return {
  id = "index-not-concurrent",
  severity = "warning",
  explanation = "CREATE INDEX without CONCURRENTLY blocks every write to the table until the index is built",
  suggestion = "CREATE INDEX CONCURRENTLY, alone in its own migration (it cannot run in a transaction)",
  check = function(s)
    if s.kind ~= "IndexStmt" then return nil end
    local out = {}
    for _, f in ipairs(s:existing("lock")) do
      out[#out + 1] = "CREATE INDEX on " .. s.name(f) .. " without CONCURRENTLY blocks writes while it builds"
    end
    return out
  end,
}

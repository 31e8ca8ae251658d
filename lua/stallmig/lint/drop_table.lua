-- drop-table: DROP TABLE of a table that exists before this run.
return {
  id = "drop-table",
  severity = "error",
  explanation = "DROP TABLE deletes the table and every row in it, and code still reading it fails",
  suggestion = "stop using the table first, take a backup, and drop it in a later release (or rename it and drop later)",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("drop_table")) do
      out[#out + 1] = "DROP TABLE " .. s.name(f) .. " deletes the table and all its rows"
    end
    return out
  end,
}

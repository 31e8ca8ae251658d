-- drop-column: DROP COLUMN of a column that exists before this run.
return {
  id = "drop-column",
  severity = "error",
  explanation = "DROP COLUMN deletes the column's values, and running code that reads or writes it fails",
  suggestion = "stop reading and writing the column in a release first, then drop it in a later migration",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("drop_column")) do
      if not f.new_column then
        out[#out + 1] = "DROP COLUMN " .. s.name(f) .. "." .. f.column .. " deletes its values"
      end
    end
    return out
  end,
}

-- rename-column: ALTER TABLE ... RENAME COLUMN on a column running code uses.
return {
  id = "rename-column",
  severity = "warning",
  explanation = "running code that still uses the old column name fails as soon as the rename commits",
  suggestion = "add the new column, write both, backfill, move reads over, then drop the old column",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("rename_column")) do
      if not f.new_column then
        out[#out + 1] = "renaming column " .. s.name(f) .. "." .. f.column .. " to " .. f.new_name
          .. " breaks code that uses the old name"
      end
    end
    return out
  end,
}

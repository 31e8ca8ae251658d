-- rename-table: ALTER TABLE ... RENAME TO on a table running code uses.
return {
  id = "rename-table",
  severity = "warning",
  explanation = "running code that still uses the old table name fails as soon as the rename commits",
  suggestion = "create the new table (or a view with the old name) and move code over before removing the old name",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("rename_table")) do
      out[#out + 1] = "renaming table " .. s.name(f) .. " to " .. f.new_name .. " breaks code that uses the old name"
    end
    return out
  end,
}

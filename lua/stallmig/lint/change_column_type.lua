-- change-column-type: ALTER COLUMN TYPE changes what running code reads and writes.
return {
  id = "change-column-type",
  severity = "warning",
  explanation = "running code may not handle the new type, and the change holds an ACCESS EXCLUSIVE lock",
  suggestion = "add a column of the new type, write both, backfill, then switch reads and drop the old column",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("alter_type")) do
      if not f.new_column then
        out[#out + 1] = "changing the type of " .. s.name(f) .. "." .. f.column .. " to " .. f.new_type
          .. " changes what running code reads and writes"
      end
    end
    return out
  end,
}

-- volatile-default: ADD COLUMN whose default must be computed for every row.
return {
  id = "volatile-default",
  severity = "warning",
  explanation = "a volatile default (random(), clock_timestamp(), gen_random_uuid(), a serial) rewrites the whole table under an ACCESS EXCLUSIVE lock",
  suggestion = "add the column without a default (or with a constant), set the default afterwards, and backfill in batches",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("rewrite")) do
      if f.why then
        out[#out + 1] = "ADD COLUMN " .. s.name(f) .. "." .. f.column .. " rewrites the table: " .. f.why
      end
    end
    return out
  end,
}

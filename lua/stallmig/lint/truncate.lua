-- truncate: TRUNCATE of a table that exists before this run.
return {
  id = "truncate",
  severity = "error",
  explanation = "TRUNCATE deletes every row at once, under an ACCESS EXCLUSIVE lock",
  suggestion = "delete only the rows meant to go (DELETE ... WHERE), or move the data aside first",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("truncate")) do
      out[#out + 1] = "TRUNCATE " .. s.name(f) .. " deletes every row"
    end
    return out
  end,
}

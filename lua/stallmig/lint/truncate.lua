-- truncate: TRUNCATE of a table that exists before this run (says when
-- CASCADE empties the referencing tables too: squawk's ban-truncate-cascade).
return {
  id = "truncate",
  severity = "error",
  explanation = "TRUNCATE deletes every row at once, under an ACCESS EXCLUSIVE lock",
  suggestion = "delete only the rows meant to go (DELETE ... WHERE), or move the data aside first",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("truncate")) do
      out[#out + 1] = "TRUNCATE " .. s.name(f) .. " deletes every row" .. (s.node.behavior == "DROP_CASCADE"
        and ", and CASCADE also empties every table with a foreign key to it" or "")
    end
    return out
  end,
}

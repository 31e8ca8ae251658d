-- update-without-where: UPDATE with no WHERE clause.
return {
  id = "update-without-where",
  severity = "error",
  explanation = "an UPDATE without WHERE overwrites the columns of every row, and locks every row while it runs",
  suggestion = "add a WHERE clause; backfill large tables in batches",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("update_all")) do
      out[#out + 1] = "UPDATE " .. s.name(f) .. " without WHERE overwrites every row"
    end
    return out
  end,
}

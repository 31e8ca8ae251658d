-- delete-without-where: DELETE with no WHERE clause.
return {
  id = "delete-without-where",
  severity = "error",
  explanation = "a DELETE without WHERE deletes every row of the table",
  suggestion = "add a WHERE clause naming the rows to delete",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("delete_all")) do
      out[#out + 1] = "DELETE FROM " .. s.name(f) .. " without WHERE deletes every row"
    end
    return out
  end,
}

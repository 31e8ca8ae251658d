-- set-not-null: SET NOT NULL breaks writers that leave the column empty.
return {
  id = "set-not-null",
  severity = "warning",
  explanation = "after SET NOT NULL, running code that inserts without the column or writes NULL fails",
  suggestion = "deploy code that always writes the column (or give it a default) before making it NOT NULL",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("set_not_null")) do
      if not f.new_column then
        out[#out + 1] = "SET NOT NULL on " .. s.name(f) .. "." .. f.column .. " fails writes of NULL from running code"
      end
    end
    return out
  end,
}

-- drop-not-null: DROP NOT NULL on an existing column. squawk: ban-drop-not-null.
return {
  id = "drop-not-null",
  severity = "warning",
  explanation = "after DROP NOT NULL the column can hold NULL, and running code that assumes a value breaks on the first one",
  suggestion = "deploy code that handles NULL in the column first",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("drop_not_null")) do
      if not f.new_column then
        out[#out + 1] = "DROP NOT NULL on " .. s.name(f) .. "." .. f.column .. " lets NULL reach code that expects a value"
      end
    end
    return out
  end,
}

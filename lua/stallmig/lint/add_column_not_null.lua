-- add-column-not-null: ADD COLUMN ... NOT NULL without a default on a table
-- that may hold rows (not created, nor emptied by DELETE without WHERE or
-- TRUNCATE, earlier in this run). squawk: adding-required-field.
return {
  id = "add-column-not-null",
  severity = "error",
  explanation = "a NOT NULL column without a default has no value for the rows already there: the ALTER fails on any table that holds a row",
  suggestion = "add it nullable (or with a constant DEFAULT), backfill it, then SET NOT NULL",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("add_required")) do
      if not f.emptied then
        out[#out + 1] = "ADD COLUMN " .. s.name(f) .. "." .. f.column
          .. " NOT NULL without DEFAULT fails if " .. s.name(f) .. " holds any row"
      end
    end
    return out
  end,
}

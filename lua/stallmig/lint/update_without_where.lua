-- update-without-where: UPDATE with no WHERE clause. An error (values are
-- overwritten); a warning when it only fills columns added in this run.
return {
  id = "update-without-where",
  severity = "error",
  explanation = "an UPDATE without WHERE overwrites the columns of every row, and locks every row while it runs",
  suggestion = "add a WHERE clause; backfill large tables in batches",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("update_all")) do
      if f.fills_new then -- a backfill of columns added in this run: nothing is overwritten
        out[#out + 1] = { severity = "warning", message = "UPDATE " .. s.name(f) .. " without WHERE fills "
          .. table.concat(f.columns, ", ") .. " (added in this run) in every row: a full-table write that locks "
          .. "every row and runs as long as the table is big" }
      else
        out[#out + 1] = "UPDATE " .. s.name(f) .. " without WHERE overwrites every row"
      end
    end
    return out
  end,
}

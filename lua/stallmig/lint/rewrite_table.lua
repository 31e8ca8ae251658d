-- rewrite-table: VACUUM FULL, CLUSTER, SET LOGGED and ALTER COLUMN TYPE that rewrite the table.
return {
  id = "rewrite-table",
  severity = "warning",
  explanation = "the statement rewrites the whole table while holding an ACCESS EXCLUSIVE lock: no reads or writes until it ends",
  suggestion = "use pg_repack (or a new column and a batched backfill) instead, or run it in a maintenance window",
  check = function(s)
    local out = {}
    for _, f in ipairs(s:existing("rewrite")) do
      if not f.why then
        out[#out + 1] = f.what .. " rewrites " .. s.name(f) .. " under an ACCESS EXCLUSIVE lock"
      end
    end
    if s.kind == "VacuumStmt" and s.node.is_vacuumcmd and #(s.node.rels or {}) == 0
        and require("stallmig.sqltree").has_def(s.node.options, "full") then
      out[#out + 1] = "VACUUM FULL without a table rewrites every table in the database"
    end
    return out
  end,
}

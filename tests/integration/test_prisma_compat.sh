# prisma_compat = true: _prisma_migrations kept as Prisma's engine keeps it.

compat_project() {
  new_project
  printf 'prisma_compat = true\n' >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  printf 'DROP TABLE a;\n' >"$PROJECT/migrations/20240101000000_a/down.sql"
  add_migration 20240102000000_idx 'CREATE INDEX CONCURRENTLY a_id ON a (id);'
}

prisma_rows() {
  psql_q "SELECT migration_name || ':' || (finished_at IS NOT NULL) || ':' || (rolled_back_at IS NOT NULL) || ':'
    || applied_steps_count || ':' || coalesce(left(logs, 30), '') || ':' || checksum
    FROM _prisma_migrations ORDER BY started_at, migration_name"
}

test_prisma_rows_follow_deploy_failure_resolve_and_rollback() {
  compat_project
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  local a_sum idx_sum
  a_sum=$(sha256sum "$PROJECT/migrations/20240101000000_a/migration.sql" | cut -d' ' -f1)
  idx_sum=$(sha256sum "$PROJECT/migrations/20240102000000_idx/migration.sql" | cut -d' ' -f1)
  assert_eq "20240101000000_a:true:false:1::$a_sum
20240102000000_idx:true:false:1::$idx_sum" "$(prisma_rows)"
  assert_eq t "$(psql_q 'SELECT bool_and(started_at <= finished_at) FROM _prisma_migrations')"
  # a failed migration leaves a row with logs and no finished_at, as Prisma's does
  add_migration 20240103000000_bad $'-- stallmig:no-transaction\nCREATE TABLE c (id int);\nSELECT 1/0;\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_eq "20240103000000_bad:false:false:0:division by zero:" "$(prisma_rows | tail -1 | cut -d: -f1-5):"
  run_stallrun workflows/resolve.lua --env dev --migration 20240103000000_bad --rolled-back --reason "dropped c"
  assert_exit 0
  assert_eq "t" "$(psql_q "SELECT rolled_back_at IS NOT NULL FROM _prisma_migrations WHERE migration_name = '20240103000000_bad'")"
  # rollback with down.sql: Prisma sees it as not applied any more
  rm -r "$PROJECT/migrations/20240103000000_bad"
  psql_q "DROP TABLE c" >/dev/null
  run_stallrun workflows/rollback.lua --env dev --to 20240101000000_a
  assert_exit 1                                # idx has no down.sql
  printf 'DROP INDEX CONCURRENTLY a_id;\n' >"$PROJECT/migrations/20240102000000_idx/down.sql"
  run_stallrun workflows/rollback.lua --env dev --steps 1
  assert_exit 0
  assert_eq "t" "$(psql_q "SELECT rolled_back_at IS NOT NULL FROM _prisma_migrations WHERE migration_name = '20240102000000_idx'")"
}

# rows_of NAME — "finished:rolled_back:steps:logs:checksum" of each row of
# migration NAME, oldest first (logs cut at 30 characters).
rows_of() {
  psql_q "SELECT (finished_at IS NOT NULL) || ':' || (rolled_back_at IS NOT NULL) || ':' || applied_steps_count
            || ':' || coalesce(left(logs, 30), 'null') || ':' || checksum
            FROM _prisma_migrations WHERE migration_name = '$1' ORDER BY started_at"
}

sum_of() { sha256sum "$PROJECT/migrations/$1/migration.sql" | cut -d' ' -f1; }

# A failed attempt and the fixed re-deploy once marked the failed attempt's
# row finished, with its old checksum and logs (issue 12, item 20). Prisma
# leaves it unfinished with rolled_back_at set (by `prisma migrate resolve
# --rolled-back`, which it needs before the retry) and finishes only the new
# attempt's row; stallrun, which retries without a resolve when nothing was
# left behind, writes the same rows. Likewise after a part-way failure and
# its resolve, and for resolve --applied (a row with logs '').
test_prisma_rows_of_retried_attempts_are_as_prisma_writes_them() {
  compat_project
  add_migration 20240103000000_b $'CREATE TABLE b (id int);\nSELECT 1/0;\n'
  local bad1 bad2 good
  bad1=$(sum_of 20240103000000_b)
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_eq "false:false:0:division by zero:$bad1" "$(rows_of 20240103000000_b)"
  # failed again, differently: the first attempt is resolved as rolled back
  add_migration 20240103000000_b $'CREATE TABLE b (id int);\nSELECT * FROM nowhere;\n'
  bad2=$(sum_of 20240103000000_b)
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_eq "false:true:0:division by zero:$bad1
false:false:0:relation \"nowhere\" does not ex:$bad2" "$(rows_of 20240103000000_b)"
  # fixed: only the new attempt's row is finished
  add_migration 20240103000000_b $'CREATE TABLE b (id int);\n'
  good=$(sum_of 20240103000000_b)
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "false:true:0:division by zero:$bad1
false:true:0:relation \"nowhere\" does not ex:$bad2
true:false:1:null:$good" "$(rows_of 20240103000000_b)"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL")" \
    "prisma migrate deploy would stop at a failed migration (P3009)"
  assert_eq t "$(psql_q "SELECT bool_and(r.rolled_back_at <= n.started_at) FROM _prisma_migrations r, _prisma_migrations n
                         WHERE r.migration_name = n.migration_name AND r.rolled_back_at IS NOT NULL AND n.finished_at IS NOT NULL")"

  # part-way, resolved as rolled back, then fixed
  add_migration 20240104000000_c $'-- stallmig:no-transaction\nCREATE TABLE c (id int);\nSELECT 1/0;\n'
  bad1=$(sum_of 20240104000000_c)
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  psql_q "DROP TABLE c" >/dev/null
  run_stallrun workflows/resolve.lua --env dev --migration 20240104000000_c --rolled-back --reason "dropped c"
  assert_exit 0
  add_migration 20240104000000_c $'-- stallmig:no-transaction\nCREATE TABLE c (id int);\n'
  good=$(sum_of 20240104000000_c)
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "false:true:0:division by zero:$bad1
true:false:1:null:$good" "$(rows_of 20240104000000_c)"

  # part-way, finished by hand and resolved as applied
  add_migration 20240105000000_d $'-- stallmig:no-transaction\nCREATE TABLE d (id int);\nSELECT 1/0;\n'
  bad1=$(sum_of 20240105000000_d)
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  run_stallrun workflows/resolve.lua --env dev --migration 20240105000000_d --applied --reason "nothing else to do"
  assert_exit 0
  assert_eq "false:true:0:division by zero:$bad1
true:false:0::$bad1" "$(rows_of 20240105000000_d)"
  assert_eq t "$(psql_q "SELECT started_at = finished_at FROM _prisma_migrations WHERE migration_name = '20240105000000_d' AND finished_at IS NOT NULL")"
}

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

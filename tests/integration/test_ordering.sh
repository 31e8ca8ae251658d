# Prisma's order and Prisma histories' odd names.

test_odd_prisma_names_apply_in_byte_order() {
  new_project
  add_migration '00000000000000_log' 'CREATE TABLE log (n text);'
  add_migration '20240101_eight_digits' "INSERT INTO log VALUES ('eight');"
  add_migration '202401011200_twelve_digits' "INSERT INTO log VALUES ('twelve');"
  add_migration '20240101120000_shared_b' "INSERT INTO log VALUES ('shared_b');"
  add_migration '20240101120000_shared_a' "INSERT INTO log VALUES ('shared_a');"
  add_migration '20240101120001_with a space' "INSERT INTO log VALUES ('space')"
  printf 'provider = "postgresql"\n' >"$PROJECT/migrations/migration_lock.toml"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  # byte order, as Prisma sorts: '0' (0x30) < '1' < '_' (0x5f)
  assert_eq "shared_a,shared_b,space,twelve,eight" "$(psql_q "SELECT string_agg(n, ',' ORDER BY ctid) FROM log")"
  assert_err_contains "20240101_eight_digits: name is not <14-digit UTC timestamp>_<lowercase_name>"
  assert_eq 6 "$(psql_q "SELECT count(DISTINCT name) FROM stallmig.migrations")"
}

test_older_pending_migration_is_applied_with_warning() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240103000000_c 'CREATE TABLE c (id int);'
  run_stallrun workflows/deploy.lua --env dev
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "20240102000000_b sorts before migrations already applied; applying it now"
  assert_eq "b" "$(psql_q "SELECT to_regclass('b')")"
}

test_folder_without_migration_sql_is_an_error() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  mkdir -p "$PROJECT/migrations/20240102000000_empty"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "migrations/20240102000000_empty: has no migration.sql"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")"
}

test_empty_and_comment_only_files_apply() {
  new_project
  add_migration 20240101000000_empty ''
  add_migration 20240101000001_comments $'-- nothing to do yet\n/* really */\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq 2 "$(psql_q "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'applied'")"
}

# Deploy: apply, no-op, incremental, failure in the middle, error positions, JSON.

five_migrations() {
  add_migration 20240101000001_users 'CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);'
  add_migration 20240101000002_stables 'CREATE TABLE stables (id serial PRIMARY KEY, owner int REFERENCES users(id));'
  add_migration 20240101000003_stalls 'CREATE TABLE stalls (id serial PRIMARY KEY, stable int REFERENCES stables(id));'
  add_migration 20240101000004_listings 'CREATE TABLE listings (id serial PRIMARY KEY, stall int REFERENCES stalls(id));'
  add_migration 20240101000005_bookings 'CREATE TABLE bookings (id serial PRIMARY KEY, listing int REFERENCES listings(id));'
}

test_deploy_onto_empty_database() {
  new_project
  five_migrations
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Deployed 5 migration(s) to dev"
  assert_out_contains "+ 20240101000003_stalls"
  assert_eq 5 "$(psql_q "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" "tables"
  assert_eq "5|5|transactional" "$(psql_q "SELECT count(*), count(*) FILTER (WHERE outcome = 'applied' AND duration_ms >= 0 AND finished_at >= started_at), min(mode) FROM stallmig.migrations")"
  assert_eq "$(sha256sum "$PROJECT/migrations/20240101000001_users/migration.sql" | cut -d' ' -f1)" \
    "$(psql_q "SELECT checksum FROM stallmig.migrations WHERE name = '20240101000001_users'")" "checksum is SHA-256 of the file"
  assert_eq "$(id -un)@$(hostname)|dev" "$(psql_q "SELECT DISTINCT applied_by || '|' || environment FROM stallmig.migrations")"
}

test_rerun_is_noop() {
  new_project
  five_migrations
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Nothing to deploy: dev is up to date (5 migrations)"
  assert_eq 5 "$(psql_q "SELECT count(*) FROM stallmig.migrations")" "history rows after a no-op"
}

test_new_migration_alone_is_applied() {
  new_project
  five_migrations
  run_stallrun workflows/deploy.lua --env dev
  add_migration 20240201000000_add_user_phone 'ALTER TABLE users ADD COLUMN phone text;'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Deploying 1 migration(s) to dev"
  assert_out_contains "20240201000000_add_user_phone"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM information_schema.columns WHERE column_name = 'phone'")"
  assert_eq 6 "$(psql_q "SELECT count(*) FROM stallmig.migrations")"
}

test_sql_error_in_third_of_five_keeps_first_two() {
  new_project
  five_migrations
  add_migration 20240101000003_stalls $'CREATE TABLE stalls (id serial PRIMARY KEY);\nCREATE TABLE stall_photos (stall int REFERENCES stallz(id));\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "migration 20240101000003_stalls failed at migrations/20240101000003_stalls/migration.sql:2:"
  assert_err_contains 'relation "stallz" does not exist'
  assert_err_contains "SQLSTATE 42P01"
  assert_err_contains "the 2 migration(s) before it stay applied"
  assert_eq "users,stables" "$(psql_q "SELECT string_agg(table_name, ',' ORDER BY table_name DESC) FROM information_schema.tables WHERE table_schema = 'public'")" "only the first two migrations' tables"
  assert_eq "20240101000001_users:applied,20240101000002_stables:applied,20240101000003_stalls:failed" \
    "$(psql_q "SELECT string_agg(name || ':' || outcome, ',' ORDER BY id) FROM stallmig.migrations")"
  assert_eq '2|2|relation "stallz" does not exist|f' "$(psql_q "SELECT failed_statement, failed_line, error, partial FROM stallmig.migrations WHERE outcome = 'failed'")"
}

test_error_position_maps_to_file_line_and_column() {
  new_project
  add_migration 20240101000000_init $'-- Prisma writes a comment first\n\nCREATE TABLE a (id int);\n\n-- æøå in a comment\nSELECT id, nope FROM a;\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "migration.sql:6:12: column \"nope\" does not exist"
}

test_parse_error_reported_before_anything_is_sent() {
  new_project
  add_migration 20240101000000_first 'CREATE TABLE first (id int);'
  add_migration 20240101000001_broken $'CREATE TABLE ok (id int);\nCREATE TABLE broken (id int,,);\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "migrations/20240101000001_broken/migration.sql:2:29: cannot parse 20240101000001_broken: syntax error at or near \",\""
  assert_eq "" "$(psql_q "SELECT to_regclass('first')")" "nothing applied, not even the valid first migration"
}

test_json_output_describes_the_deploy() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240101000001_b 'SELECT 1/0;'
  run_stallrun workflows/deploy.lua --env dev --json
  assert_exit 1
  assert_eq "False" "$(json_get "['ok']")"
  assert_eq "deploy|dev|2" "$(json_get "['workflow']")|$(json_get "['environment']")|$(json_get "['pending']")"
  assert_eq "20240101000000_a True" "$(json_get "['applied'][0]['name']") $(json_get "['applied'][0]['ok']")"
  assert_eq "22012 20240101000001_b 1" "$(json_get "['error']['sqlstate']") $(json_get "['error']['migration']") $(json_get "['error']['line']")"
  assert_err_contains "division by zero"
}

# The history against the files: edited, missing, line endings, retries.

test_edited_migration_detected_by_status_and_blocks_deploy() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240101000001_b 'CREATE TABLE b (id int);'
  run_stallrun workflows/deploy.lua --env dev
  add_migration 20240101000000_a 'CREATE TABLE a (id bigint);'
  add_migration 20240101000002_c 'CREATE TABLE c (id int);'
  run_stallrun workflows/status.lua --env dev
  assert_exit 1
  [[ "$OUT" =~ 20240101000000_a\ +modified ]] || fail "status does not show a as modified"
  [[ "$OUT" =~ 20240101000002_c\ +pending ]] || fail "status does not show c as pending"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "1 applied migration(s) were edited since they were applied"
  assert_err_contains "20240101000000_a"
  assert_eq "" "$(psql_q "SELECT to_regclass('c')")" "deploy applied nothing"
}

test_line_endings_and_bom_are_not_edits() {
  new_project
  add_migration 20240101000000_a $'CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n'
  run_stallrun workflows/deploy.lua --env dev
  add_migration 20240101000000_a $'\xef\xbb\xbfCREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n'
  run_stallrun workflows/status.lua --env dev
  assert_exit 0
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Nothing to deploy"
}

test_deleted_migration_reported_missing() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240101000001_b 'CREATE TABLE b (id int);'
  run_stallrun workflows/deploy.lua --env dev
  rm -r "$PROJECT/migrations/20240101000001_b"
  run_stallrun workflows/status.lua --env dev --json
  assert_exit 1
  assert_eq "missing 1" "$(json_get "['migrations'][1]['state']") $(json_get "['counts']['missing']")"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "1 applied migration(s) are missing from the migrations folder"
}

test_failed_transactional_migration_is_retried_after_fix() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240101000001_b $'CREATE TABLE b (id int);\nINSERT INTO b VALUES (1/0);\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  run_stallrun workflows/status.lua --env dev
  [[ "$OUT" =~ 20240101000001_b\ +failed ]] || fail "status does not show b as failed"
  add_migration 20240101000001_b $'CREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "failed before and left nothing behind; trying it again"
  assert_eq "failed,applied" "$(psql_q "SELECT string_agg(outcome, ',' ORDER BY id) FROM stallmig.migrations WHERE name = '20240101000001_b'")"
  run_stallrun workflows/status.lua --env dev
  assert_exit 0   # the fixed file is not "modified": only successful runs count
}

test_status_is_read_only_and_exit_codes() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  run_stallrun workflows/status.lua --env dev
  assert_exit 1
  assert_out_contains "dev: 0 applied, 1 pending"
  assert_eq "" "$(psql_q "SELECT to_regnamespace('stallmig')")" "status created nothing"
  run_stallrun workflows/deploy.lua --env dev
  run_stallrun workflows/status.lua --env dev --json
  assert_exit 0
  assert_eq "True 1" "$(json_get "['up_to_date']") $(json_get "['counts']['applied']")"
}

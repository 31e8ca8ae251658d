# How a file runs: transactional, self-managed, non-transactional.

test_create_index_concurrently_single_statement() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int, name text);'
  add_migration 20240101000001_idx 'CREATE INDEX CONCURRENTLY a_name ON a (name);'
  add_migration 20240101000002_drop_idx 'DROP INDEX CONCURRENTLY a_name;'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "non-transactional,non-transactional" "$(psql_q "SELECT string_agg(mode, ',' ORDER BY id) FROM stallmig.migrations WHERE name LIKE '%idx'")"
}

test_no_transaction_marker_runs_in_autocommit() {
  new_project
  add_migration 20240101000000_enum 'CREATE TYPE mood AS ENUM ('"'ok'"');'
  # VACUUM cannot run in a transaction; the marker also makes plain DDL autocommit
  add_migration 20240101000001_marked $'-- stallmig:no-transaction\nCREATE TABLE a (id int);\nVACUUM a;\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "non-transactional|applied" "$(psql_q "SELECT mode || '|' || outcome FROM stallmig.migrations WHERE name = '20240101000001_marked'")"
}

test_self_managed_file_is_atomic_as_written() {
  new_project
  add_migration 20240101000000_own_tx $'BEGIN;\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\nSELECT 1/0;\nCOMMIT;\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "migration.sql:4:"
  assert_eq "|" "$(psql_q "SELECT coalesce(to_regclass('a')::text, '') || '|' || coalesce(to_regclass('b')::text, '')")" "nothing of the file's own transaction stays"
  assert_eq "self-managed|failed|false" "$(psql_q "SELECT mode || '|' || outcome || '|' || partial FROM stallmig.migrations")"
  # it left nothing, so it is retried like a transactional one
  add_migration 20240101000000_own_tx $'BEGIN;\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCOMMIT;\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "a|b" "$(psql_q "SELECT to_regclass('a') || '|' || to_regclass('b')")"
}

test_non_transactional_failure_part_way_blocks_deploy() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int, name text);'
  add_migration 20240101000001_half $'-- stallmig:no-transaction\nCREATE TABLE b (id int);\nCREATE TABLE b (id int);\nCREATE TABLE c (id int);\n'
  add_migration 20240101000002_after 'CREATE TABLE d (id int);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "migration.sql:3:"
  assert_err_contains "statements before 2 may be applied"
  assert_eq "b|" "$(psql_q "SELECT to_regclass('b') || '|' || coalesce(to_regclass('c')::text, '')")"
  assert_eq "failed|true|2|3" "$(psql_q "SELECT outcome || '|' || partial || '|' || failed_statement || '|' || failed_line FROM stallmig.migrations WHERE name = '20240101000001_half'")"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "20240101000001_half failed earlier and may have left part of its work behind (statement 2, line 3"
  assert_eq "" "$(psql_q "SELECT to_regclass('d')")" "deploy did not go past it"
}

test_session_set_does_not_leak_into_next_migration() {
  new_project
  add_migration 20240101000000_sets $'SET lock_timeout = \'4321ms\';\nSET search_path = nowhere;\nCREATE TABLE public.a (id int);\n'
  add_migration 20240101000001_reads $'CREATE TABLE seen AS SELECT current_setting(\'lock_timeout\') AS lt, current_setting(\'search_path\') AS sp;\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq '0|"$user", public' "$(psql_q "SELECT lt || '|' || sp FROM public.seen")"
}

test_notices_are_forwarded() {
  new_project
  add_migration 20240101000000_a $'DO $$ BEGIN RAISE NOTICE \'hello from the migration\'; END $$;\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "NOTICE:  hello from the migration"
}

# sql.classify is sql.script's verdict without the statements: the same
# mode, reason and count for every kind of file, the same parse error.
test_classify_agrees_with_script() {
  new_project
  cat >"$PROJECT/classify.lua" <<'LUA'
local sql = require("stallmig.sql")
local texts = {
  "", "-- only a comment\n;\n", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);",
  "BEGIN;\nCREATE TABLE c (id int);\nCOMMIT;", "CREATE INDEX CONCURRENTLY i ON a (id);",
  "-- stallmig:no-transaction\nVACUUM a;",
}
for _, text in ipairs(texts) do
  local v, s = sql.classify(text), sql.script(text)
  print(v.mode == s.mode and v.reason == s.reason and v.count == #s.statements, v.mode, v.count)
end
local ok, err = pcall(sql.classify, "CREATE TABLE a (id int);\nCREATE TABEL b;")
print(ok, err.kind, err.line)
LUA
  run_stallrun classify.lua --env dev
  assert_exit 0
  assert_eq "true	transactional	0
true	transactional	0
true	transactional	2
true	self-managed	3
true	non-transactional	1
true	non-transactional	1
false	parse	2" "$OUT"
}

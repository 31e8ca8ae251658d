# Lint: stallmig.lint's rules, suppressions and team rules (no server needed).

write_team_rules() {
  mkdir -p "$PROJECT/lint" "$PROJECT/bad_syntax" "$PROJECT/bad_missing" "$PROJECT/bad_dup" "$PROJECT/bad_raises"
  # the complete example of docs/lint.md, as it is written there
  awk '/^A complete example/ {f = 1} f && /^```$/ {exit} f == 2 {print} f && /^```lua$/ {f = 2}' \
    "$REPO/docs/lint.md" >"$PROJECT/lint/no_enum.lua"
  grep -q 'id = "no-enum"' "$PROJECT/lint/no_enum.lua" || fail "no rule example in docs/lint.md"
  echo 'not a rule' >"$PROJECT/lint/README.txt"
  echo 'an editor lock file' >"$PROJECT/lint/.#no_enum.lua"
  printf 'return { id = "x", severity = \n' >"$PROJECT/bad_syntax/broken.lua"
  printf 'return { id = "x", severity = "warning", explanation = "e", suggestion = "s" }\n' >"$PROJECT/bad_missing/nocheck.lua"
  printf 'return { id = "drop-table", severity = "warning", explanation = "e", suggestion = "s", check = function() end }\n' \
    >"$PROJECT/bad_dup/dup.lua"
  printf 'return { id = "raises", severity = "warning", explanation = "e", suggestion = "s", check = function() error("boom") end }\n' \
    >"$PROJECT/bad_raises/raises.lua"
}

test_lint_rules_fire_and_stay_quiet_where_they_should() {
  new_project
  write_team_rules
  cp "$REPO/tests/lua/lint_cases.lua" "$PROJECT/"
  run_stallrun lint_cases.lua "$PROJECT/lint" "$PROJECT/bad_syntax" "$PROJECT/bad_missing" "$PROJECT/bad_dup" "$PROJECT/bad_raises"
  [ "$STATUS" = 0 ] || printf '%s\n%s\n' "$OUT" "$ERR" >&2
  assert_exit 0
  assert_out_contains "lint: all "
  assert_out_contains " expectations hold"
}

test_lint_reads_team_rules_from_the_ini() {
  new_project
  write_team_rules
  sed -i 's/^migrations = migrations$/migrations = migrations\nlint_rules = lint/' "$PROJECT/stallmig.ini"
  add_migration 20260101000000_mood $'CREATE TYPE mood AS ENUM (\'a\');\n-- stallmig:allow drop-table: replaced by members\nDROP TABLE users;\nDROP TABLE stalls;\n'
  run_stallrun "$REPO/tests/lua/lint_folder.lua"
  assert_exit 1
  assert_out_contains "migrations/20260101000000_mood/migration.sql:1:1: warning no-enum: enum mood: use a lookup table"
  assert_out_contains "migration.sql:3:1: error drop-table: DROP TABLE users deletes the table and all its rows [allowed: replaced by members]"
  assert_out_contains "migration.sql:4:1: error drop-table: DROP TABLE stalls deletes the table and all its rows"
  assert_out_contains "target drop_table stalls"
  assert_out_contains "lint: 1 migration(s), 1 error(s)"
}

test_lint_broken_team_rule_is_a_config_error() {
  new_project
  write_team_rules
  sed -i 's/^migrations = migrations$/migrations = migrations\nlint_rules = bad_missing/' "$PROJECT/stallmig.ini"
  add_migration 20260101000000_a 'CREATE TABLE a (id int);'
  run_stallrun "$REPO/tests/lua/lint_folder.lua"
  assert_exit 2
  assert_err_contains "lint rule $PROJECT/bad_missing/nocheck.lua: its field 'check' is not a function"
  assert_err_contains "hint: a rule file returns {id, severity, explanation, suggestion, check}"
}

test_lint_parse_error_names_file_line_and_column() {
  new_project
  add_migration 20260101000000_ok 'CREATE TABLE a (id int);'
  add_migration 20260101000001_broken $'CREATE TABLE b (id int);\nALTER TABLE b ADD COLUMN c int DEFAULT;\n'
  run_stallrun "$REPO/tests/lua/lint_folder.lua"
  assert_exit 1
  assert_err_contains "stallrun: migrations/20260101000001_broken/migration.sql:2:39: cannot parse 20260101000001_broken: syntax error at or near \";\""
  assert_err_contains "hint: fix the SQL; nothing was sent to the database"
}

# The offline lint (workflows/lint.lua): files and folders linted without a
# database, text / --json / --format github / --format sarif, exit codes.

# A project whose only environment cannot be reached: the lint must not try.
offline_project() {
  PROJECT=$(mktemp -d "$CASE_TMP/project.XXXX")
  mkdir -p "$PROJECT/migrations"
  cat >"$PROJECT/stallmig.ini" <<'INI'
[project]
migrations = migrations

[env.prod]
url = postgresql://nobody@db.invalid:1/none?connect_timeout=1
protected = true
INI
  export PROJECT
}

# Hazards of three kinds in one run: an allowed error, an error, a warning.
hazards() {
  add_migration 20260101000000_init $'CREATE TABLE users (id int PRIMARY KEY);\nCREATE INDEX users_id_idx ON users (id);\n'
  add_migration 20260102000000_more $'-- stallmig:allow drop-table: replaced by members, backed up\nDROP TABLE legacy;\nALTER TABLE accounts ADD COLUMN phone text NOT NULL;\nDROP INDEX accounts_email_idx;\n'
}

test_lint_offline_example_migrations_are_clean() {
  offline_project
  run_stallrun workflows/lint.lua "$REPO/migrations"
  assert_exit 0
  local n
  n=$(find "$REPO/migrations" -name migration.sql | wc -l)
  assert_out_contains "lint: $n file(s), 0 error(s), 0 warning(s), 0 suppressed"
}

test_lint_offline_defaults_to_the_projects_folder() {
  offline_project
  hazards
  run_stallrun workflows/lint.lua
  assert_exit 1
  assert_out_contains "migrations/20260102000000_more/migration.sql:2:1: error drop-table: DROP TABLE legacy deletes the table and all its rows [allowed: replaced by members, backed up]"
  assert_out_contains "migrations/20260102000000_more/migration.sql:3:1: error add-column-not-null: ADD COLUMN accounts.phone NOT NULL without DEFAULT fails if accounts holds any row"
  assert_out_contains "migrations/20260102000000_more/migration.sql:4:1: warning drop-index-not-concurrent: DROP INDEX accounts_email_idx locks its table against reads and writes"
  assert_out_contains "lint: 2 file(s), 1 error(s), "
  # the first file's table and index are new: nothing about them
  assert_not_contains "_init/migration.sql"
  assert_not_contains "db.invalid"
}

test_lint_offline_exit_codes() {
  offline_project
  add_migration 20260101000000_warn 'ALTER TABLE users ADD COLUMN bio text;'
  run_stallrun workflows/lint.lua
  assert_exit 0                                  # warnings only
  assert_out_contains "warning lock-timeout"
  add_migration 20260102000000_err $'-- stallmig:allow truncate: a cache table\nTRUNCATE sessions;\n'
  run_stallrun workflows/lint.lua
  assert_exit 0                                  # an error allowed with a reason
  assert_out_contains "1 suppressed"
  add_migration 20260103000000_loss 'DELETE FROM bookings;'
  run_stallrun workflows/lint.lua
  assert_exit 1
  run_stallrun workflows/lint.lua migrations/20260101000000_warn/migration.sql
  assert_exit 0                                  # only the files named
  assert_out_contains "lint: 1 file(s), 0 error(s)"
}

test_lint_offline_paths_in_the_order_given() {
  offline_project
  mkdir -p "$PROJECT/sql"
  printf 'CREATE TABLE stalls (id int);\n' >"$PROJECT/sql/001_create.sql"
  printf 'ALTER TABLE stalls ADD COLUMN name text NOT NULL;\n' >"$PROJECT/sql/002_name.sql"
  run_stallrun workflows/lint.lua sql                      # a folder of NAME.sql, in name order
  assert_exit 0
  assert_out_contains "lint: 2 file(s), 0 error(s)"
  run_stallrun workflows/lint.lua sql/002_name.sql sql/001_create.sql   # the table is not new yet
  assert_exit 1
  assert_out_contains "sql/002_name.sql:1:1: error add-column-not-null"
}

test_lint_offline_json_document() {
  offline_project
  hazards
  run_stallrun workflows/lint.lua --json
  assert_exit 1
  python3 - "$CASE_TMP/out" <<'PY' || fail "the --json document is not as expected: $OUT"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["workflow"] == "lint" and doc["ok"] is False and doc["files"] == 2, doc
assert doc["counts"] == {"error": 1, "warning": 2, "suppressed": 1}, doc["counts"]
fields = {"file", "line", "column", "rule", "severity", "message", "suppressed"}
for f in doc["findings"]:
    assert fields <= set(f), f
by_rule = {f["rule"]: f for f in doc["findings"]}
assert by_rule["drop-table"]["suppressed"] == "replaced by members, backed up", by_rule["drop-table"]
assert by_rule["add-column-not-null"]["suppressed"] is False
assert by_rule["add-column-not-null"]["severity"] == "error"
assert (by_rule["add-column-not-null"]["line"], by_rule["add-column-not-null"]["column"]) == (3, 1)
assert by_rule["add-column-not-null"]["file"] == "migrations/20260102000000_more/migration.sql"
PY
}

test_lint_offline_github_annotations() {
  offline_project
  hazards
  run_stallrun workflows/lint.lua --format github
  assert_exit 1
  assert_out_contains "::notice file=migrations/20260102000000_more/migration.sql,line=2,col=1,title=drop-table (suppressed)::DROP TABLE legacy"
  assert_out_contains "::error file=migrations/20260102000000_more/migration.sql,line=3,col=1,title=add-column-not-null::ADD COLUMN accounts.phone"
  assert_out_contains "::warning file=migrations/20260102000000_more/migration.sql,line=4,col=1,title=drop-index-not-concurrent::"
}

test_lint_offline_sarif_log() {
  offline_project
  hazards
  run_stallrun workflows/lint.lua --format sarif
  assert_exit 1
  python3 - "$CASE_TMP/out" <<'PY' || fail "the SARIF log is not as expected: $OUT"
import json, sys
log = json.load(open(sys.argv[1]))
assert log["version"] == "2.1.0" and "sarif" in log["$schema"], log.get("version")
run = log["runs"][0]
rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
assert {"drop-table", "add-column-not-null", "drop-index-not-concurrent", "allow-without-reason"} <= set(rules)
assert rules["add-column-not-null"]["defaultConfiguration"]["level"] == "error"
results = run["results"]
assert len(results) == 4, results
for r in results:
    assert r["ruleId"] in rules and r["level"] in ("error", "warning") and r["message"]["text"]
    loc = r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].startswith("migrations/20260102000000_more/")
    assert loc["region"]["startLine"] >= 2 and loc["region"]["startColumn"] == 1
by_rule = {r["ruleId"]: r for r in results}
assert by_rule["drop-table"]["suppressions"] == [{"kind": "inSource", "justification": "replaced by members, backed up"}]
assert "suppressions" not in by_rule["add-column-not-null"]
PY
}

test_lint_offline_bad_arguments() {
  offline_project
  run_stallrun workflows/lint.lua nonesuch.sql
  assert_exit 2
  assert_err_contains "stallrun: there is no file or folder nonesuch.sql to lint"
  assert_err_contains "hint: pass migration files or folders"
  run_stallrun workflows/lint.lua --format xml
  assert_exit 2
  assert_err_contains "--format xml: expected text, github or sarif"
  run_stallrun workflows/lint.lua --json --format sarif
  assert_exit 2
  assert_err_contains "choose one"
  run_stallrun workflows/lint.lua --env prod
  assert_exit 0                                  # --env is the host's: the lint ignores it
  run_stallrun workflows/lint.lua --rehearse
  assert_exit 2
  assert_err_contains "unknown option --rehearse"
}

test_lint_offline_parse_error_names_file_line_and_column() {
  offline_project
  add_migration 20260101000000_ok 'CREATE TABLE a (id int);'
  add_migration 20260101000001_broken $'CREATE TABLE b (id int);\nALTER TABLE b ADD COLUMN c int DEFAULT;\n'
  run_stallrun workflows/lint.lua
  assert_exit 1
  assert_err_contains "stallrun: migrations/20260101000001_broken/migration.sql:2:39: cannot parse 20260101000001_broken: syntax error at or near \";\""
  assert_err_contains "hint: fix the SQL; nothing was sent to the database"
  assert_eq "" "$OUT" "nothing on stdout before the error"
}

# bench/gen.sh's history (LINT_TEST_N, default 1000: the issue's size): one
# run, so every table is new where it is touched; each file alone sees the
# tables before it as existing.
test_lint_offline_generated_history() {
  offline_project
  local n=${LINT_TEST_N:-1000}
  "$REPO/bench/gen.sh" "$n" "$PROJECT/gen" >/dev/null
  run_stallrun workflows/lint.lua gen/migrations --json
  assert_exit 0
  assert_eq "$n" "$(json_get "['files']")" "files linted"
  assert_eq "0" "$(json_get "['counts']['error']")" "errors"
  assert_eq "0" "$(json_get "['counts']['warning']")" "warnings in one run"
  local last
  last=$(find "$PROJECT/gen/migrations" -name migration.sql | sort | tail -n 2 | head -n 1)
  run_stallrun workflows/lint.lua "$last"
  assert_exit 0
  assert_out_contains "warning lock-timeout"
}

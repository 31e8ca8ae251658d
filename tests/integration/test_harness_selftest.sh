# The harness itself: a database per case, psql_q, captured runs, and
# assertions that really fail.

test_harness_creates_databases_and_queries_them() {
  new_project
  [ -d "$PROJECT/migrations" ] || fail "new_project made no migrations/"
  grep -qx 'protected = false' "$PROJECT/stallmig.ini" || fail "[env.dev] is not protected = false"
  assert_eq 1 "$(psql_q 'SELECT 1')" "psql_q"
  assert_eq "UTF8|C|on|on" "$(psql_q "SELECT pg_encoding_to_char(encoding) || '|' || datcollate || '|' || current_setting('fsync') || '|' || current_setting('synchronous_commit') FROM pg_database WHERE datname = current_database()")" "cluster settings"
  local other
  other=$(new_db "Other Name")
  [ "$other" != "$DB_URL" ] || fail "new_db returned the same database twice"
  [[ "$other" == *other_name_* ]] || fail "new_db ignored its name: $other"
  psql_q "CREATE TABLE only_here (id int)" "$other" >/dev/null
  assert_eq "" "$(psql_q "SELECT to_regclass('only_here')")" "databases are separate"
  assert_eq "only_here" "$(psql_q "SELECT to_regclass('only_here')" "$other")"
  add_migration 20240101000000_init $'CREATE TABLE a (id int);\n'
  assert_eq $'CREATE TABLE a (id int);' "$(cat "$PROJECT/migrations/20240101000000_init/migration.sql")"
}

test_harness_assertions_fail_when_they_should() {
  new_project
  if (assert_eq a b) 2>"$CASE_TMP/msg"; then fail "assert_eq accepted different values"; fi
  grep -q "FAILED $TEST_NAME: values differ: expected \[a\], got \[b\]" "$CASE_TMP/msg" || fail "assert_eq's message: $(cat "$CASE_TMP/msg")"
  (assert_eq same same) || fail "assert_eq rejected equal values"
  if (psql_q 'SELECT nope') 2>/dev/null; then fail "psql_q hid an SQL error"; fi

  # a stand-in binary: captured streams and status
  STALLRUN="$CASE_TMP/fake-stallrun"
  printf '#!/bin/sh\necho "out:$*"\necho "err:$(pwd)" >&2\nexit 3\n' >"$STALLRUN"
  chmod +x "$STALLRUN"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 3
  assert_stdout_contains "out:workflows/deploy.lua --env dev"
  assert_stderr_contains "err:$PROJECT"
  assert_eq "out:workflows/deploy.lua --env dev" "$OUT"
  if (assert_exit 0) 2>"$CASE_TMP/msg"; then fail "assert_exit accepted the wrong status"; fi
  grep -q "out:workflows/deploy.lua" "$CASE_TMP/msg" || fail "a failure does not show the captured output"
  if (assert_stdout_contains "nowhere") 2>/dev/null; then fail "assert_stdout_contains accepted missing text"; fi
  if (assert_stderr_contains "out:") 2>/dev/null; then fail "assert_stderr_contains read stdout"; fi

  # a sanitizer report fails the test even when the exit status is 0
  printf '#!/bin/sh\necho "==1==ERROR: LeakSanitizer: detected memory leaks" >&2\nexit 0\n' >"$STALLRUN"
  if (run_stallrun --version) 2>/dev/null; then fail "run_stallrun let a sanitizer report pass"; fi
  printf '#!/bin/sh\necho "x.c:1:2: runtime error: signed integer overflow" >&2\n' >"$STALLRUN"
  if (run_stallrun --version) 2>/dev/null; then fail "run_stallrun let a UBSan report pass"; fi
}

# A CREATE INDEX CONCURRENTLY that fails or is cancelled (issue 7) leaves an
# INVALID index behind, which would block the retry ("relation already
# exists"). stallrun reports it by name, and the retry drops exactly that
# index (the one the failed attempt created) before building it again; an
# invalid index it did not create is left alone.

source "$REPO/tests/faults/lib_inflight.sh"

# dup_project — a table a with two rows of the same name, and a migration
# that builds a unique index over it concurrently (SQL: $1, default named).
dup_project() {
  new_project
  add_migration 20240101000000_a $'CREATE TABLE a (id int, name text);\nINSERT INTO a VALUES (1, \'x\'), (2, \'x\');\n'
  add_migration 20240101000001_idx "${1:-CREATE UNIQUE INDEX CONCURRENTLY a_name ON a (name);}"
}

# index_state NAME — "valid" / "invalid" / "" (absent) for index NAME.
index_state() {
  psql_q "SELECT CASE WHEN i.indisvalid THEN 'valid' ELSE 'invalid' END FROM pg_index i WHERE i.indexrelid = to_regclass('$1')"
}

test_failed_unique_build_is_reported_and_dropped_on_the_retry() {
  dup_project
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "could not create unique index \"a_name\""
  assert_err_contains "it left the invalid index public.a_name behind: when this migration runs again, stallrun first drops it (DROP INDEX CONCURRENTLY IF EXISTS public.a_name)"
  assert_err_contains "hint: fix the cause and deploy again"
  assert_eq invalid "$(index_state a_name)"
  assert_eq "failed|false" "$(psql_q "SELECT outcome || '|' || partial FROM stallmig.migrations WHERE name = '20240101000001_idx'")" \
    "only the invalid index was left: not partial, deploy may retry it"
  # the user fixes the data; the retry drops the invalid index and builds it
  psql_q "DELETE FROM a WHERE id = 2" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "20240101000001_idx failed before and left the invalid index public.a_name behind: dropping it (DROP INDEX CONCURRENTLY IF EXISTS public.a_name)"
  assert_eq valid "$(index_state a_name)"
  assert_eq "failed,applied" "$(psql_q "SELECT string_agg(outcome, ',' ORDER BY id) FROM stallmig.migrations WHERE name = '20240101000001_idx'")"
}

test_cancelled_build_is_rebuilt_on_the_retry() {
  dup_project 'SELECT 1;'                              # first only the table
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  add_migration 20240101000002_idx 'CREATE INDEX CONCURRENTLY a_name ON a (name);'
  # an open transaction that wrote to a: the concurrent build waits for it
  PGAPPNAME=blocker "$PSQL" -XAtq -d "$DB_URL" -c "INSERT INTO a VALUES (3, 'y'); SELECT pg_sleep(120)" >/dev/null 2>&1 &
  trap 'psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"'blocker'"'" >/dev/null || true' EXIT
  local i pid=""
  for i in $(seq 100); do
    [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'blocker' AND wait_event = 'PgSleep'")" = 1 ] && break
    sleep 0.1
  done
  ( run_stallrun workflows/deploy.lua --env dev; echo "$STATUS" >"$CASE_TMP/status" ) &
  local deploy=$!
  for i in $(seq 300); do
    pid=$(psql_q "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock' AND datname = current_database()")
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || fail "the concurrent build never waited for the open transaction"
  assert_eq t "$(psql_q "SELECT pg_cancel_backend($pid)")"
  wait "$deploy" || true
  STATUS=$(cat "$CASE_TMP/status") OUT=$(cat "$CASE_TMP/out") ERR=$(cat "$CASE_TMP/err")
  assert_exit 1
  assert_err_contains "canceling statement due to user request"
  assert_err_contains "it left the invalid index public.a_name behind"
  assert_eq invalid "$(index_state a_name)"
  psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'blocker'" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "dropping it (DROP INDEX CONCURRENTLY IF EXISTS public.a_name)"
  assert_eq valid "$(index_state a_name)"
}

test_invalid_index_made_by_hand_is_not_dropped() {
  dup_project 'SELECT 1;'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  # by hand: the same build fails and leaves its invalid index
  "$PSQL" -XAtq -d "$DB_URL" -c 'CREATE UNIQUE INDEX CONCURRENTLY a_name ON a (name)' >/dev/null 2>&1 || true
  assert_eq invalid "$(index_state a_name)"
  local oid
  oid=$(psql_q "SELECT 'a_name'::regclass::oid")
  psql_q "DELETE FROM a WHERE id = 2" >/dev/null
  add_migration 20240102000000_idx 'CREATE UNIQUE INDEX CONCURRENTLY a_name ON a (name);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "relation \"a_name\" already exists"
  assert_err_contains "the invalid index public.a_name was there before this attempt (stallrun did not create it), so it is left alone"
  assert_err_contains "hint: if it is the leftover of an interrupted build, drop it: DROP INDEX CONCURRENTLY IF EXISTS public.a_name; then deploy again"
  # and again: still not dropped, still failing the same way
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_not_contains "dropping it"
  assert_eq "$oid|invalid" "$(psql_q "SELECT 'a_name'::regclass::oid")|$(index_state a_name)"
  # the user drops it as told; then it deploys
  psql_q "DROP INDEX CONCURRENTLY IF EXISTS public.a_name" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq valid "$(index_state a_name)"
}

test_invalid_index_replaced_by_hand_after_a_failed_attempt_is_not_dropped() {
  dup_project
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  # someone drops stallrun's leftover and makes another invalid one by hand
  psql_q "DROP INDEX CONCURRENTLY public.a_name" >/dev/null
  "$PSQL" -XAtq -d "$DB_URL" -c 'CREATE UNIQUE INDEX CONCURRENTLY a_name ON a (name)' >/dev/null 2>&1 || true
  local oid
  oid=$(psql_q "SELECT 'a_name'::regclass::oid")
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_not_contains "dropping it"
  assert_err_contains "was there before this attempt (stallrun did not create it)"
  assert_eq "$oid|invalid" "$(psql_q "SELECT 'a_name'::regclass::oid")|$(index_state a_name)"
}

test_unnamed_build_leftover_is_found_and_dropped() {
  dup_project 'CREATE UNIQUE INDEX CONCURRENTLY ON a (name);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "it left the invalid index public.a_name_idx behind"
  psql_q "DELETE FROM a WHERE id = 2" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "dropping it (DROP INDEX CONCURRENTLY IF EXISTS public.a_name_idx)"
  assert_eq "a_name_idx|valid" "$(psql_q "SELECT string_agg(c.relname || '|' || CASE WHEN i.indisvalid THEN 'valid' ELSE 'invalid' END, ',') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'a'::regclass")"
}

test_build_after_committed_statements_still_needs_resolving() {
  dup_project $'CREATE TABLE b (id int);\nCREATE UNIQUE INDEX CONCURRENTLY a_name ON a (name);\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "it left the invalid index public.a_name behind"
  assert_err_contains "statements before 2 may be applied"
  assert_err_contains "hint: once it is resolved as rolled back, the retry drops the invalid index public.a_name first"
  assert_eq "failed|true" "$(psql_q "SELECT outcome || '|' || partial FROM stallmig.migrations WHERE name = '20240101000001_idx'")"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "may have left part of its work behind"
  assert_eq invalid "$(index_state a_name)" "nothing is dropped before it is resolved"
  # undone by hand and resolved as rolled back: the retry drops the leftover
  psql_q "DROP TABLE b; DELETE FROM a WHERE id = 2" >/dev/null
  run_stallrun workflows/resolve.lua --env dev --migration 20240101000001_idx --rolled-back --reason 'dropped b'
  assert_exit 0
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "dropping it (DROP INDEX CONCURRENTLY IF EXISTS public.a_name)"
  assert_eq "valid|b" "$(index_state a_name)|$(psql_q "SELECT to_regclass('b')")"
}

test_if_not_exists_over_an_invalid_index_fails() {
  dup_project 'SELECT 1;'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  "$PSQL" -XAtq -d "$DB_URL" -c 'CREATE UNIQUE INDEX CONCURRENTLY a_name ON a (name)' >/dev/null 2>&1 || true
  psql_q "DELETE FROM a WHERE id = 2" >/dev/null
  add_migration 20240102000000_idx 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS a_name ON a (name);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "the invalid index public.a_name already exists, so IF NOT EXISTS skipped the build"
  assert_err_contains "hint: drop it: DROP INDEX CONCURRENTLY IF EXISTS public.a_name; then deploy again"
  assert_eq "failed|false|invalid" "$(psql_q "SELECT outcome || '|' || partial FROM stallmig.migrations WHERE name = '20240102000000_idx'")|$(index_state a_name)"
  psql_q "DROP INDEX CONCURRENTLY public.a_name" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq valid "$(index_state a_name)"
}

# A concurrent build cut short inside a part-way failure (statements before
# it committed) once named its invalid index only on the retry (issue 12,
# item 18): a lock timeout's message was written anew without it, and an
# interruption neither named it nor noted it for the retry, which then took
# it for someone else's. The first failure names it, in its message and its
# hint, and the retry after the resolve drops it.
#
# part_way_build_project — table a (migration 1, applied), then migration 2:
# a table b, then a concurrent build on a that waits for an open transaction
# holding a write on a (the background session $WRITER, named for the case:
# a failed case's session may still sleep).
part_way_build_project() {
  dup_project 'SELECT 1;'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  add_migration 20240101000002_idx $'CREATE TABLE b (id int);\nCREATE INDEX CONCURRENTLY a_name ON a (name);\n'
  WRITER="writer_$BASHPID"
  hold_in_background "$WRITER" "BEGIN" "INSERT INTO a VALUES (3, 'y')"
}

# resolve_and_retry — the writer ends, b is dropped, the attempt resolved as
# rolled back: the retry drops the invalid index it left and builds it again.
resolve_and_retry() {
  background_holds "$WRITER" && release_background "$WRITER"
  psql_q "DROP TABLE b" >/dev/null
  run_stallrun workflows/resolve.lua --env dev --migration 20240101000002_idx --rolled-back --reason 'dropped b'
  assert_exit 0
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "20240101000002_idx failed before and left the invalid index public.a_name behind: dropping it (DROP INDEX CONCURRENTLY IF EXISTS public.a_name)"
  assert_eq "valid|b" "$(index_state a_name)|$(psql_q "SELECT to_regclass('b')")"
}

test_build_timed_out_after_committed_statements_names_its_index_at_once() {
  part_way_build_project
  printf 'lock_timeout = 1s\n' >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "stallrun: migration 20240101000002_idx waited 1s (lock_timeout of dev) for a lock on \"a\" held by another session"
  assert_err_contains "and gave up at migrations/20240101000002_idx/migration.sql:2; it left the invalid index public.a_name behind: when this migration runs again, stallrun first drops it (DROP INDEX CONCURRENTLY IF EXISTS public.a_name)"
  assert_err_contains "hint: once it is resolved as rolled back, the retry drops the invalid index public.a_name first; resolved as applied, drop it yourself: DROP INDEX CONCURRENTLY IF EXISTS public.a_name"
  assert_eq "failed|true|2|invalid" "$(psql_q "SELECT outcome || '|' || partial || '|' || failed_statement FROM stallmig.migrations WHERE name = '20240101000002_idx'")|$(index_state a_name)"
  resolve_and_retry
}

test_build_interrupted_after_committed_statements_names_its_index_at_once() {
  part_way_build_project
  start_stallrun workflows/deploy.lua --env dev
  local i pid=""
  for i in $(seq 200); do
    pid=$(psql_q "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock' AND datname = current_database()")
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || fail "the concurrent build never waited for the open transaction"
  kill_and_wait INT
  assert_exit 130
  assert_err_contains "interrupted by SIGINT during 20240101000002_idx at statement 2: it runs outside a single transaction, so it is recorded as failed part-way (the statements before it committed); nothing before it was applied; it left the invalid index public.a_name behind: when this migration runs again, stallrun first drops it (DROP INDEX CONCURRENTLY IF EXISTS public.a_name)"
  assert_err_contains "hint: once it is resolved as rolled back, the retry drops the invalid index public.a_name first"
  assert_eq "failed|true|2|invalid" "$(psql_q "SELECT outcome || '|' || partial || '|' || failed_statement FROM stallmig.migrations WHERE name = '20240101000002_idx'")|$(index_state a_name)"
  resolve_and_retry
}

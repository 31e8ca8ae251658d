# Waiting for locks: the deploy lock held by another deploy past lock_wait,
# and a migration's statement blocked by another session past lock_timeout.
# (test_concurrency.sh covers a psql session holding the deploy lock, and
# test_safety.sh the lock_timeout message; these add a real deploy as the
# holder, and what the history and the next deploy make of a timeout.)
source "$REPO/tests/faults/lib_invariant.sh"
source "$REPO/tests/faults/lib_inflight.sh"

test_lock_wait_expires_while_another_deploy_holds_the_lock() {
  fault_project
  fault_migration 20240101000001_a
  slow_migration 20240101000002_slow
  set_sleep 300
  start_stallrun workflows/deploy.lua --env dev          # the holder, inside its slow migration
  wait_for_backend PgSleep
  local holder_pid=$BG_PID holder_backend=$BACKEND
  sed -i 's/^lock_wait = .*/lock_wait = 1s/' "$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env dev --json
  assert_exit 1
  assert_err_contains "another deploy still holds the deploy lock after 1s: pid $holder_backend (application 'stallrun deploy (dev)', user postgres), holding it for "
  assert_not_contains "holding it for at most"            # the holder announced when it took the lock
  assert_eq "failed False" "$(json_get "['error']['kind']") $(json_get "['ok']")"
  assert_eq "20240101000001_a" "$(psql_q "SELECT string_agg(name, ',') FROM stallmig.migrations")" "the waiter applied nothing"
  BG_PID=$holder_pid
  kill_and_wait INT
  assert_exit 130
  assert_invariant
  redeploy_completes
}

test_statement_blocked_past_lock_timeout_then_the_next_deploy_works() {
  fault_project
  sed -i 's/^lock_wait = 60s$/lock_wait = 60s\nlock_timeout = 300ms/' "$PROJECT/stallmig.ini"
  fault_migration 20240101000001_a
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  add_migration 20240101000002_b $'CREATE TABLE "20240101000002_b" (id int);\nALTER TABLE "20240101000001_a" ADD COLUMN note text;\n'
  fault_migration 20240101000003_c
  hold_in_background blocker "BEGIN" 'LOCK TABLE "20240101000001_a" IN ACCESS SHARE MODE'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains 'migration 20240101000002_b waited 300ms (lock_timeout of dev) for a lock on "20240101000001_a" held by another session'
  assert_err_contains "nothing of 20240101000002_b was applied (rolled back); deploy again once the other session has let go of the table"
  assert_err_contains "pg_blocking_pids()"
  assert_eq "failed|f" "$(psql_q "SELECT outcome, partial FROM stallmig.migrations WHERE name = '20240101000002_b'")"
  assert_eq "" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = '\"20240101000001_a\"'::regclass AND attname = 'note'")" "the ALTER was rolled back"
  assert_invariant
  release_background blocker
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "20240101000002_b failed before and left nothing behind; trying it again"
  assert_out_contains "Deployed 2 migration(s)"
  assert_invariant
}


# lock_retries: a migration that gave up on a lock is tried again after a
# pause, naming the session that holds it; it applies once the lock is free.
test_lock_retries_try_again_and_name_the_blocker() {
  new_project
  printf 'lock_timeout = 200ms\nlock_retries = 5\n' >>"$PROJECT/stallmig.ini"
  add_migration 20240101000001_a 'CREATE TABLE a (id int);'
  run_stallrun workflows/deploy.lua --env dev
  add_migration 20240101000002_b 'ALTER TABLE a ADD COLUMN note text;'
  hold_in_background holder "BEGIN" "LOCK TABLE a IN ACCESS SHARE MODE"
  (cd "$PROJECT" && exec "$STALLRUN" workflows/deploy.lua --env dev --json) >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
  local pid=$! tries=0
  until grep -q "try 2 of 6" "$CASE_TMP/err"; do
    tries=$((tries + 1)); [ $tries -lt 200 ] || { release_background holder; fail "no retry was said"; }
    sleep 0.05
  done
  release_background holder
  STATUS=0; wait "$pid" || STATUS=$?
  assert_exit 0
  assert_err_contains "20240101000002_b gave up waiting for a lock held by pid"
  assert_err_contains "(application 'holder', user postgres"
  assert_eq "note" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 'a'::regclass AND attname = 'note'")"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert any('gave up waiting for a lock' in w for w in d['warnings']), d['warnings']" "$CASE_TMP/out" \
    || fail "the retry is not in the --json document's warnings"
}

test_lock_retries_is_checked_in_the_ini() {
  new_project
  printf 'lock_retries = many\n' >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/status.lua --env dev
  assert_exit 2
  assert_err_contains "lock_retries = 'many': expected a whole number from 0 to 100"
}

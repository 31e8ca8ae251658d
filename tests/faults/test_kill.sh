# kill -9 of stallrun mid-migration: nothing runs the cleanup, so the server
# must notice the dead client itself (stallrun's sessions set
# client_connection_check_interval) and end the orphaned statement, its
# transaction and the deploy lock; a migration outside one transaction was
# recorded as failed part-way before it started, so the next deploy refuses
# it with the resolve hint.
source "$REPO/tests/faults/lib_invariant.sh"
source "$REPO/tests/faults/lib_inflight.sh"

_backend_gone() {
  [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE pid = $BACKEND")" = 0 ]
}

# kill_9_mid_migration — kill -9 while stallrun's session sleeps in a
# migration; waits (up to 20 s) for the server to end the orphaned backend.
kill_9_mid_migration() {
  start_stallrun workflows/deploy.lua --env dev
  wait_for_backend PgSleep
  kill -9 "$BG_PID"
  wait_stallrun
  assert_exit 137
  eventually 20 _backend_gone || fail "the orphaned backend $BACKEND still runs 20 s after kill -9"
}

test_kill_9_during_a_transactional_migration() {
  fault_project
  fault_migration 20240101000001_a
  slow_migration 20240101000002_slow
  fault_migration 20240101000003_c
  set_sleep 300
  kill_9_mid_migration
  assert_invariant
  assert_eq "20240101000001_a" "$(psql_q "SELECT string_agg(name, ',') FROM stallmig.migrations")" "history"
  redeploy_completes 2
}

test_kill_9_during_a_no_transaction_migration_between_statements() {
  fault_project
  fault_migration 20240101000001_a
  slow_no_transaction_migration 20240101000002_nt
  fault_migration 20240101000003_c
  set_sleep 300
  kill_9_mid_migration
  # statement 1 committed (its table exists), statement 2 was running
  assert_eq "failed|t|2" "$(psql_q "SELECT outcome, partial, failed_statement FROM stallmig.migrations WHERE name = '20240101000002_nt'")"
  assert_invariant 20240101000002_nt
  set_sleep 0
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "20240101000002_nt failed earlier and may have left part of its work behind (statement 2, line 3: did not finish"
  assert_err_contains "did not finish: stallrun stopped or lost its connection"
  assert_err_contains "workflows/resolve.lua --env dev --migration 20240101000002_nt --rolled-back"
  assert_invariant 20240101000002_nt
  # undo statement 1 by hand, resolve as rolled back: deploy runs it again
  psql_q 'DROP TABLE "20240101000002_nt"' >/dev/null
  run_stallrun workflows/resolve.lua --env dev --migration 20240101000002_nt --rolled-back --reason "dropped its table"
  assert_exit 0
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Deployed 2 migration(s)"
  assert_invariant
}

# kill -9 during a backup: pg_dump dies with stallrun (it does not finish an
# unrecorded backup on its own), and the next run removes the partial file.
test_kill_9_during_a_backup_leaves_no_pg_dump_and_no_partial_file() {
  new_project
  printf 'backup = true\n' >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  mkdir -p "$CASE_TMP/spy"
  cat >"$CASE_TMP/spy/pg_dump" <<SPY
#!/bin/sh
echo \$\$ >"$CASE_TMP/spy/pid"
printf 'PGDMP partial' 
exec sleep 60
SPY
  chmod +x "$CASE_TMP/spy/pg_dump"
  (cd "$PROJECT" && exec env PATH="$CASE_TMP/spy:$PATH" "$STALLRUN" workflows/deploy.lua --env dev) \
    >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
  local bg=$! tries=0
  until [ -s "$CASE_TMP/spy/pid" ]; do
    tries=$((tries + 1)); [ $tries -lt 200 ] || fail "the spy pg_dump never started"
    sleep 0.05
  done
  kill -9 "$bg"; wait "$bg" 2>/dev/null || true
  local dump_pid tries=0
  dump_pid=$(cat "$CASE_TMP/spy/pid")
  while kill -0 "$dump_pid" 2>/dev/null; do
    tries=$((tries + 1)); [ $tries -lt 100 ] || { kill "$dump_pid"; fail "pg_dump outlived stallrun"; }
    sleep 0.05
  done
  ls "$PROJECT"/backups/dev/*.partial >/dev/null 2>&1 || fail "no partial file to clean up (the test proves nothing)"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  ! ls "$PROJECT"/backups/dev/*.partial* >/dev/null 2>&1 || fail "a partial file is left: $(ls "$PROJECT"/backups/dev)"
  assert_eq 1 "$(ls "$PROJECT"/backups/dev/*.dump | wc -l)"
}

# pg_dump waits for a table's lock no longer than the environment's lock_timeout.
test_backup_waits_for_a_lock_only_as_long_as_lock_timeout() {
  new_project
  printf 'backup = true\nlock_timeout = 300ms\n' >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  run_stallrun workflows/deploy.lua --env dev
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  hold_in_background exclusive "BEGIN" "LOCK TABLE a IN ACCESS EXCLUSIVE MODE"
  run_stallrun workflows/deploy.lua --env dev
  local alive=no
  background_holds exclusive && alive=yes
  release_background exclusive
  assert_exit 1
  assert_err_contains "the backup of dev failed, so nothing was changed"
  assert_err_contains "pg_dump waited 300ms (lock_timeout) for a lock on a table another session holds, and gave up"
  assert_eq yes "$alive" "the backup returned only after the lock was released"
  assert_eq "" "$(psql_q "SELECT to_regclass('b')")"
}

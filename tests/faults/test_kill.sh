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

# The server ends stallrun's session mid-migration: pg_terminate_backend, or
# a restart (fast shutdown). stallrun says it lost the connection, during
# which migration, and what the server did with it; exit 1; the history and
# the schema agree, and the next deploy completes.
source "$REPO/tests/faults/lib_invariant.sh"
source "$REPO/tests/faults/lib_inflight.sh"
source "$REPO/tests/faults/lib_cluster.sh"

test_terminated_session_during_a_transactional_migration() {
  fault_project
  fault_migration 20240101000001_a
  slow_migration 20240101000002_slow
  fault_migration 20240101000003_c
  deploy_until_it_sleeps
  psql_q "SELECT pg_terminate_backend($BACKEND)" >/dev/null
  wait_stallrun_within 20
  assert_exit 1
  assert_err_contains "stallrun: lost the connection to dev during 20240101000002_slow (migrations/20240101000002_slow/migration.sql:2): terminating connection due to administrator command"
  assert_err_contains "hint: 20240101000002_slow ran in one transaction, which the server rolled back as the session ended"
  assert_err_contains "1 migration(s) before it stay applied"
  assert_invariant
  redeploy_completes 2
}

test_terminated_session_during_a_no_transaction_migration() {
  fault_project
  slow_no_transaction_migration 20240101000001_nt
  fault_migration 20240101000002_b
  deploy_until_it_sleeps
  psql_q "SELECT pg_terminate_backend($BACKEND)" >/dev/null
  wait_stallrun_within 20
  assert_exit 1
  assert_err_contains "stallrun: lost the connection to dev during 20240101000001_nt"
  assert_err_contains "runs outside a single transaction and is recorded as failed part-way"
  assert_invariant 20240101000001_nt
  set_sleep 0
  finish_part_way 20240101000001_nt
}

test_server_restart_during_a_deploy() {
  own_cluster
  own_project
  psql_q "CREATE TABLE fault_control (seconds float NOT NULL)" >/dev/null
  baseline_none
  fault_migration 20240101000001_a
  slow_migration 20240101000002_slow
  fault_migration 20240101000003_c
  deploy_until_it_sleeps
  own_pg_ctl -l "$OWN_CLUSTER/server.log" -m fast -w -t 60 restart >/dev/null || fail "the restart failed"
  wait_stallrun_within 20
  assert_exit 1
  assert_err_contains "stallrun: lost the connection to dev during 20240101000002_slow"
  assert_err_contains "deploy again once the server accepts connections"
  assert_invariant
  redeploy_completes 2
}

# A crash (immediate stop) while a migration runs: the migrations reported
# ok before it were committed without waiting for their flush, so the
# message must not say they stay applied; a migration outside one
# transaction never starts before what came before is flushed.
test_server_crash_during_a_deploy_says_what_may_be_lost() {
  own_cluster
  own_project
  psql_q "CREATE TABLE fault_control (seconds float NOT NULL)" >/dev/null
  baseline_none
  fault_migration 20240101000001_a
  fault_migration 20240101000002_b
  slow_migration 20240101000003_slow
  fault_migration 20240101000004_c
  deploy_until_it_sleeps
  own_pg_ctl -m immediate -w stop >/dev/null || fail "the stop failed"
  wait_stallrun_within 20
  assert_exit 1
  assert_err_contains "lost the connection to dev during 20240101000003_slow"
  assert_err_contains "2 migration(s) before it committed in this run, the last 2 of them not yet flushed to disk: if the server crashed they may be lost"
  assert_not_contains "migration(s) before it stay applied"
  own_pg_ctl -l "$OWN_CLUSTER/server.log" -w -t 60 start >/dev/null || fail "the start failed"
  assert_invariant
  redeploy_completes
}

test_no_transaction_migration_starts_after_a_flush() {
  own_cluster
  own_project
  psql_q "CREATE TABLE fault_control (seconds float NOT NULL)" >/dev/null
  baseline_none
  fault_migration 20240101000001_a
  slow_no_transaction_migration 20240101000002_slow_nt
  fault_migration 20240101000003_c
  deploy_until_it_sleeps
  own_pg_ctl -m immediate -w stop >/dev/null || fail "the stop failed"
  wait_stallrun_within 20
  assert_exit 1
  assert_err_contains "the server cannot be read now"
  assert_not_contains "not yet flushed"       # flushed before the migration outside a transaction began
  own_pg_ctl -l "$OWN_CLUSTER/server.log" -w -t 60 start >/dev/null || fail "the start failed"
  assert_eq "applied" "$(own_psql "SELECT outcome FROM stallmig.migrations WHERE name = '20240101000001_a'" faults)"
}

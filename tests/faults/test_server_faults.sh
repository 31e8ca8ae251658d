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

# A network path that goes dead in the middle of a deploy (a proxy that stops
# forwarding and answers no new connection: lib_proxy.sh). The cancel
# request cannot get through either, so stallrun must not wait for it: a
# signal still ends the run (the third at once, a single one within
# SIGWATCH_DEADLINE seconds), and once the path comes back the server ends
# the orphaned session, its transaction and the deploy lock.
source "$REPO/tests/faults/lib_invariant.sh"
source "$REPO/tests/faults/lib_inflight.sh"
source "$REPO/tests/faults/lib_proxy.sh"

# dead_path_deploy — a deploy through the proxy, asleep in its slow second
# migration when the path dies.
dead_path_deploy() {
  proxy_project
  fault_migration 20240101000001_a
  slow_migration 20240101000002_slow
  fault_migration 20240101000003_c
  deploy_until_it_sleeps
  stall_path
}

# After the path comes back: no session, no lock, the history and the schema
# agree, and the next deploy (through the proxy) completes.
path_back_and_clean() {
  heal_path
  assert_invariant
  redeploy_completes 2
}

# One SIGTERM (what a CI runner or systemd sends): the handler used to block
# in PQcancel, which waited for ever on the dead path, so the deploy never
# ended and later signals were never handled either.
test_sigterm_ends_a_deploy_whose_network_path_went_dead() {
  dead_path_deploy
  kill -s TERM "$BG_PID"
  wait_stallrun_within 90
  assert_exit 143
  assert_err_contains "stallrun: the run has not ended 30 s after SIGTERM"
  assert_err_contains "stopping now, without cleanup"
  path_back_and_clean
}

# Three SIGINTs in a row: the third ends stallrun at once, however the
# cancel requests fare.
test_third_sigint_ends_a_deploy_whose_network_path_went_dead() {
  dead_path_deploy
  kill -s INT "$BG_PID"; sleep 0.2
  kill -s INT "$BG_PID"; sleep 0.2
  kill -s INT "$BG_PID"
  wait_stallrun_within 20
  assert_exit 130
  assert_err_contains "stallrun: still cleaning up"
  assert_err_contains "stallrun: interrupted again; stopping now, without cleanup"
  path_back_and_clean
}

# While the path works, SIGINT through it is the ordinary interruption: the
# cancel goes over TCP, the migration rolls back, the lock is released.
test_sigint_through_a_tcp_path_rolls_back() {
  proxy_project
  fault_migration 20240101000001_a
  slow_migration 20240101000002_slow
  deploy_until_it_sleeps
  kill_and_wait INT
  assert_exit 130
  assert_err_contains "interrupted by SIGINT during 20240101000002_slow: it was rolled back"
  assert_invariant
  redeploy_completes 1
}

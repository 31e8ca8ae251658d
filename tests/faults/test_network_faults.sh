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

# The connections probe an idle TCP connection after 30 s (libpq's default
# is the system's, 2 hours), so a dead path is noticed while a long
# statement runs; a URL that sets keepalives itself keeps its own.
test_connections_probe_after_30_s_unless_the_url_says_otherwise() {
  command -v ss >/dev/null || fail "ss (iproute2) is needed to see the socket's timers"
  local setting want timer
  for setting in "" keepalives_idle=600 keepalives=0; do
    proxy_project "$setting"
    fault_migration 20240101000001_a
    slow_migration 20240101000002_slow
    deploy_until_it_sleeps
    timer=$(stallrun_keepalive)
    case "$setting" in
      "") [[ "$timer" =~ ^keepalive,[0-9]+sec, ]] || fail "no keepalive probe within 30 s: ${timer:-no timer}" ;;
      keepalives_idle=600) [[ "$timer" =~ ^keepalive,(9|10)min ]] || fail "the URL's keepalives_idle was not kept: ${timer:-no timer}" ;;
      keepalives=0) assert_eq "" "$timer" "the URL turned keepalives off" ;;
    esac
    kill_and_wait INT
    assert_exit 130
    assert_invariant
  done
}

# The server's side too (its own keepalives end a session whose client is
# gone for good, with the deploy lock): each session asks for them at
# startup. (On a unix socket the server shows them as 0, but as set.)
test_sessions_set_the_servers_keepalives() {
  new_project
  cat >"$PROJECT/probe.lua" <<'LUA'
-- probe.lua — where the session's TCP settings came from
local db = require("stallmig.db")
local conn <close> = db.connect("dev")
for _, r in ipairs(conn:query([[SELECT name, source FROM pg_settings WHERE name IN ('tcp_keepalives_idle',
    'tcp_keepalives_interval', 'tcp_keepalives_count', 'tcp_user_timeout') ORDER BY name]])) do
  print(r.name .. "=" .. r.source)
end
LUA
  run_stallrun probe.lua --env dev
  assert_exit 0
  assert_eq "tcp_keepalives_count=client
tcp_keepalives_idle=client
tcp_keepalives_interval=client
tcp_user_timeout=client" "$OUT" "the session's TCP settings"
}

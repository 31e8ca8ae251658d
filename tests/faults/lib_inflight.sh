# lib_inflight.sh — catching stallrun in the middle of a migration, for the
# fault suite: migrations that create a table named after themselves (what
# lib_invariant.sh checks), some of which sleep on the server while a switch
# says so, and stallrun run in the background.

# fault_project — new_project plus the switch: slow migrations sleep
# fault_control.seconds while it has a row (set_sleep), else not at all.
fault_project() {
  new_project
  psql_q "CREATE TABLE fault_control (seconds float NOT NULL)" >/dev/null
  baseline_none
}

set_sleep() {
  psql_q "DELETE FROM fault_control; INSERT INTO fault_control SELECT $1 WHERE $1 > 0" >/dev/null
}

SLEEP_SQL="SELECT pg_sleep(coalesce((SELECT max(seconds) FROM fault_control), 0));"

# fault_migration FOLDER — a transactional migration creating table FOLDER.
fault_migration() {
  add_migration "$1" "CREATE TABLE \"$1\" (id int);"$'\n'
}

# slow_migration FOLDER — creates table FOLDER, then sleeps (in one transaction).
slow_migration() {
  add_migration "$1" "CREATE TABLE \"$1\" (id int);"$'\n'"$SLEEP_SQL"$'\n'
}

# slow_no_transaction_migration FOLDER — outside a transaction: statement 1
# creates table FOLDER (and commits), statement 2 sleeps.
slow_no_transaction_migration() {
  add_migration "$1" "-- stallmig:no-transaction"$'\n'"CREATE TABLE \"$1\" (id int);"$'\n'"$SLEEP_SQL"$'\n'
}

# start_stallrun ARGS... — runs stallrun ARGS in $PROJECT in the background;
# BG_PID is stallrun's own pid.
start_stallrun() {
  LAST_ARGS="$*"
  (cd "$PROJECT" && exec "$STALLRUN" "$@") >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
  BG_PID=$!
}

# wait_stallrun — waits for the background stallrun; sets STATUS, OUT, ERR
# as run_stallrun does (a sanitizer report fails the test).
# shellcheck disable=SC2034  # STATUS, OUT, ERR are read by lib.sh's assert_* helpers
wait_stallrun() {
  STATUS=0
  wait "$BG_PID" || STATUS=$?
  OUT=$(cat "$CASE_TMP/out")
  ERR=$(cat "$CASE_TMP/err")
  if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$CASE_TMP/err"; then
    fail "sanitizer report from: stallrun $LAST_ARGS"
  fi
}

# stallrun_backend WAIT_EVENT — the pid of stallrun's session while it waits
# on WAIT_EVENT (PgSleep: inside a slow migration; advisory: ...), or nothing.
stallrun_backend() {
  psql_q "SELECT pid FROM pg_stat_activity WHERE datname = current_database()
            AND application_name LIKE 'stallrun%' AND wait_event = '$1' LIMIT 1"
}

# wait_for_backend WAIT_EVENT — waits (up to 20 s) until stallrun's session
# waits on WAIT_EVENT; sets BACKEND to its pid.
wait_for_backend() {
  local tries=0
  BACKEND=""
  while [ -z "$BACKEND" ]; do
    kill -0 "$BG_PID" 2>/dev/null || { wait_stallrun; fail "stallrun ended before it waited on $1"; }
    tries=$((tries + 1))
    [ $tries -le 200 ] || fail "stallrun's session never waited on $1"
    sleep 0.1
    BACKEND=$(stallrun_backend "$1")
  done
}

# wait_stallrun_within SECONDS — as wait_stallrun, but fails (after killing
# it) when stallrun is still running after SECONDS: the slow migrations sleep
# far longer, so a statement that was not cancelled shows here.
wait_stallrun_within() {
  local tries=0
  while kill -0 "$BG_PID" 2>/dev/null && [ "$(ps -o stat= -p "$BG_PID" 2>/dev/null | cut -c1)" != Z ]; do
    tries=$((tries + 1))
    if [ $tries -gt $(($1 * 10)) ]; then
      kill -9 "$BG_PID" 2>/dev/null || true
      wait_stallrun
      fail "stallrun was still running $1 s after it was told to stop (was its statement cancelled?)"
    fi
    sleep 0.1
  done
  wait_stallrun
}

# kill_and_wait SIGNAL — sends SIGNAL to the background stallrun and waits
# (up to 20 s) for it to exit.
kill_and_wait() {
  kill -s "$1" "$BG_PID"
  wait_stallrun_within 20
}

# deploy_until_it_sleeps — makes the slow migrations sleep, starts a deploy
# in the background and returns once it sleeps inside one (BG_PID: the
# stallrun, BACKEND: its server pid).
deploy_until_it_sleeps() {
  set_sleep 300
  start_stallrun workflows/deploy.lua --env dev
  wait_for_backend PgSleep
}

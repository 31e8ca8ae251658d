# SIGINT and SIGTERM while a deploy runs: the statement is cancelled on the
# server, the migration rolled back (or, outside a transaction, recorded as
# failed part-way), the deploy lock released, and the exit status is 130/143
# with a line saying what state the database is in.
source "$REPO/tests/faults/lib_invariant.sh"
source "$REPO/tests/faults/lib_inflight.sh"

# Two quick migrations, a slow one, one after it; interrupted in the slow one.
interrupt_transactional() {   # interrupt_transactional SIGNAL STATUS NAME
  fault_project
  fault_migration 20240101000001_a
  fault_migration 20240101000002_b
  slow_migration 20240101000003_slow
  fault_migration 20240101000004_d
  deploy_until_it_sleeps
  kill_and_wait "$1"
  assert_exit "$2"
  assert_err_contains "interrupted by $3 during 20240101000003_slow: it was rolled back; 2 migration(s) before it stay applied; deploy again to continue"
  assert_eq "t|f|f" "$(psql_q "SELECT to_regclass('\"20240101000002_b\"') IS NOT NULL, to_regclass('\"20240101000003_slow\"') IS NOT NULL, to_regclass('\"20240101000004_d\"') IS NOT NULL")"
  assert_invariant
  redeploy_completes 2
}

test_sigint_during_a_transactional_migration_rolls_it_back() {
  interrupt_transactional INT 130 SIGINT
}

test_sigterm_during_a_transactional_migration_rolls_it_back() {
  interrupt_transactional TERM 143 SIGTERM
}

test_sigint_during_a_no_transaction_migration_is_recorded_part_way() {
  fault_project
  fault_migration 20240101000001_a
  slow_no_transaction_migration 20240101000002_nt
  fault_migration 20240101000003_c
  deploy_until_it_sleeps
  kill_and_wait INT
  assert_exit 130
  assert_err_contains "interrupted by SIGINT during 20240101000002_nt at statement 2: it runs outside a single transaction, so it is recorded as failed part-way"
  assert_err_contains "workflows/resolve.lua --env dev --migration 20240101000002_nt --applied"
  assert_eq "failed|t|2" "$(psql_q "SELECT outcome, partial, failed_statement FROM stallmig.migrations WHERE name = '20240101000002_nt'")"
  assert_invariant 20240101000002_nt
  # deploy refuses until it is resolved; statement 1 made the table, the
  # sleep did nothing: it is finished, so resolve it as applied
  set_sleep 0
  finish_part_way 20240101000002_nt
  assert_out_contains "Deployed 1 migration(s)"
}

test_sigint_while_waiting_for_the_deploy_lock_changes_nothing() {
  fault_project
  fault_migration 20240101000001_a
  hold_in_background the-holder "SELECT pg_advisory_lock(x'5354414c4c4d4947'::bigint)"
  start_stallrun workflows/deploy.lua --env dev
  eventually 10 grep -q "waiting for the deploy lock" "$CASE_TMP/err" || fail "the deploy never waited"
  kill_and_wait INT
  release_background the-holder
  assert_exit 130
  assert_err_contains "interrupted by SIGINT while waiting for the deploy lock: nothing was changed"
  assert_invariant
  assert_eq "0|1" "$(psql_q "SELECT (SELECT count(*) FROM stallmig.migrations) || '|' || (SELECT count(*) FROM stallmig.audit)")" "nothing written (the audit row is adopt's)"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_invariant
}


# double_sigint DELAY — a second SIGINT DELAY seconds after the first (while
# stallrun rolls back and cleans up, or just before).
double_sigint() {
  fault_project
  fault_migration 20240101000001_a
  slow_migration 20240101000002_slow
  deploy_until_it_sleeps
  kill -s INT "$BG_PID"
  sleep "$1"
  kill -s INT "$BG_PID" 2>/dev/null || true
  wait_stallrun
  assert_exit 130
  assert_err_contains "interrupted by SIGINT during 20240101000002_slow"
  assert_invariant                                   # waits until stallrun's session is gone
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
    AND pid <> pg_backend_pid() AND xact_start IS NOT NULL")" "a transaction left open"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_prepared_xacts")" "a prepared transaction left"
  redeploy_completes
}

test_double_sigint_leaves_no_transaction_open() {
  double_sigint 0
}

test_double_sigint_during_the_cleanup_leaves_no_transaction_open() {
  double_sigint 0.02
}

# Three signals in a row: the third ends the process at once (no cleanup);
# the server still ends the session, its transaction and the deploy lock.
test_third_sigint_quits_at_once_and_the_server_cleans_up() {
  fault_project
  fault_migration 20240101000001_a
  slow_migration 20240101000002_slow
  deploy_until_it_sleeps
  kill -s INT "$BG_PID"; kill -s INT "$BG_PID" 2>/dev/null || true; kill -s INT "$BG_PID" 2>/dev/null || true
  wait_stallrun_within 20
  assert_exit 130
  assert_invariant
  redeploy_completes
}

test_sigint_during_a_shadow_replay_drops_the_shadow_database() {
  fault_project
  # sleeps only where it is replayed: in a shadow database
  add_migration 20240101000001_replayed "CREATE TABLE \"20240101000001_replayed\" (id int);
SELECT pg_sleep(CASE WHEN current_database() LIKE 'stallmig_shadow%' THEN 300 ELSE 0 END);"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  start_stallrun workflows/drift.lua --env dev
  local tries=0
  until [ -n "$(psql_q "SELECT pid FROM pg_stat_activity WHERE datname LIKE 'stallmig_shadow_${BG_PID}_%' AND wait_event = 'PgSleep'")" ]; do
    tries=$((tries + 1)); [ $tries -le 200 ] || fail "the shadow replay never started"; sleep 0.1
  done
  kill_and_wait INT
  assert_exit 130
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_database WHERE datname LIKE 'stallmig_shadow_${BG_PID}_%'")" "the shadow database is left behind"
  assert_invariant
}

# A signal at an arbitrary instant (before, during or after any of 40 quick
# migrations, some outside a transaction): whatever it hit, the history and
# the schema agree, the exit status says how it ended, and after resolving
# what is recorded part-way, the next deploy completes.
test_signal_at_random_instants_keeps_history_and_schema_in_agreement() {
  fault_project
  local i name nt_names="" round signal continue_resolving
  for i in $(seq -w 1 40); do
    name="202401010000${i}_m${i}"
    if [ $((10#$i % 8)) = 0 ]; then
      add_migration "$name" "-- stallmig:no-transaction
CREATE TABLE \"$name\" (id int);
CREATE INDEX CONCURRENTLY ON \"$name\" (id);"
      nt_names+=" $name"
    else
      fault_migration "$name"
    fi
  done
  # how long an uninterrupted deploy takes here: the signals land within it
  local t0 span_ms
  t0=$(date +%s%N)
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  span_ms=$(( ($(date +%s%N) - t0) / 1000000 + 1 ))
  for round in 1 2 3 4 5 6 7 8; do
    DB_URL=$(new_db "$TEST_NAME")
    awk -v url="$DB_URL" '/^url = /{ print "url = " url; next } { print }' "$PROJECT/stallmig.ini" >"$CASE_TMP/ini"
    mv "$CASE_TMP/ini" "$PROJECT/stallmig.ini"
    signal=INT continue_resolving=""
    [ $((round % 2)) = 0 ] && signal=TERM
    start_stallrun workflows/deploy.lua --env dev
    sleep "$(awk -v ms=$((RANDOM % span_ms)) 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -s "$signal" "$BG_PID" 2>/dev/null || true     # it may have finished already
    wait_stallrun_within 20
    echo "round $round: SIG$signal, exit $STATUS: $(head -n 1 "$CASE_TMP/err")"   # in the log on failure
    case "$STATUS" in 0|130|143) ;; *) fail "round $round: exit status $STATUS" ;; esac
    # shellcheck disable=SC2086
    assert_invariant $nt_names
    [ "$(psql_q "SELECT to_regclass('stallmig.migrations') IS NOT NULL")" = t ] || continue_resolving=no
    for name in $([ "${continue_resolving:-}" = no ] || psql_q "SELECT name FROM stallmig.migrations m
                    WHERE partial AND outcome = 'failed' AND id = (SELECT max(id) FROM stallmig.migrations WHERE name = m.name)"); do
      psql_q "DROP TABLE IF EXISTS \"$name\"" >/dev/null
      run_stallrun workflows/resolve.lua --env dev --migration "$name" --rolled-back --reason "dropped it"
      assert_exit 0
    done
    run_stallrun workflows/deploy.lua --env dev
    assert_exit 0
    assert_invariant
  done
}

# SIGTERM (to stallrun alone, as a supervisor sends it) while pg_dump takes
# the backup: pg_dump is stopped too, nothing is applied, and stallrun ends
# as interrupted, not by its deadline with pg_dump left running.
test_sigterm_during_the_backup_stops_pg_dump_too() {
  fault_project
  printf 'backup = true\n' >>"$PROJECT/stallmig.ini"
  fault_migration 20240101000001_a
  mkdir -p "$CASE_TMP/bin"
  cat >"$CASE_TMP/bin/pg_dump" <<SLOW
#!/bin/sh
echo \$\$ >"$CASE_TMP/pg_dump.pid"
exec sleep 300
SLOW
  chmod +x "$CASE_TMP/bin/pg_dump"
  LAST_ARGS="workflows/deploy.lua --env dev (a pg_dump that sleeps)"
  (cd "$PROJECT" && exec env PATH="$CASE_TMP/bin:$PATH" "$STALLRUN" workflows/deploy.lua --env dev) \
    >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
  BG_PID=$!
  eventually 20 test -s "$CASE_TMP/pg_dump.pid" || fail "pg_dump never started"
  kill -s TERM "$BG_PID"
  wait_stallrun_within 60
  assert_exit 143
  assert_err_contains "interrupted by SIGTERM"
  ! grep -qF "has not ended" "$CASE_TMP/err" || fail "stallrun waited for pg_dump until its deadline"
  ! kill -0 "$(cat "$CASE_TMP/pg_dump.pid")" 2>/dev/null || fail "pg_dump still runs after stallrun ended"
  assert_eq "" "$(psql_q "SELECT to_regclass('\"20240101000001_a\"')")" "a migration was applied"
  assert_invariant
}

# A signal that lands after a statement of a migration outside one
# transaction committed, while stallrun records that (issue 12, item 18),
# once recorded that statement as the one cut short: after the last
# statement, "failed part-way at statement N" when all N had committed. The
# history now names the first statement not committed, or says applied.
#
# WAIT_SQL waits while fault_control has a row (set_sleep 300 starts the
# wait, set_sleep 0 ends it).
WAIT_SQL='DO $$ BEGIN WHILE EXISTS (SELECT FROM fault_control) LOOP PERFORM pg_sleep(0.05); END LOOP; END $$;'

_recording_again() {   # _recording_again QUERY_START: stallrun's session waits on the history again
  [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE pid = $BACKEND
                 AND query_start > '$1' AND wait_event = 'relation'")" = 1 ]
}

# signal_while_recording SIGNAL — a deploy waits in WAIT_SQL: the history
# table is held, the wait ends, and SIGNAL comes while stallrun waits to
# write the history; the table is let go once that write was cancelled and
# tried again.
signal_while_recording() {
  set_sleep 300
  start_stallrun workflows/deploy.lua --env dev
  wait_for_backend PgSleep
  hold_in_background "history_holder_$BASHPID" "BEGIN" "LOCK TABLE stallmig.migrations IN SHARE MODE"
  set_sleep 0
  wait_for_backend relation
  local started
  started=$(psql_q "SELECT query_start FROM pg_stat_activity WHERE pid = $BACKEND")
  kill -s "$1" "$BG_PID"
  eventually 20 _recording_again "$started" || fail "stallrun did not write the history again after the signal"
  release_background "history_holder_$BASHPID"
  wait_stallrun_within 20
}

test_signal_after_the_last_statement_committed_records_it_applied() {
  fault_project
  fault_migration 20240101000001_a
  add_migration 20240101000002_nt "-- stallmig:no-transaction
CREATE TABLE \"20240101000002_nt\" (id int);
$WAIT_SQL"
  fault_migration 20240101000003_c
  signal_while_recording TERM
  assert_exit 143
  assert_err_contains "interrupted by SIGTERM after 20240101000002_nt was applied: it and the 1 before it stay applied; deploy again to apply the rest"
  assert_eq "applied||" "$(psql_q "SELECT outcome || '|' || coalesce(failed_statement::text, '') || '|' || coalesce(error, '') FROM stallmig.migrations WHERE name = '20240101000002_nt'")"
  assert_invariant
  redeploy_completes 1
}

test_signal_between_statements_records_the_first_not_committed() {
  fault_project
  add_migration 20240101000001_nt "-- stallmig:no-transaction
$WAIT_SQL
CREATE TABLE \"20240101000001_nt\" (id int);"
  signal_while_recording INT
  assert_exit 130
  assert_err_contains "interrupted by SIGINT during 20240101000001_nt at statement 2: it runs outside a single transaction, so it is recorded as failed part-way (the statements before it committed)"
  assert_eq "failed|true|2|3" "$(psql_q "SELECT outcome || '|' || partial || '|' || failed_statement || '|' || failed_line FROM stallmig.migrations WHERE name = '20240101000001_nt'")"
  assert_invariant 20240101000001_nt
  # statement 1 only waited: nothing to undo
  run_stallrun workflows/resolve.lua --env dev --migration 20240101000001_nt --rolled-back --reason "statement 2 never ran"
  assert_exit 0
  redeploy_completes 1
}

# One deploy at a time per database.

many_migrations() {
  local i
  for i in $(seq -w 1 "$1"); do
    add_migration "202401010000${i}_table_${i}" "CREATE TABLE t_${i} (id serial PRIMARY KEY); INSERT INTO t_${i} DEFAULT VALUES;"
  done
}

test_ten_concurrent_deploys_apply_each_migration_once() {
  new_project
  many_migrations 30
  local pids=() i
  for i in $(seq 10); do
    (cd "$PROJECT" && "$STALLRUN" workflows/deploy.lua --env dev >"$CASE_TMP/out.$i" 2>"$CASE_TMP/err.$i"; echo $? >"$CASE_TMP/rc.$i") &
    pids+=($!)
  done
  wait "${pids[@]}"
  for i in $(seq 10); do
    [ "$(cat "$CASE_TMP/rc.$i")" = 0 ] || { cat "$CASE_TMP/err.$i"; fail "deploy $i exited $(cat "$CASE_TMP/rc.$i")"; }
    ! grep -qE 'Sanitizer|runtime error:' "$CASE_TMP/err.$i" || fail "sanitizer report in deploy $i"
  done
  assert_eq "30|30" "$(psql_q "SELECT count(*), count(DISTINCT name) FROM stallmig.migrations")" "history rows"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM t_17")" "each migration ran once"
  assert_eq 1 "$(cat "$CASE_TMP"/out.* | grep -c 'Deployed 30 migration(s)')" "exactly one deploy applied them"
}

test_lock_wait_expires_naming_the_holder() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  sed -i 's/^lock_wait = .*/lock_wait = 1s/' "$PROJECT/stallmig.ini"
  # another session holds the deploy lock (the key is "STALLMIG" as a bigint)
  hold_in_background the-other-deploy "SELECT pg_advisory_lock(x'5354414c4c4d4947'::bigint)"
  run_stallrun workflows/deploy.lua --env dev
  release_background the-other-deploy
  assert_exit 1
  assert_err_contains "waiting for the deploy lock"
  assert_err_contains "another deploy still holds the deploy lock after 1s: pid"
  assert_err_contains "application 'the-other-deploy'"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")"
}

test_waiting_session_holds_no_transaction_open() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  "$PSQL" -XAtq -d "$DB_URL" -c "SELECT pg_advisory_lock(x'5354414c4c4d4947'::bigint)" -c "SELECT pg_sleep(3)" >/dev/null 2>&1 &
  sleep 0.5
  (cd "$PROJECT" && "$STALLRUN" workflows/deploy.lua --env dev >/dev/null 2>&1) &
  local deploy=$!
  sleep 1
  # the waiting deploy is idle between polls, never "idle in transaction"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'stallrun deploy%' AND xact_start IS NOT NULL AND state <> 'active'")"
  wait "$deploy" || fail "the waiting deploy failed after the lock was released"
  assert_eq "a" "$(psql_q "SELECT to_regclass('a')")"
}

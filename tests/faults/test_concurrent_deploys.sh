# Many deploys of the same 50 migrations at once (the deploy lock serialises
# them): each migration is applied exactly once, by one deploy; every other
# deploy waits, finds nothing to do and exits 0. (test_concurrency.sh has ten
# deploys of 30 quick migrations; these add fifty deploys, and ten that queue
# behind a slow migration and a no-transaction one.)
source "$REPO/tests/faults/lib_invariant.sh"
source "$REPO/tests/faults/lib_inflight.sh"

fifty_migrations() {
  local i name
  for i in $(seq -w 1 50); do
    name="202401010000${i}_m${i}"
    add_migration "$name" "CREATE TABLE \"$name\" (id int); INSERT INTO \"$name\" VALUES ($i);"$'\n'
  done
}

# concurrent_deploys N — N deploys at once; each one's exit status and output
# in $CASE_TMP/{rc,out,err}.I. Fails unless every one exited 0.
concurrent_deploys() {
  local pids=() i started
  started=$(date +%s%N)
  for i in $(seq "$1"); do
    (cd "$PROJECT" && "$STALLRUN" workflows/deploy.lua --env dev >"$CASE_TMP/out.$i" 2>"$CASE_TMP/err.$i"
     echo $? >"$CASE_TMP/rc.$i") </dev/null &
    pids+=($!)
  done
  wait "${pids[@]}"
  echo "$1 concurrent deploys took $(( ($(date +%s%N) - started) / 1000000 )) ms"   # in the log, not asserted
  for i in $(seq "$1"); do
    ! grep -qE 'Sanitizer|runtime error:' "$CASE_TMP/err.$i" || fail "sanitizer report in deploy $i: $(cat "$CASE_TMP/err.$i")"
    [ "$(cat "$CASE_TMP/rc.$i")" = 0 ] || fail "deploy $i exited $(cat "$CASE_TMP/rc.$i"): $(cat "$CASE_TMP/err.$i")"
  done
}

# each_applied_once — one applied row per migration, each table holds its one row
each_applied_once() {
  assert_eq "50|50|50" "$(psql_q "SELECT count(*), count(DISTINCT name), count(*) FILTER (WHERE outcome = 'applied') FROM stallmig.migrations")" "history rows"
  local union
  union=$(psql_q "SELECT string_agg(format('SELECT count(*) AS n FROM %I', name), ' UNION ALL ') FROM stallmig.migrations")
  assert_eq "1|1" "$(psql_q "SELECT min(n), max(n) FROM ($union) AS per_table")" "rows per migration's table"
  assert_invariant
}

test_fifty_concurrent_deploys_of_fifty_migrations() {
  fault_project
  fifty_migrations
  concurrent_deploys 50
  assert_eq 1 "$(cat "$CASE_TMP"/out.* | grep -c 'Deployed 50 migration(s)')" "deploys that applied the migrations"
  assert_eq 49 "$(cat "$CASE_TMP"/out.* | grep -c 'Nothing to deploy: dev is up to date (50 migrations)')" "deploys that found nothing to do"
  each_applied_once
}

test_ten_concurrent_deploys_queue_behind_a_slow_and_a_no_transaction_migration() {
  fault_project
  fifty_migrations
  add_migration 20240101000025_m25 "CREATE TABLE \"20240101000025_m25\" (id int); INSERT INTO \"20240101000025_m25\" VALUES (25);
$SLEEP_SQL"
  add_migration 20240101000040_m40 "-- stallmig:no-transaction
CREATE TABLE \"20240101000040_m40\" (id int);
INSERT INTO \"20240101000040_m40\" VALUES (40);
CREATE INDEX CONCURRENTLY m40_id ON \"20240101000040_m40\" (id);"
  set_sleep 1                                          # m25 sleeps a second
  concurrent_deploys 10
  assert_eq 1 "$(cat "$CASE_TMP"/out.* | grep -c 'Deployed 50 migration(s)')" "deploys that applied the migrations"
  assert_eq 9 "$(cat "$CASE_TMP"/out.* | grep -c 'Nothing to deploy')" "deploys that found nothing to do"
  grep -qh "waiting for the deploy lock: pid [0-9]* (application 'stallrun deploy (dev)'" "$CASE_TMP"/err.* ||
    fail "no waiting deploy named the deploy holding the lock"
  each_applied_once
  assert_eq "m40_id" "$(psql_q "SELECT indexrelid::regclass FROM pg_index WHERE indisvalid AND indrelid = '\"20240101000040_m40\"'::regclass")"
}

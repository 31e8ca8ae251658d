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

# A migration that releases advisory locks must not let a second deploy run
# beside the first: the gate's guard fails the migration's own transaction,
# so it is rolled back, and a waiting deploy applies everything exactly once.
test_a_migration_that_releases_the_deploy_lock_is_rolled_back() {
  new_project
  add_migration 20240101000001_a 'CREATE TABLE a (id int);'
  add_migration 20240101000002_unlock $'CREATE TABLE b (id int);\nSELECT pg_advisory_unlock_all();\n'
  add_migration 20240101000003_c 'CREATE TABLE c (id int);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "migration 20240101000002_unlock released stallmig's deploy lock"
  assert_err_contains "it was rolled back, not committed; nothing after it runs"
  assert_eq "a||" "$(psql_q "SELECT to_regclass('a') || '|' || coalesce(to_regclass('b')::text, '') || '|' || coalesce(to_regclass('c')::text, '')")"
  assert_eq "20240101000001_a:applied,20240101000002_unlock:failed" \
    "$(psql_q "SELECT string_agg(name || ':' || outcome, ',' ORDER BY id) FROM stallmig.migrations")"
  # outside one transaction: applied (and recorded), and the deploy stops there
  add_migration 20240101000002_unlock $'-- stallmig:no-transaction\nCREATE TABLE b (id int);\nSELECT pg_advisory_unlock_all();\n'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "it ran outside one transaction and stays applied; nothing after it runs"
  assert_eq "b|" "$(psql_q "SELECT to_regclass('b') || '|' || coalesce(to_regclass('c')::text, '')")"
}

# The gate holds its key twice: a migration that gives one hold back (an
# explicit pg_advisory_unlock of stallmig's key) never left the lock free,
# so it is applied; the change still releases everything it holds, without
# a warning about the hold the migration took.
test_a_migration_that_gives_back_one_hold_leaves_the_lock_held() {
  new_project
  add_migration 20240101000001_a 'CREATE TABLE a (id int);'
  add_migration 20240101000002_once $'CREATE TABLE b (id int);\nSELECT pg_advisory_unlock(6004495999145167175);\n'
  add_migration 20240101000003_c 'CREATE TABLE c (id int);'
  cat >"$PROJECT/held.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
local held = "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
do
  local change <close> = conn:begin_change("held")
  for _, m in ipairs(change:plan().pending) do
    change:apply(m.name)
    print(m.name .. " held " .. conn:query(held)[1].n)
  end
end
print("closed held " .. conn:query(held)[1].n)
LUA
  run_stallrun held.lua --env dev
  assert_exit 0
  assert_out_contains "20240101000002_once held 1"
  assert_out_contains "20240101000003_c held 1"
  assert_out_contains "closed held 0"
  assert_not_contains "WARNING"
  assert_eq "3" "$(psql_q "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'applied'")"
}

# With prisma_compat the gate holds Prisma Migrate's advisory lock too
# (key 72707369), so a prisma migrate deploy waits for stallrun and stallrun
# waits for it.
test_prisma_compat_waits_for_prismas_own_lock() {
  new_project
  printf 'prisma_compat = true\nlock_wait = 1s\n' >>"$PROJECT/stallmig.ini"
  sed -i '/^lock_wait = 60s$/d' "$PROJECT/stallmig.ini"
  add_migration 20240101000001_a 'CREATE TABLE a (id int);'
  hold_in_background prisma "SELECT pg_advisory_lock(72707369)"
  run_stallrun workflows/deploy.lua --env dev
  release_background prisma
  assert_exit 1
  assert_err_contains "Prisma Migrate's lock (key 72707369) is held"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq 0 "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" "a lock left behind"
}

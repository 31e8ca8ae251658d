# The history digest (src/digest.c) and the checksum cache (src/scan_cache.c):
# a deploy with nothing to do compares one row instead of every history row,
# and still catches every edit, deletion and hand change it would have
# caught reading them all.

three_migrations() {
  add_migration 20240101000001_a 'CREATE TABLE IF NOT EXISTS a (id int);'
  add_migration 20240101000002_b 'CREATE TABLE IF NOT EXISTS b (id int);'
  add_migration 20240101000003_c 'CREATE TABLE IF NOT EXISTS c (id int);'
}

# How many statements that read the history the server has logged so far
# (the case's database logs every statement: see log_history_reads).
history_reads() {
  grep -c 'FROM stallmig.migrations' "$CLUSTER/server.log" || true
}

log_history_reads() {
  psql_q "ALTER DATABASE \"$(psql_q 'SELECT current_database()')\" SET log_statement = 'all'" >/dev/null
}

test_a_deploy_with_nothing_to_do_reads_the_digest_not_the_history() {
  new_project
  three_migrations
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "t|3|0" "$(psql_q "SELECT valid, applied, failed FROM stallmig.history_digest")" \
    "the deploy left a valid digest of its three migrations"
  log_history_reads
  local before
  before=$(history_reads)
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Nothing to deploy: dev is up to date (3 migrations)"
  assert_eq "$before" "$(history_reads)" "history rows read by a deploy with nothing to do"
  # a statement on the history, even one that changes no row, makes the digest stale
  psql_q "UPDATE stallmig.migrations SET note = note WHERE false" >/dev/null
  assert_eq "f" "$(psql_q "SELECT valid FROM stallmig.history_digest")"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Nothing to deploy: dev is up to date (3 migrations)"
  [ "$(history_reads)" -gt "$before" ] || fail "a stale digest must send deploy to the history rows"
  assert_eq "t|3" "$(psql_q "SELECT valid, applied FROM stallmig.history_digest")" \
    "the run that read the rows made the digest valid again"
}

test_history_changed_by_hand_is_caught_as_before() {
  new_project
  three_migrations
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  psql_q "UPDATE stallmig.migrations SET checksum = repeat('0', 64) WHERE name = '20240101000002_b'" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "1 applied migration(s) were edited since they were applied"
  assert_err_contains "20240101000002_b"
  psql_q "UPDATE stallmig.migrations SET checksum = '$(sha256sum "$PROJECT/migrations/20240101000002_b/migration.sql" | cut -d' ' -f1)' WHERE name = '20240101000002_b'" >/dev/null
  psql_q "DELETE FROM stallmig.migrations WHERE name = '20240101000003_c'" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Deploying 1 migration(s) to dev"
  assert_out_contains "20240101000003_c"
}

test_a_disabled_digest_trigger_is_not_trusted() {
  new_project
  three_migrations
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  psql_q "ALTER TABLE stallmig.migrations DISABLE TRIGGER history_digest_stale" >/dev/null
  psql_q "DELETE FROM stallmig.migrations WHERE name = '20240101000003_c'" >/dev/null
  assert_eq "t" "$(psql_q "SELECT valid FROM stallmig.history_digest")" "the disabled trigger did not mark it"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Deploying 1 migration(s) to dev"
  assert_out_contains "20240101000003_c"
}

test_an_edited_file_is_caught_when_only_its_contents_changed() {
  new_project
  three_migrations
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  sleep 3          # older than the scan's settling time (scan_cache.h): now cached
  run_stallrun workflows/status.lua --env dev
  assert_exit 0
  grep -q ' 20240101000002_b$' "$PROJECT/.stallmig/checksums" || fail "status did not record b's checksum"
  # the same size, the same modification time: only the change time moves
  local file="$PROJECT/migrations/20240101000002_b/migration.sql"
  touch -r "$file" "$CASE_TMP/stamp"
  printf '%s' 'CREATE TABLE IF NOT EXISTS x (id int);' >"$file"
  touch -r "$CASE_TMP/stamp" "$file"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains "1 applied migration(s) were edited since they were applied"
  assert_err_contains "20240101000002_b"
}

test_a_database_from_before_the_digest_gets_one() {
  new_project
  three_migrations
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  psql_q "DROP TABLE stallmig.history_digest; DROP TRIGGER history_digest_stale ON stallmig.migrations" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Nothing to deploy: dev is up to date (3 migrations)"
  assert_eq "t|3|0" "$(psql_q "SELECT valid, applied, failed FROM stallmig.history_digest")"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM pg_trigger WHERE tgname = 'history_digest_stale'")"
}

test_a_failed_migration_is_in_the_digest_and_retried() {
  new_project
  three_migrations
  add_migration 20240101000004_d 'CREATE TABLE d (id int REFERENCES nowhere(id));'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_eq "t|3|1" "$(psql_q "SELECT valid, applied, failed FROM stallmig.history_digest")"
  add_migration 20240101000004_d 'CREATE TABLE d (id int);'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Deploying 1 migration(s) to dev"
  assert_eq "t|4|0" "$(psql_q "SELECT valid, applied, failed FROM stallmig.history_digest")"
}

# status: with everything applied the digest vouches for the list, so it
# reads the last ten history rows, not every one; anything else (a row
# changed by hand, an edited file) lists every migration, as before.
test_status_up_to_date_lists_the_last_ten_from_the_digest() {
  new_project
  local i
  for i in $(seq 10 21); do add_migration "202401010000${i}_t${i}" "CREATE TABLE t${i} (id int);"; done
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  log_history_reads
  local before
  before=$(history_reads)
  run_stallrun workflows/status.lua --env dev
  assert_exit 0
  assert_out_contains "(the 10 applied last of 12; --all lists every one)"
  assert_out_contains "dev: 12 applied, 0 pending, 0 failed, 0 modified, 0 missing."
  assert_out_contains "20240101000021_t21"
  [[ "$OUT" != *20240101000011_t11* ]] || fail "status listed a migration older than the last ten"
  assert_eq "$((before + 1))" "$(history_reads)" "history statements read by status (one: the last rows)"
  run_stallrun workflows/status.lua --env dev --all
  assert_exit 0
  assert_out_contains "20240101000010_t10"
  run_stallrun workflows/status.lua --env dev --json
  assert_exit 0
  assert_eq 12 "$(printf '%s' "$OUT" | grep -o '"state":"applied"' | wc -l)" "--json lists every migration"
  # an edited file: the folder's key differs, status reads every row
  local file="$PROJECT/migrations/20240101000020_t20/migration.sql"
  cp "$file" "$CASE_TMP/t20.sql"
  printf '\n-- edited\n' >>"$file"
  run_stallrun workflows/status.lua --env dev
  assert_exit 1
  assert_out_contains "20240101000010_t10"
  [[ "$OUT" =~ 20240101000020_t20\ +modified ]] || fail "status does not show t20 as modified"
  cp "$CASE_TMP/t20.sql" "$file"
  # a history row deleted by hand: the digest no longer vouches
  psql_q "DELETE FROM stallmig.migrations WHERE name = '20240101000015_t15'" >/dev/null
  run_stallrun workflows/status.lua --env dev
  assert_exit 1
  assert_out_contains "20240101000010_t10"
  [[ "$OUT" =~ 20240101000015_t15\ +pending ]] || fail "status does not show t15 as pending"
}

# conn:history_current, as a script calls it: the count when the digest
# vouches, nil when it cannot (no digest yet, an open transaction), and a
# usage error for a scan migrations.discover already read (and released).
test_history_current_answers_only_what_it_can_vouch_for() {
  new_project
  three_migrations
  cat >"$PROJECT/current.lua" <<'LUA'
local ctx = ...
local db, migrations = require("stallmig.db"), require("stallmig.migrations")
local conn <close> = db.connect(ctx.env)
local scan = migrations.scan(ctx.config)
print("now", tostring(conn:history_current(scan)))
local n, rows = conn:history_current(scan, 2)
print("latest", tostring(n), rows and #rows, rows and rows[1].name, rows and rows[2].name,
  rows and math.type(rows[1].duration_ms), rows and rows[1].finished_at)
for _, bad in ipairs({ 0, 100001, "two" }) do
  local ok, err = pcall(conn.history_current, conn, scan, bad)
  print("latest " .. tostring(bad), ok, tostring(err))
end
local tx <close> = conn:transaction()
print("in a transaction", tostring(conn:history_current(scan)))
tx:rollback()
migrations.discover(ctx.config, scan)
local ok, err = pcall(conn.history_current, conn, scan)
print("released", ok, err.kind, err.message)
LUA
  run_stallrun current.lua --env dev
  assert_exit 0
  assert_out_contains "now	nil"                  # nothing deployed: no digest yet
  assert_out_contains "latest	nil	nil"
  local bad
  for bad in 0 100001; do
    [[ "$OUT" == *"latest $bad	false	"*"bad argument #3 to "*"(latest: how many history rows, 1 to 100000)"* ]] ||
      fail "history_current(scan, $bad) was not refused: $OUT"
  done
  [[ "$OUT" == *"latest two	false	"*"bad argument #3 to "*"(number expected, got string)"* ]] ||
    fail "history_current(scan, \"two\") was not refused: $OUT"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  run_stallrun current.lua --env dev
  assert_exit 0
  assert_out_contains "now	3"
  # the two applied last, newest first, in the same statement as the digest
  [[ "$OUT" =~ latest$'\t'3$'\t'2$'\t'20240101000003_c$'\t'20240101000002_b$'\t'float$'\t'[0-9-]{10}T[0-9:]{8}Z ]] ||
    fail "history_current(scan, 2) did not answer the two applied last: $OUT"
  assert_out_contains "in a transaction	nil"
  assert_out_contains "released	false	usage	the scan was already released (migrations.discover releases the scan it read)"
}

# A database without the digest (never deployed, or from before it) is not
# asked for it, nor for a history it does not have: reading a table that is
# not there leaves an ERROR in the server's log, on every status.
test_no_digest_table_no_error_in_the_server_log() {
  new_project
  three_migrations
  local before
  before=$(grep -cE '(history_digest|migrations)" does not exist' "$CLUSTER/server.log" || true)
  run_stallrun workflows/status.lua --env dev
  assert_exit 1
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "t" "$(psql_q "SELECT valid FROM stallmig.history_digest")" "the first deploy made the digest"
  run_stallrun workflows/status.lua --env dev
  assert_exit 0
  assert_eq "$before" "$(grep -cE '(history_digest|migrations)" does not exist' "$CLUSTER/server.log" || true)" \
    "errors in the server log about a digest or history table that was not there"
}

# Issue 17: the backfill section of a phased migration runs in key-range
# batches, checkpointed on the history row, bounded to the rows there when
# it started, beside a writer that must never wait longer than lock_timeout.
# ZDT_ROWS sets the table's size (default 20000, so the file stays within
# its share of the integration lane also under ASan; the issue's million
# rows: ZDT_ROWS=1000000, and bench/backfill.sh for ten million).

backfill_project() {
  new_project
  BACKFILL_ROWS=${ZDT_ROWS:-20000}
  sed -i 's/^\[env.dev\]$/[env.dev]\nlock_timeout = 1s\nlock_retries = 3\nbackfill_batch = 500\nbackfill_pause = 10ms/' "$PROJECT/stallmig.ini"
  add_migration 20240101000000_t "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int, n int NOT NULL DEFAULT 0);
INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, $BACKFILL_ROWS) g;"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  add_migration 20240102000000_c '-- stallmig:expand
ALTER TABLE t ADD COLUMN c bigint;
-- stallmig:backfill
UPDATE t SET c = a * 2, n = n + 1;
-- stallmig:contract
ALTER TABLE t DROP COLUMN b;
-- stallmig:down
ALTER TABLE t DROP COLUMN c;
'
}

# A writer beside the migration: inserts new rows and updates old ones, each
# statement with the same lock_timeout; any error goes to writer.err.
start_writer() {
  : >"$CASE_TMP/writer.err"
  (
    i=0
    while [ ! -e "$CASE_TMP/writer.stop" ]; do
      i=$((i + 1))
      "$PSQL" -XAtq -d "$DB_URL" -c "SET lock_timeout = '1s'" \
        -c "INSERT INTO t (id, a) VALUES ($BACKFILL_ROWS + $i, $i % $BACKFILL_ROWS)" \
        -c "UPDATE t SET a = a WHERE id = 1 + ($i * 7919) % $BACKFILL_ROWS" >/dev/null 2>>"$CASE_TMP/writer.err" || true
      echo "$i" >"$CASE_TMP/writer.count"
    done
  ) &
  WRITER_PID=$!
}

stop_writer() {
  touch "$CASE_TMP/writer.stop"
  wait "$WRITER_PID" 2>/dev/null || true
  [ ! -s "$CASE_TMP/writer.err" ] || fail "the writer saw errors: $(head -5 "$CASE_TMP/writer.err")"
  [ "$(cat "$CASE_TMP/writer.count" 2>/dev/null || echo 0)" -gt 0 ] || fail "the writer never wrote"
}

test_backfill_killed_half_way_resumes_from_its_checkpoint() {
  backfill_project
  start_writer
  (cd "$PROJECT" && exec "$STALLRUN" workflows/deploy.lua --env dev) >"$CASE_TMP/first.out" 2>"$CASE_TMP/first.err" </dev/null &
  local pid=$! tries=0
  until [ "$(psql_q "SELECT coalesce((checkpoint::json->>'done')::int, 0) > 0 FROM stallmig.migrations WHERE name = '20240102000000_c' ORDER BY id DESC LIMIT 1")" = t ]; do
    tries=$((tries + 1))
    [ $tries -lt 600 ] || { kill -9 $pid; fail "the backfill never checkpointed"; }
    sleep 0.02
  done
  kill -9 $pid
  wait $pid 2>/dev/null || true
  local done_before
  done_before=$(psql_q "SELECT (checkpoint::json->>'done')::int FROM stallmig.migrations WHERE name = '20240102000000_c' ORDER BY id DESC LIMIT 1")
  [ "$done_before" -lt "$BACKFILL_ROWS" ] || fail "the backfill finished before it was killed ($done_before rows)"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "20240102000000_c stopped at step 2 of 2; resuming there"
  assert_err_contains " rows (100%)"
  stop_writer
  local bound                                   # the largest key when the backfill started
  bound=$(psql_q "SELECT checkpoint::json->>'max' FROM stallmig.migrations WHERE name = '20240102000000_c' AND checkpoint IS NOT NULL ORDER BY id DESC LIMIT 1")
  [ "$bound" -ge "$BACKFILL_ROWS" ] || fail "the checkpoint's bound is $bound"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM t WHERE id <= $bound AND (n <> 1 OR c IS DISTINCT FROM a * 2)")" "every row there at the start updated exactly once"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM t WHERE id > $bound AND n <> 0")" "rows inserted after it started are not the backfill's"
  [ "$(psql_q "SELECT count(*) FROM t WHERE id > $bound")" -gt 0 ] || fail "the writer inserted nothing during the backfill"
  assert_eq "expanded" "$(psql_q "SELECT outcome FROM stallmig.migrations WHERE name = '20240102000000_c' ORDER BY id DESC LIMIT 1")"
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  assert_exit 0
}

test_backfill_with_a_writer_throughout_expand_backfill_contract() {
  backfill_project
  start_writer
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  assert_exit 0
  stop_writer
  assert_eq 0 "$(psql_q "SELECT count(*) FROM t WHERE id <= $BACKFILL_ROWS AND c IS DISTINCT FROM a * 2")"
  assert_eq "" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'b' AND NOT attisdropped")"
}

test_backfill_refuses_a_table_without_a_one_column_key() {
  backfill_project
  psql_q "ALTER TABLE t DROP CONSTRAINT t_pkey" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_err_contains '"t" has no one-column primary key to batch the backfill by'
  assert_err_contains "it resumes at step 2"
}

# Every recipe of docs/zero-downtime.md on one table of ZDT_ROWS rows, with
# the writer running throughout deploy and complete: a NOT NULL column, a
# unique constraint, a foreign key, a rename with a sync trigger, a type
# change with a sync trigger, a column dropped in a contract only.
test_backfill_every_recipe_with_a_writer_throughout() {
  backfill_project
  rm -r "$PROJECT/migrations/20240102000000_c"
  psql_q "CREATE TABLE owners (id bigint PRIMARY KEY); INSERT INTO owners SELECT g FROM generate_series(0, $BACKFILL_ROWS) g" >/dev/null
  add_migration 20240102000000_not_null_unique '-- stallmig:expand
ALTER TABLE t ADD COLUMN code text;
CREATE FUNCTION t_code_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.code := COALESCE(NEW.code, '"'"'c'"'"' || NEW.id); RETURN NEW; END $$;
CREATE TRIGGER t_code_fill BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION t_code_fill();
ALTER TABLE t ADD CONSTRAINT t_code_set CHECK (code IS NOT NULL) NOT VALID;
CREATE UNIQUE INDEX CONCURRENTLY t_code_key ON t (code);
-- stallmig:backfill
UPDATE t SET code = '"'"'c'"'"' || id WHERE code IS NULL;
-- stallmig:contract
ALTER TABLE t VALIDATE CONSTRAINT t_code_set;
ALTER TABLE t ALTER COLUMN code SET NOT NULL;
ALTER TABLE t DROP CONSTRAINT t_code_set;
ALTER TABLE t ADD CONSTRAINT t_code_key UNIQUE USING INDEX t_code_key;
-- stallmig:down
DROP TRIGGER t_code_fill ON t;
DROP FUNCTION t_code_fill();
DROP INDEX CONCURRENTLY t_code_key;
ALTER TABLE t DROP COLUMN code;
'
  add_migration 20240103000000_foreign_key '-- stallmig:expand
ALTER TABLE t ADD CONSTRAINT t_owner_fk FOREIGN KEY (a) REFERENCES owners (id) NOT VALID;
-- stallmig:contract
ALTER TABLE t VALIDATE CONSTRAINT t_owner_fk;
-- stallmig:down
ALTER TABLE t DROP CONSTRAINT t_owner_fk;
'
  add_migration 20240104000000_rename_and_type '-- stallmig:expand
ALTER TABLE t ADD COLUMN amount bigint;
CREATE FUNCTION t_amount_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.amount := NEW.a; RETURN NEW; END $$;
CREATE TRIGGER t_amount_sync BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION t_amount_sync();
-- stallmig:backfill
UPDATE t SET amount = a WHERE amount IS DISTINCT FROM a;
-- stallmig:contract
DROP TRIGGER t_amount_sync ON t;
DROP FUNCTION t_amount_sync();
-- stallmig:down
DROP TRIGGER t_amount_sync ON t;
DROP FUNCTION t_amount_sync();
ALTER TABLE t DROP COLUMN amount;
'
  add_migration 20240105000000_drop_b '-- stallmig:contract
ALTER TABLE t DROP COLUMN b;
'
  start_writer
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq 4 "$(psql_q "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'expanded'")"
  assert_eq "b" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'b' AND NOT attisdropped")" "a contract-only drop waits for complete"
  run_stallrun workflows/complete.lua --env dev --rollout-confirmed
  assert_exit 0
  assert_out_contains "Completed 4 migration(s) on dev."
  stop_writer
  # rows the writer inserts after the contract dropped the sync trigger are the new version's to fill
  assert_eq "0|0|true" "$(psql_q "SELECT (SELECT count(*) FROM t WHERE code IS NULL OR (id <= $BACKFILL_ROWS AND amount IS DISTINCT FROM a)) || '|' ||
    (SELECT count(*) FROM pg_constraint WHERE conrelid = 't'::regclass AND NOT convalidated) || '|' ||
    (SELECT attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'code')")"
  assert_eq "" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'b' AND NOT attisdropped")"
}

# Around the gate: a script that runs the backfill's batches itself, without
# deploy (no lock, no review, no history row of its own), is refused at its
# first batch, which carries the checkpoint the host keeps in its history;
# no row is touched.
test_backfill_run_by_a_script_outside_the_gate_is_refused() {
  backfill_project
  printf '%s' '-- stallmig:expand
ALTER TABLE t ADD COLUMN c bigint;
-- stallmig:down
ALTER TABLE t DROP COLUMN c;
' >"$PROJECT/migrations/20240102000000_c/migration.sql"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  cat >"$PROJECT/sneaky.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
local statement = require("stallmig.sql").script("UPDATE t SET c = a * 2").statements[1]
local row = conn:query("SELECT max(id) AS id FROM stallmig.migrations")[1].id
require("stallmig.backfill").run(conn, { name = "sneaky" }, 1, { statements = { statement } },
  { settings = { backfill_batch = 500 }, row = row, told = {}, what = "sneaky",
    failure = function(_, err) error(err, 0) end })
LUA
  run_stallrun sneaky.lua --env dev
  assert_exit 3
  assert_err_contains "stallmig"
  assert_eq 0 "$(psql_q "SELECT count(c) FROM t")" "a batch ran outside the gate"
  # the library's other writers of a phased migration, called around the
  # gate: the steps resuming from a checkpoint (which writes it on the
  # history row first), and apply.run of a phase with Prisma's row
  local before
  before=$(psql_q "SELECT count(*) || '|' || count(checkpoint) FROM stallmig.migrations")
  cat >"$PROJECT/sneaky.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
local statement = require("stallmig.sql").script("UPDATE t SET c = a * 2").statements[1]
local row = conn:query("SELECT max(id) AS id FROM stallmig.migrations")[1].id
require("stallmig.steps").run(conn, { name = "sneaky", steps = { { kind = "backfill", statements = { statement } } } },
  { resume = { step = 1, checkpoint = '{"lo":"1"}' }, settings = { backfill_batch = 500 }, told = {} },
  { row = row })
LUA
  run_stallrun sneaky.lua --env dev
  assert_exit 3
  assert_err_contains "the stallmig schema is the host's, and this SQL writes to it"
  cat >"$PROJECT/sneaky.lua" <<'LUA'
local ctx = ...
local migrations, apply = require("stallmig.migrations"), require("stallmig.apply")
local conn <close> = require("stallmig.db").connect(ctx.env)
local found = migrations.discover(ctx.config)
local m = migrations.load(found[#found], found)
m.mode, m.steps = "steps", { { kind = "backfill", statements = m.script.statements } }
apply.run(conn, m, ctx.env, { prisma = true })
LUA
  run_stallrun sneaky.lua --env dev
  assert_exit 3
  assert_err_contains "the stallmig schema is the host's, and this SQL writes to it"
  assert_eq "$before" "$(psql_q "SELECT count(*) || '|' || count(checkpoint) FROM stallmig.migrations")" \
    "the history was written outside the gate"
  assert_eq "" "$(psql_q "SELECT to_regclass('_prisma_migrations')")" "Prisma's table was written outside the gate"
  assert_eq 0 "$(psql_q "SELECT count(c) FROM t")" "a batch ran outside the gate"
}

# The WAL gate (docs/zero-downtime.md): while the server's WAL writer is
# stuck, no batch starts (a batch would hold its rows' locks until the
# writer came back); the backfill says so after a second and finishes once
# the writer writes again. The worker's WAL writer is stopped (SIGSTOP)
# for two seconds, and with it what else writes WAL out on its way: the
# checkpointer and the background writer (a dirty page is written only
# after the WAL that changed it), autovacuum (off for t). No writer runs
# beside it (a synchronous commit would write the WAL out itself).
test_backfill_waits_while_the_wal_writer_is_stuck() {
  backfill_project
  sed -i 's/^backfill_pause = 10ms$/backfill_pause = 50ms/' "$PROJECT/stallmig.ini"
  psql_q "ALTER TABLE t SET (autovacuum_enabled = false)" >/dev/null
  local walwriter writers
  walwriter=$(psql_q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'")
  writers=$(psql_q "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type IN ('walwriter', 'checkpointer', 'background writer')")
  [ -n "$walwriter" ] || fail "no WAL writer in pg_stat_activity"
  # Nothing else may write the WAL out meanwhile: an autovacuum worker does
  # (ANALYZE commits synchronously; VACUUM writes the pages it dirtied,
  # the WAL first), and then the batches rightly go on. Off for this test
  # on the worker's cluster, back on after it.
  psql_q "ALTER SYSTEM SET autovacuum = off" >/dev/null
  psql_q "SELECT pg_reload_conf()" >/dev/null
  trap 'kill -CONT '"$writers"' 2>/dev/null || true
        "$PSQL" -XAtq -d "$DB_URL" -c "ALTER SYSTEM RESET autovacuum" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true' EXIT
  local waited=0
  until [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")" = 0 ]; do
    waited=$((waited + 1))
    [ $waited -lt 500 ] || fail "an autovacuum worker still runs 10s after autovacuum was turned off"
    sleep 0.02
  done
  (cd "$PROJECT" && exec "$STALLRUN" workflows/deploy.lua --env dev) >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null &
  local pid=$! tries=0 done_sql="SELECT coalesce((checkpoint::json->>'done')::int, 0) FROM stallmig.migrations WHERE name = '20240102000000_c' ORDER BY id DESC LIMIT 1"
  until [ "$(psql_q "$done_sql")" -gt 0 ]; do
    tries=$((tries + 1))
    [ $tries -lt 600 ] || { kill -9 $pid; fail "the backfill never checkpointed"; }
    sleep 0.02
  done
  kill -STOP $writers
  sleep 0.5                                     # a batch already started may finish
  local stuck_from stuck_to active
  stuck_from=$(psql_q "$done_sql")
  sleep 1.5
  stuck_to=$(psql_q "$done_sql")
  active=$(psql_q "SELECT string_agg(backend_type || ':' || coalesce(state, '-') || ':' || left(query, 40), '; ') FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
  kill -CONT $writers
  wait $pid && STATUS=0 || STATUS=$?
  assert_exit 0
  [ "$stuck_from" -lt "$BACKFILL_ROWS" ] || fail "the backfill finished before the WAL writer was stopped"
  assert_eq "$stuck_from" "$stuck_to" "batches committed while the WAL writer was stopped (sessions then: $active)"
  assert_err_contains "the server has not written out its WAL for 1s"
  assert_err_contains " rows (100%)"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM t WHERE n <> 1 OR c IS DISTINCT FROM a * 2")" "every row updated exactly once"
}

# backfill_batch_time: the first batch has backfill_batch rows, the next ones
# are sized from the last one's duration (at most twice or half of it). A
# trigger makes the rows up to 400 slow (2 ms each) and records which
# transaction updated each row: the batches shrink to about 10 slow rows
# (20 ms) and grow again where the rows are fast.
test_backfill_batch_time_sizes_the_batches() {
  new_project
  sed -i 's/^\[env.dev\]$/[env.dev]\nbackfill_batch = 100\nbackfill_batch_time = 20ms/' "$PROJECT/stallmig.ini"
  add_migration 20240101000000_t "CREATE TABLE t (id bigint PRIMARY KEY, a int, c int);
INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 3000) g;
CREATE TABLE seen (xid bigint, id bigint);
CREATE FUNCTION t_slow() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN IF NEW.id <= 400 THEN PERFORM pg_sleep(0.002); END IF; RETURN NEW; END \$\$;
CREATE FUNCTION t_seen() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO seen VALUES (txid_current(), NEW.id); RETURN NULL; END \$\$;
CREATE TRIGGER t_slow BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION t_slow();
CREATE TRIGGER t_seen AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION t_seen();"
  add_migration 20240102000000_c '-- stallmig:backfill
UPDATE t SET c = a * 2;
'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq 0 "$(psql_q "SELECT count(*) FROM t WHERE c IS DISTINCT FROM a * 2")" "every row updated"
  assert_eq 3000 "$(psql_q "SELECT count(DISTINCT id) FROM seen")"
  assert_eq 3000 "$(psql_q "SELECT count(*) FROM seen")" "a row updated twice"
  local sizes="SELECT row_number() OVER (ORDER BY min(id)) AS nr, min(id) AS lo, max(id) AS hi, count(*) AS n FROM seen GROUP BY xid"
  assert_eq "1|100" "$(psql_q "SELECT nr || '|' || n FROM ($sizes) b WHERE nr = 1")" "the first batch is backfill_batch rows"
  # after four halvings (100, 50, 25, 12) a slow batch is about 10 rows
  assert_eq 0 "$(psql_q "SELECT count(*) FROM ($sizes) b WHERE nr > 4 AND hi <= 400 AND n > 25")" "slow batches did not shrink"
  [ "$(psql_q "SELECT count(*) FROM ($sizes) b WHERE nr > 4 AND hi <= 400")" -ge 5 ] || fail "too few slow batches"
  [ "$(psql_q "SELECT max(n) FROM ($sizes) b WHERE lo > 400")" -gt 200 ] || fail "fast batches did not grow"
}

test_backfill_batch_time_refuses_a_bad_value() {
  backfill_project
  sed -i 's/^backfill_batch = 500$/backfill_batch = 500\nbackfill_batch_time = quick/' "$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 2
  assert_err_contains "stallmig.ini:"
  assert_err_contains "backfill_batch_time = 'quick' is not a duration"
  assert_eq "" "$(psql_q "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'c'")" "the expand ran"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM t WHERE n <> 0")" "a row was updated"
}

# A server that does not show its WAL positions (Amazon Aurora raises
# FeatureNotSupported; here a role that may not run pg_current_wal_lsn(),
# EXECUTE revoked in its database) gets its backfill without the WAL gate:
# the backfill says so and finishes, every row updated once.
test_backfill_without_the_wal_positions_runs_without_the_gate() {
  new_project
  local role="bf_plain_$BASHPID" db
  db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$DB_URL")
  psql_q "CREATE ROLE $role LOGIN NOSUPERUSER" >/dev/null
  trap "psql_q 'ALTER DATABASE \"$db\" OWNER TO postgres; REASSIGN OWNED BY $role TO postgres; DROP OWNED BY $role' >/dev/null 2>&1 || true
    psql_q 'DROP ROLE $role' >/dev/null 2>&1 || true" EXIT
  psql_q "REVOKE EXECUTE ON FUNCTION pg_current_wal_lsn() FROM PUBLIC; ALTER DATABASE \"$db\" OWNER TO $role" >/dev/null
  local plain_url=${DB_URL/user=postgres/user=$role}
  awk -v url="$plain_url" '/^url = / { print "url = " url; print "backfill_batch = 500"; next } { print }' \
    "$PROJECT/stallmig.ini" >"$CASE_TMP/ini" && cp "$CASE_TMP/ini" "$PROJECT/stallmig.ini"
  add_migration 20240101000000_t "CREATE TABLE t (id bigint PRIMARY KEY, a int, n int NOT NULL DEFAULT 0);
INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 5000) g;"
  add_migration 20240102000000_c '-- stallmig:expand
ALTER TABLE t ADD COLUMN c bigint;
-- stallmig:backfill
UPDATE t SET c = a * 2, n = n + 1;
'
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_err_contains "the server does not show its WAL positions (permission denied for function pg_current_wal_lsn): the batches run without the WAL gate"
  assert_err_contains "5000 of 5000 rows (100%)"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM t WHERE n <> 1 OR c IS DISTINCT FROM a * 2")" "every row updated exactly once"
}

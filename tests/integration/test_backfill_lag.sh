# Issue 17: a backfill waits while a replica replays more than
# backfill_max_lag behind, says so, and goes on once the replica catches
# up. A primary and its hot standby under $CASE_TMP; the standby's replay
# is paused (pg_wal_replay_pause) so that its replay_lag grows with every
# batch the primary writes, then resumed.

lag_project() {
  primary_cluster
  PROJECT=$(mktemp -d "$CASE_TMP/project.XXXX")
  DB_URL=$PRIMARY_URL
  mkdir -p "$PROJECT/migrations"
  cat >"$PROJECT/stallmig.ini" <<INI
[project]
migrations = migrations

[env.dev]
url = $DB_URL
protected = false
backfill_batch = 200
backfill_pause = 50ms
backfill_max_lag = 0.3s
INI
  add_migration 20240101000000_t "CREATE TABLE t (id bigint PRIMARY KEY, a int);
INSERT INTO t SELECT g, g FROM generate_series(1, 4000) g;"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  start_standby
  # replies each second rather than each 10 s: the lag the primary sees follows replay sooner
  psql_q "ALTER SYSTEM SET wal_receiver_status_interval = '1s'" "$REPLICA_URL" >/dev/null
  psql_q "SELECT pg_reload_conf()" "$REPLICA_URL" >/dev/null
  add_migration 20240102000000_c '-- stallmig:expand
ALTER TABLE t ADD COLUMN c bigint;
-- stallmig:backfill
UPDATE t SET c = a * 2;
-- stallmig:down
ALTER TABLE t DROP COLUMN c;
'
}

test_backfill_waits_for_a_lagging_replica() {
  lag_project
  psql_q "SELECT pg_wal_replay_pause()" "$REPLICA_URL" >/dev/null
  # WAL the standby holds unreplayed for a second: the first lag read trips
  psql_q "CREATE TABLE pause_mark (id int)" >/dev/null
  sleep 1
  psql_q "DROP TABLE pause_mark" >/dev/null
  (cd "$PROJECT" && exec "$STALLRUN" workflows/deploy.lua --env dev) >"$CASE_TMP/deploy.out" 2>"$CASE_TMP/deploy.err" </dev/null &
  local pid=$! tries=0
  until grep -q "a replica replays" "$CASE_TMP/deploy.err"; do
    tries=$((tries + 1))
    if [ $tries -ge 300 ] || ! kill -0 $pid 2>/dev/null; then
      psql_q "SELECT pg_wal_replay_resume()" "$REPLICA_URL" >/dev/null
      wait $pid || true
      fail "the backfill never waited for the paused replica: $(cat "$CASE_TMP/deploy.err")"
    fi
    sleep 0.1
  done
  # it waits: no batch commits while the replica is behind
  local done_then
  done_then=$(psql_q "SELECT count(c) FROM t")
  sleep 1
  assert_eq "$done_then" "$(psql_q "SELECT count(c) FROM t")" "batches went on while the replica was behind"
  psql_q "SELECT pg_wal_replay_resume()" "$REPLICA_URL" >/dev/null
  wait $pid || fail "deploy failed after the replica caught up: $(cat "$CASE_TMP/deploy.err")"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM t WHERE c IS DISTINCT FROM a * 2")" "every row backfilled"
  grep -q "backfill_max_lag" "$CASE_TMP/deploy.err" || fail "the wait does not name backfill_max_lag"
}

# A connection through PgBouncer in transaction-pooling mode (issue 7): each
# transaction may run on another server session, so the session advisory
# deploy lock does not hold. Deploy detects the pooler (libpq's backend pid
# is PgBouncer's own, not the server's pg_backend_pid()) and refuses;
# status, which only reads, works through it.

# start_pgbouncer — PgBouncer (pool_mode = transaction, trust) on a unix
# socket in $CASE_TMP/bouncer, in front of the run's cluster, as the postgres
# user (it refuses to run as root); stopped when the test ends. Exports
# BOUNCER_URL for DB_URL's database (after new_project).
start_pgbouncer() {
  command -v pgbouncer >/dev/null || fail "pgbouncer is not installed (scripts/deps.sh installs it)"
  local dir="$CASE_TMP/bouncer" db
  chmod o+x "$CASE_TMP"
  mkdir -p "$dir"
  printf '"postgres" ""\n' >"$dir/users.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=$CLUSTER user=postgres

[pgbouncer]
unix_socket_dir = $dir
listen_port = 6432
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 1
ignore_startup_parameters = options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  chown -R postgres: "$dir"
  trap '[ -f "$CASE_TMP/bouncer/pgbouncer.pid" ] && kill "$(cat "$CASE_TMP/bouncer/pgbouncer.pid")" 2>/dev/null || true' EXIT
  (cd / && runuser -u postgres -- pgbouncer -d -q "$dir/pgbouncer.ini") || fail "pgbouncer did not start: $(tail -5 "$dir/pgbouncer.log")"
  db=$(printf '%s' "$DB_URL" | sed -E 's|^postgresql:///([^?]*)\?.*|\1|')
  BOUNCER_URL="postgresql:///$db?host=$dir&port=6432&user=postgres"
  local i
  for i in $(seq 50); do
    "$PSQL" -XAtq -d "$BOUNCER_URL" -c 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  assert_eq 1 "$(psql_q 'SELECT 1' "$BOUNCER_URL")" "pgbouncer answers"
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.pooled]
url = $BOUNCER_URL
protected = false
INI
}

test_deploy_through_a_transaction_pooler_is_refused() {
  new_project
  start_pgbouncer
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  run_stallrun workflows/deploy.lua --env pooled
  assert_exit 3
  assert_err_contains "stallrun: pooled's url goes through a connection pooler"
  assert_err_contains "the deploy lock, a session advisory lock, would not hold"
  assert_err_contains "hint: point the url of [env.pooled] at the PostgreSQL server directly"
  assert_not_contains "Deploying"
  assert_eq "|" "$(psql_q "SELECT coalesce(to_regclass('a')::text, '') || '|' || coalesce(to_regclass('stallmig.migrations')::text, '')")" \
    "nothing was applied, not even the history table"
  # the same database, reached directly, deploys
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq a "$(psql_q "SELECT to_regclass('a')")"
}

test_status_and_doctor_work_through_a_pooler_and_rollback_is_refused() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  printf 'DROP TABLE a;\n' >"$PROJECT/migrations/20240101000000_a/down.sql"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  start_pgbouncer
  run_stallrun workflows/status.lua --env pooled
  assert_exit 0
  assert_out_contains "pooled: 1 applied, 0 pending"
  run_stallrun workflows/doctor.lua --env pooled
  assert_exit 1
  assert_out_contains "through a connection pooler"
  run_stallrun workflows/doctor.lua --env dev
  assert_out_contains "no connection pooler in between"
  run_stallrun workflows/rollback.lua --env pooled --steps 1
  assert_exit 3
  assert_err_contains "goes through a connection pooler"
  assert_eq a "$(psql_q "SELECT to_regclass('a')")" "nothing was rolled back"
}

test_protected_status_through_a_pooler_leaves_no_session_setting_behind() {
  new_project
  start_pgbouncer
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.pooled_prod]
url = $BOUNCER_URL
INI
  run_stallrun workflows/status.lua --env pooled_prod
  # one server session behind the pooler: the next client gets the same one
  assert_eq off "$(psql_q 'SHOW default_transaction_read_only' "$BOUNCER_URL")" \
    "a protected connection's read-only SET would stay on the pooled session"
  assert_err_contains "pooled_prod goes through a connection pooler: read-only is enforced by a READ ONLY transaction around each statement"
  run_stallrun workflows/deploy.lua --env pooled_prod --yes
  assert_exit 3
  assert_err_contains "goes through a connection pooler"
}

# Through the pooler there is no session SET: every statement of a protected
# connection runs in a READ ONLY transaction that the host sends with it (one
# round trip), and the statement check refuses the writes a SELECT can hide.
test_protected_connection_through_a_pooler_stays_read_only() {
  new_project
  start_pgbouncer
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.pooled_prod]
url = $BOUNCER_URL
INI
  psql_q "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2), (3);
    CREATE FUNCTION purge() RETURNS bigint LANGUAGE sql
      AS 'WITH d AS (DELETE FROM t RETURNING 1) SELECT count(*) FROM d'" >/dev/null
  local call says
  while IFS='|' read -r call says; do
    [ -z "$call" ] && continue
    printf 'local ctx = ...\nlocal conn <close> = require("stallmig.db").connect(ctx.env)\nconn:%s\n' "$call" >"$PROJECT/w.lua"
    run_stallrun w.lua --env pooled_prod --yes
    [ "$STATUS" = 3 ] || fail "not refused through the pooler: $call (exit $STATUS)"
    assert_err_contains "pooled_prod is protected and this connection is read-only: $says"
  done <<'CASES'
query([[WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d]])|WITH d AS (DELETE ...) writes
query([[EXPLAIN ANALYZE DELETE FROM t]])|EXPLAIN ANALYZE runs the DELETE it explains
query([[SELECT * INTO newtable FROM t]])|SELECT ... INTO newtable creates a table
exec([[WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d]])|WITH d AS (DELETE ...) writes
CASES
  # a write the check cannot see (inside a function) meets the READ ONLY transaction
  local call_kind
  for call_kind in query exec; do
    printf 'local ctx = ...\nlocal conn <close> = require("stallmig.db").connect(ctx.env)\nconn:%s("SELECT purge()")\n' "$call_kind" >"$PROJECT/w.lua"
    run_stallrun w.lua --env pooled_prod --yes
    assert_exit 1
    assert_err_contains "in a read-only transaction"
  done
  assert_eq "3|" "$(psql_q "SELECT (SELECT count(*) FROM t) || '|' || coalesce(to_regclass('newtable')::text, '')")" \
    "nothing changed through the pooler"
  # reads work, and leave no transaction or setting on the pooled session
  cat >"$PROJECT/w.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
print("rows " .. conn:query("SELECT count(*) AS n FROM t WHERE id >= $1", 1)[1].n .. " "
  .. conn:exec("SELECT 1; SELECT 2") .. " " .. conn:transaction_status())
LUA
  run_stallrun w.lua --env pooled_prod --yes
  assert_exit 0
  assert_out_contains "rows 3 2 idle"
  # the pooler's next client (one server session) gets it writable, not in our transaction
  psql_q "INSERT INTO t VALUES (4)" "$BOUNCER_URL" >/dev/null
  assert_eq 4 "$(psql_q "SELECT count(*) FROM t")"
}

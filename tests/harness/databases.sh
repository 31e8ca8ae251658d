# databases.sh — helpers for tests that replace whole databases (restore,
# reset): names, a role that owns its database, a session on template1.
# Sourced by the test files that use it, after lib.sh.

# db_url NAME — the URL of database NAME on the run's cluster.
db_url() { "$REPO/tests/harness/pgcluster.sh" url "$CLUSTER" "$1"; }

# db_name URL — the database a harness URL names.
db_name() { sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$1"; }

# databases_like PREFIX — the databases whose name starts with PREFIX, one a line.
databases_like() { psql_q "SELECT datname FROM pg_database WHERE starts_with(datname, '$1') ORDER BY 1"; }

# owner_project CREATEDB|NOCREATEDB — new_project, with dev's database owned
# by a new role (LOGIN NOSUPERUSER, ROLE) that dev's url connects as; a
# applied with 3 rows, DUMP a backup of that taken by hand, then a 4th row.
owner_project() {
  new_project
  ROLE="owner_${BASHPID}_$RANDOM"
  psql_q "CREATE ROLE $ROLE LOGIN NOSUPERUSER $1" >/dev/null
  psql_q "ALTER DATABASE \"$(db_name "$DB_URL")\" OWNER TO $ROLE" >/dev/null
  sed -i "s|user=postgres|user=$ROLE|" "$PROJECT/stallmig.ini"
  add_migration 20240101000000_a "CREATE TABLE a (id int); INSERT INTO a VALUES (1), (2), (3);"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  DUMP="$CASE_TMP/dev.dump"
  "$PGBIN/pg_dump" --format=custom --file="$DUMP" "$DB_URL" || fail "pg_dump"
  psql_q "INSERT INTO a VALUES (4)" >/dev/null
}

# hold_template1 / release_template1 — another session on template1, which
# makes CREATE DATABASE (it copies template1) fail after 5 s.
hold_template1() {
  "$PSQL" -XAtq -d "$(db_url template1)" -c "SET application_name = 'holds_template1'" \
    -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
  TEMPLATE1_HOLDER=$!
  local tries=0
  until [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holds_template1'")" = 1 ]; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || { release_template1; fail "the session on template1 never started"; }
    sleep 0.05
  done
}
release_template1() {
  psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'holds_template1'" >/dev/null
  wait "$TEMPLATE1_HOLDER" 2>/dev/null || true
}

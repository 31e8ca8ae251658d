# lib_cluster.sh — a PostgreSQL cluster of the case's own, under $CASE_TMP,
# for the faults that would disturb the run's shared cluster (a restart,
# password authentication on a TCP port). tests/run-integration.sh stops it
# at the end of the run, as any cluster left under the run's directory.

# own_cluster — starts it; sets OWN_CLUSTER (its directory and socket).
own_cluster() {
  OWN_CLUSTER="$CASE_TMP/pg"
  "$REPO/tests/harness/pgcluster.sh" start "$OWN_CLUSTER" || fail "cannot start a cluster of this case's own"
}

# own_pg_ctl ARGS... — pg_ctl on it, as the cluster's owner.
own_pg_ctl() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$OWN_CLUSTER/data" "$@")
  else
    (cd / && "$PGBIN/pg_ctl" -D "$OWN_CLUSTER/data" "$@")
  fi
}

# own_psql SQL [DB] — runs SQL on it as postgres (through its socket).
own_psql() {
  "$PSQL" -XAtq -v ON_ERROR_STOP=1 -h "$OWN_CLUSTER" ${OWN_PORT:+-p "$OWN_PORT"} -U postgres \
    -d "${2:-postgres}" -c "$1" || fail "own_psql failed: $1"
}

# own_project — new_project, pointed at a new database on its own cluster.
own_project() {
  new_project
  own_psql "CREATE DATABASE faults" >/dev/null
  DB_URL=$("$REPO/tests/harness/pgcluster.sh" url "$OWN_CLUSTER" faults)${OWN_PORT:+&port=$OWN_PORT}
  awk -v url="$DB_URL" '/^url = /{ print "url = " url; next } { print }' "$PROJECT/stallmig.ini" >"$CASE_TMP/ini"
  mv "$CASE_TMP/ini" "$PROJECT/stallmig.ini"
  export DB_URL
}

# free_tcp_port — a loopback port nothing listens on (now).
free_tcp_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

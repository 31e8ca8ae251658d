# The database cannot be reached or refuses the connection: one clear line
# (stallrun: cannot connect to ENV: why) and a hint, exit 1, nothing
# written, and never a password. (test_errors.sh covers a TCP port nothing
# listens on, test_safety.sh a wrong password on the run's socket; these add
# the rest: no server on a socket, an unknown database, a database that
# takes no connections, a role at its connection limit, and password
# authentication over TCP on a cluster of the case's own.)
source "$REPO/tests/faults/lib_invariant.sh"
source "$REPO/tests/faults/lib_inflight.sh"
source "$REPO/tests/faults/lib_cluster.sh"

# point_dev_at URL — [env.dev] of the project uses URL.
point_dev_at() {
  awk -v url="$1" '/^url = /{ print "url = " url; next } { print }' "$PROJECT/stallmig.ini" >"$CASE_TMP/ini"
  mv "$CASE_TMP/ini" "$PROJECT/stallmig.ini"
}

# assert_cannot_connect WHY — a deploy fails with exactly the error line
# "stallrun: cannot connect to dev: WHY" and a hint line.
assert_cannot_connect() {
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_eq "stallrun: cannot connect to dev: $1" "$(head -n 1 "$CASE_TMP/err")" "the error line"
  assert_eq 2 "$(wc -l <"$CASE_TMP/err")" "lines on stderr (the error and its hint)"
  assert_err_contains "hint: check that the server is running"
}

test_no_server_on_the_socket_directory() {
  new_project
  fault_migration 20240101000001_a
  mkdir -p "$CASE_TMP/nosock"
  point_dev_at "postgresql:///db?host=$CASE_TMP/nosock&user=postgres"
  assert_cannot_connect "no server is accepting connections at $CASE_TMP/nosock port 5432"
}

test_unknown_database() {
  new_project
  fault_migration 20240101000001_a
  local db="no_such_db_$RANDOM"
  point_dev_at "$("$REPO/tests/harness/pgcluster.sh" url "$CLUSTER" "$db")"
  assert_cannot_connect "database \"$db\" does not exist on $CLUSTER port 5432"
}

test_database_not_accepting_connections() {
  fault_project
  fault_migration 20240101000001_a
  local db admin
  db=$(psql_q "SELECT current_database()")
  admin=$("$REPO/tests/harness/pgcluster.sh" url "$CLUSTER" postgres)
  psql_q "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS false" "$admin" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  psql_q "ALTER DATABASE \"$db\" ALLOW_CONNECTIONS true" "$admin" >/dev/null
  assert_exit 1
  assert_eq "stallrun: cannot connect to dev: database \"$db\" on $CLUSTER port 5432 does not accept connections (ALLOW_CONNECTIONS false)" \
    "$(head -n 1 "$CASE_TMP/err")" "the error line"
  assert_invariant
}

test_role_or_database_at_its_connection_limit() {
  fault_project
  fault_migration 20240101000001_a
  local role="faults_limited_$BASHPID"
  psql_q "CREATE ROLE $role LOGIN CONNECTION LIMIT 0" >/dev/null
  point_dev_at "$DB_URL&user=$role"
  sed -i "s/user=postgres&user=$role/user=$role/" "$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 1
  assert_eq "stallrun: cannot connect to dev: user \"$role\" already has as many connections as its CONNECTION LIMIT allows on $CLUSTER port 5432" \
    "$(head -n 1 "$CASE_TMP/err")" "the error line"
  # the same for the database's limit (superusers are exempt: the role is not one)
  local db
  db=$(psql_q "SELECT current_database()")
  psql_q "ALTER ROLE $role CONNECTION LIMIT -1; ALTER DATABASE \"$db\" CONNECTION LIMIT 0" >/dev/null
  run_stallrun workflows/deploy.lua --env dev
  psql_q "ALTER DATABASE \"$db\" CONNECTION LIMIT -1; DROP ROLE $role" >/dev/null
  assert_exit 1
  assert_eq "stallrun: cannot connect to dev: database \"$db\" already has as many connections as its CONNECTION LIMIT allows on $CLUSTER port 5432" \
    "$(head -n 1 "$CASE_TMP/err")" "the error line"
  assert_invariant
}

test_password_authentication_over_tcp() {
  own_cluster
  local port
  port=$(free_tcp_port)
  own_psql "ALTER SYSTEM SET listen_addresses = '127.0.0.1'" >/dev/null
  own_psql "ALTER SYSTEM SET port = $port" >/dev/null
  own_psql "ALTER SYSTEM SET password_encryption = 'md5'" >/dev/null
  own_psql "CREATE ROLE faults_pw LOGIN SUPERUSER PASSWORD 'Sentinel-Right-6'" >/dev/null
  local hba="$OWN_CLUSTER/data/pg_hba.conf"
  { echo "host all faults_pw 127.0.0.1/32 md5"; cat "$hba"; } >"$CASE_TMP/hba" && cat "$CASE_TMP/hba" >"$hba"
  own_pg_ctl -l "$OWN_CLUSTER/server.log" -m fast -w -t 60 restart >/dev/null || fail "the restart failed"
  OWN_PORT=$port
  own_psql "CREATE DATABASE faults" >/dev/null
  new_project
  fault_migration 20240101000001_a
  point_dev_at "postgresql://faults_pw:Sentinel-Wrong-7@127.0.0.1:$port/faults"
  assert_cannot_connect "password authentication failed for user \"faults_pw\""
  assert_not_contains "Sentinel"
  PGPASSWORD=Sentinel-Env-8 run_stallrun workflows/status.lua --env dev
  assert_exit 1
  assert_not_contains "Sentinel"
  # the right password over the same path works, and is not printed either
  point_dev_at "postgresql://faults_pw:Sentinel-Right-6@127.0.0.1:$port/faults"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_not_contains "Sentinel"
  DB_URL="postgresql:///faults?host=$OWN_CLUSTER&port=$port&user=postgres"
  assert_invariant
}

# A server that refuses client_connection_check_interval (before PostgreSQL
# 14, a platform without it, a pooler that takes no startup options): a fake
# server on a socket fails the first attempt over the setting, and answers
# the second one (without it) with an unknown database, which is what
# stallrun must then report.
test_server_refusing_client_connection_check_interval_gets_a_second_attempt() {
  new_project
  fault_migration 20240101000001_a
  mkdir -p "$CASE_TMP/fake"
  python3 - "$CASE_TMP/fake/.s.PGSQL.5432" "$CASE_TMP/fake/log" <<'PY' &
import socket, struct, sys
path, log = sys.argv[1], open(sys.argv[2], "w")
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen(4)
server.settimeout(20)
def error(message, code):
    fields = b"SFATAL\0VFATAL\0C" + code + b"\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!i", 4 + len(fields)) + fields
for attempt in range(2):
    conn, _ = server.accept()
    length = struct.unpack("!i", conn.recv(4))[0]
    body = b""
    while len(body) < length - 4:
        body += conn.recv(length - 4 - len(body))
    parts = body[4:].split(b"\0")
    params = dict(zip(parts[0::2], parts[1::2]))
    options = params.get(b"options", b"").decode()
    log.write("attempt %d options=[%s]\n" % (attempt + 1, options)); log.flush()
    if "client_connection_check_interval" in options:
        conn.sendall(error('unrecognized configuration parameter "client_connection_check_interval"', b"42704"))
    else:
        conn.sendall(error('database "faults" does not exist', b"3D000"))
    conn.close()
PY
  local fake=$!
  eventually 10 test -S "$CASE_TMP/fake/.s.PGSQL.5432" || fail "the fake server did not start"
  point_dev_at "postgresql:///faults?host=$CASE_TMP/fake&user=postgres"
  run_stallrun workflows/deploy.lua --env dev
  wait "$fake" || true
  assert_exit 1
  assert_err_contains "stallrun: cannot connect to dev: database \"faults\" does not exist on $CASE_TMP/fake port 5432"
  assert_eq "attempt 1 options=[-c client_connection_check_interval=1s -c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3 -c tcp_user_timeout=60000]
attempt 2 options=[]" "$(cat "$CASE_TMP/fake/log")" "the two attempts"
}

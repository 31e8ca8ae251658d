# lib_proxy.sh — the project's database reached over TCP through a proxy
# that can stop forwarding (stall_proxy.py): a network path that silently
# drops packets, with neither iptables nor root. The run's cluster listens
# on a unix socket only; the proxy is the TCP end. psql_q still goes to the
# database directly ($DB_URL), so the test can look while the path is dead.

# proxy_project — fault_project, with [env.dev] reaching its database
# through a new proxy; sets PROXY_PORT and PROXY_URL.
proxy_project() {
  fault_project
  STALL_FILE="$CASE_TMP/stall"
  rm -f "$STALL_FILE" "$CASE_TMP/proxy.port"
  python3 "$REPO/tests/faults/stall_proxy.py" "$CLUSTER/.s.PGSQL.5432" "$CASE_TMP/proxy.port" "$STALL_FILE" \
    >"$CASE_TMP/proxy.log" 2>&1 &
  eventually 10 test -s "$CASE_TMP/proxy.port" || fail "the proxy did not start: $(cat "$CASE_TMP/proxy.log")"
  PROXY_PORT=$(cat "$CASE_TMP/proxy.port")
  local db
  db=$(psql_q "SELECT current_database()")
  PROXY_URL="postgresql://postgres@127.0.0.1:$PROXY_PORT/$db${1:+?$1}"
  awk -v url="$PROXY_URL" '/^url = /{ print "url = " url; next } { print }' "$PROJECT/stallmig.ini" >"$CASE_TMP/ini"
  mv "$CASE_TMP/ini" "$PROJECT/stallmig.ini"
}

# The path goes dead (nothing forwarded, new connections never answered) /
# comes back.
stall_path() { touch "$STALL_FILE"; }
heal_path() { rm -f "$STALL_FILE"; }

# stallrun_keepalive — the TCP keepalive timer of the background stallrun's
# connection to the proxy, as ss shows it: "keepalive,29sec,0" (the time
# to the next probe), or nothing when keepalives are off.
stallrun_keepalive() {
  ss -tnopH state established "( dport = :$PROXY_PORT )" 2>/dev/null |
    grep -F "pid=$BG_PID," | grep -oE 'timer:\(keepalive,[^)]*' | head -n 1 | sed 's/timer:(//' || true
}

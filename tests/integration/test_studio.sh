# The studio (workflows/studio.lua) over HTTP against the real cluster:
# the token, CSRF and Host checks, injection in filter and sort
# parameters, edits on dev, the refusal on a protected environment,
# passwords redacted, a large table, 50 concurrent requests with a slow one.
# tests/studio/http_check.py does the HTTP; here the server is started and
# stopped. Browser tests: test_studio_browser.sh.

CHECK="$REPO/tests/studio/http_check.py"

# studio_project — dev (protected = false) and prod (protected) with
# customers and orders deployed, and a studio workflow with three test
# pages: /slow (1.5 s on the server), /secret (the password, which must come
# out redacted) and /sneak (asks the host to lift read-only).
studio_project() {
  new_project
  sed -i "s|^url = \(.*\)$|url = \1\&password=s3cret-pw|" "$PROJECT/stallmig.ini"
  PROD_URL=$(new_db prod)
  printf '\n[env.prod]\nurl = %s\n' "$PROD_URL" >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_shop "CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, mood mood, tags text[], meta jsonb,
  avatar bytea, created_at timestamptz DEFAULT now(), bio text);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers (id), total numeric(10,2), note text);
INSERT INTO customers (name, mood, tags, meta, avatar, bio)
  SELECT 'customer ' || g, CASE WHEN g % 2 = 0 THEN 'happy'::mood END, ARRAY['a', 'b'],
         jsonb_build_object('n', g), '\\x0102'::bytea, repeat('long text ', 50) FROM generate_series(1, 120) g;
INSERT INTO orders (customer_id, total, note)
  SELECT g % 120 + 1, g * 1.5, CASE WHEN g % 3 > 0 THEN 'note ' || g END FROM generate_series(1, 300) g;"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  cat >"$PROJECT/studio_test.lua" <<'LUA'
local ctx = ...
local studio = require("stallmig.studio")
local sys = require("stallmig.sys")
studio.route("GET", "^/slow$", function(app)
  app.conn:query("SELECT pg_sleep(1.5)")
  return studio.html.page(app, "slow", "done")
end)
studio.route("GET", "^/secret$", function(app)
  return studio.html.page(app, "secret", "pw: " .. (sys.getenv("STUDIO_PW") or ""))
end)
studio.route("GET", "^/stuck$", function(app)
  app.conn:query("SELECT pg_sleep(30)")
  return "not stopped"
end)
studio.route("GET", "^/untimed$", function(app)
  app.conn:query("SET statement_timeout = 0")
  return "a page that lifts its own timeout"
end)
studio.route("GET", "^/sneak$", function(app)
  app.conn:allow_writes("a page that tries to lift read-only")
  return "wrote"
end)
studio.serve(ctx, { env = ctx.env, port = 0, listen = ctx.options.listen,
  statement_timeout = tonumber(sys.getenv("STUDIO_TIMEOUT_MS") or "5000") })
LUA
}

# studio_start ENV [ARGS...] — starts the studio in the background; sets
# STUDIO_URL (with its token) and STUDIO_PID.
studio_start() {
  local env=$1
  shift
  (cd "$PROJECT" && STUDIO_PW=s3cret-pw exec "$STALLRUN" studio_test.lua --env "$env" "$@") \
    >"$CASE_TMP/studio.out" 2>"$CASE_TMP/studio.err" </dev/null &
  STUDIO_PID=$!
  local tries=0
  until STUDIO_URL=$(grep -o 'http://[^ ]*token=[0-9a-f]*' "$CASE_TMP/studio.out" 2>/dev/null); do
    tries=$((tries + 1))
    kill -0 "$STUDIO_PID" 2>/dev/null || fail "the studio ended: $(cat "$CASE_TMP/studio.err")"
    [ $tries -lt 200 ] || fail "the studio printed no URL in 10 s"
    sleep 0.05
  done
}

# studio_stop — SIGTERM: it must end as an interrupted run (143), without
# a sanitizer report.
studio_stop() {
  kill -TERM "$STUDIO_PID"
  local rc=0
  wait "$STUDIO_PID" || rc=$?
  [ "$rc" = 143 ] || fail "the studio ended with $rc on SIGTERM, not 143: $(cat "$CASE_TMP/studio.err")"
  if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$CASE_TMP/studio.err"; then
    fail "sanitizer report from the studio: $(cat "$CASE_TMP/studio.err")"
  fi
}

studio_check() {
  python3 "$CHECK" "$STUDIO_URL" "$@" >"$CASE_TMP/check.out" 2>&1 ||
    { studio_stop; fail "http_check $*: $(cat "$CASE_TMP/check.out")"; }
}

test_studio_checks_token_csrf_host_and_quotes_parameters() {
  studio_project
  studio_start dev
  grep -q '^studio: http://127.0.0.1:' "$CASE_TMP/studio.out" || fail "not on 127.0.0.1: $(cat "$CASE_TMP/studio.out")"
  studio_check security
  studio_check injection
  studio_check secret
  studio_stop
  assert_eq 300 "$(psql_q 'SELECT count(*) FROM orders')" "the orders table after injection attempts"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM customers WHERE name = 'customer 1'")" "customer 1 after the refused changes"
}

test_studio_edits_a_row_on_dev() {
  studio_project
  psql_q "UPDATE customers SET bio = E'\\nfirst line\\nsecond line' WHERE id = 2" >/dev/null
  studio_start dev
  studio_check edit
  studio_stop
  assert_eq "renamed by the studio" "$(psql_q 'SELECT name FROM customers WHERE id = 2')"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM customers WHERE bio = E'\\nfirst line\\nsecond line' AND id = 2")" \
    "a multi-line column not edited (sent back with CRLF) was left as it was"
}

test_studio_is_read_only_on_a_protected_environment() {
  studio_project
  studio_start prod
  grep -q 'serving prod read-only' "$CASE_TMP/studio.out" || fail "prod not announced read-only: $(cat "$CASE_TMP/studio.out")"
  studio_check protected
  studio_stop
  assert_eq "customer 2" "$(psql_q 'SELECT name FROM customers WHERE id = 2' "$PROD_URL")" "prod's row after refused writes"
}

# The migrations pages: the matrix, the history, a backup with its restore
# command, and a pending migration's SQL with the data it puts at risk.
test_studio_shows_migrations_and_what_a_pending_one_risks() {
  studio_project
  sed -i 's/^\[project\]$/[project]\nbackups = backups/' "$PROJECT/stallmig.ini"
  run_stallrun workflows/backup.lua --env dev
  assert_exit 0
  add_migration 20240102000000_drop_bio 'ALTER TABLE customers DROP COLUMN bio;'
  studio_start dev
  studio_check migrations
  studio_stop
}

# protected = false in the INI, but the database is marked as prod's: in
# doubt, so read-only, whatever the INI says.
test_studio_is_read_only_on_a_database_in_doubt() {
  studio_project
  printf '\n[env.devcopy]\nurl = %s\nprotected = false\n' "$PROD_URL" >>"$PROJECT/stallmig.ini"
  studio_start devcopy
  grep -q 'serving devcopy read-only (the database is in doubt' "$CASE_TMP/studio.out" ||
    fail "devcopy not announced read-only: $(cat "$CASE_TMP/studio.out")"
  studio_check protected 1
  studio_stop
  assert_eq "customer 2" "$(psql_q 'SELECT name FROM customers WHERE id = 2' "$PROD_URL")" "prod's row after refused writes"
}

test_studio_serves_50_concurrent_requests_beside_a_slow_one() {
  studio_project
  studio_start dev
  studio_check concurrent 50 1
  studio_stop
  sed 's/^/  /' "$CASE_TMP/check.out"
}

# A table above exact_count_below: an estimate, keyset pages (no OFFSET,
# no count). STUDIO_TEST_ROWS scales it (default 200000; the benchmark
# takes 10 million).
test_studio_pages_a_large_table_by_key() {
  studio_project
  local n=${STUDIO_TEST_ROWS:-200000}
  psql_q "CREATE TABLE big (id bigint PRIMARY KEY, payload text);
          INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, $n) g; ANALYZE big;" >/dev/null
  sed -i 's/^\[env.dev\]$/[env.dev]\nexact_count_below = 1000/' "$PROJECT/stallmig.ini"
  studio_start dev
  studio_check big "$n"
  studio_stop
}

test_studio_refuses_a_bad_port_and_unknown_options() {
  studio_project
  run_stallrun workflows/studio.lua --env dev --port abc
  assert_exit 2
  assert_err_contains "--port takes a number"
  run_stallrun workflows/studio.lua --env dev --colour red
  assert_exit 2
  assert_err_contains "unknown option --colour"
}

# Every request runs under the host's statement_timeout, set again before
# each one: a page that lifts it for itself does not lift it for the next.
test_studio_bounds_every_request_with_a_statement_timeout() {
  studio_project
  STUDIO_TIMEOUT_MS=500 studio_start dev
  studio_check timeout
  studio_stop
}

test_studio_listens_where_told_and_refuses_a_bad_address() {
  studio_project
  studio_start dev --listen ::1
  grep -q '^studio: http://\[::1\]:' "$CASE_TMP/studio.out" || fail "not on [::1]: $(cat "$CASE_TMP/studio.out")"
  studio_check security
  studio_stop
  run_stallrun studio_test.lua --env dev --listen example.com
  assert_exit 2
  assert_err_contains "--listen example.com is not an IP address"
}

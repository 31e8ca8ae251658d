# The safety model: protected environments, markers, aliases, confirmation,
# read-only connections, destructive primitives, passwords, lock_timeout.

# A project with [env.dev] (protected = false) and [env.prod] (protected),
# each on its own new database, and one pending migration.
safety_project() {
  new_project
  PROD_URL=$(new_db)
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.prod]
url = $PROD_URL
INI
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  cat >"$PROJECT/drop.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
conn:drop_schema("scratch")
LUA
  cat >"$PROJECT/push.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
conn:push("CREATE TABLE pushed (id int)")
LUA
}

# set_marker URL ENV PROTECTED — writes a marker as the host does.
set_marker() {
  psql_q "CREATE SCHEMA IF NOT EXISTS stallmig;
    CREATE TABLE IF NOT EXISTS stallmig.identity (environment text NOT NULL, protected boolean NOT NULL,
      system_identifier text, database_oid bigint, stamped_by text NOT NULL,
      stamped_at timestamptz NOT NULL DEFAULT now(), restamped boolean NOT NULL DEFAULT false);
    DELETE FROM stallmig.identity;
    INSERT INTO stallmig.identity SELECT '$2', $3, (SELECT system_identifier::text FROM pg_control_system()),
      (SELECT oid FROM pg_database WHERE datname = current_database()), 'test'" "$1" >/dev/null
  psql_q "CREATE SCHEMA IF NOT EXISTS scratch" "$1" >/dev/null
}

# (workflow or primitive) x (dev, unprotected | prod, protected) x (marker:
# none | matching | naming the other environment) -> exit status. CI=true,
# so nothing can be confirmed at a terminal.
test_safety_matrix() {
  local row action env marker expected args url
  while read -r action env marker expected; do
    [ -z "$action" ] && continue
    safety_project
    url=$([ "$env" = dev ] && echo "$DB_URL" || echo "$PROD_URL")
    case "$marker" in
      none) psql_q "CREATE SCHEMA scratch" "$url" >/dev/null ;;
      match) set_marker "$url" "$env" "$([ "$env" = prod ] && echo true || echo false)" ;;
      other) set_marker "$url" "$([ "$env" = dev ] && echo prod || echo dev)" "$([ "$env" = dev ] && echo true || echo false)" ;;
    esac
    # the scratch schema is for the primitives; a deploy's first run refuses a database
    # that holds a schema of its own unless adopt.lua --baseline none said so (audited)
    [[ "$action" != deploy* ]] || psql_q "DROP SCHEMA scratch" "$url" >/dev/null
    case "$action" in
      status) args=(workflows/status.lua) ;;
      deploy) args=(workflows/deploy.lua) ;;
      deploy-yes) args=(workflows/deploy.lua --yes) ;;
      drop-schema) args=(drop.lua) ;;
      push) args=(push.lua) ;;
    esac
    CI=true run_stallrun "${args[@]}" --env "$env"
    [ "$STATUS" = "$expected" ] || fail "$action on $env with marker $marker: expected exit $expected, got $STATUS"
    if [ "$expected" = 3 ]; then
      [ -z "$(psql_q "SELECT to_regclass('a')" "$url")" ] || fail "$action on $env ($marker) changed the database"
      [[ "$action" == deploy* ]] || [ -n "$(psql_q "SELECT to_regnamespace('scratch')" "$url")" ] ||
        fail "$action on $env ($marker) dropped the schema"
    fi
  done <<'TABLE'
status      dev  none   1
status      dev  match  1
status      dev  other  1
status      prod none   1
status      prod match  1
deploy      dev  none   0
deploy      dev  match  0
deploy      dev  other  3
deploy      prod none   3
deploy      prod match  3
deploy-yes  prod none   0
deploy-yes  prod match  0
deploy-yes  prod other  3
deploy-yes  dev  other  3
drop-schema dev  none   0
drop-schema dev  match  0
drop-schema dev  other  3
drop-schema prod none   3
drop-schema prod match  3
drop-schema prod other  3
push        dev  none   0
push        dev  other  3
push        prod none   3
push        prod match  3
TABLE
}

test_marker_naming_production_warns_and_is_recorded_by_first_deploy() {
  safety_project
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "dev|false|$(id -un)@$(hostname)" "$(psql_q "SELECT environment || '|' || protected || '|' || stamped_by FROM stallmig.identity")"
  assert_eq "deploy|deploy|deploy: applied 1 of 1 pending migration(s)|ok" "$(psql_q "SELECT action || '|' || workflow || '|' || detail || '|' || outcome FROM stallmig.audit")"
  set_marker "$DB_URL" prod true
  run_stallrun workflows/status.lua --env dev
  assert_exit 0
  assert_err_contains "warning: dev reaches a database marked as belonging to prod (protected)"
}

# set_url ENV URL — rewrites one environment's url in the project's INI
# (python, not sed: URLs hold '&').
set_url() {
  python3 - "$PROJECT/stallmig.ini" "$1" "$2" <<'PY'
import re, sys
path, env, url = sys.argv[1:]
text = open(path).read()
head, sep, rest = text.partition("[env.%s]" % env)
rest = re.sub(r"(?m)^url = .*$", lambda m: "url = " + url, rest, count=1)
open(path, "w").write(head + sep + rest)
PY
}

# The runbook's "development against the production database": dev's url is
# prod's database, spelled three ways; no marker exists yet.
test_dev_url_is_production_database_in_three_spellings() {
  safety_project
  local db host spelling
  db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$PROD_URL")
  psql_q "CREATE SCHEMA scratch" "$PROD_URL" >/dev/null
  for spelling in "$PROD_URL" "host=$CLUSTER dbname=$db user=postgres" \
      "postgresql://$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$CLUSTER/")/$db?user=postgres"; do
    set_url dev "$spelling"
    run_stallrun drop.lua --env dev
    assert_exit 3
    assert_err_contains "the url of dev leads to the same database as prod (protected)"
    run_stallrun workflows/deploy.lua --env dev
    assert_exit 3                 # treated as protected: confirmation needed
    assert_eq "scratch|" "$(psql_q "SELECT to_regnamespace('scratch') || '|' || coalesce(to_regclass('a')::text, '')" "$PROD_URL")"
  done
}

test_ci_without_yes_refuses_before_connecting() {
  safety_project
  set_url prod "postgresql://app:Sentinel-Ci-2@127.0.0.1:1/nowhere"
  CI=true run_stallrun workflows/deploy.lua --env prod
  assert_exit 3
  assert_err_contains "prod is protected: to apply migrations it needs confirmation, and there is no terminal to ask on (CI)"
  assert_not_contains "cannot connect"
  assert_not_contains "Sentinel"
}

test_protected_connection_is_read_only_until_writes_are_asked_for() {
  safety_project
  local script
  for script in "conn:query('CREATE TABLE x (id int)')" "conn:exec('SET default_transaction_read_only = off')" \
      "conn:query([[SELECT set_config('default_transaction_read_only', 'off', false)]])" \
      "local tx <close> = conn:transaction(); conn:query('DELETE FROM pg_class')" "conn:exec('RESET ALL')"; do
    printf 'local ctx = ...\nlocal conn <close> = require("stallmig.db").connect(ctx.env)\n%s\n' "$script" >"$PROJECT/w.lua"
    run_stallrun w.lua --env prod --yes
    [ "$STATUS" = 3 ] || fail "not refused on a read-only connection: $script (exit $STATUS)"
    assert_err_contains "prod is protected and this connection is read-only"
  done
  cat >"$PROJECT/w.lua" <<'LUA'
local ctx = ...
local guard = require("stallmig.guard")
local conn <close> = require("stallmig.db").connect(ctx.env)
assert(conn:query("SELECT 1 AS one")[1].one == 1)      -- reads work
guard.confirm(conn, "create the table x")
conn:allow_writes("a one-off fix")
conn:query("CREATE TABLE x (id int)")
LUA
  # confirmed, but ad hoc SQL on a protected environment is the run's choice, not the script's
  run_stallrun w.lua --env prod --yes
  assert_exit 3
  assert_err_contains "ad hoc SQL needs the run's --allow-adhoc-sql --reason TEXT"
  assert_eq "" "$(psql_q "SELECT to_regclass('x')" "$PROD_URL")"
  run_stallrun w.lua --env prod --yes --allow-adhoc-sql --reason "INC-7: the report needs x"
  assert_exit 0
  assert_err_contains "warning: writing to protected environment prod: a one-off fix"
  assert_eq "x|a one-off fix|--allow-adhoc-sql (reason: INC-7: the report needs x)" \
    "$(psql_q "SELECT to_regclass('x') || '|' || detail || '|' || overrides FROM stallmig.audit" "$PROD_URL")"
  sed -i 's/^guard.confirm.*$//' "$PROJECT/w.lua"
  run_stallrun w.lua --env prod --yes --allow-adhoc-sql --reason "INC-7"
  assert_exit 3
  assert_err_contains "writing to protected prod needs confirmation first"
}

# read_only_target URL — a table t with 3 rows, a sequence s, and purge(),
# a function that deletes t's rows: a write no statement check can see.
read_only_target() {
  psql_q "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2), (3); CREATE SEQUENCE s;
    CREATE FUNCTION purge() RETURNS bigint LANGUAGE sql
      AS 'WITH d AS (DELETE FROM t RETURNING 1) SELECT count(*) FROM d'" "$1" >/dev/null
}

# The attack that beat the session default: set_config run from inside a
# string (query_to_xml) turned default_transaction_read_only off, and the
# next statement that passed the check deleted rows. Every statement now
# runs in a READ ONLY transaction of its own, whatever the session says.
test_read_only_holds_after_set_config_inside_a_string() {
  safety_project
  read_only_target "$PROD_URL"
  local call
  for call in query exec; do
    cat >"$PROJECT/w.lua" <<LUA
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
conn:$call([[SELECT query_to_xml('SELECT set_config(''default_transaction_read_only'', ''off'', false)', false, false, '')]])
-- the session default is off now (the trick runs: it is inside a string) ...
print("default: " .. conn:query("SHOW default_transaction_read_only")[1].default_transaction_read_only)
-- ... and the write that follows it is still in a READ ONLY transaction
conn:$call("SELECT purge()")
LUA
    run_stallrun w.lua --env prod --yes
    assert_exit 1
    assert_out_contains "default: off"
    assert_err_contains "in a read-only transaction"
    assert_eq 3 "$(psql_q "SELECT count(*) FROM t" "$PROD_URL")" "rows deleted through conn:$call"
  done
}

# The READ ONLY transaction around each statement (there even when the
# session default was turned off) leaves the connection as it found it:
# idle after a failure, nothing extra inside conn:transaction(), and
# conn:exec's error positions and counts are in the caller's own text.
test_read_only_transaction_is_invisible_to_the_workflow() {
  safety_project
  read_only_target "$PROD_URL"
  cat >"$PROJECT/w.lua" <<'LUA'
local ctx = ...
local conn <close> = require("stallmig.db").connect(ctx.env)
conn:query([[SELECT query_to_xml('SELECT set_config(''default_transaction_read_only'', ''off'', false)', false, false, '')]])
print("statement read-only: " .. conn:query("SHOW transaction_read_only")[1].transaction_read_only)
local ok, err = pcall(conn.query, conn, "SELECT purge()")
print("query failed: " .. tostring(not ok) .. " " .. tostring(err.sqlstate) .. " " .. conn:transaction_status())
ok, err = pcall(conn.exec, conn, "SELECT 1;\nSELECT nosuchcolumn FROM t")
print("exec failed at: " .. tostring(err.position) .. " completed " .. tostring(err.completed) .. " "
  .. conn:transaction_status())
print("exec completed " .. conn:exec("SELECT 1; SELECT 2; -- a comment at the end"))
print("rows " .. conn:query("SELECT count(*) AS n FROM t WHERE id > $1", 1)[1].n .. " " .. conn:transaction_status())
local tx <close> = conn:transaction()
print("in tx " .. conn:query("SELECT count(*) AS n FROM t")[1].n .. " " .. conn:exec("SELECT 1"))
tx:commit()
LUA
  run_stallrun w.lua --env prod --yes
  assert_exit 0
  assert_out_contains "statement read-only: on"
  assert_out_contains "query failed: true 25006 idle"
  assert_out_contains "exec failed at: 18 completed 1 idle"
  assert_out_contains "exec completed 2"
  assert_out_contains "rows 2 idle"
  assert_out_contains "in tx 3 1"
  assert_not_contains "already a transaction in progress"
  assert_not_contains "no transaction in progress"
}

# What a READ ONLY transaction lets through, or what hides a write inside a
# SELECT, is refused by the statement check (exit 3) and changes nothing.
test_protected_connection_refuses_hidden_writes_and_server_actions() {
  safety_project
  read_only_target "$PROD_URL"
  hold_in_background bystander
  local loaded call says
  loaded=$(psql_q "SELECT pg_conf_load_time()" "$PROD_URL")
  while IFS='|' read -r call says; do
    [ -z "$call" ] && continue
    printf 'local ctx = ...\nlocal conn <close> = require("stallmig.db").connect(ctx.env)\nconn:%s\n' "$call" >"$PROJECT/w.lua"
    run_stallrun w.lua --env prod --yes
    [ "$STATUS" = 3 ] || { release_background bystander; fail "not refused: $call (exit $STATUS)"; }
    assert_err_contains "prod is protected and this connection is read-only: $says"
    assert_err_contains "(statement at line $([[ $call == exec* ]] && echo 2 || echo 1))"
  done <<'CASES'
query([[WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d]])|WITH d AS (DELETE ...) writes
query([[EXPLAIN ANALYZE DELETE FROM t]])|EXPLAIN ANALYZE runs the DELETE it explains
query([[SELECT * INTO newtable FROM t]])|SELECT ... INTO newtable creates a table
exec("SELECT 1;\n SELECT * INTO newtable FROM t")|SELECT ... INTO newtable creates a table
query([[SELECT lo_create(0)]])|lo_create() is a large-object function
query([[SELECT pg_reload_conf()]])|pg_reload_conf() reloads the server's configuration
query([[SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bystander']])|pg_terminate_backend() ends another session
query([[SELECT id FROM t FOR UPDATE]])|SELECT ... FOR UPDATE locks rows
query([[SELECT nextval('s')]])|nextval() advances a sequence
query([[SELECT pg_advisory_lock(6004495999145167175)]])|pg_advisory_lock() takes or releases an advisory lock
CASES
  local alive=no
  background_holds bystander && alive=yes
  release_background bystander
  assert_eq yes "$alive" "pg_terminate_backend ended another session"
  assert_eq "3||0|false|$loaded" "$(psql_q "SELECT (SELECT count(*) FROM t) || '|' || coalesce(to_regclass('newtable')::text, '')
    || '|' || (SELECT count(*) FROM pg_largeobject_metadata) || '|' || (SELECT is_called FROM s)
    || '|' || pg_conf_load_time()" "$PROD_URL")" "rows, newtable, large objects, the sequence, the configuration"
}

test_copied_database_is_in_doubt_until_restamped() {
  safety_project
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  local orig copy
  orig=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$DB_URL")
  copy="${orig}_copy"
  psql_q "CREATE DATABASE $copy TEMPLATE $orig" "$DB_URL" >/dev/null
  sed -i "s|/$orig?|/$copy?|" "$PROJECT/stallmig.ini"
  psql_q "CREATE SCHEMA scratch" "${DB_URL/$orig/$copy}" >/dev/null
  run_stallrun drop.lua --env dev
  assert_exit 3
  assert_err_contains "the database marked for dev is not the one that was stamped"
  run_stallrun workflows/doctor.lua --env dev
  assert_exit 1
  assert_out_contains "FAIL identity"
  run_stallrun workflows/restamp.lua --env dev
  assert_exit 3                    # no terminal, no --yes
  run_stallrun workflows/restamp.lua --env dev --yes
  assert_exit 0
  assert_out_contains "dev: now marked as dev's database"
  run_stallrun drop.lua --env dev
  assert_exit 0
  assert_eq "true|restamp" "$(psql_q "SELECT i.restamped || '|' || a.action FROM stallmig.identity i, stallmig.audit a WHERE a.action = 'restamp'" "${DB_URL/$orig/$copy}")"
}

# marker_of URL — the marker as "environment|protected|restamped".
marker_of() {
  psql_q "SELECT environment || '|' || protected || '|' || restamped FROM stallmig.identity" "$1"
}

# The incident: a database marked as prod's (protected), reached through dev.
# Re-stamping it as dev's would lower its protection, and --yes never does
# that; reset stays refused and the data stays. A copy of prod becoming
# staging's (protected too) still takes --yes.
test_restamp_lowering_protection_is_never_a_yes() {
  safety_project
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  psql_q "INSERT INTO a VALUES (1), (2)" >/dev/null
  set_marker "$DB_URL" prod true
  CI=true run_stallrun workflows/restamp.lua --env dev --yes
  assert_exit 3
  assert_err_contains "dev: re-stamping this database, marked as prod's (protected), as dev's (not protected) lowers its protection, which --yes does not confirm; nothing was changed"
  assert_err_contains "hint: at a terminal, type prod (the environment being demoted) when asked; without one (CI), pass --restamp-from prod --reason TEXT"
  assert_eq "prod|true|false" "$(marker_of "$DB_URL")"
  run_stallrun workflows/restamp.lua --env dev --yes      # no CI, but no terminal either
  assert_exit 3
  assert_err_contains "lowers its protection, which --yes does not confirm"
  CI=true run_stallrun workflows/restamp.lua --env dev
  assert_exit 3
  assert_err_contains "lowers its protection: it needs confirmation, and there is no terminal to ask on (CI)"
  assert_eq "prod|true|false" "$(marker_of "$DB_URL")"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM stallmig.audit WHERE action = 'restamp'")"
  [ ! -e "$PROJECT/.stallmig/audit.log" ] || fail "a refused re-stamp was logged: $(cat "$PROJECT/.stallmig/audit.log")"
  CI=true run_stallrun workflows/reset.lua --env dev --yes
  assert_exit 3
  assert_eq "2|prod" "$(psql_q "SELECT (SELECT count(*) FROM a) || '|' || (SELECT environment FROM stallmig.identity)")"
  # same protection level: a copy of prod becoming staging's takes --yes
  local staging_url
  staging_url=$(new_db staging)
  printf '\n[env.staging]\nurl = %s\n' "$staging_url" >>"$PROJECT/stallmig.ini"
  set_marker "$staging_url" prod true
  CI=true run_stallrun workflows/restamp.lua --env staging --yes
  assert_exit 0
  assert_out_contains "staging: re-stamped from prod (protected) to staging (protected), confirmed by --yes"
  assert_eq "staging|true|true" "$(marker_of "$staging_url")"
  assert_eq "re-stamped from prod (protected) to staging (protected); confirmed by --yes; before: staging reaches a database marked as belonging to prod (protected)" \
    "$(psql_q "SELECT detail FROM stallmig.audit WHERE action = 'restamp'" "$staging_url")"
  [ ! -e "$PROJECT/.stallmig/audit.log" ] || fail "a re-stamp that kept protection went to the local log"
}

# In CI, lowering protection takes --restamp-from naming the environment the
# database is marked as, with --reason; it is recorded in the audit and in the
# local log, which outlives the database (reset drops it and its audit rows).
test_restamp_from_names_the_demoted_environment_in_ci() {
  safety_project
  run_stallrun workflows/deploy.lua --env dev
  set_marker "$DB_URL" prod true
  CI=true run_stallrun workflows/restamp.lua --env dev --restamp-from prod
  assert_exit 2
  assert_err_contains "--restamp-from needs --reason TEXT"
  CI=true run_stallrun workflows/restamp.lua --env dev --restamp-from staging --reason "copy for INC-42"
  assert_exit 3
  assert_err_contains "dev: --restamp-from staging, but this database is marked as prod's (protected); nothing was changed"
  assert_err_contains "pass --restamp-from prod"
  assert_eq "prod|true|false" "$(marker_of "$DB_URL")"
  CI=true run_stallrun workflows/restamp.lua --env dev --restamp-from prod --reason "copy for INC-42"
  assert_exit 0
  assert_out_contains "dev: re-stamped from prod (protected) to dev (not protected), lowering protection, confirmed by --restamp-from"
  assert_out_contains "dev: now marked as dev's database"
  assert_err_contains "warning: re-stamped from prod (protected) to dev (not protected), lowering protection"
  assert_eq "dev|false|true" "$(marker_of "$DB_URL")"
  local detail="re-stamped from prod (protected) to dev (not protected), lowering protection; confirmed by --restamp-from prod (reason: copy for INC-42); before: dev reaches a database marked as belonging to prod (protected)"
  assert_eq "restamp|restamp|$detail" "$(psql_q "SELECT action || '|' || workflow || '|' || detail FROM stallmig.audit WHERE action = 'restamp'")"
  local log="$PROJECT/.stallmig/audit.log" db oid
  db=$(psql_q "SELECT current_database()")
  oid=$(psql_q "SELECT oid FROM pg_database WHERE datname = current_database()")
  [ -f "$log" ] || fail "no local log"
  assert_eq 600 "$(stat -c %a "$log")"
  assert_eq 1 "$(wc -l <"$log")"
  grep -qF " $(id -un)@$(hostname) dev: database $db (oid $oid): $detail" "$log" || fail "local log: $(cat "$log")"
  # now it is dev's: reset is allowed, and the local log keeps the story
  CI=true run_stallrun workflows/reset.lua --env dev
  assert_exit 0
  assert_eq 0 "$(psql_q "SELECT count(*) FROM stallmig.audit WHERE action = 'restamp'")"
  grep -qF "confirmed by --restamp-from prod (reason: copy for INC-42)" "$log" || fail "the local log lost the re-stamp"
}

# At a terminal, lowering protection asks for the name of the environment
# being demoted (the marker's), not the target's.
test_restamp_lowering_protection_at_a_terminal_types_the_marker_name() {
  safety_project
  run_stallrun workflows/deploy.lua --env dev
  set_marker "$DB_URL" prod true
  local cmd="cd '$PROJECT' && '$STALLRUN' workflows/restamp.lua --env dev --yes" wrong=0 right=0
  printf 'dev\n' | env -u CI script -qec "$cmd" /dev/null >"$CASE_TMP/tty.out" 2>&1 || wrong=$?
  grep -qF "Type the name of the protected environment it is marked as (the one you are demoting)" "$CASE_TMP/tty.out" || { cat "$CASE_TMP/tty.out"; fail "no prompt"; }
  grep -qF "dev: the name typed is not prod, the protected environment this database is marked as; nothing was changed" "$CASE_TMP/tty.out" || { cat "$CASE_TMP/tty.out"; fail "the target's name was accepted"; }
  assert_eq 3 "$wrong" "exit status after typing the target's name"
  assert_eq "prod|true|false" "$(marker_of "$DB_URL")"
  printf 'prod\n' | env -u CI script -qec "$cmd" /dev/null >"$CASE_TMP/tty.out" 2>&1 || right=$?
  assert_eq 0 "$right" "exit status after typing prod: $(cat "$CASE_TMP/tty.out")"
  assert_eq "dev|false|true" "$(marker_of "$DB_URL")"
  assert_eq 1 "$(psql_q "SELECT count(*) FROM stallmig.audit WHERE action = 'restamp' AND detail LIKE '%lowering protection; confirmed by typing prod at a terminal;%'")"
  grep -qF "lowering protection; confirmed by typing prod at a terminal" "$PROJECT/.stallmig/audit.log" || fail "not in the local log"
}

test_doctor_reports_a_healthy_environment() {
  safety_project
  run_stallrun workflows/deploy.lua --env prod --yes --json
  assert_exit 0
  run_stallrun workflows/doctor.lua --env prod --json
  assert_exit 0
  assert_eq "True ok" "$(json_get "['ok']") $(json_get "['checks'][0]['result']")"
  run_stallrun workflows/doctor.lua --env prod
  assert_out_contains "lock_timeout 5s"          # the default for a protected environment
  assert_out_contains "protected: read-only unless a change is confirmed"
  assert_out_contains "marked as prod's database"
}

test_sentinel_passwords_never_appear() {
  safety_project
  # this role must give its password (scram), the rest of the cluster trusts
  local hba="$CLUSTER/data/pg_hba.conf"
  if ! grep -q stallmig_pw "$hba"; then
    { echo "local all stallmig_pw scram-sha-256"; cat "$hba"; } >"$hba.new" && cat "$hba.new" >"$hba" && rm "$hba.new"
    psql_q "SELECT pg_reload_conf()" >/dev/null
  fi
  psql_q "CREATE ROLE stallmig_pw LOGIN SUPERUSER PASSWORD 'Sentinel-Right-3'" >/dev/null 2>&1 || true
  local db
  db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$DB_URL")
  cat >"$PROJECT/stallmig.ini" <<INI
[env.dev]
url = postgresql://stallmig_pw:Sentinel-Right-3@$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$CLUSTER")/$db
protected = false
[env.wrong]
url = host=$CLUSTER dbname=$db user=stallmig_pw password=Sentinel-Wrong-4
protected = false
INI
  add_migration 20240101000001_fails 'SELECT 1/0;'
  run_stallrun workflows/deploy.lua --env dev --json
  assert_exit 1
  assert_not_contains "Sentinel"
  run_stallrun workflows/status.lua --env dev --json
  assert_not_contains "Sentinel"
  run_stallrun workflows/deploy.lua --env wrong
  assert_exit 1
  assert_err_contains 'password authentication failed for user "stallmig_pw"'
  assert_not_contains "Sentinel"
  PGPASSWORD=Sentinel-Env-5 run_stallrun workflows/doctor.lua --env wrong
  assert_not_contains "Sentinel"
  assert_eq 0 "$(psql_q "SELECT count(*) FROM stallmig.migrations m, stallmig.audit a, stallmig.identity i
    WHERE concat(m.*::text, a.*::text, i.*::text) LIKE '%Sentinel%'")" "a password in a history, audit or marker row"
  # two applied/failed rows, one audit row, and the marker (an alias of another unprotected
  # environment is a warning, not doubt, so the first write stamps it)
  assert_eq 4 "$(psql_q "SELECT (SELECT count(*) FROM stallmig.migrations) + (SELECT count(*) FROM stallmig.audit) + (SELECT count(*) FROM stallmig.identity)")"
}

test_blocked_migration_fails_after_lock_timeout() {
  safety_project
  sed -i 's/^lock_wait = 60s$/lock_wait = 60s\nlock_timeout = 500ms/' "$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --env dev
  add_migration 20240102000000_b $'CREATE TABLE b (id int);\nALTER TABLE a ADD COLUMN note text;\n'
  hold_in_background blocker "BEGIN" "LOCK TABLE a IN ACCESS SHARE MODE"
  run_stallrun workflows/deploy.lua --env dev
  # it gave up while the lock was still held (no clock: the blocker is there)
  local blocker_alive=no
  background_holds blocker && blocker_alive=yes
  release_background blocker
  assert_exit 1
  assert_err_contains 'migration 20240102000000_b waited 500ms (lock_timeout of dev) for a lock on "a" held by another session: pid'
  assert_err_contains "(application 'blocker', user postgres, active for"
  assert_err_contains "SELECT pg_sleep(60))"
  assert_err_contains "migration.sql:2"
  assert_eq yes "$blocker_alive" "the deploy returned while the blocker still held its lock"
  assert_eq "|" "$(psql_q "SELECT coalesce(to_regclass('b')::text, '') || '|' || coalesce((SELECT attname FROM pg_attribute WHERE attrelid = 'a'::regclass AND attname = 'note'), '')")" "nothing half-applied"
  assert_eq "failed" "$(psql_q "SELECT outcome FROM stallmig.migrations WHERE name = '20240102000000_b'")"
}

# At a terminal, changing a protected environment asks for its name: `script`
# gives stallrun a real pseudo-terminal and types the answer.
test_terminal_confirmation_by_typing_the_name() {
  safety_project
  local cmd="cd '$PROJECT' && '$STALLRUN' workflows/deploy.lua --env prod"
  local wrong=0
  printf 'prdo\n' | env -u CI script -qec "$cmd" /dev/null >"$CASE_TMP/tty.out" 2>&1 || wrong=$?
  grep -q "Type the environment's name to continue" "$CASE_TMP/tty.out" || { cat "$CASE_TMP/tty.out"; fail "no prompt"; }
  grep -q "the name typed did not match; nothing was changed" "$CASE_TMP/tty.out" || { cat "$CASE_TMP/tty.out"; fail "a wrong name was not refused"; }
  assert_eq 3 "$wrong" "exit status after a wrong name"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')" "$PROD_URL")" "nothing applied before confirmation"
  local right=0
  printf 'prod\n' | env -u CI script -qec "$cmd" /dev/null >"$CASE_TMP/tty.out" 2>&1 || right=$?
  assert_eq 0 "$right" "exit status after typing prod"
  assert_eq "a" "$(psql_q "SELECT to_regclass('a')" "$PROD_URL")"
}

# Two names for one database that no URL comparison sees: dev reaches prod's
# database through a port written with a leading zero. Cluster id and OID
# catch it. (A pg_service.conf entry is read as libpq reads it, so the URL
# comparison sees through that one.)
test_same_database_under_another_name_is_caught_by_identity() {
  safety_project
  local db
  db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$PROD_URL")
  printf '[prodsvc]\nhost=%s\ndbname=%s\nuser=postgres\n' "$CLUSTER" "$db" >"$CASE_TMP/pg_service.conf"
  export PGSERVICEFILE="$CASE_TMP/pg_service.conf"
  set_url dev "service=prodsvc"
  psql_q "CREATE SCHEMA scratch" "$PROD_URL" >/dev/null
  run_stallrun drop.lua --env dev
  assert_exit 3
  assert_err_contains "dropping a schema is refused: the url of dev leads to the same database as prod (protected)"
  set_url dev "host=$CLUSTER port=05432 dbname=$db user=postgres"
  run_stallrun drop.lua --env dev
  assert_exit 3
  assert_err_contains "the database of dev is the database of prod (protected): same cluster and database"
  assert_eq "scratch" "$(psql_q "SELECT to_regnamespace('scratch')" "$PROD_URL")"
  run_stallrun workflows/doctor.lua --env dev
  assert_exit 1
  assert_out_contains "the database of dev is the database of prod"
}

test_recreate_database_on_a_disposable_environment() {
  safety_project
  run_stallrun workflows/deploy.lua --env dev
  cat >"$PROJECT/recreate.lua" <<'LUA'
local ctx = ...
local db = require("stallmig.db")
local conn = db.connect(ctx.env)
conn:recreate_database()
local fresh <close> = db.connect(ctx.env)
print(#fresh:query("SELECT 1 FROM pg_tables WHERE schemaname = 'public'"))
LUA
  run_stallrun recreate.lua --env dev
  assert_exit 0
  assert_out_contains "0"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")" "the database is empty again"
  run_stallrun workflows/deploy.lua --env prod --yes
  run_stallrun recreate.lua --env prod --yes
  assert_exit 3
  assert_err_contains "prod is protected: dropping and recreating the database is refused"
  assert_eq "a" "$(psql_q "SELECT to_regclass('a')" "$PROD_URL")"
}

# plain_role_project — safety_project whose dev and prod are reached as a
# role that is not a superuser and may not run pg_control_system() (EXECUTE
# revoked in both databases, as hardened servers and some managed services
# do; in PostgreSQL 15 every role may by default). The role owns both
# databases. Sets ROLE; drop_plain_role removes it.
plain_role_project() {
  safety_project
  ROLE="ident_plain_$BASHPID"
  psql_q "CREATE ROLE $ROLE LOGIN NOSUPERUSER" >/dev/null
  local url db
  for url in "$DB_URL" "$PROD_URL"; do
    db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$url")
    psql_q "REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC;
      ALTER DATABASE \"$db\" OWNER TO $ROLE" "$url" >/dev/null
  done
  set_url dev "${DB_URL/user=postgres/user=$ROLE}"
  set_url prod "${PROD_URL/user=postgres/user=$ROLE}"
}

drop_plain_role() {
  local url db
  for url in "$DB_URL" "$PROD_URL"; do
    db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$url")
    psql_q "ALTER DATABASE \"$db\" OWNER TO postgres; REASSIGN OWNED BY $ROLE TO postgres; DROP OWNED BY $ROLE" "$url" >/dev/null
  done
  psql_q "DROP ROLE $ROLE" >/dev/null
}

# The same-database check had nothing to compare for such a role, so push
# and reset ran on prod's database through a dev url that no URL comparison
# sees through (the port written 05432). The server's start time and port
# tell it; prod's own deploy through the role still works.
test_role_without_the_system_identifier_still_finds_a_protected_twin() {
  plain_role_project
  local db
  db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$PROD_URL")
  set_url dev "host=$CLUSTER port=05432 dbname=$db user=$ROLE"
  psql_q "CREATE SCHEMA scratch" "$PROD_URL" >/dev/null
  CI=true run_stallrun push.lua --env dev
  assert_exit 3
  assert_err_contains "pushing SQL that is not a migration is refused: the database of dev is the database of prod (protected): same cluster and database"
  CI=true run_stallrun workflows/reset.lua --env dev
  assert_exit 3
  assert_err_contains "the database of dev is the database of prod (protected)"
  CI=true run_stallrun workflows/deploy.lua --env dev
  assert_exit 3
  assert_err_contains "the database of dev is the database of prod (protected): same cluster and database; nothing was changed"
  assert_eq "scratch||" "$(psql_q "SELECT to_regnamespace('scratch') || '|' || coalesce(to_regclass('pushed')::text, '') || '|' || coalesce(to_regclass('a')::text, '')" "$PROD_URL")" "prod's database was changed"
  CI=true run_stallrun workflows/doctor.lua --env dev
  assert_exit 1
  assert_out_contains "the database of dev is the database of prod (same cluster and database)"
  # prod through the role: an ordinary deploy works (over its scratch schema,
  # said once), and stamps what it can read
  CI=true baseline_none prod
  CI=true run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  assert_eq "a|prod|" "$(psql_q "SELECT to_regclass('a') || '|' || environment || '|' || coalesce(system_identifier, '') FROM stallmig.identity" "$PROD_URL")"
  CI=true run_stallrun push.lua --env dev
  assert_exit 3
  assert_eq "" "$(psql_q "SELECT to_regclass('pushed')" "$PROD_URL")"
  # dev's own database through the same role is dev's: push works there
  set_url dev "${DB_URL/user=postgres/user=$ROLE}"
  CI=true run_stallrun push.lua --env dev
  assert_exit 0
  assert_eq "pushed" "$(psql_q "SELECT to_regclass('pushed')")"
  drop_plain_role
}

# With nothing to tell the clusters apart (pg_postmaster_start_time()
# revoked as well) and the same OID, the destructive primitives fail closed.
test_role_that_can_read_no_cluster_key_is_doubt_for_destructive_primitives() {
  plain_role_project
  local db
  db=$(sed -E 's|^postgresql:///([^?]+)\?.*|\1|' <<<"$PROD_URL")
  psql_q "REVOKE EXECUTE ON FUNCTION pg_postmaster_start_time() FROM PUBLIC" "$PROD_URL" >/dev/null
  set_url dev "host=$CLUSTER port=05432 dbname=$db user=$ROLE"
  CI=true run_stallrun push.lua --env dev
  assert_exit 3
  assert_err_contains "pushing SQL that is not a migration is refused: cannot tell whether the database of dev is the database of prod (protected)"
  assert_err_contains "hint: let the roles read the cluster's identity (GRANT EXECUTE ON FUNCTION pg_control_system() TO the role)"
  assert_eq "" "$(psql_q "SELECT to_regclass('pushed')" "$PROD_URL")"
  CI=true run_stallrun workflows/doctor.lua --env dev
  assert_exit 1
  assert_out_contains "cannot tell whether the database of dev is the database of prod"
  drop_plain_role
}

# A marker stamped with the cluster's system identifier, read by a role
# that may not read it: a copy in another cluster could have the same OID,
# and the comparison passed on the OID alone. What cannot be checked is
# doubt: every write refused, saying why, until the role may read it or
# re-stamps the database (then only the OID is checked).
test_marker_that_the_role_cannot_check_is_doubt() {
  plain_role_project
  local stamp_sysid="UPDATE stallmig.identity SET system_identifier = (SELECT system_identifier::text FROM pg_control_system())"
  CI=true run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  psql_q "$stamp_sysid" "$PROD_URL" >/dev/null      # as a superuser would have stamped it
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  CI=true run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 3
  assert_err_contains "the database marked for prod cannot be checked against its marker: this role may not read the cluster's system identifier"
  assert_eq "" "$(psql_q "SELECT to_regclass('b')" "$PROD_URL")" "deployed under doubt"
  CI=true run_stallrun workflows/restamp.lua --env prod --yes
  assert_exit 0
  CI=true run_stallrun workflows/deploy.lua --env prod --yes
  assert_exit 0
  assert_eq "b" "$(psql_q "SELECT to_regclass('b')" "$PROD_URL")"
  # where the role may read it, the marker is checked as before
  psql_q "GRANT EXECUTE ON FUNCTION pg_control_system() TO $ROLE; $stamp_sysid" "$PROD_URL" >/dev/null
  CI=true run_stallrun workflows/status.lua --env prod
  assert_exit 0
  assert_not_contains "cannot be checked"
  drop_plain_role
}

# A marker this role may not read (no USAGE on the stallmig schema, or no
# SELECT on stallmig.identity) said nothing before: the database was judged
# by stallmig.ini alone, so prod's database reached through dev's url by
# such a role took dev's writes. Unreadable is doubt: writes refused, saying
# which grant is missing; a status still reads what it may.
test_marker_the_role_may_not_read_is_doubt() {
  safety_project
  set_marker "$DB_URL" prod true       # dev's url leads to a database stamped for prod
  local role="ident_blind_$BASHPID"
  psql_q "CREATE ROLE $role LOGIN NOSUPERUSER; GRANT ALL ON SCHEMA public TO $role" "$DB_URL" >/dev/null
  set_url dev "${DB_URL/user=postgres/user=$role}"
  CI=true run_stallrun push.lua --env dev
  assert_exit 3
  assert_err_contains "this role may not read the marker of dev's database (stallmig.identity)"
  assert_err_contains "GRANT USAGE ON SCHEMA stallmig and SELECT ON stallmig.identity TO the role"
  assert_eq "" "$(psql_q "SELECT to_regclass('pushed')")" "pushed under doubt"
  CI=true run_stallrun workflows/doctor.lua --env dev
  assert_exit 1
  assert_out_contains "this role may not read the marker of dev's database"
  # USAGE on the schema but no SELECT on the marker: the same
  psql_q "GRANT USAGE ON SCHEMA stallmig TO $role" >/dev/null
  CI=true run_stallrun push.lua --env dev
  assert_exit 3
  assert_err_contains "this role may not read the marker of dev's database"
  # once it may read it, the marker speaks: the database is prod's
  psql_q "GRANT SELECT ON stallmig.identity TO $role" >/dev/null
  CI=true run_stallrun push.lua --env dev
  assert_exit 3
  assert_err_contains "dev reaches a database marked as belonging to prod (protected)"
  assert_not_contains "may not read the marker"
  assert_eq "" "$(psql_q "SELECT to_regclass('pushed')")" "pushed into prod's database"
  psql_q "REASSIGN OWNED BY $role TO postgres; DROP OWNED BY $role; DROP ROLE $role" "$DB_URL" >/dev/null
}

# The database's OID comes from the server's row for this backend
# (pg_stat_get_activity); where that function is not the role's to run, the
# first statement is asked again with the OID from pg_database: stamped
# with the right OID, checked against it, no doubt.
test_the_oid_is_read_where_the_activity_function_is_revoked() {
  plain_role_project
  psql_q "REVOKE EXECUTE ON FUNCTION pg_stat_get_activity(integer) FROM PUBLIC" >/dev/null
  CI=true run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_eq "$(psql_q "SELECT oid FROM pg_database WHERE datname = current_database()")" \
    "$(psql_q "SELECT database_oid FROM stallmig.identity")" "the marker's OID"
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  CI=true run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_not_contains "doubt"
  assert_eq "b" "$(psql_q "SELECT to_regclass('b')")"
  drop_plain_role
}

# A marker the role may read by its grants whose read still fails (here a
# row security policy that raises) is doubt too, with the server's reason:
# it is never taken for no marker.
test_a_marker_whose_read_fails_is_doubt() {
  safety_project
  set_marker "$DB_URL" prod true
  local role="ident_rls_$BASHPID"
  psql_q "CREATE ROLE $role LOGIN NOSUPERUSER; GRANT ALL ON SCHEMA public TO $role;
    GRANT USAGE ON SCHEMA stallmig TO $role; GRANT SELECT ON stallmig.identity TO $role;
    ALTER TABLE stallmig.identity ENABLE ROW LEVEL SECURITY;
    CREATE POLICY refuse ON stallmig.identity USING (1 / 0 = 1)" >/dev/null
  set_url dev "${DB_URL/user=postgres/user=$role}"
  CI=true run_stallrun push.lua --env dev
  assert_exit 3
  assert_err_contains "reading the marker of dev's database (stallmig.identity) failed, so which environment it belongs to cannot be checked: division by zero"
  assert_eq "" "$(psql_q "SELECT to_regclass('pushed')")" "pushed under doubt"
  psql_q "DROP POLICY refuse ON stallmig.identity; ALTER TABLE stallmig.identity DISABLE ROW LEVEL SECURITY;
    REASSIGN OWNED BY $role TO postgres; DROP OWNED BY $role; DROP ROLE $role" >/dev/null
}

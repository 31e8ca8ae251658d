# Fleets (docs/fleet.md): one history deployed to many databases, a member
# process each, wave by wave; the journal, --resume, SIGINT, --shard, status
# --fleet, the identity checks per member, no password anywhere.
#
# FLEET_MEMBERS sizes the big fleet: 200 by default, the issue's size (about
# 21 s of one idle worker; FLEET_MEMBERS=40 for a quick run).
# The other fleets are small.

# shellcheck source=tests/harness/databases.sh
source "$REPO/tests/harness/databases.sh"

FLEET_PASSWORD=Fl33tS3cretPw

# fleet_members PREFIX COUNT — COUNT member databases cloned from one template
# (fast), each listed in the registry table fleet_members of the case's own
# database with a url that holds a password. Prints nothing.
fleet_members() {
  local prefix=$1 count=$2 host tpl i name sql=""
  host=$(sed -E 's|.*[?&]host=([^&]*).*|\1|' <<<"$DB_URL")
  tpl=$(db_name "$(new_db "${prefix}tpl")")
  psql_q "CREATE TABLE IF NOT EXISTS fleet_members (fleet text, name text, url text)" >/dev/null
  for i in $(seq -f '%03g' 1 "$count"); do
    name="${prefix}_${BASHPID}_$i"
    sql+="CREATE DATABASE \"$name\" TEMPLATE \"$tpl\";"$'\n'
    printf "INSERT INTO fleet_members VALUES ('%s', 'm%s', 'postgresql://postgres:%s@/%s?host=%s');\n" \
      "$prefix" "$i" "$FLEET_PASSWORD" "$name" "$host"
  done >"$CASE_TMP/registry.sql"
  printf '%s' "$sql" | "$PSQL" -XAtq -v ON_ERROR_STOP=1 -h "$CLUSTER" -U postgres -d postgres >/dev/null ||
    fail "cannot create the member databases"
  "$PSQL" -XAtq -v ON_ERROR_STOP=1 -d "$DB_URL" -f "$CASE_TMP/registry.sql" >/dev/null ||
    fail "cannot fill the registry"
}

# fleet_section NAME PREFIX [KEY=VALUE...] — appends [fleet.NAME] reading
# the members PREFIX made from the registry.
fleet_section() {
  local name=$1 prefix=$2
  shift 2
  {
    printf '\n[fleet.%s]\nregistry = %s\n' "$name" "$DB_URL"
    printf "targets_query = SELECT name, url FROM fleet_members WHERE fleet = '%s' ORDER BY name\n" "$prefix"
    printf '%s\n' "$@" | sed 's/=/ = /'
  } >>"$PROJECT/stallmig.ini"
}

member_url() {   # member_url PREFIX NUMBER (001, ...)
  local url; url=$(psql_q "SELECT url FROM fleet_members WHERE fleet = '$1' AND name = 'm$2'")
  [ -n "$url" ] || fail "no member m$2 in $1"
  printf '%s\n' "$url"
}

journal_of() {   # the journal the last fleet run printed
  sed -nE 's/.*; journal (.*)$/\1/p' <<<"$OUT" | head -1
}

run_id_of() {
  sed -nE 's/^fleet [^:]*: run ([^,]*),.*/\1/p' <<<"$OUT" | head -1
}

outcomes() {     # outcomes JOURNAL — "member outcome" lines, sorted
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l); print(r["member"], r["outcome"])' "$1" | sort
}

# failing_on REGEX — a migration that fails on the members whose database
# name ends in _REGEX (e.g. 003|006), and only there
failing_on() {
  add_migration 20240101000000_a "CREATE TABLE a (id int);
DO \$\$ BEGIN IF current_database() ~ '_($1)\$' THEN RAISE EXCEPTION 'this tenant is broken'; END IF; END \$\$;"
}

assert_no_password() {   # assert_no_password FILE... — and stdout, stderr
  ! grep -l "$FLEET_PASSWORD" "$CASE_TMP/out" "$CASE_TMP/err" "$@" 2>/dev/null ||
    fail "a password reached the output or a journal"
}

test_fleet_deploys_every_member_in_waves() {
  local n=${FLEET_MEMBERS:-200} journal
  new_project
  fleet_members big "$n"
  fleet_section tenants big parallel=8 "waves=1, 10%, 100%" on_error=stop protected=false
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  run_stallrun workflows/deploy.lua --fleet tenants
  assert_exit 0
  assert_out_contains "wave 1 of 3: 1 members"
  assert_out_contains "wave 2 of 3: $(( (n + 9) / 10 - 1 )) members"
  assert_out_contains "fleet tenants: $n/$n done, 0 failed"
  journal=$(journal_of)
  assert_eq "$n" "$(grep -c '"outcome":"ok"' "$journal")" "members ok in the journal"
  assert_eq "1" "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["wave"])' "$journal")"
  assert_no_password "$journal"
  grep -q '"url":"postgresql://postgres:\*\*\*@' "$journal" || fail "the journal lacks the redacted url"
  # each member is stamped with its fleet and name, its history written by its gate
  assert_eq "tenants.m001|2" "$(psql_q "SELECT environment, (SELECT count(*) FROM stallmig.migrations) FROM stallmig.identity" "$(member_url big 001)")"
  assert_eq "tenants.m$(printf '%03d' "$n")" "$(psql_q "SELECT environment FROM stallmig.identity" "$(member_url big "$(printf %03d "$n")")")"
  run_stallrun workflows/status.lua --fleet tenants
  assert_exit 0
  grep -qE "^20240102000000_b +$n$" <<<"$OUT" || fail "status --fleet does not count every member at b"
  assert_out_contains "fleet tenants: $n members, $n up to date, 0 behind, 0 failed, 0 unreachable."
  run_stallrun workflows/status.lua --fleet tenants --json
  assert_exit 0
  assert_eq "$n up to date tenants.m001" "$(json_get "['members'].__len__()") $(json_get "['members'][0]['state']") $(json_get "['members'][0]['last_run']['fleet']").$(json_get "['members'][0]['name']")"
  assert_no_password
  # a second run applies nothing: every member's own history says so
  run_stallrun workflows/deploy.lua --fleet tenants --json
  assert_exit 0
  assert_eq "0" "$(json_get "['members'][0]['applied'].__len__()")"
  # two runs in the same second keep a journal each
  run_stallrun workflows/deploy.lua --fleet tenants --json
  local first; first=$(json_get "['journal']")
  run_stallrun workflows/deploy.lua --fleet tenants --json
  [ "$first" != "$(json_get "['journal']")" ] || fail "two runs share the journal $first"
  assert_eq "$n" "$(wc -l <"$first")"
}

# three members whose migration fails, one unreachable; on_error decides
# (each fleet its own databases: a database belongs to one fleet's member)
test_fleet_on_error_stop_continue_and_threshold() {
  local journal f
  new_project
  for f in stop two cont; do fleet_members "$f" 12; done
  psql_q "UPDATE fleet_members SET url = 'postgresql://postgres:$FLEET_PASSWORD@127.0.0.1:1/gone' WHERE fleet = 'cont' AND name = 'm012'" >/dev/null
  fleet_section stop stop parallel=1 on_error=stop protected=false
  fleet_section two two parallel=1 on_error=2 protected=false
  fleet_section cont cont parallel=2 on_error=continue protected=false
  failing_on '003|006|009'
  # stop: the first failure (m003) ends it; nobody after it starts
  run_stallrun workflows/deploy.lua --fleet stop
  assert_exit 1
  assert_err_contains "fleet stop: 1 of 12 members failed; stopped (on_error = stop), 9 not started"
  assert_eq "m001 ok
m002 ok
m003 failed" "$(outcomes "$(journal_of)")"
  grep -q 'this tenant is broken' "$(journal_of)" || fail "the journal lacks m003's error"
  assert_eq "" "$(psql_q "SELECT to_regclass('stallmig.migrations')" "$(member_url stop 004)")"
  # threshold 2: stops after the second failure (m006)
  run_stallrun workflows/deploy.lua --fleet two
  assert_exit 1
  assert_err_contains "2 of 12 members failed; stopped (on_error = 2), 6 not started"
  # continue: every member runs; three failed and one unreachable
  run_stallrun workflows/deploy.lua --fleet cont
  assert_exit 1
  assert_err_contains "fleet cont: 4 of 12 members failed"
  journal=$(journal_of)
  assert_eq "4" "$(grep -vc '"outcome":"ok"' "$journal")"
  grep -q '"member":"m012".*"outcome":"unreachable"' "$journal" || fail "m012 is not unreachable"
  assert_no_password "$journal"
  run_stallrun workflows/status.lua --fleet cont --json
  assert_exit 1
  assert_eq "['m012'] ['m003', 'm006', 'm009']" "$(json_get "['unreachable']") $(json_get "['failed']")"
  assert_no_password
  run_stallrun workflows/status.lua --fleet cont
  assert_out_contains "m012: unreachable (cannot connect to cont.m012"
  assert_out_contains "m006: failed, last run"
  assert_no_password
}

test_fleet_failing_canary_stops_before_wave_2() {
  new_project
  fleet_members can 6
  fleet_section tenants can parallel=4 "waves=1, 50%, 100%" on_error=continue protected=false
  failing_on 001
  run_stallrun workflows/deploy.lua --fleet tenants
  assert_exit 1
  assert_err_contains "stopped (the canary wave failed), 5 not started"
  assert_eq "m001 failed" "$(outcomes "$(journal_of)")"
  assert_eq "" "$(psql_q "SELECT to_regclass('stallmig.migrations')" "$(member_url can 002)")"
}

# slow members: each migration sleeps, so a run can be stopped in its middle
slow_fleet() {
  new_project
  fleet_members slow "$1"
  fleet_section tenants slow parallel=2 on_error=stop protected=false
  add_migration 20240101000000_a 'CREATE TABLE a (id int); SELECT pg_sleep(0.4);'
}

wait_for_lines() {   # wait_for_lines FILE N — until FILE has N lines (10 s at most)
  local tries=0
  until [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; do
    tries=$((tries + 1)); [ $tries -lt 200 ] || fail "$1 never reached $2 lines"; sleep 0.05
  done
}

latest_journal() { ls -t "$PROJECT"/.stallmig/fleet/tenants/*.jsonl 2>/dev/null | head -1; }

test_fleet_coordinator_killed_mid_run_resumes() {
  local pid journal run
  slow_fleet 10
  (cd "$PROJECT" && exec "$STALLRUN" workflows/deploy.lua --fleet tenants) >"$CASE_TMP/bg.out" 2>&1 </dev/null &
  pid=$!
  until journal=$(latest_journal) && [ -n "$journal" ]; do sleep 0.05; done
  wait_for_lines "$journal" 3
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  sleep 0.5   # the running members got SIGTERM when it died: they roll back
  run=$(basename "$journal" .jsonl)
  local before; before=$(grep -c '"outcome":"ok"' "$journal")
  [ "$before" -lt 10 ] || fail "the run finished before it was killed"
  run_stallrun workflows/deploy.lua --fleet tenants --resume "$run"
  assert_exit 0
  assert_out_contains "($before finished before)"
  assert_eq "10" "$(outcomes "$journal" | awk '$2 == "ok"' | sort -u | wc -l)"
  assert_eq "" "$(outcomes "$journal" | awk '$2 == "ok" {print $1}' | sort | uniq -d)" "a member ran twice to ok"
  for m in 001 005 010; do
    assert_eq "1" "$(psql_q "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'applied'" "$(member_url slow $m)")"
  done
  run_stallrun workflows/deploy.lua --fleet tenants --resume nosuchrun
  assert_exit 2
  assert_err_contains "there is no run nosuchrun of fleet tenants"
}

test_fleet_sigint_lets_running_members_finish() {
  local pid journal status=0
  slow_fleet 10
  (cd "$PROJECT" && exec "$STALLRUN" workflows/deploy.lua --fleet tenants) >"$CASE_TMP/bg.out" 2>&1 </dev/null &
  pid=$!
  until journal=$(latest_journal) && [ -n "$journal" ]; do sleep 0.05; done
  wait_for_lines "$journal" 2
  kill -INT "$pid"
  wait "$pid" || status=$?
  assert_eq 130 "$status" "exit status after SIGINT"
  grep -q "interrupted; running members finished or were cancelled" "$CASE_TMP/bg.out" ||
    fail "no interrupt message: $(cat "$CASE_TMP/bg.out")"
  grep -q "continue with --resume" "$CASE_TMP/bg.out" || fail "no resume hint"
  # the members running at the signal finished: nothing is half-applied
  local done; done=$(grep -c '"outcome":"ok"' "$journal")
  [ "$done" -ge 3 ] && [ "$done" -lt 10 ] || fail "expected the running members to finish, not all: $done"
  assert_eq "0" "$(grep -vc '"outcome":"ok"' "$journal")"
  run_stallrun workflows/deploy.lua --fleet tenants --resume "$(basename "$journal" .jsonl)"
  assert_exit 0
}

test_fleet_four_shards_are_disjoint_and_complete() {
  local i pids=()
  new_project
  fleet_members sh 24
  fleet_section tenants sh parallel=2 protected=false
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  for i in 0 1 2 3; do
    (cd "$PROJECT" && exec "$STALLRUN" workflows/deploy.lua --fleet tenants --shard "$i/4") \
      >"$CASE_TMP/shard$i.out" 2>&1 </dev/null &
    pids+=($!)
  done
  for i in 0 1 2 3; do wait "${pids[$i]}" || fail "shard $i failed: $(cat "$CASE_TMP/shard$i.out")"; done
  cat "$PROJECT"/.stallmig/fleet/tenants/*-shard*of4.jsonl >"$CASE_TMP/all.jsonl"
  assert_eq "4" "$(ls "$PROJECT"/.stallmig/fleet/tenants/ | wc -l)"
  assert_eq "24" "$(outcomes "$CASE_TMP/all.jsonl" | awk '{print $1}' | sort -u | wc -l)" "members in the union"
  assert_eq "24" "$(wc -l <"$CASE_TMP/all.jsonl")" "a member in two slices"
  for i in 0 1 2 3; do
    [ "$(grep -c . "$PROJECT"/.stallmig/fleet/tenants/*-shard${i}of4.jsonl)" -gt 0 ] || fail "shard $i is empty"
  done
  run_stallrun workflows/status.lua --fleet tenants --json
  assert_exit 0
  assert_eq "24" "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for m in d["members"] if m["last_run"]["outcome"]=="ok"))' "$CASE_TMP/out")"
  run_stallrun workflows/deploy.lua --fleet tenants --shard 4/4
  assert_exit 2
  assert_err_contains "expected i/N with i from 0 to N-1"
}

test_fleet_member_marked_for_another_fleet_is_refused() {
  new_project
  fleet_members mk 2
  fleet_section blue mk protected=false
  fleet_section green mk protected=false
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  run_stallrun workflows/deploy.lua --fleet blue
  assert_exit 0
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  run_stallrun workflows/deploy.lua --fleet green --json
  assert_exit 1
  assert_eq "m001 refused
m002 refused" "$(outcomes "$(json_get "['journal']")")"
  grep -q "marked as belonging to blue.m001" "$(json_get "['journal']")" || fail "the refusal does not name the marker's environment"
  assert_eq "" "$(psql_q "SELECT to_regclass('public.b')" "$(member_url mk 001)")"
  assert_no_password "$(json_get "['journal']")"
}

# The coordinator holds no member's url: a script cannot reach a member but
# through a member process, whose writes go through its gate.
test_fleet_coordinator_cannot_bypass_the_gate() {
  new_project
  fleet_members gt 1
  fleet_section tenants gt
  cat >"$PROJECT/sneak.lua" <<'LUA'
local ctx = ...
local db = require("stallmig.db")
local fleet = require("stallmig.fleet")
local members = fleet.members(ctx.fleet)
print("url " .. members[1].url)
local ok, err = pcall(db.connect, ctx.fleet .. "." .. members[1].name)
print("connect " .. tostring(ok) .. " " .. tostring(err and err.message))
LUA
  run_stallrun sneak.lua --fleet tenants
  assert_out_contains "url postgresql://postgres:***@"
  assert_out_contains "connect false"
  assert_no_password
  cat >"$PROJECT/write.lua" <<'LUA'
local ctx = ...
local db = require("stallmig.db")
local conn <close> = db.connect(ctx.env)
conn:exec("CREATE TABLE sneaked (id int)")
LUA
  # a member process is a protected environment by default: writes other
  # than the gate's are refused
  LAST_ARGS="write.lua --fleet tenants --member m1"
  STATUS=0
  (cd "$PROJECT" && member_url gt 001 | "$STALLRUN" write.lua --fleet tenants --member m001) \
    >"$CASE_TMP/out" 2>"$CASE_TMP/err" || STATUS=$?
  [ "$STATUS" != 0 ] || fail "a raw write to a member was not refused"
  assert_eq "" "$(psql_q "SELECT to_regclass('public.sneaked')" "$(member_url gt 001)")"
  assert_no_password
}

test_fleet_configuration_errors() {
  new_project
  printf '\n[fleet.x]\ntargets = t.lua\nregistry = %s\ntargets_query = SELECT 1\n' "$DB_URL" >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --fleet x
  assert_exit 2
  assert_err_contains "[fleet.x] has both targets and registry/targets_query"
  new_project
  printf '\n[fleet.x]\ntargets = t.lua\nwaves = 1, ten\n' >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --fleet x
  assert_exit 2
  assert_err_contains "waves = '1, ten': expected a list of member counts or percentages"
  new_project
  printf '\n[fleet.x]\ntargets = t.lua\non_error = sometimes\n' >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --fleet x
  assert_exit 2
  assert_err_contains "on_error = 'sometimes'"
  # targets = FILE.lua: its members, and a member without a url named
  new_project
  printf '\n[fleet.x]\ntargets = members.lua\nprotected = false\n' >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/deploy.lua --fleet nosuch
  assert_exit 2
  assert_err_contains "unknown fleet 'nosuch'"
  printf 'return { {name = "one", url = "%s"}, {name = "two"} }\n' "$DB_URL" >"$PROJECT/members.lua"
  run_stallrun workflows/status.lua --fleet x
  assert_exit 1
  assert_err_contains "fleet x: member 'two' from $PROJECT/members.lua: its url is empty"
}

# what stops a fleet run before any member starts: each says why, exits
# non-zero, and nothing is deployed
test_fleet_refusals_before_any_member_starts() {
  new_project
  fleet_members rf 2
  fleet_section guarded rf                          # protected: the default
  printf '\n[fleet.lost]\nregistry = postgresql://postgres:%s@127.0.0.1:1/registry\ntargets_query = SELECT name, url FROM t\n' \
    "$FLEET_PASSWORD" >>"$PROJECT/stallmig.ini"
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  # a protected fleet without a terminal and without --yes
  run_stallrun workflows/deploy.lua --fleet guarded
  assert_exit 3
  assert_err_contains "fleet guarded is protected and there is no terminal to confirm on"
  assert_eq "" "$(psql_q "SELECT to_regclass('stallmig.migrations')" "$(member_url rf 001)")"
  # the registry cannot be reached: no password in the message
  run_stallrun workflows/deploy.lua --fleet lost
  assert_exit 1
  assert_err_contains "fleet lost: cannot read its members from the registry"
  assert_no_password
  # targets_query runs read-only: a query that writes is refused, nothing written
  printf '\n[fleet.writes]\nregistry = %s\ntargets_query = INSERT INTO fleet_members VALUES (1, 2, 3) RETURNING name, url\n' \
    "$DB_URL" >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/status.lua --fleet writes
  assert_exit 1
  assert_err_contains "cannot execute INSERT in a read-only transaction"
  assert_eq "0" "$(psql_q "SELECT count(*) FROM fleet_members WHERE fleet = '1'")"
  # a member url that names a variable is not expanded
  psql_q "UPDATE fleet_members SET url = 'postgresql:///\${HOME}' WHERE name = 'm002'" >/dev/null
  run_stallrun workflows/deploy.lua --fleet guarded --yes --json
  assert_exit 1
  assert_eq "m001 ok
m002 failed" "$(outcomes "$(json_get "['journal']")")"
  assert_out_contains "url holds '\${'"
  # --member by hand without a url on stdin; --fleet with --env
  run_stallrun workflows/deploy.lua --fleet guarded --member m001
  assert_exit 2
  assert_err_contains "--member: no url on stdin"
  run_stallrun workflows/deploy.lua --fleet guarded --env dev
  assert_exit 2
  assert_err_contains "--fleet and --env cannot be given together"
}

# promote_from at fleet level: member m of fleet prd takes only what member
# m of fleet stg has applied
test_fleet_promotes_from_another_fleet_member_by_member() {
  new_project
  fleet_members stg 2
  fleet_members prd 2
  fleet_section stg stg protected=false
  fleet_section prd prd protected=false promote_from=stg on_error=continue
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  run_stallrun workflows/deploy.lua --fleet prd --json
  assert_exit 1
  assert_eq "m001 refused
m002 refused" "$(outcomes "$(json_get "['journal']")")"
  grep -q "stg.m001" "$(json_get "['journal']")" || fail "the refusal does not name stg.m001"
  psql_q "DELETE FROM fleet_members WHERE fleet = 'stg' AND name = 'm002'" >/dev/null
  run_stallrun workflows/deploy.lua --fleet stg
  assert_exit 0
  run_stallrun workflows/deploy.lua --fleet prd --json
  assert_exit 1
  assert_eq "m001 ok
m002 refused" "$(outcomes "$(json_get "['journal']")")"
  grep -q "fleet prd promotes from fleet stg, which has no member m002" "$(json_get "['journal']")" ||
    fail "m002's refusal does not say stg has no m002"
  assert_no_password "$(json_get "['journal']")"
}

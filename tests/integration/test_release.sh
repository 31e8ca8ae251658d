# workflows/release.lua: verify staging, deploy staging, run its integration
# tests, deploy prod — the runbook as one script, with the gate in each deploy.

release_project() {
  new_project
  STAGING_URL=$(new_db staging)
  PROD_URL=$(new_db prod)
  export STAGING_URL PROD_URL
  cat >"$PROJECT/check.sh" <<'SH'
#!/bin/sh
# the team's integration tests: the staging database has what the release brings
echo "checking staging at $STAGING_SECRET_URL (PGPASSWORD=[$PGPASSWORD])"
test "$("$PSQL" -XAtq -d "$STAGING_URL" -c "SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'")" = 1
SH
  chmod +x "$PROJECT/check.sh"
  cat >>"$PROJECT/stallmig.ini" <<INI

[env.staging]
url = $STAGING_URL
backup = true
integration_tests = ./check.sh

[env.prod]
url = $PROD_URL
backup = true
promote_from = staging
INI
  add_migration 20240101000000_users 'CREATE TABLE users (id int PRIMARY KEY, nickname text);'
  export PSQL
}

test_release_verifies_deploys_tests_and_promotes() {
  release_project
  # staging's url carries a password (the cluster trusts local users, so it is
  # not needed): the host knows it, and redacts it from what the tests print
  local secret_url=${STAGING_URL/postgresql:\/\/\//postgresql:\/\/postgres:Sentinel-Check-7@\/}
  python3 - "$PROJECT/stallmig.ini" "$STAGING_URL" "$secret_url" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
open(path, "w").write(text.replace("url = " + old + "\n", "url = " + new + "\n"))
PY
  grep -q Sentinel-Check-7 "$PROJECT/stallmig.ini" || fail "the test did not put the password in the url"
  STAGING_SECRET_URL=$secret_url PGPASSWORD=Sentinel-Pg-9 CI=true run_stallrun workflows/release.lua --env prod --yes
  assert_exit 0
  assert_out_contains "Verdict: PASS"
  assert_out_contains "Deployed 1 migration(s) to staging"
  assert_out_contains "Testing staging: ./check.sh"
  assert_out_contains "Deployed 1 migration(s) to prod"
  assert_err_contains "checking staging at postgresql://postgres:***@/"
  assert_err_contains "(PGPASSWORD=[])"            # stallrun's password is not the command's
  assert_not_contains "Sentinel-Check-7"
  assert_eq "users|users" "$(psql_q "SELECT to_regclass('users')" "$STAGING_URL")|$(psql_q "SELECT to_regclass('users')" "$PROD_URL")"
  assert_eq 1 "$(ls "$PROJECT/backups/staging" | wc -l)"
  assert_eq 1 "$(ls "$PROJECT/backups/prod" | wc -l)"
  # again, as one JSON document: nothing pending anywhere
  CI=true run_stallrun workflows/release.lua --env prod --yes --json
  assert_exit 0
  assert_eq "0 0 0 True" "$(json_get "['staging']['pending'], d['prod']['pending'], d['integration_tests']['status'], d['ok']" | tr -d '(),')"
}

test_release_stops_when_the_integration_tests_fail() {
  release_project
  sed -i 's/= 1$/= 2/' "$PROJECT/check.sh"                # the tests fail
  CI=true run_stallrun workflows/release.lua --env prod --yes
  assert_exit 1
  assert_err_contains "the integration tests of staging failed (exit 1): prod is not deployed"
  assert_eq "users" "$(psql_q "SELECT to_regclass('users')" "$STAGING_URL")"
  assert_eq "" "$(psql_q "SELECT to_regclass('users')" "$PROD_URL")" "prod was deployed"
}

test_release_stops_when_staging_review_finds_errors() {
  release_project
  CI=true run_stallrun workflows/release.lua --env prod --yes
  psql_q "INSERT INTO users SELECT g, 'n' || g FROM generate_series(1, 10) g" "$STAGING_URL" >/dev/null
  add_migration 20240102000000_drop 'ALTER TABLE users DROP COLUMN nickname;'
  CI=true run_stallrun workflows/release.lua --env prod --yes
  assert_exit 1
  assert_err_contains "the review of staging found errors: nothing was deployed"
  assert_eq 10 "$(psql_q "SELECT count(nickname) FROM users" "$STAGING_URL")"
}

test_release_needs_a_promote_from() {
  release_project
  run_stallrun workflows/release.lua --env staging --yes
  assert_exit 2
  assert_err_contains "staging has no promote_from"
}

# sys.run: an argument vector, no shell; a command that cannot start is an error.
test_a_script_runs_a_command_without_a_shell() {
  new_project
  cat >"$PROJECT/run.lua" <<'LUA'
local command = require("stallmig.command")
print("status " .. command.run([[sh -c 'echo "$0 and $1"; exit 4' "one word" two]]))
print("status " .. command.run({ "printf", "%s|", "a b", "$HOME" }))
print(pcall(command.run, "no-such-program-here"))
LUA
  run_stallrun run.lua
  assert_exit 0
  assert_err_contains "one word and two"
  assert_out_contains "status 4"
  assert_err_contains 'a b|$HOME|'
  assert_out_contains "cannot run no-such-program-here (not installed, or not on PATH)"
}

# A command's own exit status 126 or 127 is its status, not "not installed";
# it gets no PGPASSWORD of stallrun's; a missing directory is said.
test_a_command_keeps_its_own_exit_status_and_gets_no_password() {
  new_project
  cat >"$PROJECT/run.lua" <<'LUA'
local command = require("stallmig.command")
print("status " .. command.run({ "sh", "-c", 'echo "pw=[$PGPASSWORD]"; exit 127' }))
print("status " .. command.run({ "sh", "-c", "exit 126" }))
print(pcall(command.run, { "true" }, { cwd = "/no/such/dir" }))
LUA
  PGPASSWORD=Sentinel-Cmd-8 run_stallrun run.lua
  assert_exit 0
  assert_out_contains "status 127"
  assert_out_contains "status 126"
  assert_err_contains "pw=[]"
  assert_out_contains "cannot run true in /no/such/dir: No such file or directory"
}

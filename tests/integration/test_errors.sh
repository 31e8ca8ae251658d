# Bad configuration and bad workflows: a clear message and exit 2.

test_unknown_environment() {
  new_project
  run_stallrun workflows/status.lua --env prod
  assert_exit 2
  assert_err_contains "stallrun: unknown environment 'prod': stallmig.ini defines dev"
}

test_unset_variable_names_file_and_line() {
  new_project
  printf '\n[env.staging]\nurl = ${STALLMIG_TEST_NOT_SET}\n' >>"$PROJECT/stallmig.ini"
  unset STALLMIG_TEST_NOT_SET
  run_stallrun workflows/status.lua --env staging
  assert_exit 2
  assert_err_contains 'stallmig.ini:10: ${STALLMIG_TEST_NOT_SET} is not set'
  run_stallrun workflows/status.lua --env dev
  assert_exit 0   # dev does not need it: status runs (no migrations: up to date)
}

test_missing_config_file() {
  new_project
  run_stallrun workflows/status.lua --env dev --config nowhere.ini
  assert_exit 2
  assert_err_contains "nowhere.ini: cannot read the configuration"
}

test_unknown_key_and_malformed_line() {
  new_project
  printf 'colour = blue\n' >>"$PROJECT/stallmig.ini"
  run_stallrun workflows/status.lua --env dev
  assert_exit 2
  assert_err_contains "stallmig.ini:8: unknown key 'colour' in [env.dev]"
  printf '[env.x]\nurl = y\nnonsense\n' >"$PROJECT/other.ini"
  run_stallrun workflows/status.lua --env x --config other.ini
  assert_exit 2
  assert_err_contains "other.ini:3: malformed line"
}

test_config_paths_are_relative_to_the_ini_file() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  mkdir -p "$PROJECT/elsewhere"
  (cd "$PROJECT/elsewhere" && "$STALLRUN" workflows/deploy.lua --env dev --config ../stallmig.ini) >/dev/null 2>&1 \
    || fail "deploy from another directory failed"
  assert_eq "a" "$(psql_q "SELECT to_regclass('a')")"
}

test_workflow_syntax_error_is_exit_2() {
  new_project
  printf -- '-- broken\nlocal x = = 1\n' >"$PROJECT/broken.lua"
  run_stallrun broken.lua --env dev
  assert_exit 2
  assert_err_contains "broken.lua:2:"
}

test_workflow_runtime_error_has_traceback() {
  new_project
  printf -- '-- oops\nlocal t = nil\nlocal function f() return t.x end\nreturn f()\n' >"$PROJECT/oops.lua"
  run_stallrun oops.lua --env dev
  assert_exit 1
  assert_err_contains "oops.lua:3: attempt to index a nil value"
  assert_err_contains "stack traceback:"
}

test_strict_globals_and_wrong_argument_types() {
  new_project
  printf 'undeclared = 1\n' >"$PROJECT/g.lua"
  run_stallrun g.lua --env dev
  assert_exit 1
  assert_err_contains "assignment to undeclared global 'undeclared'"
  printf 'local db = require("stallmig.db")\nlocal c <close> = db.connect("dev")\nc:query({})\n' >"$PROJECT/types.lua"
  run_stallrun types.lua --env dev
  assert_exit 1
  assert_err_contains "bad argument #1 to 'query' (string expected, got table)"
}

test_missing_workflow_and_unknown_option() {
  new_project
  run_stallrun workflows/nope.lua --env dev
  assert_exit 2
  assert_err_contains "cannot read the workflow workflows/nope.lua"
  run_stallrun workflows/deploy.lua --env dev --frobnicate
  assert_exit 2
  assert_err_contains "unknown option --frobnicate"
  run_stallrun workflows/deploy.lua
  assert_exit 2
  assert_err_contains "--env NAME is required"
}

test_passwords_never_printed() {
  new_project
  cat >"$PROJECT/stallmig.ini" <<'INI'
[env.bad]
url = postgresql://app:Sentinel%zzPass@127.0.0.1:1/db
[env.down]
url = postgresql://app:Sentinel-Down-9@127.0.0.1:1/db
[env.dsn]
url = host=127.0.0.1 port=1 user=app password=Sentinel-Dsn-7 dbname=db
[env.at]
url = postgresql://app:Sentinel@Tail-8@127.0.0.1:1/db
INI
  mkdir -p "$PROJECT/migrations"
  run_stallrun workflows/status.lua --env bad
  assert_exit 2
  assert_err_contains "is not a valid PostgreSQL URL"
  assert_not_contains "Sentinel"
  run_stallrun workflows/deploy.lua --env down --json --yes
  assert_exit 1
  assert_err_contains "cannot connect to down"
  assert_not_contains "Sentinel"
  PGPASSWORD=Sentinel-Env-5 run_stallrun workflows/status.lua --env dsn
  assert_exit 1
  assert_not_contains "Sentinel"
  run_stallrun workflows/status.lua --env at      # libpq would print "Tail-8@127.0.0.1" as a host
  assert_exit 2
  assert_err_contains "the url of [env.at] is ambiguous"
  assert_not_contains "Tail-8"
  assert_not_contains "Sentinel"
}

# pg_dump and pg_restore get the URL from the host, not from db.connect: the
# password is registered for redaction on that path too (a workflow that
# prints it, by any route, shows ***).
test_backup_path_registers_the_password() {
  new_project
  cat >"$PROJECT/stallmig.ini" <<'INI'
[env.down]
url = postgresql://app:Sentinel-Dump-3@127.0.0.1:1/db
protected = false
INI
  mkdir -p "$PROJECT/migrations"
  cat >"$PROJECT/leak.lua" <<'LUA'
-- leak — backs up an unreachable server, then prints the password it knows
local db = require("stallmig.db")
local ok, err = pcall(db.backup, "down", "backups/x.dump")
assert(not ok, "the backup of an unreachable server should fail")
print("message: " .. tostring(err.message))
print("password: Sentinel-Dump-3")
LUA
  run_stallrun leak.lua --env down
  assert_exit 0
  assert_out_contains "password: ***"
  assert_not_contains "Sentinel"
}

# PostgreSQL's parser (libpg_query) is opened on the first SQL parsed: a
# run with nothing to parse (a deploy with nothing to do, an up-to-date
# status) works without it; one that must parse a migration, or check a
# query before sending it, and cannot load it says so, names what to
# install, and sends nothing.
test_the_parser_is_loaded_only_to_parse() {
  new_project
  add_migration 20240101000000_a 'CREATE TABLE a (id int);'
  local missing="$CASE_TMP/no/libpg_query.so"
  cat >"$PROJECT/parse.lua" <<'LUA'
local ok, err = pcall(require("stallmig.sql").script, "SELECT 1")
print(ok, err.kind, err.message)
print(err.hint)
LUA
  export STALLMIG_LIBPG_QUERY="$missing"
  run_stallrun parse.lua
  assert_exit 0
  assert_out_contains "false	failed	cannot load PostgreSQL's parser (libpg_query, $missing): "
  assert_out_contains "install libpg_query (Debian: apt-get install libpg-query-dev; make deps does), or point STALLMIG_LIBPG_QUERY at it"
  run_stallrun workflows/deploy.lua --env dev
  unset STALLMIG_LIBPG_QUERY
  assert_exit 1
  assert_err_contains "cannot load PostgreSQL's parser (libpg_query, $missing): "
  assert_err_contains "hint: install libpg_query (Debian: apt-get install libpg-query-dev; make deps does), or point STALLMIG_LIBPG_QUERY at it"
  assert_eq "" "$(psql_q "SELECT to_regclass('a')")" "a was applied"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  add_migration 20240102000000_b 'CREATE TABLE b (id int);'
  export STALLMIG_LIBPG_QUERY="$missing"
  run_stallrun workflows/status.lua --env dev    # b pending: the history's query is checked
  assert_exit 1
  assert_err_contains "cannot check this SQL before it is sent to dev: cannot load PostgreSQL's parser (libpg_query, $missing): "
  assert_err_contains "; nothing was sent"
  run_stallrun workflows/deploy.lua --env dev
  unset STALLMIG_LIBPG_QUERY
  assert_exit 1
  assert_err_contains "cannot load PostgreSQL's parser (libpg_query, $missing): "
  assert_eq "" "$(psql_q "SELECT to_regclass('b')")" "b was applied"
  assert_eq "1" "$(psql_q "SELECT count(*) FROM stallmig.migrations")" "history rows"
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  export STALLMIG_LIBPG_QUERY="$missing"          # nothing to parse from here on
  run_stallrun workflows/deploy.lua --env dev
  assert_exit 0
  assert_out_contains "Nothing to deploy"
  run_stallrun workflows/status.lua --env dev
  unset STALLMIG_LIBPG_QUERY
  assert_exit 0
  assert_out_contains "dev: 2 applied, 0 pending"
}

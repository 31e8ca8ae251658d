# lib.sh — helpers for integration tests (sourced by tests/run-integration.sh
# in the subshell that runs one test function, with `set -e` on).
#
# The runner exports:
#   STALLRUN   absolute path of the binary under test
#   REPO       the repository root
#   CLUSTER    the run's cluster directory (its unix socket is there)
#   PGBIN      the server's bin directory (the real psql, not Debian's wrapper)
#   CASE_TMP   a fresh directory for this test function
#   TEST_NAME  the test function's name (TEST_FILE: its file)
#
# After run_stallrun: STATUS (exit status), OUT and ERR (the captured streams,
# also in the files $CASE_TMP/out and $CASE_TMP/err).

PSQL="$PGBIN/psql"
: "${TEST_NAME:=test}"

# Where a test keeps what a person may want to look at after the run
# (browser screenshots): CASE_TMP is removed when the function ends. CI can
# upload the folder as an artifact.
SHOTS="${TEST_OUTPUT:-$REPO/build/test-output}/screenshots/$TEST_NAME"

# fail MESSAGE — fails the test: names it, says what was expected, and shows
# the last stallrun run's exit status and output, if there was one.
fail() {
  {
    echo "FAILED $TEST_NAME: $*"
    if [ -n "${STATUS+x}" ]; then
      echo "  last run: stallrun ${LAST_ARGS:-} (exit status $STATUS)"
      echo "  --- stdout"; sed 's/^/  | /' "$CASE_TMP/out" 2>/dev/null || true
      echo "  --- stderr"; sed 's/^/  | /' "$CASE_TMP/err" 2>/dev/null || true
    fi
  } >&2
  exit 1
}

# new_db [NAME] — creates a new empty database on the run's cluster and prints
# its URL. NAME (optional) becomes part of the database's name.
_new_db_seq=0
new_db() {
  local prefix name
  prefix=$(printf '%s' "${1:-t}" | tr -c 'A-Za-z0-9_' '_' | tr '[:upper:]' '[:lower:]' | cut -c1-32)
  _new_db_seq=$((_new_db_seq + 1))
  name="${prefix}_${BASHPID}_${_new_db_seq}_${RANDOM}"
  "$PSQL" -XAtq -v ON_ERROR_STOP=1 -h "$CLUSTER" -U postgres -d postgres \
    -c "CREATE DATABASE \"$name\"" >/dev/null || fail "cannot create database $name"
  "$REPO/tests/harness/pgcluster.sh" url "$CLUSTER" "$name"
}

# new_project — a temporary project directory with migrations/ and a
# stallmig.ini whose [env.dev] points at a new database (protected = false).
# Exports PROJECT and DB_URL. Add environments by appending to
# "$PROJECT/stallmig.ini".
new_project() {
  PROJECT=$(mktemp -d "$CASE_TMP/project.XXXX")
  DB_URL=$(new_db "$TEST_NAME")
  mkdir -p "$PROJECT/migrations"
  cat >"$PROJECT/stallmig.ini" <<INI
[project]
migrations = migrations

[env.dev]
url = $DB_URL
protected = false
lock_wait = 60s
INI
  export PROJECT DB_URL
}

# primary_cluster — a cluster of the case's own under $CASE_TMP with a
# database "app", for a hot standby of it (start_standby): sets PRIMARY,
# STANDBY, PRIMARY_URL and REPLICA_URL; both are stopped when the case ends.
primary_cluster() {
  PRIMARY="$CASE_TMP/primary" STANDBY="$CASE_TMP/standby"
  trap '"$REPO/tests/harness/pgcluster.sh" stop "$STANDBY"; "$REPO/tests/harness/pgcluster.sh" stop "$PRIMARY"' EXIT
  "$REPO/tests/harness/pgcluster.sh" start "$PRIMARY"
  "$PSQL" -XAtq -v ON_ERROR_STOP=1 -h "$PRIMARY" -U postgres -d postgres -c 'CREATE DATABASE app' >/dev/null
  PRIMARY_URL=$("$REPO/tests/harness/pgcluster.sh" url "$PRIMARY" app)
  REPLICA_URL=$("$REPO/tests/harness/pgcluster.sh" url "$STANDBY" app)
}

# start_standby — primary_cluster's hot standby, a copy of the primary as
# it is now.
start_standby() {
  "$REPO/tests/harness/pgcluster.sh" standby "$PRIMARY" "$STANDBY"
  assert_eq t "$(psql_q 'SELECT pg_is_in_recovery()' "$REPLICA_URL")" "the copy is a hot standby"
}

# baseline_none [ENV] — the case's database holds objects of the test's own
# (made with psql_q) and none of the migrations: say so once (adopt.lua
# --baseline none), so that the first deploy applies them all over it.
baseline_none() {
  run_stallrun workflows/adopt.lua --env "${1:-dev}" --baseline none --yes
  [ "$STATUS" = 0 ] || fail "adopt.lua --baseline none failed"
}

# add_migration FOLDER SQL — writes migrations/FOLDER/migration.sql exactly as
# given (no newline added).
add_migration() {
  [ -n "${PROJECT:-}" ] || fail "add_migration before new_project"
  mkdir -p "$PROJECT/migrations/$1"
  printf '%s' "$2" >"$PROJECT/migrations/$1/migration.sql"
}

# run_stallrun ARGS... — runs "$STALLRUN" ARGS in $PROJECT with stdin from
# /dev/null; sets STATUS, OUT, ERR. A sanitizer report on stderr fails the
# test, whatever the exit status.
run_stallrun() {
  LAST_ARGS="$*"
  STATUS=0
  (cd "${PROJECT:?run_stallrun before new_project}" && exec "$STALLRUN" "$@") \
    >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null || STATUS=$?
  OUT=$(cat "$CASE_TMP/out")
  ERR=$(cat "$CASE_TMP/err")
  if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$CASE_TMP/err"; then
    fail "sanitizer report from: stallrun $*"
  fi
}

# psql_q SQL [URL] — runs SQL with the real psql -XAtq against the case's
# database (or URL) and prints the result, one row per line; an SQL error
# fails the test.
psql_q() {
  local url=${2:-${DB_URL:?psql_q before new_project}} out err="$CASE_TMP/psql.$BASHPID.err"
  out=$("$PSQL" -XAtq -v ON_ERROR_STOP=1 -d "$url" -c "$1" 2>"$err") ||
    fail "psql_q failed: $1
$(sed 's/^/  psql: /' "$err")"
  printf '%s\n' "$out"
}

assert_exit() {
  [ "${STATUS:-}" = "$1" ] || fail "expected exit status $1, got ${STATUS:-none (stallrun not run)}"
}

# assert_eq EXPECTED ACTUAL [MSG]
assert_eq() {
  [ "$1" = "$2" ] || fail "${3:-values differ}: expected [$1], got [$2]"
}

assert_stdout_contains() {
  grep -qF -- "$1" "$CASE_TMP/out" 2>/dev/null || fail "stdout does not contain [$1]"
}

assert_stderr_contains() {
  grep -qF -- "$1" "$CASE_TMP/err" 2>/dev/null || fail "stderr does not contain [$1]"
}

# the short names the existing tests use
assert_out_contains() { assert_stdout_contains "$@"; }
assert_err_contains() { assert_stderr_contains "$@"; }

assert_not_contains() {   # assert_not_contains TEXT — in neither stream
  ! grep -qF -- "$1" "$CASE_TMP/out" "$CASE_TMP/err" 2>/dev/null || fail "output contains [$1]"
}

# json_get PATH — reads a value from stdout (one JSON document) with python3:
# json_get "['applied'][0]['name']"
json_get() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d$1)" "$CASE_TMP/out" \
    || fail "stdout is not the JSON expected (path $1)"
}

# hold_in_background NAME SQL... — another client: a psql session with
# application_name NAME runs each SQL statement, then sleeps (pg_sleep(60)),
# holding what they took (a table lock in an open transaction, an advisory
# lock). Returns once it sleeps (at most 5 s). release_background NAME ends
# it on the server and reaps the psql.
declare -gA _BACKGROUND_PIDS=()
hold_in_background() {
  local name=$1 sql tries=0 args=()
  shift
  for sql in "$@"; do args+=(-c "$sql"); done
  "$PSQL" -XAtq -d "$DB_URL" -c "SET application_name = '$name'" "${args[@]}" \
    -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
  _BACKGROUND_PIDS[$name]=$!
  until [ "$(psql_q "SELECT count(*) FROM pg_stat_activity
                     WHERE application_name = '$name' AND wait_event = 'PgSleep'")" = 1 ]; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || { release_background "$name"; fail "the background session $name never got that far"; }
    sleep 0.05
  done
}

# background_holds NAME — true while NAME's session is still on the server.
background_holds() {
  [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1'")" = 1 ]
}

release_background() {
  psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$1'" >/dev/null
  wait "${_BACKGROUND_PIDS[$1]}" 2>/dev/null || true
  unset "_BACKGROUND_PIDS[$1]"
}

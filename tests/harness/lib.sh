# lib.sh — helpers for integration tests (sourced by tests/run-integration.sh).
# The runner exports STALLRUN, REPO, CLUSTER (socket directory), PGBIN and
# CASE_TMP (a fresh directory per test function).

PSQL="$PGBIN/psql"

fail() {
  echo "FAILED: $*" >&2
  if [ -n "${STATUS+x}" ]; then
    echo "  last stallrun exit status: $STATUS" >&2
    echo "  --- stdout" >&2; sed 's/^/  | /' "$CASE_TMP/out" >&2 || true
    echo "  --- stderr" >&2; sed 's/^/  | /' "$CASE_TMP/err" >&2 || true
  fi
  exit 1
}

# new_db -> prints the URL of a new empty database on the run's cluster.
new_db() {
  local name="t_$(date +%s%N | tail -c 10)_$RANDOM"
  "$PSQL" -XAtq -h "$CLUSTER" -U postgres -d postgres -c "CREATE DATABASE $name" >/dev/null \
    || fail "cannot create database $name"
  echo "postgresql:///$name?host=$CLUSTER&user=postgres"
}

# new_project: a project dir with migrations/ and a stallmig.ini whose
# [env.dev] points at a new database. Exports PROJECT, DB_URL.
new_project() {
  PROJECT=$(mktemp -d "$CASE_TMP/project.XXXX")
  DB_URL=$(new_db)
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

# add_migration FOLDER SQL — writes migrations/FOLDER/migration.sql as given.
add_migration() {
  mkdir -p "$PROJECT/migrations/$1"
  printf '%s' "$2" >"$PROJECT/migrations/$1/migration.sql"
}

# run_stallrun ARGS... — runs the binary in $PROJECT; sets STATUS, OUT, ERR.
# A sanitizer report on stderr fails the test whatever the exit status.
run_stallrun() {
  set +e
  (cd "$PROJECT" && "$STALLRUN" "$@") >"$CASE_TMP/out" 2>"$CASE_TMP/err" </dev/null
  STATUS=$?
  set -e
  OUT=$(cat "$CASE_TMP/out")
  ERR=$(cat "$CASE_TMP/err")
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer' "$CASE_TMP/err"; then
    fail "sanitizer report from: stallrun $*"
  fi
}

# psql_q SQL [URL] — one value per line, no headers.
psql_q() {
  "$PSQL" -XAtq -v ON_ERROR_STOP=1 -d "${2:-$DB_URL}" -c "$1"
}

assert_exit() {
  [ "$STATUS" = "$1" ] || fail "expected exit status $1, got $STATUS"
}

assert_eq() {
  [ "$1" = "$2" ] || fail "${3:-values differ}: expected [$1], got [$2]"
}

assert_out_contains() {
  grep -qF -- "$1" "$CASE_TMP/out" || fail "stdout does not contain [$1]"
}

assert_err_contains() {
  grep -qF -- "$1" "$CASE_TMP/err" || fail "stderr does not contain [$1]"
}

assert_not_contains() {   # assert_not_contains TEXT — in neither stream
  ! grep -qF -- "$1" "$CASE_TMP/out" "$CASE_TMP/err" || fail "output contains [$1]"
}

# json_get PATH — reads a value from $OUT (one JSON document) with python3:
# json_get "['applied'][0]['name']"
json_get() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d$1)" "$CASE_TMP/out" \
    || fail "stdout is not the JSON expected (path $1)"
}

#!/usr/bin/env bash
# run.sh STALLRUN — a representative deploy under valgrind (make check-valgrind):
# the example project's migrations, 70 generated ones (enough for the scan's
# second thread) and a failing one, status before and after, doctor, drift
# (a shadow database), the offline lint, a configuration error, and every host function called
# with wrong arguments (tests/faults/api_wrong_types.lua), against a
# throwaway cluster. Fails on any valgrind report (invalid access, use of
# uninitialised memory, a definite or indirect leak) or an unexpected exit
# status. STALLRUN: a build without ASan (valgrind and ASan do not mix).
# Prints a failing run with its report and one summary line (V=1: a line
# per run).
set -uo pipefail

[ $# -eq 1 ] && [ -x "$1" ] || { echo "usage: run.sh /abs/path/to/stallrun (not an ASan build)" >&2; exit 2; }
STALLRUN=$(realpath "$1")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HARNESS="$REPO/tests/harness/pgcluster.sh"
command -v valgrind >/dev/null || { echo "run.sh: valgrind is not installed (make deps)" >&2; exit 2; }
PSQL="$("$HARNESS" bindir)/psql" || exit 2
TMP=$(mktemp -d "$("$HARNESS" tmpbase)/stallmig-valgrind.XXXXXX")
chmod 0755 "$TMP"
trap '"$HARNESS" stop "$TMP/pg" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$HARNESS" start "$TMP/pg" || { echo "run.sh: cannot start the cluster" >&2; exit 1; }
"$PSQL" -XAtq -h "$TMP/pg" -U postgres -d postgres -c "CREATE DATABASE vg" >/dev/null || exit 1
URL=$("$HARNESS" url "$TMP/pg" vg)

PROJECT="$TMP/project"
mkdir -p "$PROJECT"
cp -r "$REPO/migrations" "$PROJECT/"
cat >"$PROJECT/stallmig.ini" <<INI
[project]
migrations = migrations

[env.dev]
url = $URL
protected = false
INI

# --child-silent-after-fork: the cancel requests a signal sends come from a
# forked child that only calls PQcancel and _exit (src/sigwatch.c); its copy
# of the heap has lost the other threads that pointed into it.
VALGRIND=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
          --error-exitcode=99 --suppressions="$REPO/tests/valgrind/stallmig.supp"
          --child-silent-after-fork=yes --log-file="$TMP/valgrind.%p.log")
runs=0 failed=0 started=$(date +%s)

# step EXPECTED_STATUS ARGS... — one stallrun run under valgrind.
step() {
  local want=$1 rc=0
  shift
  rm -f "$TMP"/valgrind.*.log
  (cd "$PROJECT" && exec "${VALGRIND[@]}" "$STALLRUN" "$@") >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
  judge "$want" "$rc" "$@"
}

# interrupted ARGS... — the same, with a SIGINT once its session sleeps on
# the server (pg_sleep): the signal watcher, its cancel and the cleanup.
interrupted() {
  local rc=0 tries=0 pid
  rm -f "$TMP"/valgrind.*.log
  (cd "$PROJECT" && exec "${VALGRIND[@]}" "$STALLRUN" "$@") >"$TMP/out" 2>"$TMP/err" </dev/null &
  pid=$!
  until [ "$("$PSQL" -XAtq -d "$URL" -c "SELECT count(*) FROM pg_stat_activity
                 WHERE wait_event = 'PgSleep' AND application_name LIKE 'stallrun%'")" = 1 ]; do
    tries=$((tries + 1))
    [ $tries -lt 600 ] && kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -INT "$pid" 2>/dev/null
  wait "$pid" || rc=$?
  judge 130 "$rc" "$@" "(SIGINT)"
}

# judge EXPECTED_STATUS STATUS ARGS... — counts and reports one run.
judge() {
  local want=$1 rc=$2 log
  shift 2
  runs=$((runs + 1))
  log=$(cat "$TMP"/valgrind.*.log 2>/dev/null)
  if [ -n "$log" ] || [ "$rc" != "$want" ]; then
    failed=$((failed + 1))
    echo "FAIL stallrun $* (exit $rc, expected $want)"
    [ -n "$log" ] && sed 's/^/     /' <<<"$log"
    [ "$rc" != "$want" ] && tail -n 5 "$TMP/err" | cut -c1-300 | sed 's/^/     stderr: /'
  elif [ -n "${V:-}" ]; then
    echo "ok   stallrun $*"
  fi
}

# served ARGS... — the studio under valgrind: a few pages and an edit
# through its HTTP server (curl), then SIGTERM (exit 143).
served() {
  local rc=0 tries=0 pid url base jar="$TMP/cookies" csrf
  rm -f "$TMP"/valgrind.*.log "$jar"
  (cd "$PROJECT" && exec "${VALGRIND[@]}" "$STALLRUN" "$@" --port 0) >"$TMP/out" 2>"$TMP/err" </dev/null &
  pid=$!
  until url=$(grep -o 'http://[^ ]*token=[0-9a-f]*' "$TMP/out" 2>/dev/null); do
    tries=$((tries + 1))
    [ $tries -lt 600 ] && kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  base=${url%%/?token=*}
  curl -s -c "$jar" -b "$jar" -L -o /dev/null "$url"
  for page in / "/rows?schema=public&table=generated_10&sort=note&col=note&op=contains&v=o" \
              "/row?schema=public&table=generated_10&k1=1" /migrations /schema /static/studio.css; do
    curl -s -b "$jar" -o "$TMP/page" "$base$page"
  done
  csrf=$(curl -s -b "$jar" "$base/" | grep -o 'name="csrf" content="[0-9a-f]*"' | sed 's/.*content="//; s/"$//')
  curl -s -b "$jar" -o "$TMP/page" --data "csrf=$csrf&schema=public&table=generated_10&k1=1&v2=edited" "$base/row/update"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" || rc=$?
  grep -q 'Updated 1 row' "$TMP/page" || { echo "  the studio did not serve the edit" >>"$TMP/err"; rc=98; }
  judge 143 "$rc" "$@" "(served, SIGTERM)"
}

add() {   # add FOLDER SQL
  mkdir -p "$PROJECT/migrations/$1"
  printf '%s\n' "$2" >"$PROJECT/migrations/$1/migration.sql"
}

step 1 workflows/status.lua --env dev                 # all pending
step 0 workflows/deploy.lua --env dev                 # the example project
step 0 workflows/status.lua --env dev
for i in $(seq 10 79); do
  add "202406010000${i}_generated_$i" "CREATE TABLE generated_$i (id bigint PRIMARY KEY, note text);
INSERT INTO generated_$i VALUES (1, 'one'), (2, 'two');"
done
add 20240602000000_concurrent_index 'CREATE INDEX CONCURRENTLY generated_10_note ON generated_10 (note);'
add 20240603000000_broken 'CREATE TABLE broken (id int);
INSERT INTO no_such_table VALUES (1);'
step 0 workflows/verify.lua --env dev --format html --output "$PROJECT/verify.html"   # the report, 72 pending
step 1 workflows/deploy.lua --env dev --json          # 71 applied, then a failure
step 1 workflows/status.lua --env dev --json          # failed
step 1 workflows/deploy.lua --env dev                 # the failure again, nothing new
rm -r "$PROJECT/migrations/20240603000000_broken"
step 0 workflows/status.lua --env dev
step 0 workflows/doctor.lua --env dev
step 0 workflows/drift.lua --env dev                  # a shadow database, replayed and dropped
served workflows/studio.lua --env dev                 # the studio: pages, an edit, SIGTERM
add 20240604000000_sleeps 'CREATE TABLE sleeps (id int);
SELECT pg_sleep(60);'
interrupted workflows/deploy.lua --env dev            # cancelled, rolled back
rm -r "$PROJECT/migrations/20240604000000_sleeps"
step 2 workflows/status.lua --env nowhere             # a usage error
step 0 workflows/lint.lua --format sarif              # the offline lint: one parse a file, its tree kept
add 20240605000000_unparsable 'ALTER TABLE generated_10 ADD COLUMN c int DEFAULT;'
step 1 workflows/lint.lua --json                      # a parse error part-way
rm -r "$PROJECT/migrations/20240605000000_unparsable"
step 0 "$REPO/tests/faults/api_wrong_types.lua" --env dev

echo "valgrind: $((runs - failed)) passed, $failed failed in $(($(date +%s) - started))s ($runs stallrun runs)"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# run-integration.sh STALLRUN — runs every tests/integration/test_*.sh and
# tests/faults/test_*.sh (the fault-injection suite). Each file defines one
# or more test_* functions; each function runs in its own subshell (set -e,
# lib.sh sourced) with a fresh CASE_TMP.
#
# The functions run on JOBS workers at once, longest first (tests/durations.txt,
# the seconds each took in a serial run; a function not listed there goes
# first). Each worker has a throwaway PostgreSQL cluster of its own, copied
# from one initdb made for this run, and runs its functions one after the
# other on it, as the whole suite once ran on one cluster: a test that
# counts the cluster's databases or sessions sees only its own. After each
# function the worker drops every database the function made and removes
# its CASE_TMP (stopping any cluster a test started there), so the run's
# directory stays small. It lives on /dev/shm when that has room (see
# pgcluster.sh tmpbase): removing it is instant, and the servers' fsync is
# free there while their settings stay the defaults (on).
#
#   TESTS=pattern   run only the functions whose name (or file name) contains
#                   pattern (shell glob characters allowed)
#   JOBS=N          workers (default 6; 1 runs them one by one)
#   SUITE=label     the name on the summary line (default: integration)
#   V=1             a line per function, with its duration
#   TEST_TIMEOUT=S  a function still running after S seconds fails (default 300)
#   UPDATE_DURATIONS=1  rewrite tests/durations.txt from this run's times
#                   (a full run: no TESTS)
#
# Prints a failure, with its log, as soon as it happens, and at the end one
# line: "SUITE: N passed, M failed in Ts (J workers)". Exits non-zero if any
# failed or if none ran. Sanitizer settings (ASAN_OPTIONS, ...) pass through
# untouched.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: run-integration.sh /abs/path/to/stallrun" >&2; exit 2; }
[ -x "$1" ] || { echo "run-integration: $1 is not an executable (make builds ./stallrun)" >&2; exit 2; }
STALLRUN=$(realpath "$1")
REPO=$(cd "$(dirname "$0")/.." && pwd)
HARNESS="$REPO/tests/harness/pgcluster.sh"
PGBIN=$("$HARNESS" bindir) || exit 2
SUITE=${SUITE:-integration}
JOBS=${JOBS:-6}
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || { echo "run-integration: JOBS=$JOBS is not a number of workers" >&2; exit 2; }
RUN_TMP=$(mktemp -d "$("$HARNESS" tmpbase)/stallmig-test.XXXXXX") || exit 2
chmod 0755 "$RUN_TMP"
export STALLRUN REPO PGBIN

workers=()
cleanup() {
  trap '' INT TERM
  local pid
  # a worker passes it on to the function it runs (timeout ends its group)
  for pid in "${workers[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  wait 2>/dev/null
  # every cluster under RUN_TMP: the workers', and any a test left running
  find "$RUN_TMP" -path '*/data/postmaster.pid' -print0 2>/dev/null |
    while IFS= read -r -d '' pid; do
      "$HARNESS" stop "$(dirname "$(dirname "$pid")")" >/dev/null 2>&1
    done
  rm -rf "$RUN_TMP"
}
trap cleanup EXIT
trap 'echo; echo "$SUITE: interrupted"; exit 130' INT
trap 'exit 143' TERM

# ---- what to run, longest first -------------------------------------------
declare -A took=()
if [ -f "$REPO/tests/durations.txt" ]; then
  while read -r secs name; do
    [[ "$secs" =~ ^[0-9.]+$ ]] && took[$name]=$secs
  done <"$REPO/tests/durations.txt"
fi
: >"$RUN_TMP/items"
for file in "$REPO"/tests/integration/test_*.sh "$REPO"/tests/faults/test_*.sh; do
  [ -e "$file" ] || continue
  base=$(basename "$file" .sh)
  for fn in $(grep -oE '^test_[A-Za-z0-9_]+ *\(\)' "$file" | sed 's/ *()$//'); do
    # shellcheck disable=SC2053  # TESTS may be a glob on purpose
    if [ -n "${TESTS:-}" ] && [[ "$fn" != *$TESTS* && "$base" != *$TESTS* ]]; then continue; fi
    printf '%s %s %s\n' "${took[$fn]:-99999}" "$fn" "$file" >>"$RUN_TMP/items"
  done
done
sort -s -k1,1gr "$RUN_TMP/items" | cut -d' ' -f2- >"$RUN_TMP/queue"
total=$(wc -l <"$RUN_TMP/queue")
if [ "$total" -eq 0 ]; then
  echo "$SUITE: no test ran${TESTS:+ (TESTS=$TESTS matched nothing)}"
  exit 1
fi
[ "$JOBS" -le "$total" ] || JOBS=$total
echo 0 >"$RUN_TMP/next"

# take — prints the next "function file" of the queue; fails when none is left.
take() {
  local n
  n=$(flock "$RUN_TMP/next" sh -c 'n=$(cat "$1"); echo $((n + 1)) >"$1"; echo $((n + 1))' sh "$RUN_TMP/next")
  sed -n "${n}p" "$RUN_TMP/queue" | grep .
}

# ---- one function ---------------------------------------------------------
# run_case FUNCTION FILE — runs it (tests/harness/case.sh) on the worker's
# cluster ($CLUSTER) and appends "status seconds function file" to the
# worker's results. A function still running after TEST_TIMEOUT seconds
# (default 300; the slowest takes about 30) fails: timeout ends its whole
# process group, so a hang costs minutes, not the run. SIGINT and SIGQUIT
# get their default action back, as in a foreground command (a background
# worker's children would inherit them ignored).
run_case() {
  local fn=$1 file=$2 rc started secs
  local base
  base=$(basename "$file" .sh)
  CASE_TMP=$(mktemp -d "$WORKER_TMP/case.XXXX")
  TEST_NAME=$fn TEST_FILE=$file
  export CASE_TMP TEST_NAME TEST_FILE
  started=$(date +%s%N)
  timeout -k 10 "${TEST_TIMEOUT:-300}" env --default-signal=INT,QUIT \
    "$REPO/tests/harness/case.sh" "$file" "$fn" >"$CASE_TMP/log" 2>&1 </dev/null &
  CASE_PID=$!
  wait "$CASE_PID"
  rc=$?
  [ $rc -ne 124 ] && [ $rc -ne 137 ] ||
    echo "TIMED OUT $fn: still running after ${TEST_TIMEOUT:-300}s, ended (exit status $rc)" >>"$CASE_TMP/log"
  secs=$(( ($(date +%s%N) - started) / 10000000 ))
  secs="$((secs / 100)).$(printf '%02d' $((secs % 100)))"
  if [ $rc -ne 0 ]; then
    { flock 9
      echo "FAIL $fn ($base.sh, exit $rc, ${secs}s)"
      sed 's/^/     /' "$CASE_TMP/log"
    } 9>>"$RUN_TMP/output.lock"
  elif [ -n "${V:-}" ]; then
    { flock 9; echo "ok   $fn (${secs}s)"; } 9>>"$RUN_TMP/output.lock"
  fi
  echo "$rc $secs $fn $base" >>"$WORKER_TMP/results"
  tidy_up
  CASE_PID=
}

# tidy_up — after a function: the clusters it started stopped, whatever it
# left running ended (its process group: timeout's), its files removed,
# and every database it made dropped (sessions ended), so that the next
# function on this worker starts from the same cluster. A cluster that no
# longer answers (a test stopped it) is started again.
tidy_up() {
  local pid
  find "$CASE_TMP" -path '*/data/postmaster.pid' -print0 2>/dev/null |
    while IFS= read -r -d '' pid; do
      "$HARNESS" stop "$(dirname "$(dirname "$pid")")" >/dev/null 2>&1
    done
  kill -KILL -- "-$CASE_PID" 2>/dev/null
  rm -rf "$CASE_TMP"
  if ! "$PGBIN/psql" -XAtq -h "$CLUSTER" -U postgres -d postgres >/dev/null 2>&1 <<'SQL'
SELECT format('ALTER DATABASE %I IS_TEMPLATE false', datname) FROM pg_database
 WHERE datistemplate AND datname NOT IN ('template0', 'template1')
\gexec
SELECT format('DROP DATABASE %I WITH (FORCE)', datname) FROM pg_database
 WHERE datname NOT IN ('postgres', 'template0', 'template1')
\gexec
SQL
  then
    "$HARNESS" start "$CLUSTER" >>"$WORKER_TMP/cluster.log" 2>&1 ||
      echo "$SUITE: worker $WORKER cannot start its cluster again (see the failures after this)" >&2
  fi
}

# ---- the workers ------------------------------------------------------------
worker() {
  WORKER=$1 WORKER_TMP="$RUN_TMP/w$1"
  CLUSTER="$WORKER_TMP/pg"
  export CLUSTER
  CASE_PID=
  trap '[ -z "$CASE_PID" ] || kill -TERM "$CASE_PID" 2>/dev/null; exit 143' TERM
  mkdir -p "$WORKER_TMP"
  : >"$WORKER_TMP/results"
  if ! { "$HARNESS" copy "$RUN_TMP/template" "$CLUSTER" && "$HARNESS" start "$CLUSTER"; } \
      >"$WORKER_TMP/cluster.log" 2>&1; then
    sed 's/^/     /' "$WORKER_TMP/cluster.log" >&2
    echo "$SUITE: worker $WORKER cannot start its cluster" >&2
    exit 1
  fi
  local item
  while item=$(take); do
    run_case "${item%% *}" "${item#* }"
  done
}

started=$(date +%s)
if ! "$HARNESS" init "$RUN_TMP/template" >"$RUN_TMP/initdb.out" 2>&1; then
  cat "$RUN_TMP/initdb.out" >&2
  echo "$SUITE: cannot make the test cluster" >&2
  exit 1
fi
for w in $(seq 1 "$JOBS"); do
  worker "$w" &
  workers+=($!)
done
broken=0
for pid in "${workers[@]}"; do wait "$pid" || broken=$((broken + 1)); done
workers=()

# ---- the summary --------------------------------------------------------------
cat "$RUN_TMP"/w*/results >"$RUN_TMP/results" 2>/dev/null
passed=$(awk '$1 == 0' "$RUN_TMP/results" | wc -l)
failed=$(awk '$1 != 0' "$RUN_TMP/results" | wc -l)
ran=$((passed + failed))
failures=$(awk '$1 != 0 {printf " %s", $3}' "$RUN_TMP/results")
if [ -n "${UPDATE_DURATIONS:-}" ] && [ -z "${TESTS:-}" ] && [ "$ran" -eq "$total" ]; then
  { echo "# seconds each integration test function took (tests/run-integration.sh orders by it; UPDATE_DURATIONS=1 rewrites it)"
    sort -k2,2gr "$RUN_TMP/results" | awk '{print $2, $3}'; } >"$REPO/tests/durations.txt"
fi
line="$SUITE: $passed passed, $failed failed in $(($(date +%s) - started))s ($JOBS worker(s))"
[ "$ran" -eq "$total" ] || line+="; $((total - ran)) did not run (a worker stopped)"
[ "$failed" -eq 0 ] || line+=":$failures"
echo "$line"
[ "$failed" -eq 0 ] && [ "$ran" -eq "$total" ] && [ "$broken" -eq 0 ]

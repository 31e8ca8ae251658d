#!/usr/bin/env bash
# run-integration.sh STALLRUN — runs every tests/integration/test_*.sh and
# tests/faults/test_*.sh (the fault-injection suite) against
# one throwaway PostgreSQL cluster started for this run (stopped and removed at
# the end, also on Ctrl-C). Each file defines one or more test_* functions;
# each function runs in its own subshell (set -e, lib.sh sourced) with a fresh
# CASE_TMP. A failure is reported with its log, and the run goes on.
#
#   TESTS=pattern   run only the functions whose name (or file name) contains
#                   pattern (shell glob characters allowed)
#
# Ends with one line "N passed, M failed"; exits non-zero if any failed or if
# none ran. Sanitizer settings (ASAN_OPTIONS, ...) pass through untouched.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: run-integration.sh /abs/path/to/stallrun" >&2; exit 2; }
[ -x "$1" ] || { echo "run-integration: $1 is not an executable (make builds ./stallrun)" >&2; exit 2; }
STALLRUN=$(realpath "$1")
REPO=$(cd "$(dirname "$0")/.." && pwd)
HARNESS="$REPO/tests/harness/pgcluster.sh"
PGBIN=$("$HARNESS" bindir) || exit 2
RUN_TMP=$(mktemp -d /tmp/stallmig-test.XXXXXX)
chmod 0755 "$RUN_TMP"
CLUSTER="$RUN_TMP/pg"
export STALLRUN REPO CLUSTER PGBIN

cleanup() {
  trap '' INT TERM
  # the run's cluster, and any a test started under RUN_TMP and left running
  local pid
  find "$RUN_TMP" -path '*/data/postmaster.pid' -print0 2>/dev/null |
    while IFS= read -r -d '' pid; do
      "$HARNESS" stop "$(dirname "$(dirname "$pid")")" >/dev/null 2>&1
    done
  "$HARNESS" stop "$CLUSTER" >/dev/null 2>&1
  rm -rf "$RUN_TMP"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT
trap 'exit 143' TERM

"$HARNESS" start "$CLUSTER" || { echo "run-integration: cannot start the test cluster" >&2; exit 1; }

passed=0 failed=0 failures=()
started=$(date +%s)
for file in "$REPO"/tests/integration/test_*.sh "$REPO"/tests/faults/test_*.sh; do
  [ -e "$file" ] || continue
  base=$(basename "$file" .sh)
  for fn in $(grep -oE '^test_[A-Za-z0-9_]+ *\(\)' "$file" | sed 's/ *()$//'); do
    # shellcheck disable=SC2053  # TESTS may be a glob on purpose
    if [ -n "${TESTS:-}" ] && [[ "$fn" != *$TESTS* && "$base" != *$TESTS* ]]; then continue; fi
    CASE_TMP=$(mktemp -d "$RUN_TMP/case.XXXX")
    TEST_NAME=$fn TEST_FILE=$file
    export CASE_TMP TEST_NAME TEST_FILE
    # Not inside `if`/`||`: bash ignores set -e in a condition's subshell.
    # The ERR trap names the command and line where a test stopped.
    (
      set -eE
      __level=$BASH_SUBSHELL   # not in command substitutions, which go on
      trap '__rc=$? __line=$LINENO; [ "$BASH_SUBSHELL" != "$__level" ] ||
        echo "FAILED $TEST_NAME: stopped at ${BASH_SOURCE[0]##*/}:$__line, exit status $__rc: $BASH_COMMAND" >&2' ERR
      cd "$CASE_TMP"
      # shellcheck source=tests/harness/lib.sh
      source "$REPO/tests/harness/lib.sh"
      # shellcheck disable=SC1090
      source "$file"
      "$fn"
    ) >"$CASE_TMP/log" 2>&1 </dev/null
    rc=$?
    if [ $rc -eq 0 ]; then
      passed=$((passed + 1))
      echo "ok   $fn"
    else
      failed=$((failed + 1))
      failures+=("$fn")
      echo "FAIL $fn ($base.sh, exit $rc)"
      sed 's/^/     /' "$CASE_TMP/log"
    fi
  done
done
echo "integration: $(($(date +%s) - started))s with $STALLRUN"
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
[ $((passed + failed)) -gt 0 ] || echo "no test ran${TESTS:+ (TESTS=$TESTS matched nothing)}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

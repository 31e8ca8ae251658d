#!/usr/bin/env bash
# run-integration.sh STALLRUN — runs every tests/integration/test_*.sh against
# one throwaway PostgreSQL cluster started for this run (and stopped after).
# Each test_* function runs in its own subshell with a fresh CASE_TMP.
# TESTS=pattern runs only the functions whose name contains pattern.
set -uo pipefail

STALLRUN=$(realpath "${1:?usage: run-integration.sh /abs/path/to/stallrun}")
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUN_TMP=$(mktemp -d /tmp/stallmig-test.XXXXXX)
CLUSTER="$RUN_TMP/pg"
PGBIN=$("$REPO/tests/harness/pgcluster.sh" bindir)
export STALLRUN REPO CLUSTER PGBIN

cleanup() {
  "$REPO/tests/harness/pgcluster.sh" stop "$CLUSTER" >/dev/null 2>&1
  rm -rf "$RUN_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$REPO/tests/harness/pgcluster.sh" start "$CLUSTER" || exit 1
chmod 0777 "$RUN_TMP"          # the server (user postgres) may need to reach test files

passed=0 failed=0 failures=()
started=$(date +%s)
for file in "$REPO"/tests/integration/test_*.sh; do
  for fn in $(grep -oE '^test_[A-Za-z0-9_]+' "$file"); do
    [[ -n "${TESTS:-}" && "$fn" != *"$TESTS"* ]] && continue
    CASE_TMP=$(mktemp -d "$RUN_TMP/case.XXXX")
    export CASE_TMP
    # not in an `if`: bash ignores set -e in a condition's subshell
    ( set -e; source "$REPO/tests/harness/lib.sh"; source "$file"; "$fn" ) >"$CASE_TMP/log" 2>&1
    if [ $? -eq 0 ]; then
      passed=$((passed + 1))
      echo "ok   $fn"
    else
      failed=$((failed + 1))
      failures+=("$fn")
      echo "FAIL $fn ($(basename "$file"))"
      sed 's/^/     /' "$CASE_TMP/log"
    fi
  done
done
echo "integration: $(( $(date +%s) - started ))s with $(basename "$STALLRUN")"
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

#!/usr/bin/env bash
# run-unit.sh LABEL BINARY... — runs each cmocka program (from tests/unit, where
# their data files are) and prints one line: "LABEL: N tests in P programs
# passed in Ts". A program that fails (or ends without cmocka's "PASSED"
# line: a crash, a sanitizer report) is shown with its whole output, and the
# run exits 1. V=1 shows every program's output.
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: run-unit.sh LABEL BINARY..." >&2; exit 2; }
label=$1
shift
dir=$(cd "$(dirname "$0")/unit" && pwd)
log=$(mktemp /tmp/stallmig-unit.XXXXXX)
trap 'rm -f "$log"' EXIT
started=$(date +%s) tests=0 failed=()
for bin in "$@"; do
  bin=$(realpath "$bin")
  rc=0
  (cd "$dir" && "$bin") >"$log" 2>&1 || rc=$?
  passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\.$/\1/p' "$log" | tail -n 1)
  if [ "$rc" -ne 0 ] || [ -z "$passed" ] || grep -qE 'Sanitizer|runtime error:' "$log"; then
    echo "FAIL $(basename "$bin") (exit $rc)"
    sed 's/^/     /' "$log"
    failed+=("$(basename "$bin")")
    continue
  fi
  [ -z "${V:-}" ] || cat "$log"
  tests=$((tests + passed))
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "$label: ${#failed[@]} of $# programs failed in $(($(date +%s) - started))s: ${failed[*]}"
  exit 1
fi
echo "$label: $tests tests in $# programs passed in $(($(date +%s) - started))s"

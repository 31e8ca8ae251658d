#!/usr/bin/env bash
# run-all.sh — make test: everything CI checks, on a 2-core machine in a few
# minutes.
#
#   1. Every build the suites need (make test-builds, in parallel), quiet:
#      its log is shown only when it fails.
#   2. The suites, in two lanes at once (the integration workers spend much
#      of their time waiting on the server, valgrind and the fuzzers on the
#      CPU), the two integration suites side by side, each on JOBS workers
#      (default 4 here):
#        lane 1: make integration, make check-valgrind, make fuzz-smoke
#        lane 2: make unit, make check-asan
#      Each suite's output (its summary line; a failure with its log) is
#      printed as one block when the suite ends.
#   3. One last line: how many suites passed, which failed, how long it took.
#
# Exits non-zero when a build or any suite failed. Ctrl-C (or SIGTERM) stops
# every suite, which clean up after themselves. V=1, JOBS=N and TESTS=pattern
# pass through to the suites (tests/run-integration.sh).
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 2
MAKE=${MAKE:-make}
started=$(date +%s)
ALL_TMP=$(mktemp -d /tmp/stallmig-make-test.XXXXXX) || exit 2
export ALL_TMP MAKE
trap 'rm -rf "$ALL_TMP"' EXIT
# Stop everything this run started (the suites clean up on SIGTERM), then go.
stop_all() {
  trap '' INT TERM
  echo
  echo "make test: stopped after $(took)"
  kill -TERM 0 2>/dev/null
  wait
  exit "$1"
}
trap 'stop_all 130' INT
trap 'stop_all 143' TERM

took() {
  local s=$(($(date +%s) - started))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# 1. The builds.
if ! $MAKE --no-print-directory -j"$(nproc)" test-builds >"$ALL_TMP/build.log" 2>&1; then
  tail -n 60 "$ALL_TMP/build.log"
  echo "make test: the build failed (above) after $(took)"
  exit 1
fi
echo "build: ok in $(($(date +%s) - started))s"

# suite NAME TARGET — runs make TARGET, then prints its output at once and
# records its exit status in $ALL_TMP/NAME.rc.
suite() {
  local name=$1 target=$2 rc=0
  $MAKE --no-print-directory "$target" >"$ALL_TMP/$name.log" 2>&1 </dev/null || rc=$?
  {
    flock 9
    cat "$ALL_TMP/$name.log"
    [ "$rc" -eq 0 ] || echo "$name: make $target failed (exit $rc)"
  } 9>>"$ALL_TMP/output.lock"
  echo "$rc" >"$ALL_TMP/$name.rc"
}
lane1() { suite integration integration; suite valgrind check-valgrind; suite fuzz fuzz-smoke; }
lane2() { suite unit unit; suite asan check-asan; }
export -f suite lane1 lane2
export JOBS=${JOBS:-4}

# 2. The two lanes. Started through env so that they, and everything they
#    start, take SIGINT as a foreground command does (a background job of a
#    script would inherit it ignored).
env --default-signal=INT,QUIT bash -c lane1 &
env --default-signal=INT,QUIT bash -c lane2 &
wait

# 3. The total.
failed=()
for name in unit integration asan valgrind fuzz; do
  [ "$(cat "$ALL_TMP/$name.rc" 2>/dev/null)" = 0 ] || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "make test: FAILED: ${failed[*]} (of unit, integration, asan, valgrind, fuzz) in $(took)"
  exit 1
fi
echo "make test: all passed (build, unit, integration, asan, valgrind, fuzz) in $(took)"

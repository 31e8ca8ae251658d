#!/usr/bin/env bash
# run.sh SECONDS BINARY... — for each libFuzzer target build/fuzz/fuzz_NAME:
# every input in fuzz/regressions/NAME/ once (a past crash must stay fixed),
# then SECONDS of fuzzing from fuzz/corpus/NAME/ and the project files that
# are already good seeds (the example migrations, the unit tests' INI and
# SQL files: read in place, not copied), with fuzz/NAME.dict if there is one. New corpus entries go to build/fuzz/corpus/NAME (the
# checked-in seeds stay small); a crashing input
# is written to build/fuzz/crashes/NAME/ and fails the run. One line for all
# targets (V=1: a line a target: runs, executions per second, corpus size).
set -euo pipefail
seconds=${1:?usage: fuzz/run.sh SECONDS BINARY...}
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=() started=$(date +%s) inputs=0 total_runs=0
for bin in "$@"; do
  name=$(basename "$bin"); name=${name#fuzz_}
  seeds="$repo/fuzz/corpus/$name" regressions="$repo/fuzz/regressions/$name"
  work="$repo/build/fuzz/corpus/$name" crashes="$repo/build/fuzz/crashes/$name"
  log="$repo/build/fuzz/$name.log"
  mkdir -p "$work" "$crashes"
  mapfile -t old < <(find "$regressions" -type f 2>/dev/null | sort)
  if [ ${#old[@]} -gt 0 ] && ! "$bin" "${old[@]}" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "fuzz $name: a regression input crashes again (above)" >&2
    failed+=("$name")
    continue
  fi
  case $name in                      # libFuzzer reads seed folders recursively
    config) more=("$repo/tests/unit/data/config") ;;
    sqlparse) more=("$repo/migrations" "$repo/tests/unit/data/sql") ;;
    *) more=() ;;
  esac
  dict=()
  [ -f "$repo/fuzz/$name.dict" ] && dict=(-dict="$repo/fuzz/$name.dict")
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
       "${dict[@]}" -artifact_prefix="$crashes/" "$work" "$seeds" "${more[@]}" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz $name: crashed; the input is in $crashes/ (keep it in fuzz/regressions/$name/ once fixed)" >&2
    failed+=("$name")
    continue
  fi
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
  inputs=$((inputs + ${#old[@]})) total_runs=$((total_runs + ${runs:-0}))
  [ -z "${V:-}" ] || printf 'fuzz %-9s ok: %d regression inputs, %s runs in %s s (%s/s), corpus %s\n' \
    "$name" ${#old[@]} "$runs" "$seconds" "$rate" "$(find "$work" -type f | wc -l)"
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: failed: ${failed[*]} (of $#) in $(($(date +%s) - started))s" >&2; exit 1; }
echo "fuzz: $# targets passed in $(($(date +%s) - started))s: $inputs regression inputs once, then $seconds s each ($total_runs runs)"

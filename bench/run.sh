#!/usr/bin/env bash
# run.sh STALLRUN — stallrun beside its floor, measured in the same run on a
# throwaway cluster with PostgreSQL's durability defaults (fsync and
# synchronous_commit on). Prints medians and ratios. REPS=N changes repetitions.
set -euo pipefail
stallrun=$(realpath "${1:?usage: run.sh /abs/path/to/stallrun}")
repo=$(cd "$(dirname "$0")/.." && pwd)
harness="$repo/tests/harness/pgcluster.sh"
work=$(mktemp -d /tmp/stallmig-bench.XXXXXX)
chmod 0755 "$work"
trap '"$harness" stop "$work/pg" >/dev/null 2>&1; rm -rf "$work"' EXIT
"$harness" start "$work/pg"
bin=$("$harness" bindir)
psql="$bin/psql"               # the real binary, not Debian's wrapper
reps=${REPS:-5}

now_ns() { date +%s%N; }
# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# seconds CMD... — wall time of one run; a failing command aborts the bench
seconds() {
  local s e
  s=$(now_ns)
  "$@" >/dev/null 2>"$work/last.err" || { echo "bench: failed: $*" >&2; cat "$work/last.err" >&2; exit 1; }
  e=$(now_ns)
  awk -v a="$s" -v b="$e" 'BEGIN {printf "%.6f\n", (b - a) / 1e9}'
}
fresh_db() {
  PGOPTIONS="-c client_min_messages=warning" "$psql" -XAtq -h "$work/pg" -U postgres -d postgres -c "DROP DATABASE IF EXISTS bench" \
    -c "CREATE DATABASE bench" -c "CHECKPOINT"
  sync
}
row() {   # row CASE N STALLRUN_S FLOOR_S TARGET
  awk -v c="$1" -v n="$2" -v s="$3" -v f="$4" -v t="$5" \
    'BEGIN {r = s / f; printf "%-22s %6d %12.4f %12.4f %7.2fx  %s %s\n", c, n, s, f, r, (r <= t ? "<=" : "> "), t "x"}'
}

export BENCH_DATABASE_URL="postgresql:///bench?host=$work/pg&user=postgres"
printf '%-22s %6s %12s %12s %8s  %s\n' case N stallrun_s floor_s ratio target
for n in 100 1000; do
  proj="$work/p$n"
  "$repo/bench/gen.sh" "$n" "$proj"
  cat "$proj"/migrations/*/migration.sql >"$proj/all.sql"
  cd "$proj"
  run_apply() { "$stallrun" workflows/deploy.lua --env bench; }
  ours=() floor=()
  for ((r = 0; r < reps; r++)); do
    fresh_db; floor+=("$(seconds "$psql" -X -q -1 -v ON_ERROR_STOP=1 -d "$BENCH_DATABASE_URL" -f all.sql)")
    fresh_db; ours+=("$(seconds run_apply)")
  done
  row "apply-all" "$n" "$(printf '%s\n' "${ours[@]}" | median)" "$(printf '%s\n' "${floor[@]}" | median)" 1.2
  if [ "$n" = 1000 ]; then
    fresh_db
    /usr/bin/time -f '%M' -o "$work/rss" "$stallrun" workflows/deploy.lua --env bench >/dev/null
    peak_kb=$(tail -n 1 "$work/rss")
  fi
  ours=() floor=() status=()
  for ((r = 0; r < reps * 4; r++)); do
    floor+=("$(seconds "$psql" -X -d "$BENCH_DATABASE_URL" -c 'SELECT 1')")
    ours+=("$(seconds "$stallrun" workflows/deploy.lua --env bench)")
    status+=("$(seconds "$stallrun" workflows/status.lua --env bench)")
  done
  f=$(printf '%s\n' "${floor[@]}" | median)
  row "no-op deploy" "$n" "$(printf '%s\n' "${ours[@]}" | median)" "$f" 1.5
  row "status" "$n" "$(printf '%s\n' "${status[@]}" | median)" "$f" 1.5
  cd "$repo"
done
ours=() floor=()
for ((r = 0; r < reps * 4; r++)); do
  floor+=("$(seconds "$psql" --version)")
  ours+=("$(seconds "$stallrun" --version)")
done
row "start-up (--version)" 0 "$(printf '%s\n' "${ours[@]}" | median)" "$(printf '%s\n' "${floor[@]}" | median)" 1.2
awk -v kb="$peak_kb" 'BEGIN {printf "%-22s %6d %9.1f MB  (target < 20 MB)\n", "peak RSS apply-all", 1000, kb / 1024}'

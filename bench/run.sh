#!/usr/bin/env bash
# run.sh STALLRUN — stallrun beside its floor, both measured in the same run
# on one throwaway cluster with PostgreSQL's durability defaults (fsync and
# synchronous_commit on). Medians; a failed run aborts the bench.
#
#   apply-all   N migrations onto a fresh empty database:
#               stallrun workflows/deploy.lua  vs  psql -X -q -1 -f all.sql
#   no-op       deploy with everything applied  vs  psql -X -c 'SELECT 1'
#   status      status with everything applied  vs  psql -X -c 'SELECT 1'
#   start-up    stallrun --version              vs  psql --version
#   peak RSS    of stallrun during apply-all of 1000 (/usr/bin/time -f %M)
#
# Environment: REPS (apply-all repetitions, default 5), QUICK_REPS (no-op,
# status, start-up repetitions, default 21), SIZES (default "100 1000"),
# BENCH_STRICT=1 (exit 1 when a target is missed).
set -euo pipefail
export LC_ALL=C                      # EPOCHREALTIME and printf use '.' decimals

[ $# -eq 1 ] || { echo "usage: bench/run.sh /abs/path/to/stallrun" >&2; exit 2; }
[ -x "$1" ] || { echo "bench: $1 is not an executable (make builds ./stallrun)" >&2; exit 2; }
stallrun=$(realpath "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
harness="$repo/tests/harness/pgcluster.sh"
reps=${REPS:-5}
quick=${QUICK_REPS:-21}
sizes=${SIZES:-100 1000}
[ -n "${EPOCHREALTIME:-}" ] || { echo "bench: needs bash 5 (EPOCHREALTIME)" >&2; exit 2; }

work=$(mktemp -d /tmp/stallmig-bench.XXXXXX)
chmod 0755 "$work"
cleanup() { trap '' INT TERM; "$harness" stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

"$harness" start "$work/pg"
psql="$("$harness" bindir)/psql"      # the real binary, not Debian's wrapper
admin_url=$("$harness" url "$work/pg" postgres)
BENCH_DATABASE_URL=$("$harness" url "$work/pg" bench)
export BENCH_DATABASE_URL
cd "$repo"                          # workflows/ is relative to the repository

die() { echo "bench: $*" >&2; exit 1; }

# measure ARRAY CMD... — runs CMD once (output discarded), appends its wall
# time in microseconds to ARRAY; a non-zero exit status aborts the bench.
measure() {
  local -n _acc=$1
  shift
  local s e rc=0
  s=$EPOCHREALTIME
  "$@" >/dev/null 2>"$work/last.err" || rc=$?
  e=$EPOCHREALTIME
  if [ $rc -ne 0 ]; then
    echo "bench: failed (exit status $rc): $*" >&2
    tail -n 20 "$work/last.err" >&2
    exit 1
  fi
  _acc+=($(( ${e/./} - ${s/./} )))
}

# median ARRAY-ELEMENTS... — in microseconds
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# a fresh, empty database "bench"; a checkpoint so that neither side pays for
# the previous run's dirty buffers
fresh_db() {
  PGOPTIONS="-c client_min_messages=warning" "$psql" -XAtq -v ON_ERROR_STOP=1 -d "$admin_url" \
    -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" -c "CREATE DATABASE bench" -c "CHECKPOINT" >/dev/null
}

applied_count() {
  "$psql" -XAtq -v ON_ERROR_STOP=1 -d "$BENCH_DATABASE_URL" \
    -c "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'applied'"
}

missed=()
# row CASE N OURS_US FLOOR_US TARGET
row() {
  local verdict
  verdict=$(awk -v s="$3" -v f="$4" -v t="$5" 'BEGIN {print (s / f <= t) ? "ok" : "MISSED"}')
  [ "$verdict" = ok ] || missed+=("$1 N=$2")
  awk -v c="$1" -v n="$2" -v s="$3" -v f="$4" -v t="$5" -v v="$verdict" \
    'BEGIN {printf "%-16s %5s %12.4f %12.4f %7.2fx %8s  %s\n", c, n, s / 1e6, f / 1e6, s / f, "<= " t "x", v}'
}

echo "stallrun bench: $("$stallrun" --version | head -n 1); $("$psql" --version); $(nproc) CPU(s)"
echo "apply-all: median of $reps, fresh database each; others: median of $quick; fsync=$("$psql" -XAtq -d "$admin_url" -c 'SHOW fsync') synchronous_commit=$("$psql" -XAtq -d "$admin_url" -c 'SHOW synchronous_commit')"
echo
printf '%-16s %5s %12s %12s %8s %8s  %s\n' case N stallrun_s floor_s ratio target verdict

peak_kb=""
for n in $sizes; do
  proj="$work/p$n"
  "$repo/bench/gen.sh" "$n" "$proj"
  cat "$proj"/migrations/*/migration.sql >"$proj/all.sql"
  cfg=(--env bench --config "$proj/stallmig.ini")

  ours=() floor=()
  for ((r = 0; r < reps; r++)); do
    fresh_db
    measure floor "$psql" -X -q -1 -v ON_ERROR_STOP=1 -d "$BENCH_DATABASE_URL" -f "$proj/all.sql"
    fresh_db
    measure ours "$stallrun" workflows/deploy.lua "${cfg[@]}"
    [ "$(applied_count)" = "$n" ] || die "deploy exited 0 but stallmig.migrations has $(applied_count) applied rows, not $n"
  done
  row apply-all "$n" "$(median "${ours[@]}")" "$(median "${floor[@]}")" 1.2

  if [ "$n" = 1000 ] && [ -x /usr/bin/time ]; then
    fresh_db
    /usr/bin/time -f '%M' -o "$work/rss" "$stallrun" workflows/deploy.lua "${cfg[@]}" >/dev/null 2>"$work/last.err" ||
      { tail -n 20 "$work/last.err" >&2; die "deploy under /usr/bin/time failed"; }
    peak_kb=$(tail -n 1 "$work/rss")
  fi

  # everything is applied now: no-op deploy and status, interleaved with the floor
  "$stallrun" workflows/deploy.lua "${cfg[@]}" >/dev/null || die "no-op deploy failed"
  "$stallrun" workflows/status.lua "${cfg[@]}" >/dev/null || die "status is not 0 with everything applied"
  ours=() status=() floor=()
  for ((r = 0; r < quick; r++)); do
    measure floor "$psql" -X -d "$BENCH_DATABASE_URL" -c 'SELECT 1'
    measure ours "$stallrun" workflows/deploy.lua "${cfg[@]}"
    measure status "$stallrun" workflows/status.lua "${cfg[@]}"
  done
  f=$(median "${floor[@]}")
  row no-op-deploy "$n" "$(median "${ours[@]}")" "$f" 1.5
  row status "$n" "$(median "${status[@]}")" "$f" 1.5
done

ours=() floor=()
"$stallrun" --version >/dev/null
for ((r = 0; r < quick; r++)); do
  measure floor "$psql" --version
  measure ours "$stallrun" --version
done
row start-up - "$(median "${ours[@]}")" "$(median "${floor[@]}")" 1.2

if [ -n "$peak_kb" ]; then
  verdict=$(awk -v kb="$peak_kb" 'BEGIN {print (kb / 1024 < 20) ? "ok" : "MISSED"}')
  [ "$verdict" = ok ] || missed+=("peak RSS")
  awk -v kb="$peak_kb" -v v="$verdict" \
    'BEGIN {printf "%-16s %5s %9.1f MB %12s %8s %8s  %s\n", "peak-RSS-apply", 1000, kb / 1024, "", "", "< 20 MB", v}'
else
  echo "peak-RSS-apply: not measured (needs N=1000 in SIZES and /usr/bin/time; make deps installs it)"
fi

echo
if [ ${#missed[@]} -eq 0 ]; then
  echo "all targets met"
else
  echo "targets missed: ${missed[*]}"
  [ "${BENCH_STRICT:-0}" = 1 ] && exit 1
fi
exit 0

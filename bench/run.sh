#!/usr/bin/env bash
# run.sh STALLRUN — stallrun beside its floor, both measured in the same run
# on one throwaway cluster with PostgreSQL's durability defaults (fsync and
# synchronous_commit on). Medians; a failed run aborts the bench.
#
#   apply-all   N migrations onto a fresh empty database:
#               stallrun workflows/deploy.lua  vs  psql -X -q -1 -f all.sql
#   no-op       deploy with everything applied  vs  psql -X -c 'SELECT 1'
#               (target 1.3x up to 1000 migrations, 2x above); psql
#               reading the whole history table is shown beside it
#   no-op-cold  the same with no checksum cache (.stallmig/checksums
#               removed before each run: a fresh checkout in CI)
#   status      status with everything applied  vs  the same
#   start-up    stallrun --version              vs  psql --version (1.1x)
#   peak RSS    of stallrun and psql during apply-all, of stallrun during
#               a no-op and status (/usr/bin/time -f %M): under 20 MB at every N
#   scaling     no-op and status per migration at each N (must not grow
#               with N) and under 0.5 s at N >= 10000
#
# Environment: REPS (apply-all repetitions, default 5), BIG_REPS (the same
# for N >= 10000, default 1), QUICK_REPS (no-op, status, start-up
# repetitions, default 21), SIZES (default "100 1000 10000"),
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
big_reps=${BIG_REPS:-1}
sizes=${SIZES:-100 1000 10000}
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
# psql -1 of 10000 CREATE TABLEs holds ~40000 locks in one transaction; the
# default lock table (64 a connection) has room for 6400. Neither side is
# slowed by a bigger one.
"$psql" -XAtq -d "$admin_url" -c "ALTER SYSTEM SET max_locks_per_transaction = 1024" >/dev/null
"$harness" stop "$work/pg"
"$harness" start "$work/pg"
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

history_sql='SELECT * FROM stallmig.migrations ORDER BY started_at'

missed=()
# row CASE N OURS_US FLOOR_US TARGET [HISTORY_US] — the verdict is against
# FLOOR; HISTORY (psql reading every history row) is shown beside it.
row() {
  local verdict
  verdict=$(awk -v s="$3" -v f="$4" -v t="$5" 'BEGIN {print (s / f <= t) ? "ok" : "MISSED"}')
  [ "$verdict" = ok ] || missed+=("$1 N=$2")
  awk -v c="$1" -v n="$2" -v s="$3" -v f="$4" -v t="$5" -v h="${6:-}" -v v="$verdict" \
    'BEGIN {
       hist = h == "" ? sprintf("%12s %8s", "", "") : sprintf("%12.4f %7.2fx", h / 1e6, s / h)
       printf "%-16s %5s %12.4f %12.4f %7.2fx %s %10s  %s\n", c, n, s / 1e6, f / 1e6, s / f, hist, "<= " t "x", v
     }'
}

# The no-op and status target against SELECT 1: 1.3x up to 1000 migrations,
# 2x above (issue 14).
quick_target() { if [ "$1" -gt 1000 ]; then echo 2; else echo 1.3; fi; }

# rss_kb FILE — the last line /usr/bin/time -f %M wrote
rss_kb() { tail -n 1 "$1"; }
timed() { /usr/bin/time -f '%M' -o "$1" "${@:2}"; }

echo "stallrun bench: $("$stallrun" --version | head -n 1); $("$psql" --version); $(nproc) CPU(s)"
echo "apply-all: median of $reps, fresh database each; others: median of $quick; fsync=$("$psql" -XAtq -d "$admin_url" -c 'SHOW fsync') synchronous_commit=$("$psql" -XAtq -d "$admin_url" -c 'SHOW synchronous_commit') max_locks_per_transaction=$("$psql" -XAtq -d "$admin_url" -c 'SHOW max_locks_per_transaction')"
echo
printf '%-16s %5s %12s %12s %8s %12s %8s %10s  %s\n' case N stallrun_s floor_s ratio history_s ratio target verdict

[ -x /usr/bin/time ] || die "needs /usr/bin/time for peak memory (make deps installs it)"
rss_lines=() scale_lines=()
declare -A noop_us status_us
for n in $sizes; do
  proj="$work/p$n"
  "$repo/bench/gen.sh" "$n" "$proj"
  cat "$proj"/migrations/*/migration.sql >"$proj/all.sql"
  cfg=(--env bench --config "$proj/stallmig.ini")

  # both sides under /usr/bin/time (the same small overhead) for peak RSS
  ours=() floor=() ours_kb=0 floor_kb=0
  n_reps=$reps
  ((n < 10000)) || n_reps=$big_reps
  for ((r = 0; r < n_reps; r++)); do
    fresh_db
    measure floor timed "$work/rss.floor" "$psql" -X -q -1 -v ON_ERROR_STOP=1 -d "$BENCH_DATABASE_URL" -f "$proj/all.sql"
    fresh_db
    measure ours timed "$work/rss.ours" "$stallrun" workflows/deploy.lua "${cfg[@]}"
    [ "$(applied_count)" = "$n" ] || die "deploy exited 0 but stallmig.migrations has $(applied_count) applied rows, not $n"
    ours_kb=$(( $(rss_kb "$work/rss.ours") > ours_kb ? $(rss_kb "$work/rss.ours") : ours_kb ))
    floor_kb=$(( $(rss_kb "$work/rss.floor") > floor_kb ? $(rss_kb "$work/rss.floor") : floor_kb ))
  done
  row apply-all "$n" "$(median "${ours[@]}")" "$(median "${floor[@]}")" 1.2

  # everything is applied now: no-op deploy and status, interleaved with the floor
  "$stallrun" workflows/deploy.lua "${cfg[@]}" >/dev/null || die "no-op deploy failed"
  "$stallrun" workflows/status.lua "${cfg[@]}" >/dev/null || die "status is not 0 with everything applied"
  # no-op-cold: a fresh checkout (CI), no checksum cache: every file hashed
  ours=() cold=() status=() floor=() history=()
  for ((r = 0; r < quick; r++)); do
    measure floor "$psql" -X -d "$BENCH_DATABASE_URL" -c 'SELECT 1'
    measure history "$psql" -X -d "$BENCH_DATABASE_URL" -c "$history_sql"
    measure ours "$stallrun" workflows/deploy.lua "${cfg[@]}"
    measure status "$stallrun" workflows/status.lua "${cfg[@]}"
    rm -f "$proj/.stallmig/checksums"
    measure cold "$stallrun" workflows/deploy.lua "${cfg[@]}"
  done
  f=$(median "${floor[@]}") h=$(median "${history[@]}") t=$(quick_target "$n")
  noop_us[$n]=$(median "${ours[@]}") status_us[$n]=$(median "${status[@]}")
  row no-op-deploy "$n" "${noop_us[$n]}" "$f" "$t" "$h"
  row no-op-cold "$n" "$(median "${cold[@]}")" "$f" "$t" "$h"
  row status "$n" "${status_us[$n]}" "$f" "$t" "$h"

  timed "$work/rss.status" "$stallrun" workflows/status.lua "${cfg[@]}" >/dev/null || die "status under /usr/bin/time failed"
  timed "$work/rss.noop" "$stallrun" workflows/deploy.lua "${cfg[@]}" >/dev/null || die "no-op deploy under /usr/bin/time failed"
  # under 20 MB at every N, for apply-all, no-op and status
  line=$(awk -v n="$n" -v o="$ours_kb" -v f="$floor_kb" -v st="$(rss_kb "$work/rss.status")" -v no="$(rss_kb "$work/rss.noop")" \
    'BEGIN {v = (o / 1024 < 20 && st / 1024 < 20 && no / 1024 < 20) ? "ok" : "MISSED"
            printf "%-16s %5s %9.1f MB %9.1f MB %9.1f MB %9.1f MB %8s  %s", "peak-RSS", n, o / 1024, f / 1024, no / 1024, st / 1024, "< 20 MB", v}')
  [[ "$line" != *MISSED* ]] || missed+=("peak RSS N=$n")
  rss_lines+=("$line")
done

ours=() floor=()
"$stallrun" --version >/dev/null
for ((r = 0; r < quick; r++)); do
  measure floor "$psql" --version
  measure ours "$stallrun" --version
done
row start-up - "$(median "${ours[@]}")" "$(median "${floor[@]}")" 1.1

echo
printf '%-16s %5s %12s %12s %12s %12s %8s  %s\n' memory N apply-all psql_apply no-op status target verdict
printf '%s\n' "${rss_lines[@]}"

# scaling: time per migration at each N must not grow from one size to the
# next (1.5x for noise), and the largest N stays under 0.5 s. The marginal
# cost (each migration more between sizes) is shown: it is what the fixed
# start-up cost hides at small N.
echo
printf '%-16s %5s %12s %14s %16s  %s\n' scaling N total_s us/migration marginal_us/mig verdict
for what in no-op-deploy status; do
  prev_n="" prev_t=""
  for n in $sizes; do
    if [ "$what" = status ]; then t=${status_us[$n]}; else t=${noop_us[$n]}; fi
    line=$(awk -v w="$what" -v n="$n" -v t="$t" -v pn="$prev_n" -v pt="$prev_t" 'BEGIN {
      v = "ok"
      if (pn != "" && t / n > 1.5 * pt / pn) v = "MISSED (not linear)"
      if (n >= 10000 && t >= 500000) v = "MISSED (>= 0.5 s)"
      m = pn == "" ? "-" : sprintf("%.2f", (t - pt) / (n - pn))
      printf "%-16s %5s %12.4f %14.2f %16s  %s", w, n, t / 1e6, t / n, m, v
    }')
    echo "$line"
    [[ "$line" != *MISSED* ]] || missed+=("scaling $what N=$n")
    prev_n=$n prev_t=$t
  done
done

echo
if [ ${#missed[@]} -eq 0 ]; then
  echo "all targets met"
else
  echo "targets missed: ${missed[*]}"
  [ "${BENCH_STRICT:-0}" = 1 ] && exit 1
fi
exit 0

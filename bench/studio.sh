#!/usr/bin/env bash
# studio.sh STALLRUN — the studio beside its floor, in the same run, on a
# throwaway cluster (make bench-studio):
#
#   first page   GET /rows of a ROWS-row table through the studio (HTTP,
#                catalog reads, keyset query, HTML), median of REPS,
#                vs  the plain SELECT * ... ORDER BY id LIMIT 50 in one psql
#                session (\timing, median): target within 100 ms of it
#   concurrent   CONCURRENT first-page requests at once: all answered; the
#                wall time and the slowest
#   memory       peak RSS of stallrun serving them (/usr/bin/time -f %M)
#
# Environment: ROWS (default 10000000), REPS (default 21), CONCURRENT
# (default 50), BENCH_STRICT=1 (exit 1 when the target is missed).
set -euo pipefail
export LC_ALL=C

[ $# -eq 1 ] && [ -x "$1" ] || { echo "usage: bench/studio.sh /abs/path/to/stallrun" >&2; exit 2; }
stallrun=$(realpath "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
harness="$repo/tests/harness/pgcluster.sh"
rows=${ROWS:-10000000}
reps=${REPS:-21}
concurrent=${CONCURRENT:-50}

work=$(mktemp -d /tmp/stallmig-bench-studio.XXXXXX)
chmod 0755 "$work"
studio_pid=""
cleanup() {
  trap '' INT TERM
  [ -n "$studio_pid" ] && kill -TERM "$studio_pid" 2>/dev/null || true
  "$harness" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$harness" start "$work/pg"
psql="$("$harness" bindir)/psql"
url=$("$harness" url "$work/pg" studio_bench)
"$psql" -XAtq -d "$("$harness" url "$work/pg" postgres)" -c "CREATE DATABASE studio_bench"
echo "studio bench: filling a table of $rows rows ..."
"$psql" -XAtq -v ON_ERROR_STOP=1 -d "$url" -c "
  CREATE TABLE big (id bigint PRIMARY KEY, payload text, n int, at timestamptz, meta jsonb);
  INSERT INTO big SELECT g, md5(g::text), g % 1000, now() - g * interval '1 second', jsonb_build_object('g', g)
    FROM generate_series(1, $rows) g;" -c "VACUUM ANALYZE big"

# the floor: the plain query in one session, its time as the server reports it to psql
floor=$( { echo '\timing on'; for _ in $(seq "$reps"); do echo 'SELECT * FROM big ORDER BY id LIMIT 50;'; done; } |
  "$psql" -XAq -d "$url" -o /dev/null | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -g |
  awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')

mkdir -p "$work/project/migrations"
printf '[project]\nmigrations = migrations\n\n[env.dev]\nurl = %s\nprotected = false\n' "$url" >"$work/project/stallmig.ini"
(cd "$work/project" && exec /usr/bin/time -f "%M" -o "$work/rss" "$stallrun" "$repo/workflows/studio.lua" --env dev --port 0) \
  >"$work/studio.out" 2>"$work/studio.err" &
time_pid=$!
for _ in $(seq 200); do grep -q token= "$work/studio.out" 2>/dev/null && break; sleep 0.05; done
studio_url=$(grep -o 'http://[^ ]*token=[0-9a-f]*' "$work/studio.out") || { cat "$work/studio.err" >&2; exit 1; }
studio_pid=$(pgrep -P "$time_pid")

python3 "$repo/bench/studio_load.py" "$studio_url" "$reps" "$concurrent" >"$work/load"
kill -TERM "$studio_pid"
wait "$time_pid" || true
studio_pid=""
first=$(awk '$1 == "first_page_ms" { print $2 }' "$work/load")
wall=$(awk '$1 == "concurrent_wall_ms" { print $2 }' "$work/load")
slowest=$(awk '$1 == "concurrent_max_ms" { print $2 }' "$work/load")
rss=$(tail -n 1 "$work/rss")

awk -v f="$first" -v p="$floor" -v rows="$rows" -v w="$wall" -v m="$slowest" -v c="$concurrent" -v rss="$rss" 'BEGIN {
  printf "studio first page of %d rows: %.1f ms vs plain SELECT ... LIMIT 50 %.2f ms: +%.1f ms (%.1fx) (target: within 100 ms)\n", rows, f, p, f - p, f / p
  printf "studio %d concurrent first pages: all answered, wall %d ms, slowest %d ms\n", c, w, m
  printf "studio peak RSS: %.1f MB\n", rss / 1024
}'
if [ -n "${BENCH_STRICT:-}" ] && awk -v f="$first" -v p="$floor" 'BEGIN { exit !(f - p > 100) }'; then
  echo "studio bench: the first page is more than 100 ms over the plain query" >&2
  exit 1
fi

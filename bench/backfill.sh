#!/usr/bin/env bash
# backfill.sh STALLRUN — a phased migration's batched backfill beside its
# floor, one plain UPDATE of the same rows, both in the same run on one
# throwaway cluster (durability defaults on), each on its own copy of the
# table: BENCH_ROWS rows (default 10000000) of (id bigint primary key, a
# int, n int). Measured for each:
#   total     wall time (the backfill: stallrun workflows/deploy.lua of an
#             expand that adds the column and the backfill that fills it;
#             the floor: psql -c "ALTER TABLE ...; UPDATE ...")
#   WAL       pg_current_wal_lsn() before and after (pg_wal_lsn_diff)
#   longest   the longest write transaction of a client (one holding row
#             locks, that a writer of the same rows waits for; autovacuum,
#             which gives way to writers, is not one), sampled every 20 ms
#             from pg_stat_activity by a session of its own
# Targets (issue 17): backfill total within 1.5x the floor; its longest
# write transaction under 100 ms. BENCH_STRICT=1 exits 1 when one is missed.
# SAMPLE=0 leaves the sampler out (then longest_tx_ms is not measured).
# Environment: BENCH_ROWS, BATCH (backfill_batch, default 1000), BATCH_TIME
# (backfill_batch_time, default 0: batches of BATCH rows).
set -euo pipefail
export LC_ALL=C

[ $# -eq 1 ] || { echo "usage: bench/backfill.sh /abs/path/to/stallrun" >&2; exit 2; }
[ -x "$1" ] || { echo "bench: $1 is not an executable (make builds ./stallrun)" >&2; exit 2; }
stallrun=$(realpath "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
harness="$repo/tests/harness/pgcluster.sh"
rows=${BENCH_ROWS:-10000000}
batch=${BATCH:-1000}
batch_time=${BATCH_TIME:-0}
[ -n "${EPOCHREALTIME:-}" ] || { echo "bench: needs bash 5 (EPOCHREALTIME)" >&2; exit 2; }

work=$(mktemp -d /tmp/stallmig-backfill-bench.XXXXXX)
chmod 0755 "$work"
sampler_pid=
cleanup() {
  trap '' INT TERM
  [ -z "$sampler_pid" ] || kill "$sampler_pid" 2>/dev/null || true
  "$harness" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT

"$harness" start "$work/pg"
psql="$("$harness" bindir)/psql"
admin=$("$harness" url "$work/pg" postgres)
die() { echo "bench: $*" >&2; exit 1; }
q() { "$psql" -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# The table, in a database of its own, vacuumed (all-visible) and checkpointed.
make_table() {
  q "$admin" "CREATE DATABASE $1" >/dev/null
  local url
  url=$("$harness" url "$work/pg" "$1")
  q "$url" "CREATE TABLE t (id bigint PRIMARY KEY, a int NOT NULL, n int NOT NULL DEFAULT 0);
            INSERT INTO t (id, a) SELECT g, g % 1000 FROM generate_series(1, $rows) g;" >/dev/null
  q "$url" "VACUUM (ANALYZE) t" >/dev/null
  q "$admin" "CHECKPOINT" >/dev/null
}

# A session of its own records the longest-running write transaction in
# database $1 (sampled every 20 ms) into longest.$1, until stopped.
start_sampler() {
  : >"$work/longest.$1"
  [ "${SAMPLE:-1}" != 0 ] || return 0
  "$psql" -XAtq -d "$admin" -c "
    DO \$\$ DECLARE worst interval := '0'; now_ interval; what text; BEGIN
      LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT clock_timestamp() - xact_start, backend_type || ': ' || left(query, 60) INTO now_, what
          FROM pg_stat_activity
         WHERE datname = '$1' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
           AND backend_type = 'client backend'
         ORDER BY xact_start LIMIT 1;
        IF now_ > worst THEN worst := now_; RAISE NOTICE 'longest % (%)', extract(epoch FROM worst), what; END IF;
        PERFORM pg_sleep(0.02);
      END LOOP; END \$\$" 2>"$work/longest.$1" &
  sampler_pid=$!
}
stop_sampler() {
  [ -n "$sampler_pid" ] || { echo 0; return; }
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=
  q "$admin" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'DO \$\$ DECLARE worst%' AND pid <> pg_backend_pid()" >/dev/null
  local v
  v=$(grep -o 'longest [0-9.]*' "$work/longest.$1" | tail -1 | cut -d' ' -f2)
  grep -o 'longest .*' "$work/longest.$1" | tail -1 | sed "s/^/bench: $1: /" >&2
  echo "${v:-0}"
}

lsn() { q "$admin" "SELECT pg_current_wal_lsn()"; }
wal_mb() { q "$admin" "SELECT round(pg_wal_lsn_diff('$2', '$1') / 1048576.0, 1)"; }
secs() { awk -v a="${1/./}" -v b="${2/./}" 'BEGIN {printf "%.2f", (b - a) / 1e6}'; }

echo "bench: $rows rows, backfill_batch = $batch, backfill_batch_time = $batch_time"
make_table floor
make_table batched

# the floor: one UPDATE of every row (and the column added first, as the migration does)
floor_url=$("$harness" url "$work/pg" floor)
q "$admin" "CHECKPOINT" >/dev/null          # each run starts from a checkpoint: neither pays for the other's
start_sampler floor
w0=$(lsn); s=$EPOCHREALTIME
q "$floor_url" "ALTER TABLE t ADD COLUMN c int; UPDATE t SET c = a * 2, n = n + 1;" >/dev/null
e=$EPOCHREALTIME; w1=$(lsn)
floor_long=$(stop_sampler floor)
floor_s=$(secs "$s" "$e"); floor_wal=$(wal_mb "$w0" "$w1")

# the backfill: deploy of a phased migration doing the same
proj="$work/project"
mkdir -p "$proj/migrations/20240101000000_c"
cat >"$proj/stallmig.ini" <<INI
[project]
migrations = migrations

[env.bench]
url = $("$harness" url "$work/pg" batched)
protected = false
lock_timeout = 1s
backfill_batch = $batch
backfill_batch_time = $batch_time
INI
printf -- '-- stallmig:expand\nALTER TABLE t ADD COLUMN c int;\n-- stallmig:backfill\nUPDATE t SET c = a * 2, n = n + 1;\n' \
  >"$proj/migrations/20240101000000_c/migration.sql"
(cd "$proj" && "$stallrun" "$repo/workflows/adopt.lua" --env bench --baseline none --yes >/dev/null) ||
  die "adopt --baseline none failed"
q "$admin" "CHECKPOINT" >/dev/null
start_sampler batched
w0=$(lsn); s=$EPOCHREALTIME
(cd "$proj" && "$stallrun" "$repo/workflows/deploy.lua" --env bench >"$work/deploy.out" 2>"$work/deploy.err") ||
  { cat "$work/deploy.err" >&2; die "the deploy failed"; }
e=$EPOCHREALTIME; w1=$(lsn)
batched_long=$(stop_sampler batched)
batched_s=$(secs "$s" "$e"); batched_wal=$(wal_mb "$w0" "$w1")
[ "$(q "$("$harness" url "$work/pg" batched)" "SELECT count(*) FROM t WHERE n <> 1 OR c <> a * 2")" = 0 ] ||
  die "the backfill left rows not updated exactly once"
grep 'rows/s' "$work/deploy.err" | tail -1 | sed 's/^ */bench: /'

printf '%-10s %10s %12s %10s %14s\n' run total_s rows_per_s WAL_MB longest_tx_ms
printf '%-10s %10s %12.0f %10s %14.0f\n' update "$floor_s" "$(awk -v n="$rows" -v t="$floor_s" 'BEGIN {print n / t}')" \
  "$floor_wal" "$(awk -v l="$floor_long" 'BEGIN {print l * 1000}')"
printf '%-10s %10s %12.0f %10s %14.0f\n' backfill "$batched_s" "$(awk -v n="$rows" -v t="$batched_s" 'BEGIN {print n / t}')" \
  "$batched_wal" "$(awk -v l="$batched_long" 'BEGIN {print l * 1000}')"
ratio=$(awk -v a="$batched_s" -v b="$floor_s" 'BEGIN {printf "%.2f", a / b}')
wal_ratio=$(awk -v a="$batched_wal" -v b="$floor_wal" 'BEGIN {printf "%.2f", a / b}')
echo "backfill over one UPDATE: ${ratio}x the time (target 1.5x), ${wal_ratio}x the WAL; longest write transaction $(awk -v l="$batched_long" 'BEGIN {printf "%.0f", l * 1000}') ms (target 100 ms)"
missed=$(awk -v r="$ratio" -v l="$batched_long" 'BEGIN {print (r > 1.5 || l >= 0.1) ? 1 : 0}')
if [ "$missed" = 1 ]; then
  echo "bench: a target was missed" >&2
  [ "${BENCH_STRICT:-0}" != 1 ] || exit 1
fi

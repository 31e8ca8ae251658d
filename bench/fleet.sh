#!/usr/bin/env bash
# fleet.sh STALLRUN — a fleet deploy and a fleet status beside their floors,
# measured in the same run on one throwaway cluster (issue 16):
#
#   deploy   MEMBERS databases x MIGRATIONS migrations, parallel 8:
#            stallrun workflows/deploy.lua --fleet tenants   vs
#            xargs -P8 of psql -X -q -1 -f all.sql, one per database
#            (target 1.2x); the coordinator's own peak memory (VmHWM)
#   status   stallrun workflows/status.lua --fleet tenants  vs
#            xargs -P8 of psql -X -c 'SELECT 1', one per database (target 2x)
#
# Each side deploys its own set of databases (cloned from one empty
# template, one set at a time), so both start from empty. Environment: MEMBERS (default 1000),
# MIGRATIONS (default 20), PARALLEL (default 8).
set -euo pipefail
export LC_ALL=C

[ $# -eq 1 ] || { echo "usage: bench/fleet.sh /abs/path/to/stallrun" >&2; exit 2; }
stallrun=$(realpath "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
harness="$repo/tests/harness/pgcluster.sh"
members=${MEMBERS:-1000}
migrations=${MIGRATIONS:-20}
parallel=${PARALLEL:-8}

work=$(mktemp -d /tmp/stallmig-bench-fleet.XXXXXX)
chmod 0755 "$work"
cleanup() { trap '' INT TERM; "$harness" stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT

"$harness" start "$work/pg"
psql="$("$harness" bindir)/psql"
admin_url=$("$harness" url "$work/pg" postgres)
host=$(sed -E 's|.*[?&]host=([^&]*).*|\1|' <<<"$admin_url")
q() { "$psql" -XAtq -v ON_ERROR_STOP=1 -d "$admin_url" "$@"; }

# the project: MIGRATIONS generated migrations, a registry, [fleet.tenants]
proj="$work/project"
"$repo/bench/gen.sh" "$migrations" "$proj"
cat "$proj"/migrations/*/migration.sql >"$proj/all.sql"
q -c "CREATE DATABASE registry" -c "CREATE DATABASE tpl" >/dev/null
registry_url="postgresql:///registry?host=$host&user=postgres"
cat >>"$proj/stallmig.ini" <<INI

[fleet.tenants]
registry = $registry_url
targets_query = SELECT name, url FROM members ORDER BY name
parallel = $parallel
protected = false
INI

# MEMBERS databases at a time (an empty database is ~7.5 MB: two sets of
# 1000 would be 15 GB): p_* for psql, dropped, then f_* for the fleet
members_sql() {   # members_sql VERB SET
  for ((i = 1; i <= members; i++)); do
    if [ "$1" = create ]; then printf 'CREATE DATABASE %s_%04d TEMPLATE tpl;\n' "$2" "$i"
    else printf 'DROP DATABASE %s_%04d;\n' "$2" "$i"; fi
  done | "$psql" -XAtq -v ON_ERROR_STOP=1 -d "$admin_url" >/dev/null
  q -c CHECKPOINT >/dev/null
}
echo "creating $members databases for psql..." >&2
members_sql create p
"$psql" -XAtq -v ON_ERROR_STOP=1 -d "$registry_url" -c "CREATE TABLE members (name text, url text)" \
  -c "INSERT INTO members SELECT format('m%s', lpad(i::text, 4, '0')), format('postgresql:///f_%s?host=%s&user=postgres', lpad(i::text, 4, '0'), '$host') FROM generate_series(1, $members) i" >/dev/null
for ((i = 1; i <= members; i++)); do printf 'postgresql:///p_%04d?host=%s&user=postgres\n' "$i" "$host"; done >"$work/floor_urls"

now_us() { echo "${EPOCHREALTIME/./}"; }

# Where the time goes, in CPU seconds (the machine has fewer cores than
# PARALLEL: wall time follows CPU): the server's, read from the postmaster's
# count of its ended children (every backend's user + system time), and the
# client side's (xargs and its psqls; the coordinator and its members) from
# /usr/bin/time.
postmaster=$(head -n 1 "$work/pg/data/postmaster.pid")
server_ticks() { awk '{print $16 + $17}' "/proc/$postmaster/stat"; }
ticks=$(getconf CLK_TCK)
client_cpu() { awk '{print $1 + $2}' "$1"; }

# the floor: psql -1 -f all.sql on each of its databases, PARALLEL at a time;
# then SELECT 1 on each (the status floor)
s=$(now_us) c=$(server_ticks)
/usr/bin/time -f '%U %S' -o "$work/floor.cpu" \
  xargs -P "$parallel" -I{} "$psql" -X -q -1 -v ON_ERROR_STOP=1 -d {} -f "$proj/all.sql" <"$work/floor_urls" >/dev/null
floor_deploy=$(( $(now_us) - s )) floor_server=$(( $(server_ticks) - c ))
s=$(now_us)
xargs -P "$parallel" -I{} "$psql" -X -q -d {} -c 'SELECT 1' <"$work/floor_urls" >/dev/null
floor_status=$(( $(now_us) - s ))
echo "creating $members databases for the fleet..." >&2
members_sql drop p
members_sql create f

# the fleet deploy, its coordinator's peak RSS sampled from /proc
s=$(now_us) c=$(server_ticks)
(cd "$repo" && exec /usr/bin/time -f '%U %S' -o "$work/ours.cpu" \
  "$stallrun" workflows/deploy.lua --config "$proj/stallmig.ini" --fleet tenants) >"$work/deploy.out" 2>&1 &
pid=$!
hwm=0 coordinator=""
while kill -0 "$pid" 2>/dev/null; do
  # the coordinator is /usr/bin/time's child
  [ -n "$coordinator" ] || read -r coordinator _ <"/proc/$pid/task/$pid/children" 2>/dev/null || true
  kb=$(awk '/^VmHWM:/ {print $2}' "/proc/${coordinator:-$pid}/status" 2>/dev/null || echo 0)
  [ -n "$kb" ] && [ "$kb" -gt "$hwm" ] && hwm=$kb
  sleep 0.1
done
wait "$pid" || { tail -n 20 "$work/deploy.out" >&2; echo "bench: the fleet deploy failed" >&2; exit 1; }
ours_deploy=$(( $(now_us) - s )) ours_server=$(( $(server_ticks) - c ))
applied=$("$psql" -XAtq -d "postgresql:///f_$(printf %04d "$members")?host=$host&user=postgres" \
  -c "SELECT count(*) FROM stallmig.migrations WHERE outcome = 'applied'")
[ "$applied" = "$migrations" ] || { echo "bench: the last member has $applied migrations applied" >&2; exit 1; }

# status: a member process each, beside the SELECT 1 connections above
s=$(now_us)
(cd "$repo" && "$stallrun" workflows/status.lua --config "$proj/stallmig.ini" --fleet tenants >"$work/status.out" 2>&1) ||
  { tail -n 20 "$work/status.out" >&2; echo "bench: fleet status is not 0" >&2; exit 1; }
ours_status=$(( $(now_us) - s ))

echo "stallrun fleet bench: $members members x $migrations migrations, parallel $parallel, $(nproc) CPU(s)"
printf '%-14s %12s %12s %8s %8s\n' case stallrun_s floor_s ratio target
awk -v o="$ours_deploy" -v f="$floor_deploy" 'BEGIN {printf "%-14s %12.2f %12.2f %7.2fx %8s\n", "fleet deploy", o / 1e6, f / 1e6, o / f, "1.2x"}'
awk -v o="$ours_status" -v f="$floor_status" 'BEGIN {printf "%-14s %12.2f %12.2f %7.2fx %8s\n", "fleet status", o / 1e6, f / 1e6, o / f, "2x"}'
echo "coordinator peak RSS (VmHWM): $((hwm / 1024)).$(( (hwm % 1024) * 10 / 1024 )) MB"
awk -v m="$members" -v t="$ticks" -v fs="$floor_server" -v os="$ours_server" \
    -v fc="$(client_cpu "$work/floor.cpu")" -v oc="$(client_cpu "$work/ours.cpu")" 'BEGIN {
  printf "CPU per member, deploy: floor %.1f ms (client %.1f, server %.1f); stallrun %.1f ms (client %.1f, server %.1f); ratio %.2fx\n",
    1000 * (fc + fs / t) / m, 1000 * fc / m, 1000 * fs / t / m,
    1000 * (oc + os / t) / m, 1000 * oc / m, 1000 * os / t / m, (oc + os / t) / (fc + fs / t) }'

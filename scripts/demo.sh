#!/usr/bin/env bash
# demo.sh — the README's first command (make demo): a local PostgreSQL for
# this project under .stallmig/pg (a unix socket there, no TCP port), the
# database stallplass_dev, then deploy and status against it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cluster="$repo/.stallmig/pg"

"$repo/tests/harness/pgcluster.sh" start "$cluster"
psql="$("$repo/tests/harness/pgcluster.sh" bindir)/psql"
if [ "$("$psql" -XAtq -h "$cluster" -U postgres -d postgres \
      -c "SELECT 1 FROM pg_database WHERE datname = 'stallplass_dev'")" != 1 ]; then
  "$psql" -XAtq -h "$cluster" -U postgres -d postgres -c "CREATE DATABASE stallplass_dev"
fi
export DEV_DATABASE_URL
DEV_DATABASE_URL=$("$repo/tests/harness/pgcluster.sh" url "$cluster" stallplass_dev)

./stallrun workflows/deploy.lua --env dev
echo
./stallrun workflows/status.lua --env dev
cat <<TXT

The local database keeps running:
  psql "$DEV_DATABASE_URL"
  export DEV_DATABASE_URL='$DEV_DATABASE_URL'   # then: ./stallrun workflows/status.lua --env dev
  tests/harness/pgcluster.sh stop .stallmig/pg  # to stop it
TXT

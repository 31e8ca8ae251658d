#!/usr/bin/env bash
# demo.sh — the README's first command (make demo): a local PostgreSQL for this
# project under .stallmig/pg (its unix socket is there; no TCP port), started
# or reused, the database stallplass_dev, then deploy and status against it
# through the repository's own stallmig.ini ([env.dev] reads DEV_DATABASE_URL).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
harness="tests/harness/pgcluster.sh"
cluster="$repo/.stallmig/pg"

[ -x ./stallrun ] || { echo "demo: ./stallrun is not built; run: make demo (or make, then scripts/demo.sh)" >&2; exit 2; }

mkdir -p "$repo/.stallmig"
"$harness" start "$cluster"          # reuses the cluster if it is running
psql="$("$harness" bindir)/psql"     # the real psql, not Debian's wrapper
admin_url=$("$harness" url "$cluster" postgres)
if [ "$("$psql" -XAtq -d "$admin_url" -c "SELECT 1 FROM pg_database WHERE datname = 'stallplass_dev'")" != 1 ]; then
  "$psql" -XAtq -v ON_ERROR_STOP=1 -d "$admin_url" -c "CREATE DATABASE stallplass_dev"
  echo "demo: created database stallplass_dev on $cluster"
fi
DEV_DATABASE_URL=$("$harness" url "$cluster" stallplass_dev)
export DEV_DATABASE_URL

echo "\$ ./stallrun workflows/deploy.lua --env dev"
rc=0
./stallrun workflows/deploy.lua --env dev || rc=$?
if [ $rc -eq 0 ]; then
  echo
  echo "\$ ./stallrun workflows/status.lua --env dev"
  ./stallrun workflows/status.lua --env dev || rc=$?
fi

cat <<TXT

The local database keeps running (socket in .stallmig/pg, user postgres, no password):
  psql '$DEV_DATABASE_URL'
  export DEV_DATABASE_URL='$DEV_DATABASE_URL'
  ./stallrun workflows/status.lua --env dev       # with DEV_DATABASE_URL exported as above
  tests/harness/pgcluster.sh stop .stallmig/pg     # stop it (start again with make demo)
TXT
exit $rc

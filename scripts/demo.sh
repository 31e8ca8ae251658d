#!/usr/bin/env bash
# demo.sh — the README's first command (make demo): the dev environment's
# database (url = local:stallplass_dev, the project's own PostgreSQL in
# .stallmig/pg, started on demand) reset, every migration applied, seeded,
# and the status table.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ -x ./stallrun ] || { echo "demo: ./stallrun is not built; run: make demo" >&2; exit 2; }

echo "\$ ./stallrun workflows/reset.lua --env dev"
./stallrun workflows/reset.lua --env dev
echo
echo "\$ ./stallrun workflows/status.lua --env dev"
./stallrun workflows/status.lua --env dev

cat <<TXT

The project's own PostgreSQL keeps running (a socket in .stallmig/pg, no TCP port):
  psql "host=$repo/.stallmig/pg dbname=stallplass_dev user=postgres"
  ./stallrun workflows/local.lua stop        # stop it; any workflow starts it again
TXT

#!/usr/bin/env bash
# demo.sh [PREFIX] — the README's first command (make demo, after make
# install): the dev environment's database (url = local:stallplass_dev, the
# project's own PostgreSQL in .stallmig/pg, started on demand) reset, every
# migration applied, seeded, and the status table. With PREFIX it runs the
# stallrun installed there, as the README's commands do; without, the one
# built in this tree (./stallrun).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if [ $# -gt 0 ]; then
  bin="$1/bin/stallrun"
  [ -x "$bin" ] || { echo "demo: $bin is not installed; run: make demo" >&2; exit 2; }
  found=$(command -v stallrun 2>/dev/null || true)
  if [ -n "$found" ] && [ "$found" -ef "$bin" ]; then shown=stallrun; else shown=$bin; fi
else
  bin=./stallrun shown=./stallrun
  [ -x "$bin" ] || { echo "demo: ./stallrun is not built; run: make demo" >&2; exit 2; }
fi

echo "\$ $shown workflows/reset.lua --env dev"
"$bin" workflows/reset.lua --env dev
echo
echo "\$ $shown workflows/status.lua --env dev"
"$bin" workflows/status.lua --env dev

cat <<TXT

The project's own PostgreSQL keeps running (a socket in .stallmig/pg, no TCP port):
  psql "host=$repo/.stallmig/pg dbname=stallplass_dev user=postgres"
  $shown workflows/local.lua stop        # stop it; any workflow starts it again
TXT
if [ "$shown" != stallrun ] && [ $# -gt 0 ]; then
  echo
  echo "$1/bin is not first on your PATH, so the README's commands need it there:"
  echo "  export PATH=\"$1/bin:\$PATH\""
fi

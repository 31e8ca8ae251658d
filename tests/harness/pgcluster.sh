#!/usr/bin/env bash
# pgcluster.sh — a throwaway PostgreSQL cluster on a unix socket.
#   pgcluster.sh start DIR     initdb (first time) and start; the socket is in DIR
#   pgcluster.sh stop DIR      stop (fast); safe to call twice
#   pgcluster.sh url DIR DB    a libpq URL for database DB as user postgres
#   pgcluster.sh bindir        the server's bin directory
# As root, the server runs as the unprivileged user "postgres" (PostgreSQL
# refuses to run as root). No TCP port; fsync and synchronous_commit stay on.
set -euo pipefail

bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/postgres" ]; then
    pg_config --bindir; return
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/postgres" ] && { echo "$d"; return; }
  done
  echo "pgcluster: no PostgreSQL server found (make deps installs it)" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local dir bin
  dir=$(realpath -m "$1"); bin=$(bindir)
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    # every parent must be traversable by postgres (mktemp -d makes 0700)
    local p="$dir"
    while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then return 0; fi
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=150 -c shared_buffers=64MB" \
      start >/dev/null 2>&1; then
    echo "pgcluster: the server did not start; last lines of $dir/server.log:" >&2
    tail -n 20 "$dir/server.log" >&2 || true
    exit 1
  fi
  as_owner "$bin/pg_isready" -q -h "$dir" -t 30
}

stop() {
  local dir bin
  dir=$(realpath -m "$1"); bin=$(bindir)
  [ -f "$dir/data/PG_VERSION" ] || return 0
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start "${2:?usage: pgcluster.sh start DIR}" ;;
  stop) stop "${2:?usage: pgcluster.sh stop DIR}" ;;
  url) echo "postgresql:///${3:?usage: pgcluster.sh url DIR DB}?host=$(realpath -m "$2")&user=postgres" ;;
  bindir) bindir ;;
  *) echo "usage: pgcluster.sh start|stop DIR | url DIR DB | bindir" >&2; exit 2 ;;
esac

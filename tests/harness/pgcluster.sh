#!/usr/bin/env bash
# pgcluster.sh — a throwaway PostgreSQL cluster on a unix socket.
#   pgcluster.sh start DIR     initdb (first time) and start; the socket is in DIR,
#                              data in DIR/data, the log in DIR/server.log
#   pgcluster.sh init DIR      initdb only (a cluster to copy)
#   pgcluster.sh copy SRC DST  DST's data a copy of SRC's (SRC stopped; DST new):
#                              much cheaper than initdb, but the copy has SRC's
#                              system identifier (use it where no test compares
#                              two clusters: the test runner's workers)
#   pgcluster.sh tmpbase       where throwaway clusters go: /dev/shm (tmpfs: no
#                              disk writes, nothing slow to delete) when it has
#                              2 GiB free, else $TMPDIR or /tmp; STALLMIG_TEST_TMP
#                              chooses
#   pgcluster.sh standby SRC DST  a read-only hot standby of the running cluster
#                              SRC (pg_basebackup -R, streaming), started in DST
#   pgcluster.sh stop DIR      stop (fast); safe to call twice, or on no cluster
#   pgcluster.sh url DIR DB    a libpq URL for database DB as user postgres
#   pgcluster.sh bindir        the server's bin directory (the real psql is there)
# As root, the cluster belongs to and runs as the unprivileged user "postgres"
# (PostgreSQL refuses to run as root). No TCP port; fsync and
# synchronous_commit keep their defaults (on). Silent on success.
set -euo pipefail

die() { echo "pgcluster: $*" >&2; exit 1; }

bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && { echo "$d"; return; }
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  die "no PostgreSQL server found (make deps installs it)"
}

is_root() { [ "$(id -u)" = 0 ]; }

# Runs a server program as the cluster's owner, from / so that a current
# directory postgres cannot read (e.g. /root) draws no warnings.
as_owner() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}

# Percent-encodes a URL component (keeps unreserved characters and '/').
urlenc() {
  local s=$1 out="" c i
  local LC_ALL=C
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~/-]) out+=$c ;;
      *) printf -v c '%%%02X' "'$c"; out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

log_tail() {
  echo "pgcluster: $1; last lines of $2:" >&2
  tail -n 25 "$2" >&2 2>/dev/null || echo "  (no log)" >&2
}

# Makes DIR (a cluster's socket directory) and, as root, hands it to postgres.
own_dir() {
  local dir=$1 p
  # A unix socket path is limited to 107 bytes (sun_path).
  [ ${#dir} -le 92 ] || die "socket directory path too long for a unix socket (${#dir} > 92 bytes): $dir"
  mkdir -p "$dir"
  if is_root; then
    chown postgres: "$dir"
    chmod 0700 "$dir"
    # postgres must be able to reach DIR: mktemp -d makes its parent 0700.
    if ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
      p=$dir
      while [ "$p" != / ]; do
        p=$(dirname "$p")
        [ -O "$p" ] || [ "$p" = / ] || continue   # only directories root owns
        chmod o+x "$p" 2>/dev/null || true
      done
      runuser -u postgres -- test -x "$dir" 2>/dev/null ||
        die "user postgres cannot reach $dir; make its parent directories traversable (chmod o+x)"
    fi
  fi
}

init() {
  local dir bin
  dir=$(realpath -m "$1")
  bin=$(bindir)
  own_dir "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
      >"$dir/initdb.log" 2>&1 || { log_tail "initdb failed" "$dir/initdb.log"; exit 1; }
  fi
}

copy() {
  local src dst
  src=$(realpath -m "$1")
  dst=$(realpath -m "$2")
  [ -f "$src/data/PG_VERSION" ] || die "no cluster to copy in $src"
  [ ! -e "$dst/data" ] || die "$dst already holds a cluster"
  own_dir "$dst"
  cp -a "$src/data" "$dst/data"
}

tmpbase() {
  local free
  if [ -n "${STALLMIG_TEST_TMP:-}" ]; then echo "$STALLMIG_TEST_TMP"; return; fi
  free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')
  if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "${free:-0}" -ge 2097152 ]; then
    echo /dev/shm
  else
    echo "${TMPDIR:-/tmp}"
  fi
}

start() {
  local dir bin
  dir=$(realpath -m "$1")
  bin=$(bindir)
  init "$dir"
  if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    return 0   # already running: reuse it
  fi
  # Settings go into the cluster's own file, so a bare `pg_ctl start` (or a
  # restart) gets the same socket-only server.
  cat >"$dir/data/stallmig.conf" <<CONF
# written by tests/harness/pgcluster.sh (fsync, synchronous_commit: defaults)
listen_addresses = ''
unix_socket_directories = '${dir//"'"/"''"}'
max_connections = 150
shared_buffers = 64MB
# a small WAL: a test run creates hundreds of databases (7 MB of WAL each)
min_wal_size = 32MB
max_wal_size = 96MB
CONF
  if is_root; then chown postgres: "$dir/data/stallmig.conf"; fi
  grep -qx "include_if_exists = 'stallmig.conf'" "$dir/data/postgresql.conf" ||
    echo "include_if_exists = 'stallmig.conf'" >>"$dir/data/postgresql.conf"
  # server.log is written by the server (pg_ctl -l opens it as the owner)
  touch "$dir/server.log"
  if is_root; then chown postgres: "$dir/server.log"; fi
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
    log_tail "the server did not start" "$dir/server.log"
    exit 1
  fi
  if ! "$bin/pg_isready" -q -h "$dir" -U postgres -d postgres -t 30; then
    log_tail "the server does not accept connections" "$dir/server.log"
    exit 1
  fi
}

# A standby's data is a base backup of SRC with standby.signal and
# primary_conninfo (-R); start() then gives it DST's own socket settings.
standby() {
  local src dst bin
  src=$(realpath -m "$1")
  dst=$(realpath -m "$2")
  bin=$(bindir)
  own_dir "$dst"
  if [ ! -f "$dst/data/PG_VERSION" ]; then
    as_owner "$bin/pg_basebackup" -h "$src" -U postgres -D "$dst/data" -R -X stream -c fast \
      >"$dst/basebackup.log" 2>&1 || { log_tail "pg_basebackup failed" "$dst/basebackup.log"; exit 1; }
  fi
  start "$dst"
}

stop() {
  local dir bin
  dir=$(realpath -m "$1")
  [ -f "$dir/data/PG_VERSION" ] || return 0
  [ -f "$dir/data/postmaster.pid" ] || return 0
  bin=$(bindir)
  as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || return 0
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1; then
    # still running? then say so; gone meanwhile is fine
    as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || return 0
    log_tail "the server in $dir did not stop" "$dir/server.log"
    exit 1
  fi
}

usage() { echo "usage: pgcluster.sh start DIR | init DIR | copy SRC DST | standby SRC DST | stop DIR | url DIR DBNAME | bindir | tmpbase" >&2; exit 2; }

case "${1:-}" in
  start) [ $# -eq 2 ] || usage; start "$2" ;;
  init) [ $# -eq 2 ] || usage; init "$2" ;;
  copy) [ $# -eq 3 ] || usage; copy "$2" "$3" ;;
  tmpbase) [ $# -eq 1 ] || usage; tmpbase ;;
  standby) [ $# -eq 3 ] || usage; standby "$2" "$3" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  url) [ $# -eq 3 ] || usage
       printf 'postgresql:///%s?host=%s&user=postgres\n' "$(urlenc "$3")" "$(urlenc "$(realpath -m "$2")")" ;;
  bindir) bindir ;;
  *) usage ;;
esac

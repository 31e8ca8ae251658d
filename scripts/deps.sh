#!/usr/bin/env bash
# deps.sh — installs the Debian packages stallmig builds, tests and runs with,
# only those that are missing. Idempotent; silent (one dpkg-query call) when
# nothing is missing. Root, or sudo when not root.
set -euo pipefail

packages=(
  build-essential pkg-config          # cc, make
  liblua5.4-dev libpq-dev libinih-dev libssl-dev libpg-query-dev   # what stallrun links
  libcmocka-dev                       # unit tests
  clang libclang-rt-14-dev            # fuzz targets: libFuzzer + ASan/UBSan runtimes (Debian 12's clang 14)
  postgresql postgresql-client        # the test cluster, the local database, psql, pg_dump
  pgbouncer                           # tests/faults: a transaction-pooling pooler deploy refuses
  util-linux                          # runuser: the server must not run as root
  python3                             # integration tests read --json output with it
  git                                 # an integration test copies the tracked files
  time                                # bench: peak memory (/usr/bin/time)
  libcjson-dev lua-cjson-dev          # bench-json: the JSON readers src/json.c is weighed against
  valgrind                            # make check-valgrind
  libmicrohttpd-dev                   # studio: the HTTP server stallrun links (docs/studio.md)
  chromium nodejs                     # studio browser tests: headless Chromium driven over CDP by node
)

# One call for all of them; a package dpkg has never heard of is simply absent
# from the output (its complaint on stderr is not ours to show).
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)
missing=()
for p in "${packages[@]}"; do
  grep -qx "$p installed" <<<"$installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: missing ${missing[*]}; run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
log=$(mktemp /tmp/stallmig-deps.XXXXXX)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update >"$log" 2>&1 ||
   ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
       apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "deps: apt-get failed (above); install by hand: apt-get install ${missing[*]}" >&2
  exit 1
fi

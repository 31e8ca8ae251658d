#!/usr/bin/env bash
# deps.sh — installs the Debian packages stallmig builds, tests and runs with,
# only those that are missing. Idempotent; quiet when nothing is missing.
set -euo pipefail

packages=(
  build-essential pkg-config          # cc, make
  liblua5.4-dev libpq-dev libinih-dev libssl-dev libpg-query-dev   # what stallrun links
  libcmocka-dev                       # unit tests
  postgresql postgresql-client        # the test cluster, the local database, pg_dump
  util-linux                          # runuser: the server must not run as root
  python3                             # integration tests read --json output with it
  time                                # bench: peak memory
)

missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "deps: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

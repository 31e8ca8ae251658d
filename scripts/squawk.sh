#!/usr/bin/env bash
# squawk.sh DIR — installs squawk (npm package squawk-cli, pinned) under DIR
# for make bench-lint, and prints the path of its native binary (the npm
# package's platform dependency, @squawk-cli/<os>-<arch>; node's wrapper is
# left out of the timing). Prints nothing and exits 1, with the reason on
# stderr, when npm is missing or the registry cannot be reached: the bench
# then shows stallmig's own figures only.
set -euo pipefail
version=2.66.0
dir=${1:?usage: squawk.sh DIR}

native() {
  local bin
  for bin in "$dir"/node_modules/@squawk-cli/*/bin/squawk; do
    [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "squawk $version" && { echo "$bin"; return 0; }
  done
  return 1
}

native && exit 0
command -v npm >/dev/null || { echo "squawk.sh: npm is not installed (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir"
log="$dir/npm-install.log"
if ! npm install --prefix "$dir" --no-save --no-audit --no-fund "squawk-cli@$version" >"$log" 2>&1; then
  echo "squawk.sh: npm install squawk-cli@$version failed (see $log)" >&2
  exit 1
fi
native || { echo "squawk.sh: squawk-cli@$version has no native binary for $(uname -s)-$(uname -m) (see $log)" >&2; exit 1; }

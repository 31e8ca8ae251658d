#!/usr/bin/env bash
# install.sh PREFIX [BINARY] — make install: BINARY (default ./stallrun) as
# PREFIX/bin/stallrun, and this tree's lua/ and workflows/ in
# PREFIX/share/stallmig, where the installed binary looks for them
# (src/main.c: <dir of the binary>/../share/stallmig). An older copy of lua/
# and workflows/ there is replaced, not merged. With sudo when PREFIX is
# not writable and we are not root. Checks that the installed stallrun
# finds its library, then says whether PREFIX/bin is on PATH (and what to
# type when it is not). DESTDIR (a staging directory for a package) is put
# in front of PREFIX, as make install does.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:?usage: install.sh PREFIX [BINARY]}
binary=${2:-$repo/stallrun}
[ -x "$binary" ] || { echo "install: $binary is not built; run: make install" >&2; exit 2; }
case $prefix in /*) ;; *) prefix="$PWD/$prefix" ;; esac
prefix=${DESTDIR:-}${prefix%/}

# the deepest existing directory of PREFIX decides whether sudo is needed
sudo=()
probe=$prefix
while [ ! -e "$probe" ]; do probe=$(dirname "$probe"); done
if [ ! -w "$probe" ] && [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install: $prefix is not writable; run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi

share="$prefix/share/stallmig"
"${sudo[@]}" install -d -m 0755 "$prefix/bin" "$share"
"${sudo[@]}" rm -rf "$share/lua" "$share/workflows"
"${sudo[@]}" cp -R "$repo/lua" "$repo/workflows" "$share/"
"${sudo[@]}" chmod -R u=rwX,go=rX "$share/lua" "$share/workflows"
"${sudo[@]}" install -m 0755 "$binary" "$prefix/bin/stallrun"

# It must find its library from anywhere (not this tree's, which sits
# beside ./stallrun): --help lists the installed workflows.
if ! (cd / && "$prefix/bin/stallrun" --help) >/dev/null 2>&1; then
  echo "install: $prefix/bin/stallrun does not find its library in $share" >&2
  exit 1
fi
echo "Installed $prefix/bin/stallrun (library and workflows in $share)."
[ -z "${DESTDIR:-}" ] || exit 0
found=$(command -v stallrun 2>/dev/null || true)
if [ -n "$found" ] && [ "$found" -ef "$prefix/bin/stallrun" ]; then
  echo "stallrun is on your PATH: the commands in README.md work as written."
elif [ -n "$found" ]; then
  echo "Another stallrun comes first on your PATH ($found); to use this one:"
  echo "  export PATH=\"$prefix/bin:\$PATH\""
else
  echo "$prefix/bin is not on your PATH; to run stallrun as README.md does:"
  echo "  export PATH=\"$prefix/bin:\$PATH\""
fi

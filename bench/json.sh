#!/usr/bin/env bash
# json.sh — reading libpg_query's parse trees: src/json.c against cJSON and
# lua-cjson (bench/json_bench.c). Two inputs: the 10,000 migrations
# bench/gen.sh makes (one tree each), and one large file, all of them in
# one migration.sql (about 2.6 MB of SQL). Each mode runs in its own
# process under /usr/bin/time: the best of REPS (default 5) and the peak
# RSS; "none" parses the SQL and reads nothing, the floor of the RSS.
#
#   make bench-json     (builds build/json_bench; needs libcjson-dev, lua-cjson-dev)
set -euo pipefail
export LC_ALL=C
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$repo/build/json_bench}
n=${N:-10000}
work=$(mktemp -d /tmp/stallmig-json-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$repo/bench/gen.sh" "$n" "$work" >/dev/null
find "$work/migrations" -name migration.sql | sort >"$work/files"
xargs cat <"$work/files" >"$work/large.sql"
printf '%s migrations, %s bytes of SQL; one large file of %s bytes\n' "$n" \
  "$(xargs cat <"$work/files" | wc -c)" "$(wc -c <"$work/large.sql")"
for input in many large; do
  for mode in none json cjson lua-json lua-cjson; do
    if [ $input = many ]; then
      mapfile -t files <"$work/files"
    else
      files=("$work/large.sql")
    fi
    line=$(/usr/bin/time -f 'peak RSS %M KB' "$bin" "$mode" "${files[@]}" 2>"$work/time") ||
      { cat "$work/time" >&2; exit 1; }
    printf '%-5s %s  %s\n' "$input" "$line" "$(tail -n 1 "$work/time")"
  done
done

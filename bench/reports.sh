#!/usr/bin/env bash
# reports.sh STALLRUN — verify's HTML and Markdown reports beside their floor,
# measured in the same run, no server: N generated migrations (bench/gen.sh)
# linted into verify's document, without and with each statement's locks
# (what the reports add to verify), then rendered as text (the floor: what
# verify prints today), HTML and Markdown. Times inside stallrun (sys.clock),
# the best of REPS (default 3) of each; N from REPORT_N (default 1000).
set -euo pipefail
export LC_ALL=C

[ $# -eq 1 ] || { echo "usage: bench/reports.sh /abs/path/to/stallrun" >&2; exit 2; }
[ -x "$1" ] || { echo "bench: $1 is not an executable (make builds ./stallrun)" >&2; exit 2; }
stallrun=$(realpath "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
n=${REPORT_N:-1000}

work=$(mktemp -d /tmp/stallmig-report-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$repo/bench/gen.sh" "$n" "$work"
cd "$work"

read -r count statements lint_s with_s text_s html_s md_s bytes \
  <<<"$("$stallrun" "$repo/bench/report_driver.lua" --reps "${REPS:-3}")"
[ "$count" = "$n" ] || { echo "bench: the driver saw $count migrations, not $n" >&2; exit 1; }
awk -v n="$n" -v st="$statements" -v l="$lint_s" -v w="$with_s" -v t="$text_s" -v h="$html_s" -v m="$md_s" -v b="$bytes" 'BEGIN {
  printf "%d migrations, %d statements\n", n, st
  printf "lint                 %8.4f s  (floor)\n", l
  printf "lint + statements    %8.4f s  %.2fx the floor\n", w, w / l
  printf "render text          %8.4f s  (floor)\n", t
  printf "render html          %8.4f s  %.2fx text (%.1f MB)\n", h, h / t, b / 1e6
  printf "render markdown      %8.4f s  %.2fx text\n", m, m / t
  printf "html render over lint: %.2fx (%.3f ms a migration)\n", h / l, h * 1000 / n
}'

#!/usr/bin/env bash
# lint.sh STALLRUN — the lint of N generated migrations (bench/gen.sh) beside
# its floor, measured in the same run, no server: the time to read and split
# them (load: files.read + sql.script, what any deploy does), to also build
# the parse tree (tree: + sql.parse), and to lint them (lint: + every rule,
# as one run; each: every migration as if it were the only pending one).
# Times are measured inside stallrun (sys.clock; start-up excluded) and the
# whole process (wall). Medians of REPS (default 5); N from LINT_N (1000).
set -euo pipefail
export LC_ALL=C

[ $# -eq 1 ] || { echo "usage: bench/lint.sh /abs/path/to/stallrun" >&2; exit 2; }
[ -x "$1" ] || { echo "bench: $1 is not an executable (make builds ./stallrun)" >&2; exit 2; }
stallrun=$(realpath "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
reps=${REPS:-5}
n=${LINT_N:-1000}
[ -n "${EPOCHREALTIME:-}" ] || { echo "bench: needs bash 5 (EPOCHREALTIME)" >&2; exit 2; }

work=$(mktemp -d /tmp/stallmig-lint-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$repo/bench/gen.sh" "$n" "$work"
cd "$work"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

printf '%-6s %6s %12s %12s %14s  %s\n' mode N inside_s wall_s per_migr_ms findings
for mode in load tree lint each; do
  inside=() wall=()
  for ((r = 0; r < reps; r++)); do
    s=$EPOCHREALTIME
    line=$("$stallrun" "$repo/bench/lint_driver.lua" --mode "$mode") || { echo "bench: $mode failed" >&2; exit 1; }
    e=$EPOCHREALTIME
    read -r _ count secs findings <<<"$line"
    [ "$count" = "$n" ] || { echo "bench: $mode saw $count migrations, not $n" >&2; exit 1; }
    inside+=("$secs")
    wall+=("$(awk -v a="${s/./}" -v b="${e/./}" 'BEGIN {printf "%.6f", (b - a) / 1e6}')")
  done
  mi=$(median "${inside[@]}")
  printf '%-6s %6s %12.4f %12.4f %14.4f  %s\n' "$mode" "$n" "$mi" "$(median "${wall[@]}")" \
    "$(awk -v t="$mi" -v n="$n" 'BEGIN {print t * 1000 / n}')" "$findings"
  eval "t_$mode=$mi"
done
awk -v l="$t_lint" -v b="$t_load" -v n="$n" \
  'BEGIN {printf "lint over the load floor: +%.4f s (%.4f ms a migration), %.2fx\n", l - b, (l - b) * 1000 / n, l / b}'

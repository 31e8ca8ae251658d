#!/usr/bin/env bash
# lint.sh STALLRUN — the lint of N generated migrations (bench/gen.sh) beside
# its floor, measured in the same run, no server: the time to read and split
# them (load: files.read + sql.script, what any deploy does), to also keep
# the parse tree of that parse (tree: sql.script(text, true)), and to lint
# them (lint: + every rule, as workflows/lint.lua does: one run; each: every
# migration as if it were the only pending one).
# Times are measured inside stallrun (CPU seconds, os.clock; start-up
# excluded) and the whole process (wall). Then the whole offline lint as a user runs it
# (cli: stallrun workflows/lint.lua over the folder) beside squawk on the
# same files, both pinned to one core (taskset -c 0) when SQUAWK names its
# binary (the Makefile installs it from npm: scripts/squawk.sh).
# Medians of REPS (default 5); N from LINT_N (1000).
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

printf '%-6s %6s %12s %12s %14s  %s\n' mode N cpu_s wall_s per_migr_ms findings
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

# The whole process: stallmig's offline lint, then squawk, each as CPU
# seconds (user + sys: "one core's time", what the machine's other load
# disturbs least) and wall on one core (taskset -c 0 when there).
one_core=()
command -v taskset >/dev/null && one_core=(taskset -c 0)
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (scripts/deps.sh installs it)" >&2; exit 2; }
whole() {  # "cpu wall": medians of REPS runs of "$@" (its exit status is the findings' verdict)
  local cpus=() walls=() cpu wall
  for ((r = 0; r < reps; r++)); do
    /usr/bin/time -f '%U %S %e' -o time.out "${one_core[@]}" "$@" >/dev/null 2>&1 || true
    read -r u s wall < <(tail -n 1 time.out)  # after "Command exited with non-zero status"
    cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')") walls+=("$wall")
  done
  echo "$(median "${cpus[@]}") $(median "${walls[@]}")"
}
row() {  # name cpu wall what
  printf '%-6s %6s %12.4f %12.4f %14.4f  %s\n' "$1" "$n" "$2" "$3" "$(awk -v t="$2" -v n="$n" 'BEGIN {print t * 1000 / n}')" "$4"
}
"$stallrun" "$repo/workflows/lint.lua" --json >cli.json 2>/dev/null || true
grep -q '"files":'"$n"',' cli.json || { echo "bench: workflows/lint.lua did not lint $n files" >&2; exit 1; }
echo "whole process (cpu_s = user + sys; wall_s${one_core:+ on one core}):"
read -r c_cli w_cli < <(whole "$stallrun" "$repo/workflows/lint.lua")
row cli "$c_cli" "$w_cli" "stallrun workflows/lint.lua (start-up included)"
if [ -n "${SQUAWK:-}" ] && [ -x "$SQUAWK" ]; then
  read -r c_sq w_sq < <(whole "$SQUAWK" 'migrations/*/migration.sql')
  row squawk "$c_sq" "$w_sq" "$("$SQUAWK" --version) (its native binary, npm squawk-cli)"
  awk -v c="$c_cli" -v q="$c_sq" -v cw="$w_cli" -v qw="$w_sq" \
    'BEGIN {printf "stallmig lint / squawk: %.2fx CPU, %.2fx wall (target: at most 1.00x)\n", c / q, cw / qw}'
else
  echo "squawk: not measured (make bench-lint installs it from npm as squawk-cli; scripts/squawk.sh said why it could not)"
fi

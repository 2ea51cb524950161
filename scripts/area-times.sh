#!/usr/bin/env bash
# Times each test area built and run alone (issue 14: each under 2 minutes), from a fresh build
# directory: for every area, `cmake --build --target fulcrum.test.<area>` then `ctest -L <area>`
# (package/cli/example tests excluded). Prints a Markdown table (wall and user+sys seconds).
#   scripts/area-times.sh [build-dir] [jobs] [areas...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dir=${1:-build/area-times}
jobs=${2:-2}
shift 2 2>/dev/null || shift $#
areas=("$@")
[ ${#areas[@]} -eq 0 ] && areas=(core packing balance pipeline recompute comm dispatch)
rm -rf "$dir"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFULCRUM_BUILD_EXAMPLES=OFF -DFULCRUM_BUILD_TOOLS=OFF \
  >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j "$jobs" --target fulcrum_doctest_main >/dev/null
timed() {  # timed CMD...: runs CMD, prints "wall user+sys" seconds
  local t0 t1 c0 c1 me=$BASHPID
  t0=$(date +%s.%N)
  c0=$(awk '{print $14+$15+$16+$17}' "/proc/$me/stat")
  "$@" >/dev/null || echo "area-times: $* failed" >&2
  t1=$(date +%s.%N)
  c1=$(awk '{print $14+$15+$16+$17}' "/proc/$me/stat")
  awk -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f %.0f\n", b - a, (d - c) / hz }'
}
echo "| area | build wall (s) | build CPU (s) | tests | run wall (s) | run CPU (s) |"
echo "|---|---:|---:|---:|---:|---:|"
for a in "${areas[@]}"; do
  read -r bw bc < <(timed cmake --build "$dir" -j "$jobs" --target "fulcrum.test.$a")
  n=$(ctest --test-dir "$dir" -L "^$a\$" -LE "gpu|nccl" -N | awk '/Total Tests:/ {print $3}')
  read -r rw rc < <(timed ctest --test-dir "$dir" -L "^$a\$" -LE "gpu|nccl" -j "$jobs" --timeout 900)
  echo "| $a | $bw | $bc | $n | $rw | $rc |"
done

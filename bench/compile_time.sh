#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Compile-time figures of the fulcrum headers (docs/benchmarks.md, "Compile time").
#
#   bash bench/compile_time.sh [--cxx g++] [--repeats 3] [--out figures.txt] [--check] [--closure-only]
#
# Measures compiler user time (/usr/bin/time -f %U, minimum over --repeats runs: the machine may be
# shared) for
#   quick_start        bench/compile_time/quick_start.cpp, -O2 -c: <fulcrum/fulcrum.hpp> + one
#                      pack() + one balance() on a user type with a projection (header-only)
#   quick_start_compiled   the same TU as a consumer of fulcrum::compiled (-DFULCRUM_COMPILED)
#   umbrella_syntax    -fsyntax-only of <fulcrum/fulcrum.hpp> (header-only)
#   umbrella_syntax_compiled   the same with -DFULCRUM_COMPILED
#   std_floor_syntax   -fsyntax-only of a TU including just the standard headers that the umbrella
#                      includes directly or indirectly (what no change to fulcrum can go below)
# and, deterministically, the preprocessed line count of the umbrella in both modes, whether
# <filesystem>, <thread>, <iostream> or <fstream> are in its closure, and which heavy standard
# headers the compiled-mode closure (what a fulcrum::compiled consumer parses) holds.
# --check fails (status 1) when
#  - the umbrella's closure holds <filesystem>, <thread>, <iostream> or <fstream>,
#  - the preprocessed umbrella exceeds FULCRUM_UMBRELLA_MAX_LINES (default 125000),
#  - the compiled-mode umbrella exceeds FULCRUM_UMBRELLA_COMPILED_MAX_LINES (default 104000; 98.6k
#    with g++ 12 / libstdc++, 60k with libc++ 14 at the time of writing), or
#  - the compiled-mode closure holds one of the heavy headers listed in `heavy` below (streams,
#    associative containers, queues, <random>, <regex>, threads: the algorithms' includes, which
#    belong in the workers' detail/*_impl.hpp headers, not in the declarations).
# Timings are recorded, never asserted (they depend on the machine and its load). --closure-only
# skips the timings.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cxx="${CXX:-g++}"
repeats=3
out=""
check=0
closure_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cxx) cxx="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --check) check=1; shift ;;
    --closure-only) closure_only=1; shift ;;
    *) echo "compile_time.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

flags=(-std=c++20 -I"$root/include")
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
report=""
say() { report+="$1"$'\n'; echo "$1"; }

# Minimum user time over the repeats of one compile command.
measure() {
  local best="" t
  for ((r = 0; r < repeats; ++r)); do
    /usr/bin/time -f %U -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
    t="$(tail -n 1 "$tmp/time")"
    if [[ -z "$best" ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best="$t"; fi
  done
  echo "$best"
}

say "# fulcrum compile time: $("$cxx" --version | head -n 1), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
lines="$("$cxx" "${flags[@]}" -E "$here/compile_time/umbrella.cpp" | wc -l)"
say "umbrella_preprocessed_lines $lines"
closure="$("$cxx" "${flags[@]}" -M "$here/compile_time/umbrella.cpp" | tr ' \\' '\n\n' |
  grep -E '/(filesystem|thread|iostream|fstream)$' | sed 's|.*/||' | sort -u | tr '\n' ' ' || true)"
say "umbrella_heavy_std_headers ${closure:-none}"

compiled_lines="$("$cxx" "${flags[@]}" -DFULCRUM_COMPILED -E "$here/compile_time/umbrella.cpp" | wc -l)"
say "umbrella_compiled_preprocessed_lines $compiled_lines"
heavy='sstream|istream|fstream|iostream|filesystem|thread|map|set|unordered_set|queue|deque|list|regex|random|future|mutex|locale|iomanip|format'
compiled_closure="$("$cxx" "${flags[@]}" -DFULCRUM_COMPILED -M "$here/compile_time/umbrella.cpp" | tr ' \\' '\n\n' |
  grep -E "/($heavy)\$" | sed 's|.*/||' | sort -u | tr '\n' ' ' || true)"
say "umbrella_compiled_heavy_std_headers ${compiled_closure:-none}"

if [[ $closure_only -eq 0 ]]; then
  say "quick_start_user_s $(measure "$cxx" "${flags[@]}" -O2 -c "$here/compile_time/quick_start.cpp" -o "$tmp/q.o")"
  say "quick_start_compiled_user_s $(measure "$cxx" "${flags[@]}" -DFULCRUM_COMPILED -O2 -c \
    "$here/compile_time/quick_start.cpp" -o "$tmp/qc.o")"
  say "umbrella_syntax_user_s $(measure "$cxx" "${flags[@]}" -O2 -fsyntax-only "$here/compile_time/umbrella.cpp")"
  "$cxx" "${flags[@]}" -M "$here/compile_time/umbrella.cpp" | tr ' \\' '\n\n' | grep -v '^$' | grep -v '/fulcrum/' |
    grep -E '/c\+\+/[^/]+/[a-z_]+$' | sed 's|.*/||' | sort -u | sed 's|.*|#include <&>|' >"$tmp/std_floor.cpp" || true
  say "std_floor_syntax_user_s $(measure "$cxx" "${flags[@]}" -O2 -fsyntax-only "$tmp/std_floor.cpp")"
  say "umbrella_syntax_compiled_user_s $(measure "$cxx" "${flags[@]}" -DFULCRUM_COMPILED -O2 -fsyntax-only \
    "$here/compile_time/umbrella.cpp")"
fi
[[ -n "$out" ]] && printf '%s' "$report" >"$out"

if [[ $check -eq 1 ]]; then
  status=0
  if [[ -n "$closure" ]]; then
    echo "FAIL: <fulcrum/fulcrum.hpp> includes $closure" >&2
    status=1
  fi
  if ((lines > ${FULCRUM_UMBRELLA_MAX_LINES:-125000})); then
    echo "FAIL: <fulcrum/fulcrum.hpp> preprocesses to $lines lines (> ${FULCRUM_UMBRELLA_MAX_LINES:-125000})" >&2
    status=1
  fi
  if [[ -n "$compiled_closure" ]]; then
    echo "FAIL: <fulcrum/fulcrum.hpp> with FULCRUM_COMPILED includes $compiled_closure" >&2
    status=1
  fi
  if ((compiled_lines > ${FULCRUM_UMBRELLA_COMPILED_MAX_LINES:-104000})); then
    echo "FAIL: <fulcrum/fulcrum.hpp> with FULCRUM_COMPILED preprocesses to $compiled_lines lines" \
      "(> ${FULCRUM_UMBRELLA_COMPILED_MAX_LINES:-104000})" >&2
    status=1
  fi
  exit $status
fi

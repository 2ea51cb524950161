#!/usr/bin/env bash
# Second stage of scripts/test.sh (reliability, issue 11): the whole test suite built with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, plus bounded libFuzzer runs of every fuzz target
# (CTest label "fuzz"; FULCRUM_FUZZ_SECONDS per target, default 45).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)
cxx=$(command -v clang++-14 || command -v clang++)
echo "== build: ASan+UBSan ($cxx) with fuzz targets"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DFULCRUM_SANITIZE=ON -DFULCRUM_BUILD_FUZZERS=ON \
  -DFULCRUM_FUZZ_SECONDS="${FULCRUM_FUZZ_SECONDS:-45}" -DFULCRUM_WARNINGS_AS_ERRORS=ON \
  -DFULCRUM_ENABLE_MPI=ON -DFULCRUM_BUILD_BENCHMARKS=OFF >build/configure-asan.log 2>&1 \
  || { cat build/configure-asan.log; exit 1; }
cmake --build build/asan -j "$jobs"
echo "== tests under ASan+UBSan, then bounded fuzzing"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/asan -LE "gpu|nccl|package|docs|compile_fail|example" -j "$jobs" --output-on-failure --timeout 1500

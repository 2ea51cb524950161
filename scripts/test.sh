#!/usr/bin/env bash
# Builds fulcrum and runs its tests on a fresh Debian machine (installs what is missing first).
#   scripts/test.sh           full run: warnings-as-errors build + all CPU tests, then the
#                             ASan+UBSan build of the test suite and the bounded fuzz runs
#   scripts/test.sh --quick   only the first build and its tests
# GPU/NCCL tests are compiled (when nvcc is present) but skipped: they run on a GPU machine with
#   ctest --test-dir build/test -L "gpu|nccl"
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=setup.sh
source scripts/setup.sh
quick=0
[ "${1:-}" = "--quick" ] && quick=1

if [ "$quick" = 0 ]; then
  # The Python stage's venv (torch is ~5 GB from PyPI) downloads in the background while C++ builds;
  # scripts/test-extra.sh waits for it (wait_python_venv). python3-venv first: the venv needs it.
  ensure_packages python3-venv python3-dev
  start_python_venv_background build
  echo "== $(date -u +%T) Python venv: installing in the background (job $FULCRUM_PYVENV_PID, log build/pyvenv.log)"
fi
ensure_packages "${FULCRUM_BASE_PACKAGES[@]}" "${FULCRUM_TEST_PACKAGES[@]}"
ensure_old_cmake
mkdir -p build
jobs=$(nproc 2>/dev/null || echo 2)
mapfile -t components < <(fulcrum_component_options)

echo "== $(date -u +%T) build: Release, -Wall -Wextra -Werror, components: ${components[*]}"
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release -DFULCRUM_WARNINGS_AS_ERRORS=ON \
  -DFULCRUM_BUILD_BENCHMARKS=ON -DFULCRUM_OLD_CMAKE="$FULCRUM_OLD_CMAKE_VENV/bin/cmake" "${components[@]}" >build/configure-test.log 2>&1 \
  || { cat build/configure-test.log; exit 1; }
cmake --build build/test -j "$jobs"
echo "== $(date -u +%T) tests (CPU; gpu and nccl labels skipped)"
ctest --test-dir build/test -LE "gpu|nccl" -j "$jobs" --output-on-failure --timeout 900
if grep -q "^FULCRUM_ENABLE_CUDA:BOOL=ON" build/test/CMakeCache.txt; then
  # The GPU check's CPU part on this build (nothing is rebuilt; the gpu/nccl runs are owed here).
  scripts/test-gpu.sh --build-dir build/test --no-bench
fi

[ "$quick" = 1 ] && exit 0
if [ -x scripts/test-extra.sh ]; then
  scripts/test-extra.sh
fi

#!/usr/bin/env bash
# Second stage of scripts/test.sh:
#  1. -march=x86-64-v3 (g++, Release): the determinism and CPU-vs-Thrust-host bit-equality tests
#     (CTest label "determinism") built with AVX2/FMA code generation, so a consumer's -march cannot
#     change a plan. Only the targets those tests run are built. Skipped on a CPU without x86-64-v3.
#  2. clang + libc++ with AddressSanitizer and UndefinedBehaviorSanitizer: the whole test suite,
#     plus bounded libFuzzer runs of every fuzz target (CTest label "fuzz"; FULCRUM_FUZZ_SECONDS per
#     target, default 45).
#  3. the Python package (python/, docs/python.md): `pip install ./python` into a cached venv
#     (nanobind, scikit-build-core, numpy, pytest, hypothesis, torch from PyPI; the extension's build
#     directory build/python is kept, so an unchanged binding is not recompiled) and its pytest suite
#     (unit, hypothesis properties, parity with a C++ driver, fulcrum.torch with a 4-process gloo
#     group). Skipped, saying so, when the venv cannot be made (no PyPI). Under scripts/test.sh the
#     venv is made by a background job started before the C++ build; this stage waits for it
#     (wait_python_venv); run alone, this script makes it itself.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=setup.sh
source scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p build

# ctest_targets DIR LABEL: the files (paths relative to DIR, which Ninja builds as targets) that the
# tests of LABEL run: paths inside DIR on their add_test command lines, directly or as -DNAME=path.
# Read from the generated CTestTestfile.cmake files (ctest -N omits commands not built yet).
ctest_targets() {
  python3 - "$(cd "$1" && pwd)" "$2" <<'PY'
import os, re, sys
root, label = sys.argv[1], sys.argv[2]
arg = re.compile(r'"((?:[^"\\]|\\.)*)"|\[=*\[(.*?)\]=*\]|(\S+)')
files = set()
for d, _, names in os.walk(root):
    if "CTestTestfile.cmake" not in names:
        continue
    text = open(os.path.join(d, "CTestTestfile.cmake")).read()
    commands = {}
    for m in re.finditer(r'^add_test\((.*)\)$', text, re.M):
        args = [a or b or c for a, b, c in arg.findall(m.group(1))]
        commands[args[0]] = args[1:]
    for m in re.finditer(r'^set_tests_properties\((.*)\)$', text, re.M):
        args = [a or b or c for a, b, c in arg.findall(m.group(1))]
        if "LABELS" in args and label in args[args.index("LABELS") + 1].split(";"):
            for a in commands.get(args[0], []):
                path = a.split("=", 1)[1] if a.startswith("-D") and "=" in a else a
                if path.startswith(root + "/") and not os.path.isdir(path):
                    files.add(os.path.relpath(path, root))
print("\n".join(sorted(files)))
PY
}

if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && grep -qw bmi2 /proc/cpuinfo; then
  echo "== $(date -u +%T) build: -march=x86-64-v3 (g++, Release): determinism and Thrust-host bit-equality tests"
  cmake -S . -B build/v3 -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_CXX_FLAGS="-march=x86-64-v3" -DFULCRUM_WARNINGS_AS_ERRORS=ON -DFULCRUM_BUILD_EXAMPLES=OFF \
    -DFULCRUM_BUILD_TOOLS=OFF -DFULCRUM_BUILD_BENCHMARKS=OFF >build/configure-v3.log 2>&1 \
    || { cat build/configure-v3.log; exit 1; }
  v3_targets=()
  while read -r t; do  # keep what Ninja can build (a test's output file is not a target)
    ninja -C build/v3 -t query "$t" >/dev/null 2>&1 && v3_targets+=("$t")
  done < <(ctest_targets build/v3 determinism)
  if [ ${#v3_targets[@]} -gt 0 ]; then
    echo "   targets: ${v3_targets[*]}"
    cmake --build build/v3 -j "$jobs" --target "${v3_targets[@]}"
    ctest --test-dir build/v3 -L determinism -j "$jobs" --output-on-failure --timeout 900 --no-tests=error
  else
    echo "   no test carries the label determinism: nothing to build"
  fi
else
  echo "== $(date -u +%T) -march=x86-64-v3 stage skipped: this CPU lacks AVX2/FMA/BMI2"
fi

cxx=$(command -v clang++-14 || command -v clang++)
echo "== $(date -u +%T) build: clang + libc++, ASan+UBSan ($cxx) with fuzz targets"
# The Thrust host-backend tests are left to stage 1 (g++) and the x86-64-v3 stage: CCCL 3's
# libcu++ does not compile against libc++ 14 (ambiguous __do_deallocate_handle_size).
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="-stdlib=libc++" -DCMAKE_EXE_LINKER_FLAGS="-stdlib=libc++" \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DFULCRUM_SANITIZE=ON -DFULCRUM_BUILD_FUZZERS=ON \
  -DFULCRUM_FUZZ_SECONDS="${FULCRUM_FUZZ_SECONDS:-45}" -DFULCRUM_WARNINGS_AS_ERRORS=ON \
  -DFULCRUM_ENABLE_MPI=ON -DFULCRUM_BUILD_BENCHMARKS=OFF -DFULCRUM_THRUST_HOST_TESTS=OFF >build/configure-asan.log 2>&1 \
  || { cat build/configure-asan.log; exit 1; }
cmake --build build/asan -j "$jobs"
echo "== $(date -u +%T) tests (clang + libc++) under ASan+UBSan, then bounded fuzzing"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/asan -LE "gpu|nccl|package|docs|compile_fail|example" -j "$jobs" --output-on-failure --timeout 1500
echo "== $(date -u +%T) Python package: pip install ./python, then pytest"
ensure_packages python3-venv python3-dev
if wait_python_venv; then
  # --no-build-isolation: build with the venv's nanobind and scikit-build-core (no download per run).
  CMAKE_BUILD_PARALLEL_LEVEL="$jobs" "$FULCRUM_PY_VENV/bin/pip" install -q --disable-pip-version-check \
    --no-build-isolation --force-reinstall --no-deps --config-settings=build-dir="$root/build/python" ./python \
    || { echo "pip install ./python failed"; exit 1; }
  (cd build && "$FULCRUM_PY_VENV/bin/python" -m pytest -q -p no:cacheprovider "$root/python/tests")
else
  echo "   Python package stage skipped: no venv (see the setup message above)"
fi
echo "== $(date -u +%T) done"

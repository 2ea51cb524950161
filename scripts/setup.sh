# Sourced by scripts/test.sh and scripts/demo.sh: installs what is missing, quietly when nothing is.
# shellcheck shell=bash

# ensure_packages PKG...: apt-get installs the Debian packages that are not installed yet.
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The packages every build of fulcrum uses.
FULCRUM_BASE_PACKAGES=(cmake g++ make ninja-build doctest-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev)
# Extra packages the full test run uses: CBC as an exact-solver oracle, OpenMPI, clang for fuzzing,
# doxygen for the API reference, python3-venv for the Conan package test, the old-CMake consumer and
# the Python package stage, python3-dev for building the Python extension (scripts/test-extra.sh),
# libc++ for the clang + libc++ sanitizer stage (scripts/test-extra.sh).
FULCRUM_TEST_PACKAGES=(coinor-cbc libopenmpi-dev openmpi-bin clang libclang-rt-14-dev libc++-14-dev libc++abi-14-dev
                       doxygen python3-venv python3-dev)

# ensure_old_cmake: the oldest CMake a consumer may use (3.16, from PyPI) in a cached venv, for the
# test package.find_package_old_cmake (skipped when it is missing). Idempotent; never fatal.
FULCRUM_OLD_CMAKE_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/fulcrum/cmake-3.16"
ensure_old_cmake() {
  [ -x "$FULCRUM_OLD_CMAKE_VENV/bin/cmake" ] && return 0
  echo "setup: installing CMake 3.16 (pip) into $FULCRUM_OLD_CMAKE_VENV"
  { python3 -m venv "$FULCRUM_OLD_CMAKE_VENV" &&
    "$FULCRUM_OLD_CMAKE_VENV/bin/pip" install -q --disable-pip-version-check "cmake==3.16.*"; } >/dev/null 2>&1 \
    || { echo "setup: CMake 3.16 unavailable; package.find_package_old_cmake will be skipped"; rm -rf "$FULCRUM_OLD_CMAKE_VENV"; }
  return 0
}

# ensure_python_venv: a cached venv with what the Python package stage needs (nanobind,
# scikit-build-core, numpy, pytest, hypothesis, and torch for fulcrum.torch's tests, from PyPI),
# made with Debian's python3 when present. torch is the big one (about 5 GB installed, a minute or
# two to download): scripts/test.sh starts this in the background (start_python_venv_background) so
# it overlaps the C++ build, and scripts/test-extra.sh waits for it (wait_python_venv).
# Idempotent: a stamp file records the requirement list, and pip runs only when it changed.
# Returns 1 (after saying why) when PyPI or venv is unavailable; the caller skips the stage then.
FULCRUM_PY_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/fulcrum/pyvenv"
FULCRUM_PY_REQUIREMENTS=("nanobind>=2.0" "scikit-build-core>=0.10" "numpy>=1.21" "pytest" "hypothesis" "torch")
ensure_python_venv() {
  local stamp="$FULCRUM_PY_VENV/.fulcrum-requirements" want python=python3
  want=$(printf '%s\n' "${FULCRUM_PY_REQUIREMENTS[@]}")
  [ -x /usr/bin/python3 ] && python=/usr/bin/python3
  if [ -x "$FULCRUM_PY_VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "setup: installing ${FULCRUM_PY_REQUIREMENTS[*]} (pip) into $FULCRUM_PY_VENV"
  if { [ -x "$FULCRUM_PY_VENV/bin/python" ] || "$python" -m venv "$FULCRUM_PY_VENV"; } >/dev/null 2>&1 &&
    "$FULCRUM_PY_VENV/bin/pip" install -q --disable-pip-version-check "${FULCRUM_PY_REQUIREMENTS[@]}" >/dev/null 2>&1; then
    printf '%s' "$want" >"$stamp"
    return 0
  fi
  echo "setup: the Python venv could not be made (no python3-venv, or PyPI unreachable)"
  rm -rf "$FULCRUM_PY_VENV"
  return 1
}

# start_python_venv_background [DIR]: runs ensure_python_venv in the background, its output in
# DIR/pyvenv.log (DIR defaults to build), its exit status written to DIR/pyvenv.status when it ends.
# Exports FULCRUM_PYVENV_PID and FULCRUM_PYVENV_DIR so that wait_python_venv, in this shell or in a
# child script (scripts/test-extra.sh), can wait for it.
start_python_venv_background() {
  local dir="${1:-build}"
  mkdir -p "$dir"
  rm -f "$dir/pyvenv.status"
  (
    rc=0
    ensure_python_venv || rc=$?
    printf '%s\n' "$rc" >"$dir/pyvenv.status.tmp" && mv "$dir/pyvenv.status.tmp" "$dir/pyvenv.status"
  ) >"$dir/pyvenv.log" 2>&1 </dev/null &
  FULCRUM_PYVENV_PID=$!
  FULCRUM_PYVENV_DIR="$dir"
  export FULCRUM_PYVENV_PID FULCRUM_PYVENV_DIR
}

# wait_python_venv: ensure_python_venv's result. When start_python_venv_background ran (in this
# shell or a parent: FULCRUM_PYVENV_PID is set), waits for that job (polling its pid: a child script
# cannot `wait` for its parent's job), shows its log and returns its status; otherwise (the script
# runs alone, or the job left no status) runs ensure_python_venv in the foreground.
wait_python_venv() {
  if [ -n "${FULCRUM_PYVENV_PID:-}" ]; then
    local dir="${FULCRUM_PYVENV_DIR:-build}" waited=0
    while kill -0 "$FULCRUM_PYVENV_PID" 2>/dev/null && [ ! -f "$dir/pyvenv.status" ]; do
      [ "$waited" = 0 ] && echo "   waiting for the Python venv (background job $FULCRUM_PYVENV_PID, log $dir/pyvenv.log)"
      waited=1
      sleep 1
    done
    if [ -f "$dir/pyvenv.status" ]; then
      [ -s "$dir/pyvenv.log" ] && sed 's/^/   /' "$dir/pyvenv.log"
      return "$(cat "$dir/pyvenv.status")"
    fi
    echo "   the background Python venv job left no status; running it now"
  fi
  ensure_python_venv
}

# Configure options for the components this machine can build.
fulcrum_component_options() {
  local opts=(-DFULCRUM_ENABLE_MPI=ON)
  if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
    local nvcc_path
    nvcc_path=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
    opts+=(-DFULCRUM_ENABLE_CUDA=ON -DFULCRUM_ENABLE_NCCL=ON -DCMAKE_CUDA_COMPILER="$nvcc_path"
           -DCMAKE_CUDA_ARCHITECTURES="${FULCRUM_CUDA_ARCHITECTURES:-90}")
  fi
  printf '%s\n' "${opts[@]}"
}

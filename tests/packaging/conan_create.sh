#!/usr/bin/env bash
# Creates the Conan 2 package of fulcrum and runs its test_package, offline:
#   conan_create.sh SOURCE_DIR WORK_DIR
# Conan comes from PATH if it is Conan 2, else from a venv under WORK_DIR (pip install of a pinned
# version: the only network access). CONAN_HOME lives under WORK_DIR with a detected profile and
# every remote disabled, so `conan create` itself needs no network.
set -euo pipefail
src=$1
work=$2
conan_version=2.34.0
mkdir -p "$work"
if command -v conan >/dev/null 2>&1 && conan --version 2>/dev/null | grep -q "version 2\."; then
  conan=conan
else
  if [ ! -x "$work/venv/bin/conan" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q "conan==$conan_version"
  fi
  conan="$work/venv/bin/conan"
fi
export CONAN_HOME="$work/conan-home"
"$conan" --version
"$conan" profile detect --exist-ok >/dev/null 2>&1 || "$conan" profile detect --exist-ok
for remote in $("$conan" remote list --format json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(r["name"] for r in json.load(sys.stdin)))'); do
  "$conan" remote disable "$remote" >/dev/null
done
# Work on a copy of the recipe's inputs, so test_package/build never lands in the source tree.
rm -rf "$work/src"
mkdir -p "$work/src"
cp -r "$src/conanfile.py" "$src/test_package" "$src/include" "$src/cmake" "$src/src" "$src/CMakeLists.txt" "$src/LICENSE" "$work/src/"
rm -rf "$work/src/test_package/build"
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-c tools.cmake.cmaketoolchain:generator=Ninja)
"$conan" create "$work/src" --build=missing -s compiler.cppstd=20 -s build_type=Release "${gen[@]}"

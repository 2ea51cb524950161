#!/usr/bin/env bash
# Builds fulcrum on a fresh Debian machine (installs what is missing first) and runs the main job:
# fulcrum-plan on its embedded default dataset (W1, 100,000 LLaVA-like samples).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=setup.sh
source scripts/setup.sh
ensure_packages "${FULCRUM_BASE_PACKAGES[@]}"
mkdir -p build
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DFULCRUM_BUILD_TESTS=OFF >build/configure-demo.log 2>&1 \
  || { cat build/configure-demo.log; exit 1; }
cmake --build build/demo -j "$(nproc 2>/dev/null || echo 2)" >build/build-demo.log 2>&1 \
  || { tail -50 build/build-demo.log; exit 1; }
if [ -x build/demo/tools/fulcrum-plan/fulcrum-plan ]; then
  out=build/demo-output
  mkdir -p "$out"
  build/demo/tools/fulcrum-plan/fulcrum-plan balance --output "$out/plan.json" --svg "$out/chart.svg" "$@"
  echo "wrote $out/plan.json and $out/chart.svg"
else
  build/demo/examples/balance_microbatches
fi

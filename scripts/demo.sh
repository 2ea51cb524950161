#!/usr/bin/env bash
# Builds fulcrum on a fresh Debian machine (installs what is missing first) and runs the main job,
# fulcrum-plan, on its embedded default dataset (W1: 100,000 LLaVA-like samples):
#   1. pack:    the samples into sequences of 16,384 tokens (fewest sequences, vs next fit);
#   2. balance: the samples over 64 data-parallel ranks under the attention cost L + L^2/4096
#               (vs round-robin), writing plan.json and chart.svg.
# Extra arguments go to the balance run (e.g. scripts/demo.sh --ranks 128 --algorithm karmarkar_karp).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=setup.sh
source scripts/setup.sh
ensure_packages "${FULCRUM_BASE_PACKAGES[@]}"
mkdir -p build
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DFULCRUM_BUILD_TESTS=OFF -DFULCRUM_BUILD_EXAMPLES=OFF \
  >build/configure-demo.log 2>&1 || { cat build/configure-demo.log; exit 1; }
cmake --build build/demo -j "$(nproc 2>/dev/null || echo 2)" --target fulcrum-plan >build/build-demo.log 2>&1 \
  || { tail -50 build/build-demo.log; exit 1; }
plan=build/demo/tools/fulcrum-plan/fulcrum-plan
out=build/demo-output
mkdir -p "$out"
"$plan" pack --output "$out/pack-plan.json" --svg "$out/pack-chart.svg"
echo
"$plan" balance --output "$out/plan.json" --svg "$out/chart.svg" "$@"
echo
echo "demo outputs (open the .svg files in a browser):"
echo "  $root/$out/plan.json       balance plan: 64 ranks, every sample once (schema: docs/plan-schema.md)"
echo "  $root/$out/chart.svg       load per rank, round-robin vs balanced"
echo "  $root/$out/pack-plan.json  packing plan: the samples of every 16,384-token sequence"
echo "  $root/$out/pack-chart.svg  tokens per sequence, next fit vs fulcrum"
echo "more: $plan --help; docs/cli.md"

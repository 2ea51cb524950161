#!/usr/bin/env bash
# One command for the whole peer comparison (issue 10):
#   bash bench/peers/run.sh            full run (W1 1e5/1e6 packing, W1 65536 x 512 balancing,
#                                      vlm130..vlm1040 pipelines, 300 chains); writes the table into
#                                      docs/benchmarks.md; about 10-15 minutes on the 2-core machine
#   bash bench/peers/run.sh --smoke    tiny instances, 10 s limit, report only under the build dir
# Installs the peers (pinned) from PyPI into a virtual environment under build/peers-venv.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1
build=${FULCRUM_PEERS_BUILD:-build/peers}
venv=${FULCRUM_PEERS_VENV:-build/peers-venv}
mkdir -p "$build"

if [ ! -x "$build/bench/peers/fulcrum_peer_side" ] || [ "${FULCRUM_PEERS_REBUILD:-1}" = 1 ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFULCRUM_BUILD_BENCHMARKS=ON \
    -DFULCRUM_BUILD_TESTS=OFF -DFULCRUM_BUILD_EXAMPLES=OFF -DFULCRUM_BUILD_TOOLS=OFF >"$build/configure.log" 2>&1 \
    || { cat "$build/configure.log"; exit 1; }
  cmake --build "$build" --target fulcrum_peer_side >"$build/build.log" 2>&1 || { tail -40 "$build/build.log"; exit 1; }
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import prtpy, binpacking, numberpartitioning, numpy" 2>/dev/null; then
  "$venv/bin/pip" install -q prtpy==0.8.3 binpacking==2.0.1 numberpartitioning==0.0.2 numpy \
    || echo "peers: pip install failed; running the re-implemented peers only"
fi

inst="$build/instances"
mkdir -p "$inst"
if [ "$smoke" = 1 ]; then
  "$build/bench/peers/fulcrum_peer_side" write "$inst" --smoke
  "$build/bench/peers/fulcrum_peer_side" run "$inst" "$build/fulcrum.json"
  "$venv/bin/python" bench/peers/peers.py "$inst" "$build/peers.json" --limit 10 --chains 30
  "$venv/bin/python" bench/peers/report.py "$inst" "$build/fulcrum.json" "$build/peers.json" "$build/peers.md"
else
  "$build/bench/peers/fulcrum_peer_side" write "$inst"
  "$build/bench/peers/fulcrum_peer_side" run "$inst" "$build/fulcrum.json"
  "$venv/bin/python" bench/peers/peers.py "$inst" "$build/peers.json" --limit "${FULCRUM_PEERS_LIMIT:-60}"
  "$venv/bin/python" bench/peers/report.py "$inst" "$build/fulcrum.json" "$build/peers.json" "$build/peers.md" \
    --into docs/benchmarks.md --machine "${FULCRUM_MACHINE:-2-core build machine ($(nproc) cores, $(uname -m)), g++ -O3 Release}"
fi

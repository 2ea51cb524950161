#!/usr/bin/env bash
# fulcrum's Python API against the Python peers (issue 18; docs/benchmarks.md, "Python API vs Python peers").
#   bash bench/python/run.sh            full run (n = 4096, 65536, 1e6; 120 s limit per peer call;
#                                       2000 per-step calls); writes the section into docs/benchmarks.md.
#                                       About 15-25 minutes on the 2-core build machine.
#   bash bench/python/run.sh --smoke    n = 4096 only, 20 s limit, 200 calls; report under build/ only.
# Makes a virtual environment under build/python-bench-venv with the peers pinned from PyPI
# (verl==0.9.1 without its dependencies, prtpy==0.8.3, binpacking==2.0.1), numpy, matplotlib, and
# fulcrum built from ./python (torch is not needed: peers_verl.py stands in for it when absent).
# FULCRUM_PYBENCH_PYTHON=/path/to/python uses an existing interpreter instead (it must import fulcrum;
# the peers are installed into it). FULCRUM_MACHINE and FULCRUM_PYBENCH_DATE label the report.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1
out=build/python-bench
mkdir -p "$out"
py=${FULCRUM_PYBENCH_PYTHON:-}
if [ -z "$py" ]; then
  venv=build/python-bench-venv
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  py=$venv/bin/python
  if ! "$py" -c "import fulcrum" 2>/dev/null; then
    "$py" -m pip install -q ./python
  fi
fi
if ! "$py" -c "import prtpy, binpacking, matplotlib, numpy; import importlib.util as u; assert u.find_spec('verl')" 2>/dev/null; then
  "$py" -m pip install -q prtpy==0.8.3 binpacking==2.0.1 matplotlib numpy \
    || echo "bench/python: pip install of the peers failed; running what is importable"
  "$py" -m pip install -q --no-deps verl==0.9.1 || echo "bench/python: no verl; its rows are skipped"
fi
machine=${FULCRUM_MACHINE:-$(nproc)-core build machine ($(uname -m))}
if [ "$smoke" = 1 ]; then
  "$py" bench/python/bench_peers.py --sizes 4096 --limit 20 --step-calls 200 \
    --json build/python-bench/smoke.json --markdown build/python-bench/smoke.md --machine "$machine"
else
  "$py" bench/python/bench_peers.py --sizes 4096,65536,1000000 --limit "${FULCRUM_PYBENCH_LIMIT:-120}" \
    --step-calls 2000 --json build/python-bench/peers.json --markdown build/python-bench/peers.md --machine "$machine" \
    --into docs/benchmarks.md ${FULCRUM_PYBENCH_DATE:+--date "$FULCRUM_PYBENCH_DATE"}
fi

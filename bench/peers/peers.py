#!/usr/bin/env python3
"""Runs the peer implementations on the instances written by `fulcrum_peer_side write`.

usage: peers.py INSTANCE_DIR OUT.json [--limit SECONDS] [--chains N]

Each (case, peer) runs in a forked child with a wall-clock limit; the time measured is the
algorithm call only (inputs are loaded before the clock starts), single thread. Quality:
  pack:      bins used (checked: every item once, no bin over capacity)
  balance:   makespan / lower bound (bound from the manifest)
  pipeline:  bottleneck (compared with the exact optimum fulcrum reports)
It also runs the DeepSpeed partitioners on N random small chains and counts suboptimal answers
against an exact O(n^2 p) min-max DP written here (independent of fulcrum).
"""
import json
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reimplementations as re_impl  # noqa: E402


def _pack_peers():
    peers = [("LLaMA-Factory greedy_knapsack (re-impl.)", lambda xs, cap: re_impl.llamafactory_greedy_knapsack(xs, cap), "values"),
             ("TRL best-fit decreasing, segment tree (re-impl.)", lambda xs, cap: [[xs[i] for i in b] for b in re_impl.trl_bfd(xs, cap)], "values")]
    try:
        import prtpy
        peers.append(("prtpy first_fit_decreasing 0.8.3", lambda xs, cap: prtpy.pack(algorithm=prtpy.packing.first_fit_decreasing, binsize=cap, items=xs), "values"))
    except ImportError:
        pass
    try:
        import binpacking
        peers.append(("binpacking.to_constant_volume 2.0.1", lambda xs, cap: binpacking.to_constant_volume(xs, cap), "values"))
    except ImportError:
        pass
    return peers


def _exhaust(results):
    """complete_greedy is anytime: it yields better partitions until the search space is exhausted."""
    last = None
    for last in results:
        pass
    return last.partition


def _balance_peers(exact):
    peers = []
    try:
        import binpacking
        if not exact:
            peers.append(("binpacking.to_constant_bin_number 2.0.1", lambda xs, k: binpacking.to_constant_bin_number(xs, k)))
    except ImportError:
        pass
    try:
        import prtpy
        if exact:
            peers.append(("prtpy complete_greedy 0.8.3", lambda xs, k: prtpy.partition(algorithm=prtpy.partitioning.complete_greedy, numbins=k, items=xs)))
        else:
            peers.append(("prtpy greedy 0.8.3", lambda xs, k: prtpy.partition(algorithm=prtpy.partitioning.greedy, numbins=k, items=xs)))
            peers.append(("prtpy karmarkar_karp 0.8.3", lambda xs, k: prtpy.partition(algorithm=prtpy.partitioning.karmarkar_karp, numbins=k, items=xs)))
    except ImportError:
        pass
    try:
        import numberpartitioning as npart
        if exact:
            peers.append(("numberpartitioning complete_greedy 0.0.2", lambda xs, k: _exhaust(npart.complete_greedy(xs, num_parts=k))))
        else:
            peers.append(("numberpartitioning greedy 0.0.2", lambda xs, k: npart.greedy(xs, num_parts=k).partition))
            peers.append(("numberpartitioning karmarkar_karp 0.0.2", lambda xs, k: npart.karmarkar_karp(xs, num_parts=k).partition))
    except ImportError:
        pass
    return peers


def _pipeline_peers():
    return [("DeepSpeed partition_balanced, current DP (re-impl.)", re_impl.ds_partition_balanced_dp),
            ("DeepSpeed partition_balanced, bisection before 2023-12 (re-impl.)", re_impl.ds_partition_balanced_bisection),
            ("DeepSpeed partition_uniform (re-impl.)", lambda w, p: re_impl.ds_partition_uniform(len(w), p))]


def _bottleneck(weights, parts):
    return max(sum(weights[parts[i]:parts[i + 1]]) for i in range(len(parts) - 1))


def _child(conn, fn, args, evaluate):
    try:
        t0 = time.perf_counter()
        result = fn(*args)
        seconds = time.perf_counter() - t0
        conn.send(("ok", seconds, evaluate(result)))
    except Exception as e:  # report, don't crash the harness
        conn.send(("error: %s" % type(e).__name__, None, None))


def run_limited(fn, args, evaluate, limit):
    parent, child = mp.Pipe(duplex=False)
    proc = mp.get_context("fork").Process(target=_child, args=(child, fn, args, evaluate))
    proc.start()
    if parent.poll(limit):
        status, seconds, quality = parent.recv()
    else:
        status, seconds, quality = "timeout > %gs" % limit, None, None
    proc.kill()
    proc.join()
    return status, seconds, quality


def check_packing(values, cap):
    def evaluate(bins):
        flat = sorted(v for b in bins for v in b)
        if flat != sorted(values):
            raise ValueError("items lost or duplicated")
        if any(sum(b) > cap for b in bins):
            raise ValueError("bin over capacity")
        return len(bins)
    return evaluate


def exact_chain_optimum(w, p):
    n = len(w)
    pre = [0]
    for x in w:
        pre.append(pre[-1] + x)
    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(p + 1)]
    best[0][0] = 0
    for j in range(1, p + 1):
        for i in range(j, n + 1):
            best[j][i] = min(max(best[j - 1][t], pre[i] - pre[t]) for t in range(j - 1, i))
    return best[p][n]


def main():
    args = sys.argv[1:]
    inst_dir, out_path = args[0], args[1]
    limit = float(args[args.index("--limit") + 1]) if "--limit" in args else 60.0
    chains = int(args[args.index("--chains") + 1]) if "--chains" in args else 300
    with open(os.path.join(inst_dir, "manifest.json")) as f:
        manifest = json.load(f)
    rows = []

    def record(case, peer, status, seconds, quality, note):
        rows.append({"case": case, "peer": peer, "seconds": seconds, "status": status, "quality": quality, "note": note})
        shown = "%.3f ms" % (seconds * 1e3) if seconds is not None else status
        print("%-32s %-62s %14s  quality %s" % (case, peer, shown, quality), flush=True)

    slow_packers = set()
    for case in manifest:
        with open(os.path.join(inst_dir, case["file"])) as f:
            values = [float(x) for x in f.read().split()]
        if case["kind"] == "pack":
            ints = [int(v) for v in values]
            for name, fn, _ in _pack_peers():
                if name in slow_packers:
                    record(case["name"], name, "skipped (timed out on a smaller case)", None, None, "bins")
                    continue
                status, s, q = run_limited(fn, (list(ints), case["capacity"]), check_packing(ints, case["capacity"]), limit)
                if status.startswith("timeout"):
                    slow_packers.add(name)
                record(case["name"], name, status, s, q, "bins")
        elif case["kind"] in ("balance", "exact"):
            bound = case["bound"]
            ints_ok = all(v == int(v) for v in values)
            items = [int(v) for v in values] if ints_ok else values
            for name, fn in _balance_peers(case["kind"] == "exact"):
                def evaluate(parts, bound=bound):
                    return max(sum(p) for p in parts) / bound
                status, s, q = run_limited(fn, (list(items), case["parts"]), evaluate, limit)
                record(case["name"], name, status, s, q, "makespan/bound")
        elif case["kind"] == "pipeline":
            for name, fn in _pipeline_peers():
                status, s, q = run_limited(fn, (list(values), case["parts"]), lambda parts, w=values: _bottleneck(w, parts), limit)
                record(case["name"], name, status, s, q, "bottleneck")

    # Random small chains (written by fulcrum_peer_side): how often is each partitioner
    # suboptimal, and by how much, against an exact DP written here (independent of fulcrum)?
    instances = []
    with open(os.path.join(inst_dir, "chains.txt")) as f:
        for line in f:
            nums = [int(x) for x in line.split()]
            instances.append((nums[1:], nums[0]))
    instances = instances[:chains]
    optima = [exact_chain_optimum(w, p) for w, p in instances]
    for name, fn in _pipeline_peers():
        worse, worst = 0, 1.0
        for (w, p), opt in zip(instances, optima):
            b = _bottleneck(w, fn(list(w), p))
            if b > opt + 1e-9:
                worse += 1
                worst = max(worst, b / opt)
        record("chains_random_%d" % len(instances), name, "ok", None, {"suboptimal": worse, "worst_ratio": worst}, "vs exact DP")
    with open(os.path.join(inst_dir, "chain_optima.json"), "w") as f:
        json.dump(optima, f)
    with open(out_path, "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

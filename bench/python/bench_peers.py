#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fulcrum's Python API against the Python peers, in one process on the same W1 data (issue 18).

usage: bench_peers.py [--sizes 4096,65536,1000000] [--limit 120] [--k 64] [--capacity 16384]
                      [--step-calls 2000] [--json OUT.json] [--markdown OUT.md] [--into docs/benchmarks.md]

Data: W1 sequence lengths (docs/workloads.md, seed 20240601), generated in numpy bit-identically to
fulcrum::testing::generate_w1_tokens (w1.py). Every call goes through the Python API: fulcrum gets the
numpy array (conversion, validation and result arrays included in its time); the peers get the Python
list they take natively (made before their clock starts, which favours them).

Balancing (n items onto k parts; quality = max part load / lower bound max(ceil(total/k), max item)):
  fulcrum.balance (automatic) vs verl's get_seqlen_balanced_partitions (Karmarkar-Karp, real verl code,
  peers_verl.py), for the sequence lengths and for verl's own workload 24576*L + L^2
  (calculate_workload), each with equal_size False (micro-batches) and True (the trainer's DP split).
Packing into capacity C (quality = bins - L2, L2 = Martello-Toth bound computed here in numpy):
  fulcrum.pack (automatic) vs TRL best-fit decreasing (re-impl.), LLaMA-Factory greedy_knapsack
  (re-impl.), binpacking.to_constant_volume, prtpy first_fit_decreasing.
Per step: a 512-sample global batch over 8 ranks, microseconds per call (median, p99):
  fulcrum.balance(equal_counts=True) vs verl get_seqlen_balanced_partitions(equal_size=True), and
  fulcrum.pack_for_ranks vs verl's per-step pipeline (the same DP split, then every rank's samples
  into ceil(rank tokens / C) micro-batches by karmarkar_karp(equal_size=False), as
  rearrange_micro_batches does).

Peers run in a forked child of this process (same data, inherited) with a wall-clock limit and an
address-space limit; a peer past either is reported as '> limit'. Every result is checked (every
item exactly once, capacities held, loads recomputed here) before its quality is reported.
"""
import argparse
import datetime
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "peers"))
import w1  # noqa: E402

import fulcrum  # noqa: E402

MEMORY_LIMIT = 6 << 30  # bytes of address space per peer child
# Calls timed per fulcrum row up to n = 65,536 (the median is reported): enough that a stall of the
# shared machine, or the first call after a peer's fork (its pages copied on write), is not the median.
FULCRUM_REPS = 11


# ----------------------------------------------------------------------------------------- checks
def l2_bound(sizes: np.ndarray, capacity: int) -> int:
    """Martello-Toth L2 lower bound on the number of bins (items <= capacity), in numpy."""
    s = np.sort(sizes.astype(np.int64))
    c = int(capacity)
    best = -(-int(s.sum()) // c)
    csum = np.concatenate(([0], np.cumsum(s)))
    n = len(s)
    ks = np.unique(s[s <= c // 2])
    if len(ks) == 0:
        return max(best, int(np.count_nonzero(s > c // 2)))
    # N1: s > c - K; N2: c/2 < s <= c - K; N3: K <= s <= c/2
    i_half = np.searchsorted(s, c // 2, side="right")  # first index with s > c/2
    i_n1 = np.searchsorted(s, c - ks, side="right")  # first index with s > c - K
    i_k = np.searchsorted(s, ks, side="left")  # first index with s >= K
    n1 = n - i_n1
    n2 = i_n1 - i_half
    sum_n2 = csum[i_n1] - csum[i_half]
    sum_n3 = csum[i_half] - csum[i_k]
    rest = sum_n3 - (n2 * c - sum_n2)
    extra = np.where(rest > 0, -(-rest // c), 0)
    return max(best, int((n1 + n2 + extra).max()))


def check_index_groups(groups, n):
    flat = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups]) if len(groups) else np.zeros(0, np.int64)
    if len(flat) != n or not np.array_equal(np.sort(flat), np.arange(n)):
        raise AssertionError("not every item exactly once")


def check_value_bins(bins, values_sorted, capacity):
    flat = np.sort(np.concatenate([np.asarray(b, dtype=np.int64) for b in bins]))
    if not np.array_equal(flat, values_sorted):
        raise AssertionError("the bins' values are not the input multiset")
    if max(sum(b) for b in bins) > capacity:
        raise AssertionError("a bin over the capacity")


def partition_quality(groups, weights, k):
    check_index_groups(groups, len(weights))
    if len(groups) != k:
        raise AssertionError(f"{len(groups)} parts, expected {k}")
    loads = [int(weights[np.asarray(g, dtype=np.int64)].sum()) for g in groups]
    lb = max(-(-int(weights.sum()) // k), int(weights.max()))
    return max(loads) / lb, [len(g) for g in groups]


# ----------------------------------------------------------------------------------------- timing
def _child(conn, fn, reps):
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        conn.send(("ok", times, _CHECK(out) if _CHECK else None))
    except MemoryError:
        out = None  # free what the peer built, or sending the status fails too
        conn.send(("memory", None, None))
    except BaseException as e:  # noqa: BLE001
        conn.send(("error", None, f"{type(e).__name__}: {e}"))


_CHECK = None


def run_limited(fn, check, limit, reps=1):
    """Runs fn() reps times in a forked child; returns (status, median seconds, check(result))."""
    global _CHECK
    _CHECK = check
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, fn, reps))
    p.start()
    child.close()
    deadline = time.perf_counter() + limit * reps + 5
    got = None
    while time.perf_counter() < deadline:
        if parent.poll(0.2):
            try:
                got = parent.recv()
            except EOFError:  # the child died before it could report (out of memory)
                got = ("memory", None, None)
            break
        if not p.is_alive():
            break
    if got is None:
        p.kill()
        p.join()
        return ("limit", None, None)
    p.join()
    status, times, q = got
    if status != "ok":
        return (status, None, q)
    return ("ok", float(np.median(times)), q)


def time_calls(fn, reps):
    """Times reps calls of fn(); returns (list of seconds, the last result)."""
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def time_inline(fn, reps):
    times, out = time_calls(fn, reps)
    return float(np.median(times)), out


def fmt_q(q):
    """A ratio to the lower bound: '1' when it is the bound, else 1 + the excess."""
    return "1" if q == 1.0 else f"1 + {q - 1:.1e}"


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


# -------------------------------------------------------------------------------------- balancing
def bench_balance(n, lengths, k, limit, verl):
    rows = []
    lens_list = lengths.astype(np.int64).tolist()
    workload = 24576 * lengths.astype(np.int64) + lengths.astype(np.int64) ** 2
    if verl is not None:  # verl's own cost model gives the same numbers
        assert verl.calculate_workload(np.int64(1000)) == 24576 * 1000 + 1000**2
    work_list = workload.tolist()
    reps = FULCRUM_REPS if n <= 65536 else 3
    for cost_name, w, w_list in (("L", lengths.astype(np.int64), lens_list), ("24576 L + L^2", workload, work_list)):
        for equal in (False, True):
            if equal and n % k:
                continue
            auto = lambda: fulcrum.balance(w, k, equal_counts=equal)  # noqa: E731
            kk = lambda: fulcrum.balance(w, k, equal_counts=equal, algorithm="karmarkar_karp")  # noqa: E731
            # fulcrum is timed in two batches, before and after the peer (median of both): one stall
            # of the shared machine then cannot cover every call.
            ts, plan = time_calls(auto, reps)
            q, counts = partition_quality(list(plan.parts), w, k)
            if equal and (max(counts) - min(counts)) > 0:
                raise AssertionError("fulcrum: unequal counts")
            ts_kk, plan_kk = time_calls(kk, reps)
            q_kk, counts = partition_quality(list(plan_kk.parts), w, k)
            if equal and (max(counts) - min(counts)) > 0:
                raise AssertionError("fulcrum karmarkar_karp: unequal counts")
            row = {"kind": "balance", "n": n, "k": k, "cost": cost_name, "equal": equal,
                   "fulcrum_q": q, "fulcrum_kk_q": q_kk, "peers": []}
            if verl is not None:
                def call(w_list=w_list, equal=equal):
                    return verl.get_seqlen_balanced_partitions(w_list, k, equal_size=equal)

                def check(parts, w=w, equal=equal):
                    qq, cc = partition_quality(parts, w, k)
                    if equal and max(cc) != min(cc):
                        raise AssertionError("verl: unequal counts")
                    return qq

                st, pt, pq = run_limited(call, check, limit, reps=3 if n <= 65536 else 1)
                row["peers"].append({"name": f"verl {verl.VERSION} get_seqlen_balanced_partitions (KK)",
                                     "status": st, "s": pt, "q": pq})
                ts += time_calls(auto, reps)[0]
                ts_kk += time_calls(kk, reps)[0]
            row["fulcrum_s"] = float(np.median(ts))
            row["fulcrum_kk_s"] = float(np.median(ts_kk))
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


# ---------------------------------------------------------------------------------------- packing
def pack_peers():
    import reimplementations as re_impl

    peers = [
        ("TRL best-fit decreasing, segment tree (re-impl.)", lambda xs, c: re_impl.trl_bfd(xs, c), "indices"),
        ("LLaMA-Factory greedy_knapsack (re-impl.)", lambda xs, c: re_impl.llamafactory_greedy_knapsack(xs, c), "values"),
    ]
    try:
        import binpacking

        peers.append(("binpacking.to_constant_volume 2.0.1", lambda xs, c: binpacking.to_constant_volume(xs, c), "values"))
    except ImportError:
        print("binpacking not installed: skipped", file=sys.stderr)
    try:
        import prtpy

        peers.append(("prtpy first_fit_decreasing 0.8.3",
                      lambda xs, c: prtpy.pack(algorithm=prtpy.packing.first_fit_decreasing, binsize=c, items=xs), "values"))
    except ImportError:
        print("prtpy not installed: skipped", file=sys.stderr)
    return peers


def bench_pack(n, lengths, capacity, limit):
    l2 = l2_bound(lengths, capacity)
    reps = FULCRUM_REPS if n <= 65536 else 3
    t, res = time_inline(lambda: fulcrum.pack(lengths, capacity), reps)
    check_index_groups(list(res.bins), n)
    loads = [int(lengths[np.asarray(b, dtype=np.int64)].sum()) for b in res.bins]
    if max(loads) > capacity:
        raise AssertionError("fulcrum: a bin over the capacity")
    if res.lower_bound != l2:
        print(f"note: fulcrum's L2 {res.lower_bound} != numpy L2 {l2}", file=sys.stderr)
    row = {"kind": "pack", "n": n, "capacity": capacity, "l2": l2, "ceil_sum": -(-int(lengths.sum()) // capacity),
           "fulcrum_s": t, "fulcrum_bins": res.used_bins, "peers": []}
    xs = lengths.astype(np.int64).tolist()
    values_sorted = np.sort(lengths.astype(np.int64))
    for name, fn, out_kind in pack_peers():
        def check(bins, out_kind=out_kind):
            bins = [b for b in bins if len(b)]
            if out_kind == "indices":
                check_index_groups(bins, n)
                if max(int(lengths[np.asarray(b, dtype=np.int64)].sum()) for b in bins) > capacity:
                    raise AssertionError("a bin over the capacity")
            else:
                check_value_bins(bins, values_sorted, capacity)
            return len(bins)

        st, pt, pbins = run_limited(lambda fn=fn: fn(xs, capacity), check, limit, reps=3 if n <= 65536 else 1)
        row["peers"].append({"name": name, "status": st, "s": pt, "bins": pbins})
    print(json.dumps(row), flush=True)
    return row


# ---------------------------------------------------------------------------------------- per step
def bench_step(lengths_all, calls, capacity, verl, ranks=8, batch=512):
    """Per-step planning of a 512-sample global batch over 8 ranks: microseconds per call."""
    nb = len(lengths_all) // batch
    batches = [lengths_all[i * batch:(i + 1) * batch] for i in range(nb)]
    lists = [b.astype(np.int64).tolist() for b in batches]
    out = []

    def measure(fn, data):
        for d in data[:50]:  # warm-up
            fn(d)
        ts = np.empty(calls)
        for i in range(calls):
            d = data[i % len(data)]
            t0 = time.perf_counter_ns()
            fn(d)
            ts[i] = (time.perf_counter_ns() - t0) / 1e3
        return float(np.median(ts)), float(np.percentile(ts, 99))

    def quality_balance(plans, data):
        return float(np.mean([partition_quality(list(p), d.astype(np.int64), ranks)[0] for p, d in zip(plans, data)]))

    # 1. balance the global batch over the ranks, equal counts (verl's trainer _balance_batch)
    f = lambda d: fulcrum.balance(d, ranks, equal_counts=True)  # noqa: E731
    med, p99 = measure(f, batches)
    q = quality_balance([f(d).parts for d in batches[:20]], batches[:20])
    out.append({"case": f"balance {batch} samples onto {ranks} ranks, equal counts", "impl": "fulcrum.balance(equal_counts=True)",
                "median_us": med, "p99_us": p99, "quality": q})
    f0 = lambda d: fulcrum.balance(d, ranks, equal_counts=True, max_nodes=0)  # noqa: E731
    med, p99 = measure(f0, batches)
    q = quality_balance([f0(d).parts for d in batches[:20]], batches[:20])
    out.append({"case": out[-1]["case"], "impl": "fulcrum.balance(equal_counts=True, max_nodes=0): plain LPT",
                "median_us": med, "p99_us": p99, "quality": q})
    if verl is not None:
        g = lambda d: verl.get_seqlen_balanced_partitions(d, ranks, equal_size=True)  # noqa: E731
        med, p99 = measure(g, lists)
        q = quality_balance([g(d) for d in lists[:20]], batches[:20])
        out.append({"case": out[-1]["case"], "impl": f"verl {verl.VERSION} get_seqlen_balanced_partitions(equal_size=True)",
                    "median_us": med, "p99_us": p99, "quality": q})

    # 2. a whole step: ranks x micro-batches under the token budget
    def step_quality_fulcrum(d):
        r = fulcrum.pack_for_ranks(d, capacity, ranks)
        check_index_groups([b for b in r.bins], len(d))
        loads = np.asarray(r.loads, dtype=np.int64)
        if loads.max() > capacity:
            raise AssertionError("pack_for_ranks: over capacity")
        per_step = loads.reshape(r.steps, r.ranks)
        return r.steps, float(np.mean(per_step.max(axis=1))), int(loads.max())

    h = lambda d: fulcrum.pack_for_ranks(d, capacity, ranks)  # noqa: E731
    med, p99 = measure(h, batches)
    qs = [step_quality_fulcrum(d) for d in batches[:20]]
    out.append({"case": f"a step: {batch} samples, {ranks} ranks, micro-batches <= {capacity} tokens",
                "impl": "fulcrum.pack_for_ranks", "median_us": med, "p99_us": p99,
                "steps": float(np.mean([s for s, _, _ in qs])), "max_micro_batch": max(m for _, _, m in qs),
                "over_capacity": 0})
    if verl is not None:
        def verl_step(d):
            parts = verl.get_seqlen_balanced_partitions(d, ranks, equal_size=True)
            result = []
            for p in parts:
                w = [d[i] for i in p]
                m = min(len(w), -(-sum(w) // capacity))
                mbs = verl.get_seqlen_balanced_partitions([24576 * x + x * x for x in w], m, equal_size=False)
                result.append([[p[j] for j in mb] for mb in mbs])
            return result

        med, p99 = measure(verl_step, lists)
        over, worst, counts = 0, 0, []
        for d, lst in zip(batches[:20], lists[:20]):
            res = verl_step(lst)
            check_index_groups([mb for rank in res for mb in rank], len(d))
            loads = [int(d[np.asarray(mb)].sum()) for rank in res for mb in rank]
            over += sum(x > capacity for x in loads)
            worst = max(worst, max(loads))
            counts.append(max(len(rank) for rank in res))
        out.append({"case": out[-1]["case"], "impl": f"verl {verl.VERSION}: DP split + rearrange_micro_batches' KK per rank",
                    "median_us": med, "p99_us": p99, "steps": float(np.mean(counts)), "max_micro_batch": worst,
                    "over_capacity": over})
    for r in out:
        print(json.dumps(r), flush=True)
    return out


# ----------------------------------------------------------------------------------------- report
def peer_cell(p, quality):
    if p["status"] == "limit":
        return "> limit"
    if p["status"] == "memory":
        return f"> {MEMORY_LIMIT >> 30} GiB"
    if p["status"] != "ok":
        return f"error ({p.get('q') or p.get('bins')})"
    return f"{fmt_time(p['s'])}, {quality(p)}"


def report(results, args, machine):
    lines = []
    lines.append("## Python API vs Python peers (bench/python/bench_peers.py)")
    lines.append("")
    lines.append(f"- Command: `bash bench/python/run.sh` (= `python bench/python/bench_peers.py --sizes {args.sizes} "
                 f"--limit {args.limit:g} --k {args.k} --capacity {args.capacity} --step-calls {args.step_calls}`), "
                 f"fulcrum {fulcrum.__version__}, numpy {np.__version__}, Python {platform.python_version()}.")
    lines.append(f"- Machine: {machine}. Date: {args.date}. Single thread; wall time (`time.perf_counter`), median of "
                 f"{FULCRUM_REPS} calls (3 at n = 1e6) for fulcrum, twice that for a balance row with a peer (half before the peer, half "
                 "after), 3 calls up to n = 65,536 and 1 call above for the peers.")
    lines.append("- One process, the same data: W1 sequence lengths (docs/workloads.md, seed 20240601; "
                 "`bench/python/w1.py`, bit-identical to `generate_w1_tokens`). fulcrum is called with the numpy "
                 "array (conversion and result arrays included); the peers with the Python list they take "
                 "(built before their clock starts). Each peer call runs in a forked child of the process with a "
                 f"{args.limit:g} s wall-clock limit and a {MEMORY_LIMIT >> 30} GiB address-space limit ('> limit', "
                 f"'> {MEMORY_LIMIT >> 30} GiB'). Every result is checked (each item exactly once, capacities, loads "
                 "recomputed) before its quality is reported. verl is the real code of the PyPI wheel "
                 "(`bench/python/peers_verl.py` loads `verl/utils/seqlen_balancing.py` without verl's heavy "
                 "package imports); TRL and LLaMA-Factory are the re-implementations of `bench/peers/` (re-impl.).")
    lines.append("")
    bal = [r for r in results if r["kind"] == "balance"]
    if bal:
        lines.append(f"### Balancing n W1 samples onto k = {args.k} parts: time, max part load / max(ceil(total/k), max item)")
        lines.append("")
        lines.append("| n | cost | equal counts | fulcrum.balance (automatic) | fulcrum.balance (karmarkar_karp) | verl KK "
                     "| speed-up of the fastest fulcrum at <= verl's ratio |")
        lines.append("|---|---|---|---|---|---|---|")
        for r in bal:
            p = r["peers"][0] if r["peers"] else None
            pc = peer_cell(p, lambda p: fmt_q(p["q"])) if p else "-"
            variants = [("automatic", r["fulcrum_s"], r["fulcrum_q"]), ("karmarkar_karp", r["fulcrum_kk_s"], r["fulcrum_kk_q"])]
            if p and p["status"] == "ok":
                fit = [v for v in variants if v[2] <= p["q"] * (1 + 1e-12)]
                if fit:
                    name, t, qv = min(fit, key=lambda v: v[1])
                    sp = f"x{p['s'] / t:.0f} ({name}{', better' if qv < p['q'] * (1 - 1e-12) else ', equal'})"
                else:
                    sp = "**none**: both fulcrum algorithms above verl's ratio"
            elif p and p["status"] == "limit":
                sp = f"> x{args.limit / min(v[1] for v in variants):.0f} (verl past the limit)"
            elif p:
                sp = f"- (verl: {pc})"
            else:
                sp = "-"
            lines.append(f"| {r['n']:,} | {r['cost']} | {'yes' if r['equal'] else 'no'} | "
                         f"{fmt_time(r['fulcrum_s'])}, {fmt_q(r['fulcrum_q'])} | {fmt_time(r['fulcrum_kk_s'])}, {fmt_q(r['fulcrum_kk_q'])} "
                         f"| {pc} | {sp} |")
        lines.append("")
    pk = [r for r in results if r["kind"] == "pack"]
    if pk:
        lines.append(f"### Packing n W1 samples into capacity C = {args.capacity}: time, bins - L2 (Martello-Toth, computed in numpy)")
        lines.append("")
        names = []
        for r in pk:
            for p in r["peers"]:
                if p["name"] not in names:
                    names.append(p["name"])
        lines.append("| n | L2 | fulcrum.pack | " + " | ".join(names) + " | speed-up vs fastest peer (at <= its bins) |")
        lines.append("|---|---|---|" + "---|" * len(names) + "---|")
        for r in pk:
            cells = []
            ok = []
            for name in names:
                p = next((p for p in r["peers"] if p["name"] == name), None)
                if p is None:
                    cells.append("-")
                    continue
                cells.append(peer_cell(p, lambda p: f"L2+{p['bins'] - r['l2']}"))
                if p["status"] == "ok":
                    ok.append(p)
            if ok:
                fastest = min(ok, key=lambda p: p["s"])
                sp = f"x{fastest['s'] / r['fulcrum_s']:.0f} ({'fulcrum <= its bins' if r['fulcrum_bins'] <= fastest['bins'] else 'fulcrum more bins'})"
            else:
                sp = f"> x{args.limit / r['fulcrum_s']:.0f} (no peer within the limit)"
            lines.append(f"| {r['n']:,} | {r['l2']:,} | {fmt_time(r['fulcrum_s'])}, L2+{r['fulcrum_bins'] - r['l2']} | "
                         + " | ".join(cells) + f" | {sp} |")
        lines.append("")
    st = [r for r in results if r["kind"] == "step"]
    if st:
        lines.append(f"### Per step: a 512-sample global batch over 8 ranks ({args.step_calls} calls over "
                     "consecutive 512-sample W1 batches, microseconds per call)")
        lines.append("")
        lines.append("| case | implementation | median | p99 | quality |")
        lines.append("|---|---|---|---|---|")
        for r in st:
            if "quality" in r:
                q = f"max rank load / bound {fmt_q(r['quality'])} (mean of 20 batches)"
            else:
                q = (f"{r['steps']:.2f} micro-batches per rank (mean), largest {r['max_micro_batch']} tokens, "
                     f"{r['over_capacity']} over the budget (20 batches)")
            lines.append(f"| {r['case']} | {r['impl']} | {r['median_us']:.1f} us | {r['p99_us']:.1f} us | {q} |")
        lines.append("")
    lines += targets(results, args)
    return "\n".join(lines)


def targets(results, args):
    """The issue's targets, met or missed, from the measured rows."""
    out = ["### Against the targets (issue 18)", ""]
    bal = [r for r in results if r["kind"] == "balance" and r["n"] >= 65536 and r["peers"]]
    for r in bal:
        p = r["peers"][0]
        what = f"balance n = {r['n']:,}, cost {r['cost']}, equal counts {'yes' if r['equal'] else 'no'}"
        variants = [("automatic", r["fulcrum_s"], r["fulcrum_q"]), ("karmarkar_karp", r["fulcrum_kk_s"], r["fulcrum_kk_q"])]
        if p["status"] != "ok":
            t = min(v[1] for v in variants)
            out.append(f"- {what}: **met**: verl did not finish ({'> ' + format(args.limit, 'g') + ' s' if p['status'] == 'limit' else 'out of memory at ' + str(MEMORY_LIMIT >> 30) + ' GiB' if p['status'] == 'memory' else p['status']}), fulcrum {fmt_time(t)}.")
            continue
        fit = [v for v in variants if v[2] <= p["q"] * (1 + 1e-12)]
        if not fit:
            best = min(variants, key=lambda v: v[2])
            out.append(f"- {what}: **missed on quality**: verl's KK reaches {fmt_q(p['q'])}, fulcrum's best "
                       f"{fmt_q(best[2])} ({best[0]}, x{p['s'] / best[1]:.0f} faster); the difference is "
                       f"{(best[2] / p['q'] - 1):.1e} of the makespan.")
            continue
        name, t, _ = min(fit, key=lambda v: v[1])
        ratio = p["s"] / t
        out.append(f"- {what}: {'**met**' if ratio >= 50 else '**missed**'}: x{ratio:.0f} faster ({name}) at equal or better quality.")
    for r in (r for r in results if r["kind"] == "pack" and r["n"] >= 65536):
        ok = [p for p in r["peers"] if p["status"] == "ok"]
        if not ok:
            out.append(f"- pack n = {r['n']:,}: **met**: no peer finished within {args.limit:g} s; fulcrum {fmt_time(r['fulcrum_s'])}, L2+{r['fulcrum_bins'] - r['l2']}.")
            continue
        fastest = min(ok, key=lambda p: p["s"])
        ratio = fastest["s"] / r["fulcrum_s"]
        good = r["fulcrum_bins"] <= fastest["bins"]
        out.append(f"- pack n = {r['n']:,}: {'**met**' if ratio >= 50 and good else '**missed**'}: x{ratio:.0f} faster than the "
                   f"fastest peer ({fastest['name']}), {'equal or fewer' if good else 'more'} bins (L2+{r['fulcrum_bins'] - r['l2']} "
                   f"vs L2+{fastest['bins'] - r['l2']}).")
    for r in (r for r in results if r["kind"] == "step" and r["impl"].startswith("fulcrum")):
        out.append(f"- < 50 us per call, {r['case']}, {r['impl']}: {'**met**' if r['median_us'] < 50 else '**missed**'} "
                   f"(median {r['median_us']:.1f} us, p99 {r['p99_us']:.1f} us on the loaded machine).")
    out.append("")
    return out


def into_doc(path, section):
    text = open(path).read()
    head = "## Python API vs Python peers"
    start = text.find(head)
    if start >= 0:
        nxt = text.find("\n## ", start + len(head))
        text = text[:start] + section.rstrip() + "\n" + (text[nxt:] if nxt >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section.rstrip() + "\n"
    open(path, "w").write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="4096,65536,1000000")
    ap.add_argument("--limit", type=float, default=120.0)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--capacity", type=int, default=16384)
    ap.add_argument("--step-calls", type=int, default=2000)
    ap.add_argument("--only", default="balance,pack,step")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    ap.add_argument("--into")
    ap.add_argument("--machine", default=f"{os.cpu_count()}-core machine ({platform.machine()})")
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    ap.add_argument("--from-json", help="only render the report of a saved --json run")
    args = ap.parse_args()
    if args.from_json:
        results = json.load(open(args.from_json))
        md = report(results, args, args.machine)
        print(md)
        if args.markdown:
            open(args.markdown, "w").write(md + "\n")
        if args.into:
            into_doc(args.into, md)
        return
    import peers_verl

    verl = peers_verl.load()
    if verl is None:
        print("verl not installed (pip install verl==0.9.1 --no-deps): its rows are skipped", file=sys.stderr)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    only = set(args.only.split(","))
    data = w1.w1_tokens(max(sizes + [512 * 64]))
    results = []
    for n in sizes:
        lengths = data[:n]
        if "balance" in only:
            results += bench_balance(n, lengths, args.k, args.limit, verl)
        if "pack" in only:
            results.append(bench_pack(n, lengths, args.capacity, args.limit))
    if "step" in only:
        for r in bench_step(data[: 512 * 64], args.step_calls, args.capacity, verl):
            r["kind"] = "step"
            results.append(r)
    if args.json:
        json.dump(results, open(args.json, "w"), indent=1)
    md = report(results, args, args.machine)
    print(md)
    if args.markdown:
        open(args.markdown, "w").write(md + "\n")
    if args.into:
        into_doc(args.into, md)


if __name__ == "__main__":
    main()

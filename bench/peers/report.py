#!/usr/bin/env python3
"""Merges fulcrum's and the peers' results into a Markdown section.

usage: report.py INSTANCE_DIR FULCRUM.json PEERS.json OUT.md [--into docs/benchmarks.md] [--machine TEXT]

Each case gets a table: tool, time, quality, and fulcrum's speed-up over the tool (tool time /
fulcrum time, measured in the same run), with a verdict per row computed from the numbers:
fulcrum ahead = faster at equal or better quality.
"""
import datetime
import json
import os
import sys

BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"


def fmt_time(s):
    if s is None:
        return "-"
    return "%.2f ms" % (s * 1e3) if s < 1 else "%.2f s" % s


def main():
    a = sys.argv[1:]
    inst_dir, fulcrum_path, peers_path, out_md = a[:4]
    into = a[a.index("--into") + 1] if "--into" in a else None
    machine = a[a.index("--machine") + 1] if "--machine" in a else "2-core build machine"
    manifest = json.load(open(os.path.join(inst_dir, "manifest.json")))
    ours = json.load(open(fulcrum_path))
    peers = json.load(open(peers_path))
    optima = json.load(open(os.path.join(inst_dir, "chain_optima.json")))
    lines = [BEGIN, "", "## Side by side with peers (bench/peers/run.sh)", "",
             "Machine: %s. Date: %s. Command: `bash bench/peers/run.sh`. Single thread; time of the"
             " algorithm call only; fulcrum best of >= 3 runs, peers one run each (in a forked child with a time"
             " limit). \"(re-impl.)\" marks peers re-implemented from their source because they are not packaged."
             % (machine, datetime.date.today().isoformat()), ""]
    for case in manifest:
        name, kind = case["name"], case["kind"]
        mine = [r for r in ours if r["case"] == name]
        theirs = [r for r in peers if r["case"] == name]
        if not mine:
            continue
        if kind == "pack":
            bound = case["bound"]
            title = "Packing %s, capacity %d (items truncated to capacity), L2 = %d bins" % (name, case["capacity"], bound)
            q = lambda r: None if r["quality"] is None else r["quality"] - bound
            qfmt = lambda r: "-" if r["quality"] is None else "%d (L2%+d)" % (r["quality"], r["quality"] - bound)
        elif kind in ("balance", "exact"):
            title = "Balancing %s onto k = %d, makespan / lower bound (%.6g)" % (name, case["parts"], case["bound"])
            q = lambda r: r["quality"]
            qfmt = lambda r: "-" if r["quality"] is None else "%.6f%s" % (r["quality"], " (proven optimal)" if "proven" in r.get("note", "") else "")
        else:
            opt = mine[0]["quality"]
            title = "Pipeline partition %s stages, bottleneck / exact optimum (%.6g)" % (name.rsplit("_", 1)[0] + ", " + name.rsplit("_", 1)[1], opt)
            q = lambda r, opt=opt: None if r["quality"] is None else r["quality"] / opt
            qfmt = lambda r, opt=opt: "-" if r["quality"] is None else "%.4f" % (r["quality"] / opt)
        best = min(mine, key=lambda r: r["seconds"])
        best_q = q(mine[0])
        lines += ["### " + title, "", "| tool | time | quality | fulcrum speed-up | verdict |", "|---|---|---|---|---|"]
        for r in mine:
            lines.append("| %s | %s | %s | | |" % (r["peer"], fmt_time(r["seconds"]), qfmt(r)))
        for r in theirs:
            if r["seconds"] is None:
                lines.append("| %s | %s | - | - | fulcrum ahead (peer gave no answer) |" % (r["peer"], r["status"]))
                continue
            ratio = r["seconds"] / mine[0]["seconds"]
            pq = q(r)
            better_or_equal = best_q is not None and pq is not None and best_q <= pq * (1 + 1e-9) + 1e-12
            if better_or_equal and ratio >= 1:
                verdict = "fulcrum ahead"
            elif better_or_equal:
                verdict = "peer faster (x%.2f), fulcrum quality equal or better" % (1 / ratio)
            else:
                verdict = "peer better quality (%s vs %s)" % (qfmt(r), qfmt(mine[0]))
            lines.append("| %s | %s | %s | x%.1f | %s |" % (r["peer"], fmt_time(r["seconds"]), qfmt(r), ratio, verdict))
        lines.append("")
    # chains
    chains = [r for r in ours if r["case"] == "chains"]
    chain_peers = [r for r in peers if r["case"].startswith("chains_random")]
    if chains and chain_peers:
        bn = chains[0]["quality"]
        worse = sum(1 for b, o in zip(bn, optima) if b > o + 1e-9)
        worst = max([1.0] + [b / o for b, o in zip(bn, optima)])
        lines += ["### Pipeline partition, %d random small chains (n 4..40, p 2..8), vs an exact DP in Python" % len(optima), "",
                  "| tool | suboptimal | worst ratio | time (all chains) |", "|---|---|---|---|",
                  "| fulcrum partition_stages (exact) | %d/%d | %.3f | %s |" % (worse, len(optima), worst, fmt_time(chains[0]["seconds"]))]
        for r in chain_peers:
            lines.append("| %s | %d/%d | %.3f | - |" % (r["peer"], r["quality"]["suboptimal"], len(optima), r["quality"]["worst_ratio"]))
        lines.append("")
    lines.append(END)
    text = "\n".join(lines) + "\n"
    with open(out_md, "w") as f:
        f.write(text)
    if into:
        doc = open(into).read() if os.path.exists(into) else "# Benchmarks\n\n"
        if BEGIN in doc and END in doc:
            doc = doc[:doc.index(BEGIN)] + text.rstrip("\n") + doc[doc.index(END) + len(END):]
        else:
            doc = doc.rstrip("\n") + "\n\n" + text
        with open(into, "w") as f:
            f.write(doc)
    print(text)


if __name__ == "__main__":
    main()

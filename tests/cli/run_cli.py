#!/usr/bin/env python3
"""Runs fulcrum-plan and checks what it did (used by the CTest tests in this folder).

  run_cli.py [--exit N] [--stdout REGEX] [--stderr REGEX] [--absent PATH]... [--plan PLAN.json]
             [--input DATA] [--tokens-field F] [--cost tokens] [--svg CHART.svg] -- COMMAND...

--exit        expected exit status (default 0)
--stdout/--stderr  regexes that must match the program's output
--absent      a file that must not exist afterwards (no half-written output on failure)
--plan        validate the plan file: schema_version 1, every sample exactly once, loads one per
              group; with --input, the sample count and (for --cost tokens) each group's load
              recomputed from the input file
--svg         the chart must parse as XML, be an <svg> root, and have a title and axis labels
--cost-model  validate a calibrate cost model file: JSON with model, non-negative a, b, c and a fit
              report; each --expect KEY=VALUE must hold within a relative 1e-6

  run_cli.py --contract FULCRUM_PLAN OUT_DIR DATA_DIR

--contract    runs every case of the command line's contract ("bad input exits 2 with a sentence
              naming the file, line, field or option and its range; no output is half-written"):
              absurd sizes, exact numbers, byte order marks, directories given as files, an
              unwritable --svg next to a writable --output, a 60 MB JSONL line under a 1 GiB
              address-space limit. Each case checks the exit status, the message, and that no
              output file (nor any temporary) exists afterwards.
"""
import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def read_sizes(path, text_field, images_field, tokens_field):
    rows = []
    if path.endswith(".csv"):
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f)]
    else:
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    sizes = []
    for r in rows:
        if tokens_field:
            sizes.append(int(float(r[tokens_field])))
        else:
            images = r.get(images_field, 0) if images_field else 0
            if isinstance(images, list):
                images = len(images)
            sizes.append(int(float(r[text_field])) + 576 * int(float(images)))
    return sizes


def check_plan(path, args):
    with open(path) as f:
        plan = json.load(f)
    if plan.get("schema_version") != 1:
        fail("schema_version is not 1")
    for key in ("command", "algorithm", "input", "parameters", "groups", "stats"):
        if key not in plan:
            fail("plan lacks " + key)
    n = plan["input"]["items"]
    groups = plan["groups"]["items"]
    if plan["groups"]["count"] != len(groups):
        fail("groups.count differs from the number of groups")
    if len(plan["groups"]["loads"]) != len(groups):
        fail("one load per group expected")
    seen = [0] * n
    for g in groups:
        for i in g:
            if not (0 <= i < n):
                fail("item %d out of range" % i)
            seen[i] += 1
    if any(c != 1 for c in seen):
        fail("not every sample exactly once")
    stats = plan["stats"]
    for side in ("before", "after"):
        for key in ("groups", "max", "mean", "imbalance", "efficiency", "loads"):
            if key not in stats[side]:
                fail("stats.%s lacks %s" % (side, key))
    if stats["after"]["max"] + 1e-9 < stats["lower_bound"] * (1 - 1e-12) and plan["command"] == "balance":
        fail("makespan below the lower bound")
    if args.input:
        sizes = read_sizes(args.input, args.text_field, args.images_field, args.tokens_field)
        if len(sizes) != n:
            fail("plan has %d items, input has %d" % (n, len(sizes)))
        if args.cost == "tokens":
            for gi, g in enumerate(groups):
                load = sum(sizes[i] for i in g)
                if abs(load - plan["groups"]["loads"][gi]) > 1e-6 * max(1, load):
                    fail("group %d load %s, recomputed %s" % (gi, plan["groups"]["loads"][gi], load))
            if "capacity" in plan["parameters"] and plan["command"] == "pack":
                cap = plan["parameters"]["capacity"]
                for gi, g in enumerate(groups):
                    if sum(sizes[i] for i in g) > cap and len(g) > 1:
                        fail("bin %d over capacity" % gi)
    print("plan ok: %d items in %d groups" % (n, len(groups)))


def check_svg(path):
    root = ET.parse(path).getroot()
    if not root.tag.endswith("svg"):
        fail("root element is not <svg>")
    ns = "{http://www.w3.org/2000/svg}"
    texts = ["".join(t.itertext()) for t in root.iter(ns + "text")]
    if not root.find(ns + "title").text:
        fail("chart has no title")
    if len(texts) < 8:
        fail("chart has too few labels")
    shapes = len(list(root.iter(ns + "rect"))) + len(list(root.iter(ns + "polyline")))
    if shapes < 3:  # background + legend swatch + at least one bar or line
        fail("chart draws no data")
    print("svg ok: %d text elements" % len(texts))


# ---- the contract ------------------------------------------------------------------------------

def contract(plan_exe, out_dir, data_dir):
    """Runs every contract case; returns the number of failed cases."""
    work = os.path.join(out_dir, "contract")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    files = os.path.join(work, "inputs")  # inputs live apart from the outputs' directory
    os.makedirs(files)
    outs = os.path.join(work, "outputs")
    os.makedirs(outs)
    plan = os.path.join(outs, "plan.json")
    svg = os.path.join(outs, "chart.svg")
    regular = os.path.join(files, "regular.txt")
    with open(regular, "w") as f:
        f.write("a regular file\n")

    def write(name, text):
        path = os.path.join(files, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return path

    bom = "\ufeff"
    bom_csv = write("bom.csv", bom + "text_tokens,images\r\n100,1\r\n200,0\r\n300,2\r\n")
    bom_jsonl = write("bom.jsonl", bom + '{"text_tokens": 100, "images": 1}\n{"text_tokens": 200, "images": 0}\n')
    tiny = '1.0000000000000001'
    j_tiny = write("tiny.jsonl", '{"text_tokens": 5, "images": 0}\n{"text_tokens": %s, "images": 0}\n' % tiny)
    j_big = write("big_fraction.jsonl", '{"text_tokens": 4294967295.0000001, "images": 0}\n')
    j_under = write("underflow.jsonl", '{"text_tokens": 3, "images": 0}\n{"text_tokens": 1, "images": 0}\n'
                    '{"text_tokens": 1e-400, "images": 0}\n')
    c_tiny = write("tiny.csv", "text_tokens,images\n1.0000000000000001,0\n")
    # A 60 MB line: one 30M-element image array (this once cost 3 GB of memory).
    huge = os.path.join(files, "huge_line.jsonl")
    with open(huge, "w") as f:
        f.write('{"text_tokens": 1, "images": 0}\n{"text_tokens": 1, "images": [')
        chunk = "0," * 1000000
        for _ in range(30):
            f.write(chunk)
        f.write("0]}\n")

    balance = [plan_exe, "balance", "--samples", "2000", "--ranks", "4"]
    outputs = ["-o", plan, "--svg", svg]
    plain_range = r"must be [0-9]+\.\.[0-9]+"
    cases = [
        # name, command, expected exit, stderr regex
        ("svg in a missing directory leaves no plan", balance + ["-o", plan, "--svg", os.path.join(outs, "missing", "c.svg")],
         2, r"--svg = .*missing.*: directory .* does not exist"),
        ("svg inside a regular file leaves no plan", balance + ["-o", plan, "--svg", os.path.join(regular, "c.svg")],
         2, r"--svg = .*regular\.txt.*: .*regular\.txt is not a directory"),
        ("output is a directory", balance + ["-o", outs, "--svg", svg], 2, r"--output = .*: is a directory"),
        ("output and svg the same file", balance + ["-o", plan, "--svg", plan], 2, r"--output and --svg name the same file"),
        ("ranks 2^32", [plan_exe, "balance", "--ranks", "4294967296"] + outputs, 2,
         r"--ranks = 4294967296: exceeds 65536; --ranks must be 1\.\.65536"),
        ("ranks 2^64-1 (was a segfault)", [plan_exe, "balance", "--ranks", "18446744073709551615"] + outputs, 2,
         r"--ranks = 18446744073709551615: exceeds 65536; --ranks must be 1\.\.65536"),
        ("ranks 2^64", [plan_exe, "balance", "--ranks", "18446744073709551616"] + outputs, 2, r"--ranks must be 1\.\.65536"),
        ("ranks 0", [plan_exe, "balance", "--ranks", "0"] + outputs, 2, r"--ranks = 0: is below 1; --ranks must be 1\.\.65536"),
        ("ranks negative", [plan_exe, "balance", "--ranks=-3"] + outputs, 2, r"--ranks = -3: is negative; --ranks must be 1\.\.65536"),
        ("ranks not a number", [plan_exe, "balance", "--ranks", "4x"] + outputs, 2, r"--ranks = 4x: is not a number; --ranks must be 1\.\.65536"),
        ("ranks 1.0000000000000001", [plan_exe, "balance", "--ranks", tiny] + outputs, 2,
         r"--ranks = 1\.0000000000000001: is not a whole number; --ranks must be 1\.\.65536"),
        ("micro-batches 2^32-1", [plan_exe, "balance", "--micro-batches", "4294967295"] + outputs, 2,
         r"--micro-batches = 4294967295: exceeds 65536; --micro-batches must be 1\.\.65536"),
        ("ranks x micro-batches", [plan_exe, "balance", "--ranks", "65536", "--micro-batches", "65536"] + outputs, 2,
         r"--ranks x --micro-batches = 65536 x 65536: more than 1048576 parts"),
        ("samples 99999999999", [plan_exe, "balance", "--samples", "99999999999"] + outputs, 2,
         r"--samples = 99999999999: exceeds 10000000; --samples must be 1\.\.10000000"),
        ("capacity 2^64", [plan_exe, "pack", "--capacity", "18446744073709551616"] + outputs, 2,
         r"--capacity = 18446744073709551616: exceeds 9007199254740992; --capacity must be 1\.\.9007199254740992"),
        ("capacity 2^64-1", [plan_exe, "pack", "--capacity", "18446744073709551615"] + outputs, 2, r"--capacity must be 1\.\.9007199254740992"),
        ("time limit 2^64-1", [plan_exe, "pack", "--time-limit-ms", "18446744073709551615"] + outputs, 2,
         r"--time-limit-ms must be 0\.\.86400000"),
        ("stages", [plan_exe, "pipeline", "--stages", "4294967296"] + outputs, 2, r"--stages must be 1\.\.1024"),
        ("recompute memory", [plan_exe, "recompute", "--memory", "1e30"] + outputs, 2, r"--memory must be 0\.\.9007199254740992"),
        ("dispatch ranks", [plan_exe, "dispatch-sim", "--ranks", "1000000"] + outputs, 2, r"--ranks must be 1\.\.1024"),
        ("dispatch payload", [plan_exe, "dispatch-sim", "--samples", "4096", "--ranks", "4", "--batch", "4096", "--steps", "1",
                              "--bytes-per-token", "1024"] + outputs, 2, r"one step's payload must be at most 1073741824 bytes"),
        ("bench repeat", [plan_exe, "bench", "balance", "--repeat", "99999999999"] + outputs, 2, r"--repeat must be 1\.\.1000"),
        ("cost coefficient negative: range in plain numbers", [plan_exe, "balance", "--cost-a=-1"] + outputs, 2,
         r"--cost-a = -1: is negative; --cost-a must be 0\.\.1000000000$"),
        ("cost coefficient underflow", [plan_exe, "balance", "--cost-b", "1e-400"] + outputs, 2,
         r"--cost-b = 1e-400: is too small for a double.*; --cost-b must be 0\.\.1000000000"),
        ("cost coefficient overflow", [plan_exe, "balance", "--cost-c", "1e400"] + outputs, 2, r"--cost-c = 1e400: is too large"),
        ("bytes per token", [plan_exe, "dispatch-sim", "--bytes-per-token", "1e300"] + outputs, 2,
         r"--bytes-per-token = 1e300: is above 1024; --bytes-per-token must be 0\.\.1024$"),
        ("input is a directory", [plan_exe, "balance", "-i", data_dir] + outputs, 2, r": is a directory, expected a file"),
        ("layers is a directory", [plan_exe, "pipeline", "--layers", data_dir] + outputs, 2, r": is a directory, expected a file"),
        ("jsonl 1.0000000000000001", [plan_exe, "balance", "-i", j_tiny] + outputs, 2,
         r"tiny\.jsonl:2: field \"text_tokens\" = 1\.0000000000000001: is not a whole number"),
        ("jsonl 4294967295.0000001", [plan_exe, "balance", "-i", j_big] + outputs, 2,
         r"big_fraction\.jsonl:1: field \"text_tokens\" = 4294967295\.0000001: is not a whole number"),
        ("jsonl 1e-400", [plan_exe, "pack", "-i", j_under] + outputs, 2,
         r"underflow\.jsonl:3: field \"text_tokens\" = 1e-400: is not a whole number"),
        ("csv 1.0000000000000001", [plan_exe, "pack", "-i", c_tiny] + outputs, 2,
         r"tiny\.csv:2: field \"text_tokens\" = 1\.0000000000000001: is not a whole number"),
        ("60 MB line in 1 GiB of memory", [plan_exe, "balance", "-i", huge] + outputs, 2,
         r"huge_line\.jsonl:2: line longer than 1048576 bytes \(the reader's limit per line\)"),
    ]
    failed = 0

    # A sanitizer build reserves terabytes of shadow address space: it cannot run under an
    # address-space limit, so the 1 GiB bound is checked only in the plain build (stage 1).
    sanitized = "ASAN_OPTIONS" in os.environ

    def limit_memory():
        if not sanitized:
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    for name, cmd, code, pattern in cases:
        before = sorted(os.listdir(outs))
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, preexec_fn=limit_memory)
            status, err = r.returncode, r.stderr
        except subprocess.TimeoutExpired:
            status, err = "timeout", ""
        problems = []
        if status != code:
            problems.append("exit status %s, expected %d" % (status, code))
        if not re.search(pattern, err, re.M):
            problems.append("stderr does not match %r" % pattern)
        if not err.startswith("fulcrum-plan: error: "):
            problems.append("stderr is not one 'fulcrum-plan: error:' sentence")
        if re.search(r"std::|basic_|bad_alloc|e\+308|179769", err):
            problems.append("stderr leaks a library message or a number in full")
        after = sorted(os.listdir(outs))
        if after != before:
            problems.append("outputs written: %s" % sorted(set(after) - set(before)))
        print("%s: %s%s" % ("PASS" if not problems else "FAIL", name, "" if not problems else " -- " + "; ".join(problems)))
        print("    " + err.strip().replace("\n", "\n    "))
        failed += 1 if problems else 0

    # Accepted: a UTF-8 byte order mark at the start of a CSV or JSONL file is skipped.
    for path, n in ((bom_csv, 3), (bom_jsonl, 2)):
        r = subprocess.run([plan_exe, "balance", "-i", path, "--cost", "tokens", "-k", "2", "-o", plan, "--svg", svg],
                           capture_output=True, text=True, timeout=120)
        ok = r.returncode == 0 and os.path.exists(plan) and os.path.exists(svg)
        if ok:
            with open(plan) as f:
                ok = json.load(f)["input"]["items"] == n
        print("%s: byte order mark accepted in %s%s" % ("PASS" if ok else "FAIL", os.path.basename(path),
                                                          "" if ok else " -- exit %d: %s" % (r.returncode, r.stderr.strip())))
        failed += 0 if ok else 1
        for p in (plan, svg):
            if os.path.exists(p):
                os.remove(p)
    os.remove(huge)
    return failed


def check_cost_model(path, expects):
    try:
        with open(path) as f:
            m = json.load(f)
    except Exception as e:  # noqa: BLE001
        fail("cost model %s: %s" % (path, e))
    if m.get("model") not in ("attention", "attention_plus_tiles"):
        fail("cost model: model = %r" % m.get("model"))
    for k in ("a", "b", "c") + (("per_tile", "tokens_per_tile") if m["model"] == "attention_plus_tiles" else ()):
        if not isinstance(m.get(k), (int, float)) or m[k] < 0:
            fail("cost model: %s = %r is not a non-negative number" % (k, m.get(k)))
    fit = m.get("fit", {})
    if not fit.get("samples") or not (0 <= fit.get("rms_relative_error", -1)) or "r_squared" not in fit:
        fail("cost model: incomplete fit report %r" % fit)
    for e in expects:
        key, value = e.split("=")
        if abs(m[key] - float(value)) > 1e-6 * abs(float(value)):
            fail("cost model: %s = %r, expected %s" % (key, m[key], value))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--contract":
        failed = contract(sys.argv[2], sys.argv[3], sys.argv[4])
        print("%d contract case(s) failed" % failed if failed else "PASS")
        sys.exit(1 if failed else 0)
    p = argparse.ArgumentParser()
    p.add_argument("--exit", type=int, default=0)
    p.add_argument("--stdout")
    p.add_argument("--stderr")
    p.add_argument("--absent", action="append", default=[])
    p.add_argument("--plan")
    p.add_argument("--svg")
    p.add_argument("--input")
    p.add_argument("--text-field", default="text_tokens")
    p.add_argument("--images-field", default="images")
    p.add_argument("--tokens-field", default="")
    p.add_argument("--cost", default="")
    p.add_argument("--cost-model")
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args()
    cmd = args.command[1:] if args.command and args.command[0] == "--" else args.command
    for path in args.absent + [x for x in (args.plan, args.svg, args.cost_model) if x]:
        if os.path.exists(path):
            os.remove(path)
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    sys.stdout.write(r.stderr)
    if r.returncode != args.exit:
        fail("exit status %d, expected %d" % (r.returncode, args.exit))
    if args.stdout and not re.search(args.stdout, r.stdout, re.S):
        fail("stdout does not match " + args.stdout)
    if args.stderr and not re.search(args.stderr, r.stderr, re.S):
        fail("stderr does not match " + args.stderr)
    for path in args.absent:
        if os.path.exists(path) or os.path.exists(path + ".tmp"):
            fail(path + " was written")
    if args.plan:
        check_plan(args.plan, args)
    if args.svg:
        check_svg(args.svg)
    if args.cost_model:
        check_cost_model(args.cost_model, args.expect)
    print("PASS")


if __name__ == "__main__":
    main()

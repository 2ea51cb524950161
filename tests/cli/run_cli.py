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
"""
import argparse
import csv
import json
import os
import re
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


def main():
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
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args()
    cmd = args.command[1:] if args.command and args.command[0] == "--" else args.command
    for path in args.absent + [x for x in (args.plan, args.svg) if x]:
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
    print("PASS")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs `fulcrum-plan stream` and checks its JSON-lines output (used by the CTest tests in this folder).

  check_stream.py --ranks K --max-tokens C [--max-images I] [--input DATA | --samples N]
                  [--stdin DATA] [--output PATH] [--truncate] [--drop-last] [--tty-free] -- COMMAND...

Checks: exit 0; every line a JSON object {step, rank, samples, tokens[, images]}; steps numbered
0, 1, 2, ... with exactly K micro-batches each (ranks 0..K-1); every sample id 0..N-1 exactly once
(at most once with --drop-last); with --input, each micro-batch's tokens and images recomputed from
the file and within the caps; no progress output on stderr (stderr is not a terminal here).
"""
import argparse
import json
import subprocess
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from run_cli import read_sizes  # noqa: E402


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranks", type=int, required=True)
    ap.add_argument("--max-tokens", type=int, required=True)
    ap.add_argument("--max-images", type=int, default=0)
    ap.add_argument("--input")
    ap.add_argument("--samples", type=int)
    ap.add_argument("--stdin")
    ap.add_argument("--output")
    ap.add_argument("--truncate", action="store_true")
    ap.add_argument("--drop-last", action="store_true")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    stdin = open(a.stdin, "rb") if a.stdin else subprocess.DEVNULL
    p = subprocess.run(cmd, stdin=stdin, capture_output=True)
    if p.returncode != 0:
        fail("exit %d: %s" % (p.returncode, p.stderr.decode()))
    err = p.stderr.decode()
    if "[#" in err or "\r" in err:
        fail("progress drawn on a stderr that is not a terminal: %r" % err)
    text = open(a.output).read() if a.output else p.stdout.decode()
    sizes = None
    images = None
    if a.input:
        sizes = read_sizes(a.input, "text_tokens", "images", "")
        images = []
        for line in open(a.input):
            if line.strip():
                r = json.loads(line)
                im = r.get("images", 0)
                images.append(len(im) if isinstance(im, list) else int(im))
        n = len(sizes)
    else:
        n = a.samples
    seen = [0] * n
    steps = {}
    for no, line in enumerate(text.splitlines(), 1):
        m = json.loads(line)
        s, r = m["step"], m["rank"]
        steps.setdefault(s, set()).add(r)
        if not 0 <= r < a.ranks:
            fail("line %d: rank %d out of range" % (no, r))
        if m["tokens"] > a.max_tokens or (a.max_images and m["images"] > a.max_images):
            fail("line %d: over the caps" % no)
        tok = img = 0
        for i in m["samples"]:
            if not 0 <= i < n:
                fail("line %d: sample %d out of range" % (no, i))
            seen[i] += 1
            if sizes is not None:
                t = sizes[i]
                tok += min(t, a.max_tokens) if a.truncate else t
                if a.max_images:
                    img += min(images[i], a.max_images) if a.truncate else images[i]
        if sizes is not None and tok != m["tokens"]:
            fail("line %d: tokens %d, recomputed %d" % (no, m["tokens"], tok))
        if sizes is not None and a.max_images and img != m["images"]:
            fail("line %d: images %d, recomputed %d" % (no, m["images"], img))
    if sorted(steps) != list(range(len(steps))):
        fail("steps are not numbered 0..%d" % (len(steps) - 1))
    for s, rs in steps.items():
        if rs != set(range(a.ranks)):
            fail("step %d has ranks %s" % (s, sorted(rs)))
    bad = [i for i, c in enumerate(seen) if c > 1 or (c == 0 and not a.drop_last)]
    if bad:
        fail("samples not exactly once: %s" % bad[:10])
    print("PASS: %d samples, %d steps" % (n, len(steps)))


if __name__ == "__main__":
    main()

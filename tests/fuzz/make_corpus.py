#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<name>/.

Each seed is a small, valid-looking input in the byte format the target decodes (see the comment
at the top of each tests/fuzz/fuzz_<name>.cpp), so that fuzzing starts from instances that reach
the algorithms instead of being rejected at the first check. Deterministic: running it again
rewrites the same files. Usage: python3 tests/fuzz/make_corpus.py
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def u8(v):
    return struct.pack("<B", v & 0xFF)


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def f64(v):
    return struct.pack("<d", v)


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------------ pack
# [mode (bit 0: 2-D)] [algorithm % 8] [oversize % 3], then
# 1-D: [encoding % 6] [size class] [capacity class] capacity, then per item
#      ([raw double if encoding 3]) [flag: &3 != 0 keeps the class] value
# 2-D: [doubles flag] [size class] [capacity class] cap0 cap1, then per item a b
ALGORITHMS = ["automatic", "next_fit", "first_fit", "best_fit", "ffd", "bfd", "histogram", "exact"]


def pack_1d(algorithm, policy, encoding, sizes, capacity, size_class=1, cap_class=1):
    out = u8(0) + u8(algorithm) + u8(policy) + u8(encoding) + u8(size_class) + u8(cap_class)
    out += u16(capacity) if cap_class == 1 else u64(capacity)
    for s in sizes:
        if encoding == 3:
            out += f64(float(s))
        out += u8(1) + (u16(s) if size_class == 1 else u64(s))
    return out


def write_pack():
    sizes = [60, 50, 40, 35, 30, 25, 20, 10, 5, 5, 0]
    for a, name in enumerate(ALGORITHMS):
        write("pack", "1d_" + name, pack_1d(a, 0, 1, sizes, 100))
    write("pack", "1d_uint32_in_place", pack_1d(0, 0, 0, [7, 3, 9, 1, 4], 10))
    write("pack", "1d_doubles_truncate", pack_1d(5, 1, 2, [120, 50, 70, 30], 100))
    write("pack", "1d_raw_doubles", pack_1d(1, 0, 3, [3, 4, 5], 8))
    write("pack", "1d_int64_own_bin", pack_1d(2, 2, 4, [90, 200, 10, 300, 40], 100))
    write("pack", "1d_projection", pack_1d(6, 0, 5, [33, 33, 34, 66, 67], 100))
    # sizes just around 2^32 and a 64-bit capacity (class 3 = raw 64-bit values)
    write("pack", "1d_near_2_32", pack_1d(5, 0, 1, [(1 << 32) - 1, 1 << 32, 3], (1 << 33) + 1, 3, 3))
    write("pack", "1d_triplets_exact", pack_1d(7, 0, 1, [26, 26, 48, 30, 31, 39, 27, 35, 38], 100))
    # 2-D: tokens x image slots (capacity class 1: cap0 u16, cap1 = byte % 40)
    two = u8(1) + u8(0) + u8(0) + u8(0) + u8(1) + u8(1) + u16(4096) + u8(4)
    for t, im in [(3000, 1), (1000, 2), (2048, 0), (500, 3), (4096, 0), (100, 1)]:
        two += u16(t) + u8(im)
    write("pack", "2d_automatic", two)
    write("pack", "2d_first_fit", u8(1) + u8(2) + two[2:])
    write("pack", "2d_own_bin", u8(1) + u8(3) + u8(2) + two[3:] + u16(5000) + u8(1))
    # pack_for_ranks (mode & 3 == 3): ranks(u64) [flags: passes, shuffle (4), wide dim 1 (8)] [seed]
    # [size class] [capacity class] cap0 cap1 (byte % 10), then per item a (class) b (byte % 8)
    for policy, ranks, flags in [(0, 4, 1), (1, 3, 5), (2, 2, 2)]:
        body = u8(3) + u8(0) + u8(policy) + u64(ranks) + u8(flags) + u8(7) + u8(1) + u8(1) + u16(4096) + u8(6)
        for t, im in [(3000, 1), (1000, 2), (2048, 0), (500, 3), (4096, 0), (100, 1), (700, 1), (3500, 0), (9000, 1)]:
            body += u16(t) + u8(im)
        write("pack", "ranks_policy%d" % policy, body)


# ------------------------------------------------------------------ pipeline
# partition: [0] [flags] [algorithm % 4] [cost class] n(u64) p(u64) costs...
#   flags: 1 speeds (u8 / 32 each), 2 fixed costs ([class byte] value), 4 layer memory, 8 caps;
#   memory class = flags >> 4 (0: byte % 16)
# schedule: [1] [kind % 3] [shape] devices(u64) v(u64) m(u64) [class] f... b... (activation)
# recompute: [2] [algorithm % 4] nodes(u16) [memory class] [time class] layers(u64),
#   per layer: count(u64) then per option memory, time; then budget
def write_pipeline():
    costs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    for a in range(4):
        write("pipeline", "partition_alg%d" % a, u8(0) + u8(0) + u8(a) + u8(0) + u64(len(costs)) + u64(4) + bytes(costs))
    hetero = u8(0) + u8(1 | 2) + u8(0) + u8(0) + u64(8) + u64(3) + bytes([4, 4, 4, 4, 4, 4, 4, 4])
    hetero += bytes([32, 64, 16])  # speeds 1, 2, 0.5
    hetero += b"".join(u8(0) + u8(v) for v in (2, 0, 3))  # fixed costs (class 0: byte)
    write("pipeline", "partition_heterogeneous", hetero)
    memory = u8(0) + u8(4 | 8) + u8(0) + u8(0) + u64(6) + u64(3) + bytes([5, 5, 5, 5, 5, 5])
    memory += bytes([3, 9, 1, 1, 2, 2]) + u16(3) + u16(3) + u16(3)  # layer memory (byte % 16), caps (u16, x4)
    write("pipeline", "partition_memory_caps", memory)
    for kind, v, m in [(0, 1, 4), (1, 1, 8), (2, 2, 8)]:
        sched = u8(1) + u8(kind) + u8(1) + u64(4) + u64(v) + u64(m) + u8(0)
        sched += bytes([3] * (4 * v)) + bytes([6] * (4 * v))
        write("pipeline", "schedule_kind%d" % kind, sched)
    rec = u8(2) + u8(0) + u16(4000) + u8(0) + u8(0) + u64(4)
    for _ in range(4):
        rec += u64(2) + u8(8) + u8(0) + u8(2) + u8(3)  # keep 8 MiB / +0, or keep 2 / +3
    rec += u8(14)  # budget (byte % 16)
    for a in range(4):
        write("pipeline", "recompute_alg%d" % a, u8(2) + u8(a) + rec[2:])


# ------------------------------------------------------------------ dataset
# [mode byte]: mode % 6 (0 JSONL, 1 CSV, 2 layers JSON, 3 layers CSV, 4 generated dataset,
# 5 generated layers); bits 4-5: field names (0 default, 1 "tokens", 2 no images, 3 len/pics);
# bit 3 in mode 4: CSV instead of JSONL. Raw modes: the rest is the text.
def write_dataset():
    data = os.path.join(HERE, "..", "cli", "data")
    for name, mode in [("samples.jsonl", 0), ("samples.csv", 1), ("layers.json", 2), ("layers.csv", 3),
                       ("lengths.jsonl", 0x10), ("bad_malformed.jsonl", 0), ("bad_negative.csv", 1)]:
        path = os.path.join(data, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                text = f.read()[:2000]
            write("dataset", "raw_" + name.replace(".", "_"), u8(mode) + text)
    write("dataset", "raw_jsonl_image_lists", u8(0) + b'{"text_tokens": 10, "images": ["a.png", "b.png"]}\r\n\n'
          b'{"images": null, "text_tokens": 4294967295}\n{"text_tokens": 1, "images": "c.png"}')
    write("dataset", "raw_csv_quotes", u8(1) + b'"id" , text_tokens,images\r\n"a ""q"", b",7, 2\n\n x ,"8",0\n')
    write("dataset", "gen_jsonl", u8(4) + bytes(range(1, 60)))
    write("dataset", "gen_csv", u8(4 | 8) + bytes(range(3, 70)))
    write("dataset", "gen_layers", u8(5) + bytes(range(0, 50)))


# ------------------------------------------------------------------ plan_json
# [0] + plan text (read_plan), or [1] + bytes a plan is generated from (write -> read).
def write_plan_json():
    plan = {
        "schema_version": 1, "generator": "make_corpus", "command": "pack", "algorithm": "best_fit_decreasing",
        "input": {"source": "seed \"quoted\" \u00e9", "items": 5},
        "parameters": {"capacity": 100, "cost_model": "tokens"},
        "groups": {"kind": "bin", "count": 2, "loads": [90, 60.5], "owners": [0, 1],
                   "items": [[0, 3, 4], [2, 1]]},
        "choices": [0, 1, 0, 2, 1],
        "stats": {
            "before": {"label": "round-robin", "groups": 2, "total": 150.5, "max": 95, "min": 55.5, "mean": 75.25,
                       "imbalance": 1.26, "efficiency": 0.79, "loads": [95, 55.5]},
            "after": {"label": "bfd", "groups": 2, "total": 150.5, "max": 90, "min": 60.5, "mean": 75.25,
                      "imbalance": 1.19, "efficiency": 0.83, "loads": [90, 60.5]},
            "lower_bound": 2, "objective": 2, "gap": 0, "proven_optimal": True, "time_ms": 0.0123},
    }
    write("plan_json", "plan_full", u8(0) + json.dumps(plan, indent=2).encode())
    minimal = dict(plan)
    del minimal["choices"]
    minimal["groups"] = {"kind": "rank", "count": 0, "loads": [], "items": []}
    minimal["input"] = {"source": "", "items": 0}
    write("plan_json", "plan_empty", u8(0) + json.dumps(minimal).encode())
    bad = dict(plan)
    bad["groups"] = dict(plan["groups"], items=[[0, 3, 4], [2, 3]])
    write("plan_json", "plan_duplicate_item", u8(0) + json.dumps(bad).encode())
    write("plan_json", "generated_a", u8(1) + bytes(range(0, 120)))
    write("plan_json", "generated_b", u8(1) + bytes((i * 37) % 256 for i in range(200)))


# ------------------------------------------------------------------ balance (extra seeds)
# fuzz_balance: k(u64 % 65) [encoding: odd raw doubles, even u16] costs...; the last byte picks
# balance()'s algorithm (% 6), equal counts (bit 3) and a part capacity (bit 6).
def write_balance():
    for a in range(6):
        for flags in (0, 0x08, 0x40):
            body = u64(3) + u8(0) + b"".join(u16(c) for c in (7, 5, 4, 3, 3, 2, 9, 1))
            write("balance", "front_door_alg%d_%02x" % (a, flags), body + u8(a | flags))


if __name__ == "__main__":
    write_pack()
    write_pipeline()
    write_dataset()
    write_plan_json()
    write_balance()

# SPDX-License-Identifier: Apache-2.0
"""The code of docs/python_tutorial.md, cell by cell (`# %%` separates the cells; the tutorial's ```python
blocks are these cells verbatim, python/tests/test_tutorial.py checks it and runs them).

Run from the repository root: `python docs/python_tutorial.py`; it prints the figures quoted in the
tutorial and writes docs/images/python_tutorial_load.svg (when matplotlib is installed).
"""

# %%
import numpy as np
import fulcrum


def w1_lengths(n, seed=20240601):
    """W1 (docs/workloads.md): 576 tokens per image (0-4 images) + lognormal text; the same numbers as
    the C++ generator fulcrum::testing::generate_w1_tokens (splitmix64, inverse normal CDF)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15) * np.arange(1, 2 * n + 1, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    bits = ((z ^ (z >> np.uint64(31))) >> np.uint64(11)).reshape(n, 2).astype(np.float64)
    u, p = bits[:, 0] * 2.0**-53, (bits[:, 1] + 0.5) * 2.0**-53
    images = np.searchsorted([0.20, 0.80, 0.90, 0.95], u, side="right")
    a = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716, 2.506628277459239)
    b = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572)
    c = (-7.784894002430293e-03, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783)
    d = (7.784695709041462e-03, 0.3224671290700398, 2.445134137142996, 3.754408661907416)
    tail = np.minimum(p, 1 - p) < 0.02425  # Acklam's inverse normal CDF
    q = np.sqrt(-2 * np.log(np.where(tail, np.minimum(p, 1 - p), 0.5)))
    x_tail = np.where(p < 0.5, 1, -1) * (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
        (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    r = (p - 0.5) ** 2
    x_mid = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * (p - 0.5) / (
        ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    text = np.clip(np.rint(300.0 * np.exp(np.where(tail, x_tail, x_mid))), 8, 8192)
    return (576 * images + text).astype(np.uint32)


lengths = w1_lengths(65536)
print(f"{len(lengths)} samples, mean {lengths.mean():.0f} tokens, p99 {np.percentile(lengths, 99):.0f}, max {lengths.max()}")

# %%
packing = fulcrum.pack(lengths, 16384)
fill = lengths.sum() / (packing.used_bins * 16384)
print(f"{packing.used_bins} packed sequences of <= 16384 tokens, lower bound {packing.lower_bound}, "
      f"proven optimal: {packing.proven_optimal}, fill {fill:.5f}")
first = packing.bins[0]  # sample indices of the first packed sequence
assert packing.loads[0] == lengths[first].sum() <= 16384

# %%
ranks, batch = 8, 512
step = lengths[:batch]  # one global batch


def cost(tokens):
    """Attention-like cost per sample (docs/workloads.md): L + L^2 / 4096."""
    tokens = np.asarray(tokens, dtype=np.float64)
    return tokens + tokens**2 / 4096


def rank_loads(parts):
    return np.array([cost(step[np.asarray(p, dtype=np.int64)]).sum() for p in parts])


contiguous = np.array_split(np.arange(batch), ranks)  # what a plain DistributedSampler slice gives
round_robin = [np.arange(r, batch, ranks) for r in range(ranks)]
plan = fulcrum.balance(step, ranks, cost="attention", equal_counts=True)  # 64 samples per rank
bound = max(cost(step).sum() / ranks, cost(step).max())
for name, parts in (("contiguous", contiguous), ("round-robin", round_robin), ("fulcrum.balance", plan.parts)):
    loads = rank_loads(parts)
    print(f"{name:16s} slowest rank / bound {loads.max() / bound:.4f}, slowest / mean {loads.max() / loads.mean():.4f}")

# %%
def epoch_time(split):
    """Sum over the steps of the slowest rank's cost: what synchronous data parallelism waits for."""
    total = 0.0
    for s in range(len(lengths) // batch):
        sl = lengths[s * batch:(s + 1) * batch]
        total += max(cost(sl[np.asarray(p, dtype=np.int64)]).sum() for p in split(sl))
    return total


ideal = sum(cost(lengths[s * batch:(s + 1) * batch]).sum() / ranks for s in range(len(lengths) // batch))
for name, split in (("round-robin", lambda sl: [np.arange(r, batch, ranks) for r in range(ranks)]),
                    ("fulcrum.balance", lambda sl: fulcrum.balance(sl, ranks, cost="attention", equal_counts=True).parts)):
    print(f"{name:16s} epoch time / perfectly balanced {epoch_time(split) / ideal:.4f}")

# %%
grid = fulcrum.pack_for_ranks(step, 16384, ranks)  # steps x ranks micro-batches of <= 16384 tokens
print(f"{grid.steps} micro-batches per rank, {grid.used_bins} in all (bound {grid.lower_bound}), DistRatio {grid.dist:.4f}")
for s in range(grid.steps):
    mine = grid.micro_batch(s, rank=3)  # rank 3's samples at micro-step s
    assert step[mine].sum() <= 16384
loads = grid.loads.reshape(grid.steps, ranks)
print("tokens per rank, micro-step 0:", loads[0].tolist())

# %%
batcher = fulcrum.StreamBatcher(16384, ranks=ranks, buffer=4096)
steps = []
for i, n in enumerate(lengths[:20000]):  # samples arrive one by one, as from a data loader
    batcher.push(i, int(n))
    steps.extend(batcher)  # the steps ready so far
batcher.finish()
steps.extend(batcher)
spread = [(max(s.loads) - min(s.loads)) / max(s.loads) for s in steps]
print(f"{len(steps)} steps of {ranks} micro-batches, median spread between ranks {np.median(spread):.4f}, "
      f"every sample once: {sorted(int(i) for s in steps for mb in s.micro_batches for i in mb) == list(range(20000))}")

# %%
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None  # the figure is optional

if plt is not None:
    from pathlib import Path

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "fulcrum", "font.size": 9})
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    width = 0.27
    top = 0.0
    for j, (name, parts) in enumerate((("contiguous split", contiguous), ("round-robin", round_robin),
                                       ("fulcrum.balance", plan.parts))):
        ax.bar(np.arange(ranks) + (j - 1) * width, rank_loads(parts) / 1e3, width, label=name)
        top = max(top, rank_loads(parts).max() / 1e3)
    ax.axhline(bound / 1e3, color="black", linewidth=0.8, linestyle="--", label="lower bound")
    ax.set_xlabel("rank")
    ax.set_ylabel("cost L + L²/4096 (thousands)")
    ax.set_title("One 512-sample W1 step on 8 ranks: per-rank load")
    ax.set_xticks(range(ranks))
    ax.set_ylim(0, 1.25 * top)
    ax.legend(ncol=4, fontsize=7, loc="upper center")
    fig.tight_layout()
    Path("docs/images").mkdir(parents=True, exist_ok=True)
    fig.savefig("docs/images/python_tutorial_load.svg", metadata={"Date": None})
    plt.close(fig)

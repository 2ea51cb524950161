"""Re-implementations of peers whose code is not packaged on PyPI.

These are RE-IMPLEMENTATIONS written from the peers' published source (snapshots named in
docs/workloads.md, "Peer sources"), kept as close to the original logic as possible, pure Python like the
originals. They are labelled "(re-impl.)" in every table.
"""
import bisect
from collections import defaultdict, deque


# --- LLaMA-Factory: src/llamafactory/data/processor/processor_utils.py::greedy_knapsack ----------
def _search_for_fit(numbers, capacity):
    index = bisect.bisect(numbers, capacity)
    return -1 if index == 0 else (index - 1)


def llamafactory_greedy_knapsack(numbers, capacity):
    numbers = sorted(numbers)  # ascending, for binary search
    knapsacks = []
    while numbers:
        current = []
        remaining = capacity
        while True:
            index = _search_for_fit(numbers, remaining)
            if index == -1:
                break
            remaining -= numbers[index]
            current.append(numbers.pop(index))
        knapsacks.append(current)
    return knapsacks


# --- TRL: trl/data_utils.py::_SegmentTree and _pack_bfd (best-fit decreasing, segment tree) -----
class _SegmentTree:
    def __init__(self, maxval):
        self.maxval = maxval
        self.tree = [0] * (2 * maxval)

    def _update(self, i):
        while i > 1:
            i >>= 1
            left, right = self.tree[i << 1], self.tree[(i << 1) + 1]
            self.tree[i] = left if left >= right else right

    def add(self, val):
        i = self.maxval + val - 1
        self.tree[i] = val
        self._update(i)

    def remove(self, val):
        i = self.maxval + val - 1
        self.tree[i] = 0
        self._update(i)

    def search(self, val):
        i = 1
        while i < self.maxval:
            if self.tree[i << 1] >= val:
                i = i << 1
            else:
                i = (i << 1) + 1
        return self.tree[i]


def trl_bfd(lengths, seq_length):
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    tree = _SegmentTree(seq_length)
    tree.add(seq_length)
    space_to_bin = defaultdict(deque)
    bins = []
    for idx in order:
        length = lengths[idx]
        space = tree.search(length)
        if space < seq_length:
            b = space_to_bin[space].popleft()
        else:
            b = {"ids": [], "length": 0}
            bins.append(b)
        b["ids"].append(idx)
        b["length"] += length
        if space < seq_length and not space_to_bin[space]:
            tree.remove(space)
        space = space - length
        space_to_bin[space].append(b)
        if space > 0:
            tree.add(space)
    return [b["ids"] for b in bins]


# --- DeepSpeed: deepspeed/runtime/utils.py --------------------------------------------------------
def ds_partition_uniform(num_items, num_parts):
    parts = [0] * (num_parts + 1)
    if num_items <= num_parts:
        for p in range(num_parts + 1):
            parts[p] = min(p, num_items)
        return parts
    chunksize = num_items // num_parts
    for p in range(num_parts):
        parts[p] = min(chunksize * p, num_items)
    parts[num_parts] = num_items
    return parts


def _prefix_sum_inc(weights):
    out = list(weights)
    for i in range(1, len(out)):
        out[i] += out[i - 1]
    return out


def _lprobe(weights, num_parts, bottleneck):
    num_items = len(weights)
    total_weight = weights[-1]
    parts = [0] * (num_parts + 1)
    for p in range(1, num_parts + 1):
        parts[p] = num_items
    bsum = bottleneck
    chunksize = num_items // num_parts
    step = chunksize
    for p in range(1, num_parts):
        while (step < num_items) and (weights[step] < bsum):
            step += chunksize
        parts[p] = bisect.bisect_left(weights, bsum, lo=step - chunksize, hi=min(step, num_items))
        if parts[p] == num_items:
            part_size = weights[-1] - weights[parts[p - 1]]
            return parts, part_size < bottleneck
        bsum = weights[parts[p] - 1] + bottleneck
    return parts, bsum >= total_weight


def ds_partition_balanced_bisection(weights, num_parts, eps=1e-3):
    """DeepSpeed before 2023-12: bisection on the bottleneck + greedy probe."""
    num_items = len(weights)
    if num_items <= num_parts:
        return ds_partition_uniform(num_items, num_parts)
    weights_ = _prefix_sum_inc(weights)
    total = weights_[-1]
    lower = total / num_parts
    upper = total
    while upper > lower + eps:
        mid = lower + ((upper - lower) / 2)
        _, success = _lprobe(weights_, num_parts, mid)
        if success:
            upper = mid
        else:
            lower = mid + eps
    parts, success = _lprobe(weights_, num_parts, upper)
    return parts


def ds_partition_balanced_dp(weights, num_parts):
    """DeepSpeed since PR #4312 (2023-12): O(n^2 m) DP minimising max - min spread."""
    import numpy as np
    n = len(weights)
    m = num_parts
    if n <= m:
        return ds_partition_uniform(n, m)
    dp_max = np.full((n + 1, m + 1), np.inf)
    dp_min = np.full((n + 1, m + 1), np.inf)
    dp_cost = np.full((n + 1, m + 1), np.inf)
    position = np.zeros((n + 1, m + 1), dtype=int)
    prefix_sum = np.zeros((n + 1))
    prefix_sum[1:] = np.cumsum(weights)
    dp_max[0, 0] = 0
    dp_cost[0, 0] = 0
    for i in range(1, n + 1):
        for j in range(1, min(i, m) + 1):
            for k in range(i):
                max_sum = max(dp_max[k, j - 1], prefix_sum[i] - prefix_sum[k])
                min_sum = min(dp_min[k, j - 1], prefix_sum[i] - prefix_sum[k])
                cost = max_sum - min_sum
                if dp_cost[i, j] >= cost:
                    dp_cost[i, j] = cost
                    dp_max[i, j] = max_sum
                    dp_min[i, j] = min_sum
                    position[i, j] = k
    parts = [n]
    for i in reversed(range(1, m + 1)):
        parts.append(int(position[parts[-1], i]))
    parts.reverse()
    return parts

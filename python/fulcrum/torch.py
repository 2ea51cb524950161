# SPDX-License-Identifier: Apache-2.0
"""fulcrum.torch: balanced micro-batches for PyTorch training (docs/python.md, "PyTorch").

Pure Python on top of the fulcrum binding; ``import fulcrum`` never imports torch, this module does.

- :class:`BalancedBatchSampler`: a ``DataLoader(batch_sampler=...)`` that gives each data-parallel
  rank its micro-batches from a plan every rank computes identically (no communication): token
  capped micro-batches from :func:`fulcrum.pack_for_ranks` (VeOmni's dyn_bsz, OmniBal's balanced
  dynamic mini-batches), or a fixed number of samples per step split by :func:`fulcrum.balance`.
  Every rank gets the same number of micro-batches; ``set_epoch`` reshuffles (seed + epoch);
  ``state_dict`` / ``load_state_dict`` resume mid-epoch.
- :class:`PackedCollator`: one packed row for varlen attention (flash-attn style ``cu_seqlens``,
  ``position_ids`` restarting per sample, ``max_seqlen``), built with :func:`fulcrum.packed_layout`.
- :func:`dispatch`: post-balancing (OrchMLLM) of the samples the ranks hold, with torch.distributed:
  sizes all-gathered, one plan from :func:`fulcrum.balance` on every rank, the samples moved with
  ``all_to_all_single``; :meth:`Dispatched.return_to_owner` sends results back.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, Union

import numpy as np
import torch
import torch.distributed as dist

import fulcrum
from fulcrum import InvalidInput

__all__ = ["BalancedBatchSampler", "PackedCollator", "packed_collate", "dispatch", "Dispatched", "InvalidInput"]


def _dist_default(num_replicas: Optional[int], rank: Optional[int], where: str) -> tuple[int, int]:
    """DistributedSampler's convention: from torch.distributed when initialised, else required."""
    if num_replicas is None or rank is None:
        if not (dist.is_available() and dist.is_initialized()):
            raise InvalidInput(
                f"{where}: num_replicas and rank must be given when torch.distributed is not initialised"
            )
        if num_replicas is None:
            num_replicas = dist.get_world_size()
        if rank is None:
            rank = dist.get_rank()
    for name, v in (("num_replicas", num_replicas), ("rank", rank)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise InvalidInput(f"{where}: {name} = {v!r}: must be an integer")
    if num_replicas < 1:
        raise InvalidInput(f"{where}: num_replicas = {num_replicas}: must be >= 1")
    if not 0 <= rank < num_replicas:
        raise InvalidInput(f"{where}: rank = {rank}: must be in [0, {num_replicas - 1}]")
    return int(num_replicas), int(rank)


def _positive(v: Any, where: str, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise InvalidInput(f"{where}: {name} = {v!r}: must be a positive integer")
    return int(v)


class BalancedBatchSampler:
    """Balanced micro-batches per data-parallel rank, for ``DataLoader(dataset, batch_sampler=sampler)``.

    lengths: tokens per sample (1-D, non-negative integers); or ``dataset`` and ``length_fn``
        (``length_fn(dataset[i])``, evaluated once for every sample here).
    num_replicas, rank: default from torch.distributed when it is initialised (DistributedSampler's
        convention), else required.
    max_tokens: token capacity of one micro-batch (VeOmni's dyn_bsz / max_token_len). The epoch is
        packed by :func:`fulcrum.pack_for_ranks` into steps of ``num_replicas x
        micro_batches_per_step`` micro-batches, each within ``max_tokens``, balanced within a step;
        the number of steps follows from the data (close to the fewest possible).
    batch_size: instead of ``max_tokens``: every step takes ``batch_size x num_replicas`` samples
        (in shuffled order) and splits them into ``num_replicas x micro_batches_per_step``
        micro-batches with :func:`fulcrum.balance` (``cost``: ``identity`` (tokens), ``linear`` or
        ``attention``, L + L^2/4096), as verl's sequence-length balancing does.
    micro_batches_per_step: micro-batches each rank runs per optimizer step (gradient accumulation);
        rank r's micro-batches at a step are the step's ``r*M .. r*M + M - 1``.
    shuffle, seed: the epoch's plan uses ``seed + epoch`` (:meth:`set_epoch`): the sample order
        (ties in the packing), the order of the steps and the ranks inside a step. Deterministic:
        every rank computes the same plan.
    drop_last: with ``max_tokens``, drops the last step when one of its micro-batches would be empty
        (fewer samples than micro-batches left); with ``batch_size``, drops the incomplete last step.
        Without drop_last every sample is in exactly one micro-batch, except that an empty
        micro-batch of the last step gets a repeated sample (DistributedSampler's padding;
        ``pad_empty=False`` yields it empty instead).
    oversize: a sample over ``max_tokens``: ``error`` (Infeasible naming it) or ``own_bin`` (a
        micro-batch of its own, over the cap).

    Every rank yields the same number of micro-batches (``len(sampler)``, the whole epoch's count
    also after ``load_state_dict``). Per step (all but the last), with max_tokens and up to 16
    micro-batches per step (num_replicas x M), the heaviest and lightest rank differ by at most
    ``micro_batches_per_step`` times the longest sample in that step once pack_for_ranks' local
    search has converged (in practice a few tokens: the tests check the bound).
    """

    def __init__(
        self,
        lengths: Optional[Any] = None,
        *,
        dataset: Optional[Any] = None,
        length_fn: Optional[Callable[[Any], int]] = None,
        max_tokens: Optional[int] = None,
        batch_size: Optional[int] = None,
        micro_batches_per_step: int = 1,
        num_replicas: Optional[int] = None,
        rank: Optional[int] = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        pad_empty: bool = True,
        cost: str = "identity",
        oversize: str = "error",
    ) -> None:
        where = "BalancedBatchSampler"
        if (lengths is None) == (dataset is None):
            raise InvalidInput(f"{where}: give either lengths or dataset (with length_fn)")
        if dataset is not None:
            if length_fn is None:
                raise InvalidInput(f"{where}: length_fn is required with dataset")
            lengths = [length_fn(dataset[i]) for i in range(len(dataset))]
        if isinstance(lengths, torch.Tensor):
            lengths = lengths.detach().cpu().numpy()
        arr = np.asarray(lengths)
        if arr.ndim != 1:
            raise InvalidInput(f"{where}: lengths must be 1-dimensional, got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":
            if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) or np.any(arr != np.floor(arr)):
                raise InvalidInput(f"{where}: lengths must be whole numbers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
        if arr.size and arr.min() < 0:
            i = int(np.argmin(arr))
            raise InvalidInput(f"{where}: lengths[{i}] = {int(arr[i])}: is negative")
        self.lengths: np.ndarray = arr
        if (max_tokens is None) == (batch_size is None):
            raise InvalidInput(f"{where}: give exactly one of max_tokens and batch_size")
        self.max_tokens = None if max_tokens is None else _positive(max_tokens, where, "max_tokens")
        self.batch_size = None if batch_size is None else _positive(batch_size, where, "batch_size")
        self.micro_batches_per_step = _positive(micro_batches_per_step, where, "micro_batches_per_step")
        self.num_replicas, self.rank = _dist_default(num_replicas, rank, where)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.pad_empty = bool(pad_empty)
        if cost not in ("identity", "linear", "attention"):
            raise InvalidInput(f"{where}: cost = {cost!r}: must be one of identity, linear, attention")
        self.cost = cost
        if oversize not in ("error", "own_bin"):
            raise InvalidInput(f"{where}: oversize = {oversize!r}: must be error or own_bin")
        self.oversize = oversize
        self.epoch = 0
        self._plan_epoch: Optional[int] = None
        self._plan: list[list[list[int]]] = []
        self._yielded = 0
        self._resume = 0

    # -- the plan -----------------------------------------------------------------------------

    @property
    def micro_batches_per_global_step(self) -> int:
        return self.num_replicas * self.micro_batches_per_step

    def _steps(self) -> list[list[np.ndarray]]:
        """The epoch's steps: each a list of num_replicas * M micro-batches (global sample indices)."""
        n, width = len(self.lengths), self.micro_batches_per_global_step
        s = self.seed + self.epoch
        order = np.random.default_rng(s).permutation(n) if self.shuffle else np.arange(n)
        steps: list[list[np.ndarray]] = []
        if self.max_tokens is not None:
            grid = fulcrum.pack_for_ranks(
                self.lengths[order], self.max_tokens, width, oversize=self.oversize, shuffle=self.shuffle, seed=s
            )
            for t in range(grid.steps):
                steps.append([order[grid.micro_batch(t, j).astype(np.int64)] for j in range(width)])
        else:
            per_step = self.batch_size * self.num_replicas  # type: ignore[operator]
            count = n // per_step if self.drop_last else -(-n // per_step)
            for t in range(count):
                chunk = order[t * per_step : (t + 1) * per_step]
                part = fulcrum.balance(self.lengths[chunk], width, cost=self.cost)
                steps.append([chunk[p.astype(np.int64)] for p in part.parts])
        if steps and any(len(b) == 0 for b in steps[-1]):
            if self.drop_last:
                steps.pop()
            elif self.pad_empty:
                last = steps[-1]
                pool = np.sort(np.concatenate([b for b in last]))
                k = 0
                for j, b in enumerate(last):
                    if len(b) == 0:  # DistributedSampler's padding: repeat samples of the step
                        last[j] = pool[k % len(pool) : k % len(pool) + 1]
                        k += 1
        return steps

    def _my_batches(self) -> list[list[int]]:
        if self._plan_epoch != self.epoch:
            m, r = self.micro_batches_per_step, self.rank
            self._plan = [[b.tolist() for b in step[r * m : (r + 1) * m]] for step in self._steps()]
            self._plan_epoch = self.epoch
        return [b for step in self._plan for b in step]

    def global_plan(self) -> list[list[list[int]]]:
        """The epoch's whole plan: steps x (num_replicas * M) micro-batches of sample indices."""
        return [[b.tolist() for b in step] for step in self._steps()]

    # -- Sampler protocol ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._my_batches()  # eager: the position is reset when iter() is called
        start, self._resume = self._resume, 0
        self._yielded = start
        return self._walk(batches[start:])

    def _walk(self, batches: list[list[int]]) -> Iterator[list[int]]:
        for b in batches:
            self._yielded += 1
            yield b

    def __len__(self) -> int:
        return len(self._my_batches())

    def set_epoch(self, epoch: int) -> None:
        """The epoch's plan uses seed + epoch (call before each epoch, as with DistributedSampler)."""
        self.epoch = int(epoch)

    def state_dict(self, batches_consumed: Optional[int] = None) -> dict[str, Any]:
        """Epoch and position. ``batches_consumed``: micro-batches the training loop has taken this
        epoch (a DataLoader with workers runs ahead of the loop; default: those this sampler handed
        out)."""
        return {
            "epoch": self.epoch,
            "batches": self._yielded if batches_consumed is None else int(batches_consumed),
            **self._identity(),
        }

    def _identity(self) -> dict[str, Any]:
        """What must match for a state to resume here (the plan depends on all of it but the rank)."""
        return {
            "seed": self.seed,
            "num_replicas": self.num_replicas,
            "samples": len(self.lengths),
            "lengths_crc32": zlib.crc32(self.lengths.tobytes()),
            "max_tokens": self.max_tokens,
            "batch_size": self.batch_size,
            "micro_batches_per_step": self.micro_batches_per_step,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
            "pad_empty": self.pad_empty,
            "cost": self.cost,
            "oversize": self.oversize,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """The next iteration yields exactly the micro-batches after ``state['batches']`` of its epoch."""
        where = "BalancedBatchSampler.load_state_dict"
        for key, mine in self._identity().items():
            if key in state and state[key] != mine:
                raise InvalidInput(f"{where}: {key} = {state[key]!r} in the state, {mine!r} in this sampler")
        batches = int(state["batches"])
        if batches < 0:
            raise InvalidInput(f"{where}: batches = {batches}: is negative")
        self.epoch = int(state["epoch"])
        self._resume = batches
        self._yielded = batches


# -- packed collate -------------------------------------------------------------------------------


def _tokens(sample: Any, key: str) -> Optional[torch.Tensor]:
    if isinstance(sample, Mapping):
        v = sample.get(key)
    else:
        v = sample if key == "input_ids" else None
    if v is None:
        return None
    t = v if isinstance(v, torch.Tensor) else torch.as_tensor(v)
    return t.reshape(-1)


class PackedCollator:
    """Collates a micro-batch into one packed row for varlen attention (flash_attn_varlen_func).

    Samples are 1-D token tensors (or sequences) or mappings with ``input_ids`` and optionally
    ``labels`` (same length). The result (a dict of tensors):

    - ``input_ids``: (1, T) int64, the samples concatenated, then ``pad_id`` padding to a multiple of
      ``pad_multiple``;
    - ``position_ids``: (1, T) int64, restarting at 0 in every sample (and in the padding);
    - ``cu_seqlens``: int32, from 0 to T, one segment per sample, the padding as one last segment;
    - ``max_seqlen``: int, the longest segment;
    - ``labels``: (1, T), the samples' labels, ``label_pad_id`` (-100) on padding — present when
      the samples carry labels, or (``labels_from_input_ids``) the input ids with the first token of
      every sample set to ``label_pad_id`` (HF DataCollatorWithFlattening's convention);
    - ``seq_lens``: int64 lengths of the samples.

    Built with :func:`fulcrum.packed_layout` (its ``batch_cu_seqlens``, ``position_ids`` and gather
    map). An empty micro-batch gives T = 0 and ``cu_seqlens == [0]``.
    """

    def __init__(
        self,
        *,
        pad_multiple: int = 1,
        pad_id: int = 0,
        label_pad_id: int = -100,
        labels_from_input_ids: bool = False,
    ) -> None:
        self.pad_multiple = _positive(pad_multiple, "PackedCollator", "pad_multiple")
        self.pad_id = int(pad_id)
        self.label_pad_id = int(label_pad_id)
        self.labels_from_input_ids = bool(labels_from_input_ids)

    def __call__(self, samples: Sequence[Any]) -> dict[str, Any]:
        where = "PackedCollator"
        ids: list[torch.Tensor] = []
        for i, s in enumerate(samples):
            t = _tokens(s, "input_ids")
            if t is None:
                raise InvalidInput(f"{where}: samples[{i}] has no input_ids")
            ids.append(t)
        labels = [_tokens(s, "labels") for s in samples]
        has_labels = any(x is not None for x in labels)
        if has_labels:
            for i, (a, b) in enumerate(zip(ids, labels)):
                if b is None or b.numel() != a.numel():
                    got = "none" if b is None else b.numel()
                    raise InvalidInput(f"{where}: samples[{i}] labels: {got} tokens, input_ids: {a.numel()}")
        sizes = np.array([t.numel() for t in ids], dtype=np.int64)
        layout = fulcrum.packed_layout([list(range(len(ids)))], sizes, pad_multiple=self.pad_multiple)
        pad = layout.tokens - int(sizes.sum())
        flat = torch.cat([t.to(torch.int64) for t in ids]) if ids else torch.zeros(0, dtype=torch.int64)
        # the layout's gather map is the identity on the content tokens (one sequence, documents in
        # order); padding is appended.
        input_ids = torch.cat([flat, torch.full((pad,), self.pad_id, dtype=torch.int64)])
        out: dict[str, Any] = {
            "input_ids": input_ids.unsqueeze(0),
            "position_ids": torch.from_numpy(layout.position_ids.astype(np.int64)).unsqueeze(0),
            "cu_seqlens": torch.from_numpy(layout.batch_cu_seqlens.astype(np.int32)),
            "max_seqlen": int(layout.max_seqlen_overall),
            "seq_lens": torch.from_numpy(sizes),
        }
        if has_labels or self.labels_from_input_ids:
            if has_labels:
                lab = torch.cat([x.to(torch.int64) for x in labels if x is not None])
            else:
                lab = flat.clone()
                starts = torch.from_numpy(layout.batch_cu_seqlens[: len(ids)].astype(np.int64))
                lab[starts[torch.from_numpy(sizes > 0)]] = self.label_pad_id
            out["labels"] = torch.cat([lab, torch.full((pad,), self.label_pad_id, dtype=torch.int64)]).unsqueeze(0)
        return out


def packed_collate(samples: Sequence[Any]) -> dict[str, Any]:
    """:class:`PackedCollator` with its defaults (no padding)."""
    return PackedCollator()(samples)


# -- dispatch (post-balancing across ranks) -------------------------------------------------------


def _cost_values(lengths: np.ndarray, cost: Union[str, Callable[[np.ndarray], np.ndarray]]) -> tuple[np.ndarray, str]:
    if callable(cost):
        return np.asarray(cost(lengths), dtype=np.float64), "identity"
    return lengths, cost


def _owner_matching(parts: list[np.ndarray], owner: np.ndarray, lengths: np.ndarray, world: int) -> list[int]:
    """part -> rank keeping many tokens where they are: the balanced parts can go to any rank (the
    loads stay), so match them to the ranks that already hold most of their tokens. Greedy (largest
    overlap first, ties by index), then pairwise swaps while one keeps more; never keeps fewer tokens
    than the identity (part p on rank p). Deterministic. O(world^2 log world + passes * world^2)."""
    overlap = np.zeros((world, world), dtype=np.int64)  # [part, rank]: tokens (+1 per sample) in place
    for p, items in enumerate(parts):
        if len(items):
            np.add.at(overlap[p], owner[items], lengths[items] + 1)
    flat = overlap.ravel()
    order = np.lexsort((np.arange(flat.size), -flat))
    to_rank = np.full(world, -1, dtype=np.int64)
    taken = np.zeros(world, dtype=bool)
    for k in order.tolist():
        p, r = divmod(k, world)
        if to_rank[p] < 0 and not taken[r]:
            to_rank[p], taken[r] = r, True
    rows = np.arange(world)
    for _ in range(16):  # 2-opt: swap the ranks of parts p and q when that keeps more
        improved = False
        for p in range(world):
            gain = overlap[p, to_rank] + overlap[rows, to_rank[p]] - overlap[p, to_rank[p]] - overlap[rows, to_rank]
            q = int(np.argmax(gain))
            if gain[q] > 0:
                to_rank[p], to_rank[q] = to_rank[q], to_rank[p]
                improved = True
        if not improved:
            break
    if overlap[rows, to_rank].sum() < np.trace(overlap):
        return list(range(world))
    return [int(r) for r in to_rank]


def _split_flat(buf: torch.Tensor, numels: Sequence[int], shapes: Sequence[tuple[int, ...]]) -> list[torch.Tensor]:
    out, at = [], 0
    for k, shp in zip(numels, shapes):
        out.append(buf[at : at + k].reshape(shp))
        at += k
    return out


def _exchange(
    send: list[list[torch.Tensor]],
    recv_shapes: list[list[tuple[int, ...]]],
    dtype: torch.dtype,
    device: torch.device,
    group: Any,
) -> list[list[torch.Tensor]]:
    """send[d]: tensors for rank d (in order); recv_shapes[s]: shapes coming from rank s. One
    all_to_all_single on flattened buffers with per-rank split sizes (gloo has no list all_to_all)."""
    in_splits = [sum(t.numel() for t in ts) for ts in send]
    out_numels = [[math.prod(s) for s in shapes] for shapes in recv_shapes]
    out_splits = [sum(x) for x in out_numels]
    flat = [t.reshape(-1).to(device=device, dtype=dtype) for ts in send for t in ts]
    inp = torch.cat(flat) if flat else torch.zeros(0, dtype=dtype, device=device)
    out = torch.empty(sum(out_splits), dtype=dtype, device=device)
    dist.all_to_all_single(out, inp.contiguous(), out_splits, in_splits, group=group)
    result, at = [], 0
    for src, numels in enumerate(out_numels):
        result.append(_split_flat(out[at : at + out_splits[src]], numels, recv_shapes[src]))
        at += out_splits[src]
    return result


@dataclass
class Dispatched:
    """What :func:`dispatch` returns on one rank.

    samples: the samples this rank now holds (ascending global id). ids: their global ids (rank-major:
    rank s's local sample i is ``offsets[s] + i``). sources: (owner rank, owner's local index) per
    sample. lengths: every global sample's length; assignment: the rank each global sample went to;
    loads: each rank's cost after the dispatch; plan: the :class:`fulcrum.Partition`.
    """

    samples: list[torch.Tensor]
    ids: list[int]
    sources: list[tuple[int, int]]
    offsets: list[int]
    lengths: np.ndarray
    assignment: np.ndarray
    loads: np.ndarray
    plan: fulcrum.Partition
    group: Any = None

    def return_to_owner(
        self, results: Sequence[torch.Tensor], device: Optional[torch.device] = None
    ) -> list[torch.Tensor]:
        """Sends ``results[i]`` (one tensor per received sample, any shape, one dtype across ranks)
        back to the owner of ``samples[i]``; returns, on every rank, the results of its own samples in
        its original local order. Collective: every rank calls it."""
        where = "Dispatched.return_to_owner"
        world = dist.get_world_size(self.group)
        me = dist.get_rank(self.group)
        error = None
        if len(results) != len(self.samples):
            error = f"{len(results)} results for {len(self.samples)} received samples"
        elif not all(isinstance(t, torch.Tensor) for t in results):
            error = "results must be tensors"
        shapes = [tuple(int(x) for x in t.shape) for t in results] if error is None else []
        meta = (str(results[0].dtype) if results and error is None else None, shapes, error)
        metas: list[Any] = [None] * world
        dist.all_gather_object(metas, meta, group=self.group)
        for r, m in enumerate(metas):  # raised on every rank, so none waits in a collective
            if m[2] is not None:
                raise InvalidInput(f"{where}: rank {r}: {m[2]}")
        dtypes = {m[0] for m in metas if m[0] is not None}
        if len(dtypes) > 1:
            raise InvalidInput(f"{where}: results have different dtypes across ranks: {sorted(dtypes)}")
        dtype = getattr(torch, dtypes.pop().split(".")[-1]) if dtypes else torch.float32
        dev = device or (results[0].device if results else _default_device(self.group))
        send: list[list[torch.Tensor]] = [[] for _ in range(world)]
        for t, (src, _) in zip(results, self.sources):
            send[src].append(t)
        # what comes back from rank s: the samples s received that I own, in s's received order
        recv_shapes: list[list[tuple[int, ...]]] = [[] for _ in range(world)]
        recv_local: list[list[int]] = [[] for _ in range(world)]
        for s in range(world):
            got = np.flatnonzero(self.assignment == s)  # ascending global ids = s's received order
            for k, g in enumerate(got.tolist()):
                if self.offsets[me] <= g < self.offsets[me + 1]:
                    recv_shapes[s].append(tuple(metas[s][1][k]))
                    recv_local[s].append(g - self.offsets[me])
        got_back = _exchange(send, recv_shapes, dtype, dev, self.group)
        out: list[Optional[torch.Tensor]] = [None] * (self.offsets[me + 1] - self.offsets[me])
        for s in range(world):
            for i, t in zip(recv_local[s], got_back[s]):
                out[i] = t
        return out  # type: ignore[return-value]


def _default_device(group: Any) -> torch.device:
    if dist.get_backend(group) == "nccl" and torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def dispatch(
    samples: Sequence[torch.Tensor],
    *,
    cost: Union[str, Callable[[np.ndarray], np.ndarray]] = "identity",
    equal_counts: bool = False,
    algorithm: str = "automatic",
    keep_local: bool = True,
    group: Any = None,
    device: Optional[torch.device] = None,
) -> Dispatched:
    """Rebalances variable-length samples across the ranks of ``group`` (OrchMLLM's post-balancing).

    Every rank passes its samples (tensors whose first dimension is the length; one dtype and one
    trailing shape across all ranks). The lengths are all-gathered, every rank computes the same plan
    with :func:`fulcrum.balance` over the global samples (``cost``: identity (tokens), linear,
    attention, or a callable from a numpy array of lengths to costs; ``equal_counts``; deterministic),
    and the samples move with one ``all_to_all_single`` on flattened buffers (gloo implements
    all_to_all_single; the list ``all_to_all`` only since 2026, pytorch/pytorch#88245; the lengths,
    dtype and shapes travel with one ``all_gather_object``). ``keep_local``: the balanced parts are
    matched to ranks so that many tokens stay where they are (greedy, then pairwise swaps; never
    fewer than part p on rank p; the loads are unchanged). Bad input on any rank raises InvalidInput
    on every rank, naming the rank. Collective: every rank of the group calls it. Not
    differentiable (use it on data, before the model).
    """
    where = "dispatch"
    if not (dist.is_available() and dist.is_initialized()):
        raise InvalidInput(f"{where}: torch.distributed is not initialised")
    world = dist.get_world_size(group)
    me = dist.get_rank(group)
    local = list(samples)
    # a rank's bad input is raised on every rank after the gather (raising before a collective
    # would leave the other ranks waiting in it)
    error = None
    for i, t in enumerate(local):
        if not isinstance(t, torch.Tensor) or t.dim() == 0:
            error = f"samples[{i}] must be a tensor with at least one dimension"
            break
    if error is None:
        dtypes = sorted({str(t.dtype) for t in local})
        trailing = sorted({tuple(t.shape[1:]) for t in local})
        if len(dtypes) > 1 or len(trailing) > 1:
            error = f"samples must share one dtype and trailing shape, got {dtypes} / {trailing}"
    ok = error is None and bool(local)
    meta = (
        [int(t.shape[0]) for t in local] if error is None else [],
        str(local[0].dtype) if ok else None,
        tuple(local[0].shape[1:]) if ok else None,
        error,
    )
    metas: list[Any] = [None] * world
    dist.all_gather_object(metas, meta, group=group)
    for r, m in enumerate(metas):
        if m[3] is not None:
            raise InvalidInput(f"{where}: rank {r}: {m[3]}")
    kinds = {(m[1], m[2]) for m in metas if m[1] is not None}
    if len(kinds) > 1:
        raise InvalidInput(
            f"{where}: samples differ in dtype or trailing shape across ranks: {sorted(map(str, kinds))}"
        )
    dtype_name, trail = kinds.pop() if kinds else ("torch.float32", ())
    dtype = getattr(torch, dtype_name.split(".")[-1])
    counts = [len(m[0]) for m in metas]
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + c)
    lengths = np.array([x for m in metas for x in m[0]], dtype=np.int64)
    owner = np.repeat(np.arange(world), counts)
    values, cost_name = _cost_values(lengths, cost)
    plan = fulcrum.balance(values, world, cost=cost_name, equal_counts=equal_counts, algorithm=algorithm)
    parts = [np.asarray(p, dtype=np.int64) for p in plan.parts]
    to_rank = _owner_matching(parts, owner, lengths, world) if keep_local else list(range(world))
    assignment = np.empty(len(lengths), dtype=np.int64)
    loads = np.zeros(world, dtype=np.float64)
    for p, items in enumerate(parts):
        assignment[items] = to_rank[p]
        loads[to_rank[p]] = plan.loads[p]
    # send: my samples to their destinations, ascending global id; receive from each source likewise
    send: list[list[torch.Tensor]] = [[] for _ in range(world)]
    for i, t in enumerate(local):
        send[int(assignment[offsets[me] + i])].append(t)
    recv_ids: list[list[int]] = [[] for _ in range(world)]
    for g in np.flatnonzero(assignment == me).tolist():
        recv_ids[int(owner[g])].append(g)
    recv_shapes = [[(int(lengths[g]),) + tuple(trail) for g in ids] for ids in recv_ids]
    dev = device or (local[0].device if local else _default_device(group))
    got = _exchange(send, recv_shapes, dtype, dev, group)
    ids = [g for s in range(world) for g in recv_ids[s]]
    recv = [t for s in range(world) for t in got[s]]
    return Dispatched(
        samples=recv,
        ids=ids,
        sources=[(int(owner[g]), g - offsets[int(owner[g])]) for g in ids],
        offsets=offsets,
        lengths=lengths,
        assignment=assignment,
        loads=loads,
        plan=plan,
        group=group,
    )

# SPDX-License-Identifier: Apache-2.0
"""fulcrum: load balancing for large-model training, from Python (docs/python.md).

Native C++20 solvers (the header-only fulcrum library, bound with nanobind); the GIL is released
during every solve. Inputs are numpy arrays of any integer (or, where documented, floating) dtype,
Python sequences or DLPack producers (torch CPU tensors, read in place without importing torch);
they are converted once to uint64 / int64 / float64 (no copy when the dtype already matches) and
validated by the C++ library, whose messages name the field, index and value. balance() and
balance_two_level() also take a Python callable as the cost model. Outputs are numpy arrays; groupings
(bins, parts, micro-batches) are :class:`Groups`, CSR arrays that index and iterate like a list of
numpy arrays.

Errors: malformed input raises :class:`InvalidInput` (a ``ValueError``); well-formed input with no
solution (an item over the capacity, a memory cap no split meets) raises :class:`Infeasible`
(a ``RuntimeError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence, Union, overload

import numpy as np

from . import _core
from ._core import CommError, Infeasible, InvalidInput

__version__: str = _core.__version__

for _exc in (InvalidInput, Infeasible, CommError):
    _exc.__module__ = __name__
del _exc

__all__ = [
    "Groups",
    "Packing",
    "RankPacking",
    "Partition",
    "StagePartition",
    "StreamStep",
    "StreamBatcher",
    "StreamingBatcher",
    "EpochPlanner",
    "RankSchedule",
    "pack",
    "pack_for_ranks",
    "balance",
    "TwoLevelPartition",
    "balance_two_level",
    "PostBalance",
    "post_balance",
    "partition_stages",
    "PackedLayout",
    "packed_layout",
    "multimodal_layout",
    "IMAGE_PLACEMENTS",
    "RecomputePlan",
    "select_recompute",
    "Schedule",
    "simulate_schedule",
    "PipelinePlan",
    "joint_partition_recompute",
    "search_partition",
    "evaluate_pipeline",
    "RECOMPUTE_ALGORITHMS",
    "PIPELINE_SCHEDULES",
    "InvalidInput",
    "Infeasible",
    "CommError",
    "PACK_ALGORITHMS",
    "BALANCE_ALGORITHMS",
    "STAGE_ALGORITHMS",
]

PACK_ALGORITHMS = (
    "automatic",
    "next_fit",
    "first_fit",
    "best_fit",
    "first_fit_decreasing",
    "best_fit_decreasing",
    "histogram",
    "exact",
)
BALANCE_ALGORITHMS = ("automatic", "greedy", "karmarkar_karp", "multifit", "complete", "local_search")
STAGE_ALGORITHMS = ("automatic", "nicol", "exact_bisection", "dynamic_programming")
OVERSIZE_POLICIES = ("error", "truncate", "own_bin")

ArrayLike = Any


_from_dlpack = getattr(np, "from_dlpack", None)


def _as_array(values: ArrayLike, where: str, name: str) -> np.ndarray:
    """`values` as a numpy array, without a copy where possible.

    A numpy array is taken as is; any other object with ``__dlpack__`` (a torch CPU tensor, a JAX or
    CuPy-on-host array, ...) is read through ``np.from_dlpack`` (zero-copy; torch is never
    imported); anything else goes through ``np.asarray``. A tensor on a GPU or one that requires
    grad cannot be read in place: InvalidInput names the field and says what to do.
    """
    if isinstance(values, np.ndarray):
        return values
    if _from_dlpack is not None and hasattr(values, "__dlpack__") and not isinstance(values, (list, tuple)):
        try:
            return _from_dlpack(values)
        except (BufferError, RuntimeError, TypeError, ValueError) as e:
            raise InvalidInput(
                f"{where}: {name}: cannot read this {type(values).__name__} in place through DLPack ({e}); "
                "pass a CPU tensor without grad (tensor.detach().cpu())"
            ) from e
    return np.asarray(values)


def _numeric(values: ArrayLike, where: str, name: str, ndim: int = 1, allow_float: bool = True) -> np.ndarray:
    """Converts `values` once to a C-contiguous uint64 / int64 / float64 array (by dtype kind).

    The C++ library validates the values (negatives, NaN, fractions) and names the offending index.
    """
    arr = _as_array(values, where, name)
    if arr.ndim == 0 or (arr.ndim != ndim and not (arr.size == 0 and ndim == 1)):
        raise InvalidInput(f"{where}: {name} must be a {ndim}-dimensional array or sequence, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(arr.shape if arr.ndim == ndim else (0,) * ndim, dtype=np.uint64)
    kind = arr.dtype.kind
    if kind == "u":
        return np.ascontiguousarray(arr, dtype=np.uint64)
    if kind == "i":
        return np.ascontiguousarray(arr, dtype=np.int64)
    if kind == "f" and allow_float:
        return np.ascontiguousarray(arr, dtype=np.float64)
    if kind == "f":
        raise InvalidInput(f"{where}: {name} must have an integer dtype, got {arr.dtype}")
    raise InvalidInput(f"{where}: {name} must be numeric (integer or float), got dtype {arr.dtype}")


def _int_scalar(value: Any, where: str, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidInput(f"{where}: {name} = {value!r}: must be an integer")
    return int(value)


def _float_scalar(value: Any, where: str, name: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise InvalidInput(f"{where}: {name} = {value!r}: must be a number")
    try:
        return float(value)
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"{where}: {name} = {value!r}: must be a number") from e


def _u64_scalar(value: Any, where: str, name: str) -> int:
    v = _int_scalar(value, where, name)
    if not 0 <= v <= 0xFFFFFFFFFFFFFFFF:
        raise InvalidInput(f"{where}: {name} = {v}: must be in 0..2**64-1")
    return v


def _choice(value: str, choices: Sequence[str], where: str, name: str) -> str:
    if value not in choices:
        raise InvalidInput(f"{where}: {name} = {value!r}: must be one of {', '.join(choices)}")
    return value


class Groups(Sequence[np.ndarray]):
    """Groups of item indices in CSR form: group ``g`` is ``indices[offsets[g]:offsets[g + 1]]``.

    Indexes, slices and iterates like a list of uint32 numpy arrays (views, no copy);
    ``len(groups)`` is the number of groups; ``to_list()`` gives lists of Python ints.
    """

    __slots__ = ("offsets", "indices")

    def __init__(self, offsets: np.ndarray, indices: np.ndarray) -> None:
        self.offsets: np.ndarray = offsets
        self.indices: np.ndarray = indices

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, g: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, g: slice) -> list[np.ndarray]: ...
    def __getitem__(self, g: Union[int, slice]) -> Any:
        if isinstance(g, slice):
            return [self[i] for i in range(*g.indices(len(self)))]
        n = len(self)
        g = int(g)
        if g < 0:
            g += n
        if not 0 <= g < n:
            raise IndexError(f"group index out of range (groups: {n})")
        return self.indices[int(self.offsets[g]) : int(self.offsets[g + 1])]

    def __iter__(self) -> Iterator[np.ndarray]:
        for g in range(len(self)):
            yield self.indices[int(self.offsets[g]) : int(self.offsets[g + 1])]

    def sizes(self) -> np.ndarray:
        """Number of items in every group."""
        return np.diff(self.offsets)

    def assignment(self, n: Optional[int] = None) -> np.ndarray:
        """The inverse map: ``result[i]`` = group of item ``i`` (-1 for an item in no group)."""
        n = int(self.indices.max()) + 1 if n is None and len(self.indices) else (n or 0)
        out = np.full(n, -1, dtype=np.int64)
        out[self.indices] = np.repeat(np.arange(len(self), dtype=np.int64), self.sizes().astype(np.int64))
        return out

    def to_list(self) -> list[list[int]]:
        """The groups as lists of Python ints."""
        return [g.tolist() for g in self]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Groups):
            return NotImplemented
        return bool(np.array_equal(self.offsets, other.offsets) and np.array_equal(self.indices, other.indices))

    def __repr__(self) -> str:
        return f"Groups({len(self)} groups, {len(self.indices)} items)"


@dataclass(frozen=True)
class Packing:
    """Result of :func:`pack`.

    bins: item indices per bin (opening order, own bins last; increasing index order in a bin).
    loads: total size per bin (uint64; shape (bins,) or (bins, D) for multi-constraint sizes).
    lower_bound: L2 lower bound on the number of bins (better for ``exact``).
    proven_optimal: bins == lower_bound, or proved by the exact search.
    gap: (bins - lower_bound) / lower_bound, 0 when proven optimal.
    algorithm: the algorithm that ran (``automatic`` resolves to ``histogram`` or ``best_fit_decreasing``).
    """

    bins: Groups
    loads: np.ndarray
    lower_bound: int
    proven_optimal: bool
    gap: float
    algorithm: str

    @property
    def used_bins(self) -> int:
        """Number of bins used."""
        return len(self.bins)


@dataclass(frozen=True)
class RankPacking:
    """Result of :func:`pack_for_ranks`: ``steps x ranks`` bins.

    bins: flat step-major groups; bin ``s * ranks + r`` is rank r's micro-batch at step s
    (``micro_batch(s, r)``). Empty bins occur only in the last step.
    loads: per-bin sizes (uint64, step-major; shape (bins,) for 1-D sizes, (bins, D) for D-dimensional
    ones). used_bins: non-empty bins. lower_bound: lower bound on non-empty bins. dist: OmniBal's
    DistRatio (mean over steps) and pad: PadRatio to the capacity, of dimension 0 (the only one for
    1-D sizes); dist_per_dim / pad_per_dim: those of every dimension.
    """

    bins: Groups
    steps: int
    ranks: int
    loads: np.ndarray
    used_bins: int
    lower_bound: int
    proven_optimal: bool
    gap: float
    dist: float
    pad: float
    dist_per_dim: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pad_per_dim: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def dims(self) -> int:
        """Size dimensions D."""
        return 1 if self.loads.ndim == 1 else int(self.loads.shape[1])

    def micro_batch(self, step: int, rank: int) -> np.ndarray:
        """Item indices of rank ``rank``'s micro-batch at step ``step``."""
        if not (0 <= step < self.steps and 0 <= rank < self.ranks):
            raise IndexError(f"(step, rank) = ({step}, {rank}) outside {self.steps} x {self.ranks}")
        return self.bins[step * self.ranks + rank]

    def rank_batches(self, rank: int) -> list[np.ndarray]:
        """Rank ``rank``'s micro-batches, step by step."""
        return [self.micro_batch(s, rank) for s in range(self.steps)]


@dataclass(frozen=True)
class Partition:
    """Result of :func:`balance`.

    parts: k groups of item indices (increasing index order within a part).
    loads: cost of each part (float64, summed in the part's item order). makespan: max load.
    lower_bound: best known lower bound on the optimal makespan. proven_optimal: makespan meets the
    bound or the complete search proved it. gap: (makespan - lower_bound) / lower_bound.
    """

    parts: Groups
    loads: np.ndarray
    makespan: float
    lower_bound: float
    proven_optimal: bool
    gap: float


@dataclass(frozen=True)
class StagePartition:
    """Result of :func:`partition_stages`.

    boundaries: stages + 1 layer indices; stage s holds layers [boundaries[s], boundaries[s+1]).
    stage_costs: cost of every stage; bottleneck: the largest; lower_bound, proven_optimal, gap as
    for every fulcrum result (the bottleneck is always optimal: proven_optimal is True).
    """

    boundaries: np.ndarray
    stage_costs: np.ndarray
    bottleneck: float
    lower_bound: float
    proven_optimal: bool
    gap: float

    @property
    def stages(self) -> int:
        return len(self.boundaries) - 1


def pack(
    sizes: ArrayLike,
    capacity: Union[int, Sequence[int]],
    *,
    algorithm: str = "automatic",
    oversize: str = "error",
    max_nodes: Optional[int] = None,
    time_limit: Optional[float] = None,
) -> Packing:
    """Packs items into the fewest bins of ``capacity`` (fulcrum::pack, packing/pack.hpp).

    sizes: one size per item (1-D, any integer dtype or whole floats), or a (n, D) array of sizes in
        D = 1..4 dimensions with ``capacity`` a sequence of D capacities (multi-constraint packing).
    algorithm: one of PACK_ALGORITHMS. ``automatic`` = ``histogram`` when the capacity is at most
        2^22 (O(n + C), same bin count as BFD), else ``best_fit_decreasing``; ``exact`` = branch and
        bound, anytime under ``max_nodes`` (default 5e7) and ``time_limit`` (seconds; not
        deterministic). Multi-constraint: automatic, best_fit_decreasing, first_fit_decreasing,
        first_fit, next_fit.
    oversize: an item larger than the capacity: ``error`` raises Infeasible naming it, ``truncate``
        counts it as the capacity, ``own_bin`` gives it a bin of its own (appended last).
    Raises InvalidInput for negative, NaN or fractional sizes, a zero capacity, an unknown algorithm.
    Deterministic: the same input gives the same bins on every platform.
    """
    where = "pack"
    algorithm = _choice(algorithm, PACK_ALGORITHMS, where, "algorithm")
    oversize = _choice(oversize, OVERSIZE_POLICIES, where, "oversize")
    arr = _as_array(sizes, where, "sizes")
    if arr.ndim == 2:
        if isinstance(capacity, (int, np.integer)):
            raise InvalidInput(f"{where}: capacity must be a sequence of {arr.shape[1]} values for 2-D sizes")
        caps = [_int_scalar(c, where, "capacity") for c in capacity]
        a = _numeric(arr, where, "sizes", ndim=2)
        if a.shape[0] == 0:
            a = np.zeros((0, len(caps)), dtype=np.uint64)
        r = _core.pack(a, caps, algorithm, oversize, max_nodes, time_limit)
        loads = r["loads"].reshape(-1, a.shape[1])
    else:
        cap = _int_scalar(capacity, where, "capacity")
        a = _numeric(arr, where, "sizes")
        r = _core.pack(a, cap, algorithm, oversize, max_nodes, time_limit)
        loads = r["loads"]
    return Packing(
        bins=Groups(r["offsets"], r["indices"]),
        loads=loads,
        lower_bound=int(r["lower_bound"]),
        proven_optimal=bool(r["proven_optimal"]),
        gap=float(r["gap"]),
        algorithm=str(r["algorithm"]),
    )


def _rank_packing_of(r: dict[str, Any], dims: Optional[int]) -> RankPacking:
    dist = np.asarray(r["dist"], dtype=np.float64).reshape(-1)
    pad = np.asarray(r["pad"], dtype=np.float64).reshape(-1)
    loads = r["loads"] if dims is None else r["loads"].reshape(-1, dims)
    return RankPacking(
        bins=Groups(r["offsets"], r["indices"]),
        steps=int(r["steps"]),
        ranks=int(r["ranks"]),
        loads=loads,
        used_bins=int(r["used_bins"]),
        lower_bound=int(r["lower_bound"]),
        proven_optimal=bool(r["proven_optimal"]),
        gap=float(r["gap"]),
        dist=float(dist[0]) if dist.size else 0.0,
        pad=float(pad[0]) if pad.size else 0.0,
        dist_per_dim=dist,
        pad_per_dim=pad,
    )


def _capacities(capacity: Any, dims: int, where: str) -> list[int]:
    if isinstance(capacity, (int, np.integer)):
        raise InvalidInput(f"{where}: capacity must be a sequence of {dims} values for (n, {dims}) sizes")
    caps = [_int_scalar(c, where, "capacity") for c in capacity]
    if len(caps) != dims:
        raise InvalidInput(f"{where}: capacity has {len(caps)} entries: needs one per size column ({dims})")
    return caps


def pack_for_ranks(
    sizes: ArrayLike,
    capacity: Union[int, Sequence[int]],
    ranks: int,
    *,
    oversize: str = "error",
    passes: int = 32,
    shuffle: bool = True,
    seed: int = 20240601,
) -> RankPacking:
    """Rank-aware packing for data-parallel training (fulcrum::pack_for_ranks, packing/rank_packing.hpp).

    Packs the items into bins of ``capacity`` and deals them into ``steps x ranks`` micro-batches so
    that every rank runs the same number of micro-batches and the micro-batches of a step are
    balanced (OmniBal's balanced dynamic mini-batches, without dropping or padding anything). Every
    item is placed exactly once, every bin holds the capacity in every dimension, empty bins occur
    only in the last step. ``shuffle`` shuffles the steps and the ranks inside a step with ``seed``
    (deterministic).
    sizes: one size per item (1-D), or an (n, D) array of sizes in D = 1..4 dimensions (e.g. images
    and tokens per sample) with ``capacity`` a sequence of D capacities; the bins of a step are then
    balanced in every dimension normalised by its capacity.
    Raises InvalidInput (ranks 0, bad sizes, zero capacity, a capacity of the wrong length) or
    Infeasible (an item over the capacity with ``oversize="error"``).
    """
    where = "pack_for_ranks"
    oversize = _choice(oversize, ("error", "truncate", "own_bin"), where, "oversize")
    ranks = _int_scalar(ranks, where, "ranks")
    if ranks < 0:
        raise InvalidInput(f"{where}: ranks = {ranks}: is negative")
    passes = _int_scalar(passes, where, "passes")
    if passes < 0:
        raise InvalidInput(f"{where}: passes = {passes}: is negative")
    arr = _as_array(sizes, where, "sizes")
    if arr.ndim == 2:
        caps = _capacities(capacity, int(arr.shape[1]), where)
        a = _numeric(arr, where, "sizes", ndim=2)
        if a.shape[0] == 0:
            a = np.zeros((0, len(caps)), dtype=np.uint64)
        r = _core.pack_for_ranks(a, caps, ranks, oversize, passes, bool(shuffle), int(seed))
        return _rank_packing_of(r, a.shape[1])
    cap = _int_scalar(capacity, where, "capacity")
    a = _numeric(arr, where, "sizes")
    r = _core.pack_for_ranks(a, cap, ranks, oversize, passes, bool(shuffle), int(seed))
    return _rank_packing_of(r, None)


@dataclass(frozen=True)
class RankSchedule:
    """Result of :meth:`EpochPlanner.rank_plan` (fulcrum::rank_schedule): one rank's micro-batches
    of an epoch from ``first_step`` on; ``micro_batches[k]`` is the rank's micro-batch at step
    ``first_step + k`` (item indices, increasing). ``steps``: steps of the whole epoch."""

    epoch: int
    rank: int
    first_step: int
    steps: int
    micro_batches: Groups


class EpochPlanner:
    """Rank-aware packing of a map-style dataset that changes every epoch and that every rank
    computes alone (fulcrum::epoch_planner, runtime/epoch_plan.hpp, docs/epoch_plans.md).

    ``plan(e)`` is a :class:`RankPacking` with the guarantees of :func:`pack_for_ranks`: every item
    exactly once, every capacity held in every dimension, every rank the same number of
    micro-batches, empty bins only in the last step, the bins of a step balanced. It is a function
    of (sizes, capacity, ranks, options, seed, e) only, the same on every platform, so each rank
    derives it alone and no epoch depends on an earlier one. Different epochs give different
    packs: epoch e orders the items by a permutation drawn from (seed, e), the rank-aware fill packs
    them in ``chunks`` slices, a seeded repack (``repack_rounds`` rounds, OmniBal's ISF) re-packs
    the bins not full within ``full_slack`` and keeps the result only with fewer bins, and
    ``perturb_rounds`` rounds of seeded swaps vary the bins; steps are balanced as pack_for_ranks
    does (``passes``) and shuffled with the epoch's seed (``shuffle``).

    Resume: ``plan(e)`` replays nothing, so resuming at (epoch e, step s) costs one plan
    (near-linear time, O(n) memory); ``rank_plan(e, r, s)`` returns only rank r's micro-batches of
    steps s, s+1, ...  sizes: 1-D (tokens) or (n, D) for D = 1..4 with ``capacity`` a sequence of D.
    Picklable (the sizes and options are kept; the C++ planner is rebuilt on load).
    Raises InvalidInput (ranks 0, bad sizes or options, full_slack outside [0, 1)) or Infeasible (an
    item over the capacity with ``oversize="error"``) from the constructor; rank_plan: a rank not
    below ranks -> InvalidInput.
    """

    def __init__(
        self,
        sizes: ArrayLike,
        capacity: Union[int, Sequence[int]],
        ranks: int,
        *,
        oversize: str = "error",
        passes: int = 32,
        repack_rounds: int = 50,
        full_slack: float = 0.022,
        chunks: int = 4,
        perturb_rounds: int = 4,
        shuffle: bool = True,
        seed: int = 20240601,
    ) -> None:
        where = "EpochPlanner"
        oversize = _choice(oversize, OVERSIZE_POLICIES, where, "oversize")
        ranks = _int_scalar(ranks, where, "ranks")
        ints = dict(ranks=ranks, passes=passes, repack_rounds=repack_rounds, chunks=chunks,
                    perturb_rounds=perturb_rounds, seed=seed)
        for name, v in ints.items():
            if _int_scalar(v, where, name) < 0:
                raise InvalidInput(f"{where}: {name} = {v}: is negative")
        arr = _as_array(sizes, where, "sizes")
        if arr.ndim == 2:
            caps = _capacities(capacity, int(arr.shape[1]), where)
            a = _numeric(arr, where, "sizes", ndim=2)
            if a.shape[0] == 0:
                a = np.zeros((0, len(caps)), dtype=np.uint64)
            self._dims: Optional[int] = int(a.shape[1])
        else:
            caps = [_int_scalar(capacity, where, "capacity")]
            a = _numeric(arr, where, "sizes").reshape(-1, 1)
            self._dims = None
        self._sizes = a
        self._capacity = capacity if self._dims is not None else caps[0]
        self._options: dict[str, Any] = dict(
            oversize=oversize,
            passes=int(passes),
            repack_rounds=int(repack_rounds),
            full_slack=_float_scalar(full_slack, where, "full_slack"),
            chunks=int(chunks),
            perturb_rounds=int(perturb_rounds),
            shuffle=bool(shuffle),
            seed=int(seed),
        )
        o = self._options
        self.ranks = ranks
        self._p = _core.EpochPlanner(
            a, caps, ranks, oversize, o["passes"], o["repack_rounds"], o["full_slack"], o["chunks"],
            o["perturb_rounds"], o["shuffle"], o["seed"],
        )

    @property
    def lower_bound(self) -> int:
        """Lower bound on non-empty bins of any epoch."""
        return int(self._p.lower_bound())

    def __len__(self) -> int:
        return int(self._sizes.shape[0])

    def plan(self, epoch: int) -> RankPacking:
        """The plan of epoch ``epoch``: steps x ranks micro-batches (see the class docs)."""
        e = _int_scalar(epoch, "EpochPlanner.plan", "epoch")
        if e < 0:
            raise InvalidInput(f"EpochPlanner.plan: epoch = {e}: is negative")
        return _rank_packing_of(self._p.plan(e), self._dims)

    def rank_plan(self, epoch: int, rank: int, first_step: int = 0) -> RankSchedule:
        """Rank ``rank``'s micro-batches of epoch ``epoch`` from step ``first_step`` on (a resume point)."""
        where = "EpochPlanner.rank_plan"
        e, r, f = (_int_scalar(v, where, n) for v, n in ((epoch, "epoch"), (rank, "rank"), (first_step, "first_step")))
        for name, v in (("epoch", e), ("rank", r), ("first_step", f)):
            if v < 0:
                raise InvalidInput(f"{where}: {name} = {v}: is negative")
        d = self._p.rank_plan(e, r, f)
        return RankSchedule(
            epoch=int(d["epoch"]),
            rank=int(d["rank"]),
            first_step=int(d["first_step"]),
            steps=int(d["steps"]),
            micro_batches=Groups(d["offsets"], d["indices"]),
        )

    def __reduce__(self) -> Any:
        sizes = self._sizes if self._dims is not None else self._sizes.reshape(-1)
        return (_restore_epoch_planner, (sizes, self._capacity, self.ranks, dict(self._options)))


def _restore_epoch_planner(sizes: Any, capacity: Any, ranks: int, options: dict[str, Any]) -> EpochPlanner:
    return EpochPlanner(sizes, capacity, ranks, **options)


CostArg = Union[str, Callable[[Any], Any]]


def _evaluate_cost(arr: np.ndarray, cost: Callable[[Any], Any], vectorized: Optional[bool], where: str) -> np.ndarray:
    """float64 costs of the items: cost(arr) in one call (vectorised) or cost(v) once per item."""
    n = int(arr.shape[0])
    if vectorized is not False:
        try:
            out = cost(arr)
        except Exception:
            if vectorized:
                raise
            out = None
        if out is not None:
            try:
                res = np.asarray(out, dtype=np.float64)
            except (TypeError, ValueError):
                res = None
            if res is not None and res.shape == (n,):
                return np.ascontiguousarray(res)
            if vectorized:
                shape = None if res is None else res.shape
                raise InvalidInput(
                    f"{where}: cost: the callable returned shape {shape} for {n} items; "
                    "a vectorised cost must return one number per item"
                )
    vals = arr.tolist()
    res = np.empty(n, dtype=np.float64)
    for i, v in enumerate(vals):
        try:
            res[i] = float(cost(v))
        except (TypeError, ValueError) as e:
            raise InvalidInput(f"{where}: cost({v!r}) for item {i}: {e}") from e
    return res


def _cost_args(
    values: ArrayLike,
    cost: CostArg,
    a: Optional[float],
    b: Optional[float],
    c: Optional[float],
    vectorized: Optional[bool],
    where: str,
) -> tuple[np.ndarray, str, float, float, float]:
    """(array for C++, cost name, a, b, c): a callable cost is evaluated here into float64 costs."""
    if callable(cost):
        arr = _numeric(values, where, "values")
        return _evaluate_cost(arr, cost, vectorized, where), "identity", 1.0, 0.0, 0.0
    cost = _choice(cost, ("identity", "linear", "attention"), where, "cost")
    defaults = {"identity": (1.0, 0.0, 0.0), "linear": (1.0, 0.0, 0.0), "attention": (1.0, 1.0 / 4096.0, 0.0)}[cost]
    ca = defaults[0] if a is None else float(a)
    cb = defaults[1] if b is None else float(b)
    cc = defaults[2] if c is None else float(c)
    return _numeric(values, where, "values"), cost, ca, cb, cc


def _partition_of(r: dict[str, Any]) -> Partition:
    return Partition(
        parts=Groups(r["offsets"], r["indices"]),
        loads=r["loads"],
        makespan=float(r["makespan"]),
        lower_bound=float(r["lower_bound"]),
        proven_optimal=bool(r["proven_optimal"]),
        gap=float(r["gap"]),
    )


def balance(
    values: ArrayLike,
    k: int,
    *,
    algorithm: str = "automatic",
    equal_counts: bool = False,
    part_capacity: Optional[float] = None,
    cost: CostArg = "identity",
    a: Optional[float] = None,
    b: Optional[float] = None,
    c: Optional[float] = None,
    vectorized: Optional[bool] = None,
    max_nodes: Optional[int] = None,
    time_limit: Optional[float] = None,
) -> Partition:
    """Balances n items onto k parts, minimising the largest part cost (fulcrum::balance, balance/balance.hpp).

    values: one value per item (any integer or float dtype, a numpy array, a sequence or any DLPack
        producer such as a torch CPU tensor). Its cost is ``cost(value)``:
        ``identity`` (the value), ``linear`` (a*L + b; defaults a=1, b=0) or ``attention``
        (a*L + b*L^2 + c; defaults 1, 1/4096, 0), evaluated in C++ so costs are bit-identical to the
        C++ API; or any Python callable (see "Cost callables").
    algorithm: one of BALANCE_ALGORITHMS. ``greedy`` = LPT (<= 4/3 OPT); ``karmarkar_karp`` = k-way
        largest differencing; ``multifit`` (<= 13/11 OPT); ``local_search`` = LPT then moves/swaps;
        ``complete`` = anytime exact search within ``max_nodes`` / ``time_limit``; ``automatic`` =
        LPT, local search and (n <= 16384, or 131072 with equal counts) Karmarkar-Karp, keeping
        the better plan, then at most k pairwise re-splits of the heaviest part with a partner.
    equal_counts: every part gets floor(n/k) or ceil(n/k) items.
    part_capacity: no part above it (Infeasible when no plan is found under it).
    max_nodes: bounds ``complete`` and the improvement phase of ``automatic`` (0 gives plain LPT).

    Cost callables: ``cost=f`` evaluates ``f`` once per item into a float64 array, before the solve
    (the GIL is held only for that), and balances those costs exactly like an array of costs with
    ``cost="identity"``. ``vectorized=None`` (default) first calls ``f(values_array)`` once with the
    whole converted array (uint64 / int64 / float64); if that raises or does not return one number
    per item, ``f`` is called once per item with a Python int or float. ``vectorized=True`` only
    makes the array call (its errors propagate); ``vectorized=False`` only the per-item calls. Write
    ``f`` with numpy operations (``lambda L: 2.0 * L + L**2 / 8192``) to get the one-call path.
    Costs must be finite and non-negative (InvalidInput names the item otherwise).
    Raises InvalidInput for k == 0, NaN / negative / infinite costs, a non-positive part_capacity.
    Deterministic (ties break by item index) unless ``time_limit`` is set.
    """
    where = "balance"
    algorithm = _choice(algorithm, BALANCE_ALGORITHMS, where, "algorithm")
    k = _int_scalar(k, where, "k")
    if k < 0:
        raise InvalidInput(f"{where}: k = {k}: is negative")
    arr, cname, ca, cb, cc = _cost_args(values, cost, a, b, c, vectorized, where)
    r = _core.balance(
        arr,
        k,
        algorithm,
        bool(equal_counts),
        None if part_capacity is None else _float_scalar(part_capacity, where, "part_capacity"),
        max_nodes,
        time_limit,
        cname,
        ca,
        cb,
        cc,
    )
    return _partition_of(r)


@dataclass(frozen=True)
class TwoLevelPartition:
    """Result of :func:`balance_two_level` (fulcrum::two_level_partition, balance/two_level.hpp).

    rank_partition: the items onto the ranks (a :class:`Partition`; loads = rank totals).
    micro_batches: the ``steps x ranks`` grid as step-major :class:`Groups` (steps = micro-batches per
        rank): group ``j * ranks + r`` is rank r's j-th micro-batch (``at(j, r)``,
        ``micro_batch(r, j)``). Within a rank, micro-batches are ordered by load descending (ties by
        index), so ranks stepping in lockstep align their j-th heaviest.
    micro_batch_loads: float64 array of shape (steps, ranks): the load of (j, r).
    micro_batch_makespan: largest micro-batch load; micro_batch_lower_bound: lower bound on it for
        ranks * steps micro-batches. lockstep_time: sum over j of max over r of load (j, r).
    bottom_up: the part capacity forced the bottom-up plan.
    lower_bound / proven_optimal / gap: those of the rank level (no plan has a smaller largest rank
        load than lower_bound; lockstep_time >= rank makespan >= lower_bound).
    """

    rank_partition: Partition
    micro_batches: Groups
    steps: int
    ranks: int
    micro_batch_loads: np.ndarray
    micro_batch_makespan: float
    micro_batch_lower_bound: float
    lockstep_time: float
    bottom_up: bool

    @property
    def lower_bound(self) -> float:
        return self.rank_partition.lower_bound

    @property
    def proven_optimal(self) -> bool:
        return self.rank_partition.proven_optimal

    @property
    def gap(self) -> float:
        return self.rank_partition.gap

    def at(self, step: int, rank: int) -> np.ndarray:
        """Items of rank ``rank``'s micro-batch ``step`` (step_grid::at; IndexError when out of range)."""
        if not (0 <= step < self.steps and 0 <= rank < self.ranks):
            raise IndexError(f"(step, rank) = ({step}, {rank}) outside {self.steps} x {self.ranks}")
        return self.micro_batches[step * self.ranks + rank]

    def micro_batch(self, rank: int, j: int) -> np.ndarray:
        """Micro-batch ``j`` of rank ``rank`` (the C++ micro_batch(r, j))."""
        return self.at(j, rank)

    def rank_batches(self, rank: int) -> list[np.ndarray]:
        """Rank ``rank``'s micro-batches, heaviest first."""
        return [self.at(j, rank) for j in range(self.steps)]


def balance_two_level(
    values: ArrayLike,
    ranks: int,
    micro_batches: int,
    *,
    algorithm: str = "automatic",
    equal_counts: bool = False,
    part_capacity: Optional[float] = None,
    cost: CostArg = "identity",
    a: Optional[float] = None,
    b: Optional[float] = None,
    c: Optional[float] = None,
    vectorized: Optional[bool] = None,
    max_nodes: Optional[int] = None,
    time_limit: Optional[float] = None,
) -> TwoLevelPartition:
    """Two-level balancing: items onto ``ranks`` ranks, then each rank's share into ``micro_batches``
    micro-batches, every rank getting the same number (fulcrum::balance_two_level, balance/two_level.hpp).

    Level 1 balances all items onto the ranks (balance() with these options; a part_capacity C
    applies per micro-batch, so level 1 uses micro_batches * C per rank); level 2 balances each
    rank's items onto its micro-batches. If level 2 cannot meet the capacity on some rank, the
    bottom-up plan is tried: all items onto ranks * micro_batches micro-batches under C, then those
    onto the ranks with exactly micro_batches each. If that fails too: Infeasible.
    equal_counts holds across ranks and micro-batches: item counts differ by at most one at both
    levels. values, cost (a name or a callable), a, b, c and vectorized are as in :func:`balance`.

    Returns the steps x ranks grid (steps = micro_batches) as a :class:`TwoLevelPartition`.
    Complexity: that of the chosen algorithm on n items plus, per rank, on its share; O(n + k m)
    bookkeeping. Deterministic. Raises InvalidInput (ranks or micro_batches 0, bad costs or options)
    or Infeasible (no plan under part_capacity).
    """
    where = "balance_two_level"
    algorithm = _choice(algorithm, BALANCE_ALGORITHMS, where, "algorithm")
    ranks = _int_scalar(ranks, where, "ranks")
    micro_batches = _int_scalar(micro_batches, where, "micro_batches")
    for name, v in (("ranks", ranks), ("micro_batches", micro_batches)):
        if v < 0:
            raise InvalidInput(f"{where}: {name} = {v}: is negative")
    arr, cname, ca, cb, cc = _cost_args(values, cost, a, b, c, vectorized, where)
    r = _core.balance_two_level(
        arr,
        ranks,
        micro_batches,
        algorithm,
        bool(equal_counts),
        None if part_capacity is None else _float_scalar(part_capacity, where, "part_capacity"),
        max_nodes,
        time_limit,
        cname,
        ca,
        cb,
        cc,
    )
    steps, nranks = int(r["steps"]), int(r["ranks"])
    return TwoLevelPartition(
        rank_partition=_partition_of(r["rank_partition"]),
        micro_batches=Groups(r["grid_offsets"], r["grid_indices"]),
        steps=steps,
        ranks=nranks,
        micro_batch_loads=r["micro_batch_loads"].reshape(steps, nranks),
        micro_batch_makespan=float(r["micro_batch_makespan"]),
        micro_batch_lower_bound=float(r["micro_batch_lower_bound"]),
        lockstep_time=float(r["lockstep_time"]),
        bottom_up=bool(r["bottom_up"]),
    )


@dataclass(frozen=True)
class PostBalance:
    """Result of :func:`post_balance` (fulcrum::post_balance_result, balance/post_balance.hpp).

    plan: the balanced plan, a :class:`Partition` over the ranks (plan.parts[r] = samples rank r
    holds afterwards). bytes_moved_inter_node: bytes of samples whose node changes;
    bytes_moved_intra_node: bytes of samples that change rank within their node; samples_moved:
    samples whose rank changes; target_makespan: the cap every rank is held to (reference
    makespan * (1 + tolerance)).
    """

    plan: Partition
    bytes_moved_inter_node: int
    bytes_moved_intra_node: int
    samples_moved: int
    target_makespan: float

    @property
    def bytes_moved(self) -> int:
        """All bytes moved (inter-node + intra-node)."""
        return self.bytes_moved_inter_node + self.bytes_moved_intra_node

    def new_rank(self, n: Optional[int] = None) -> np.ndarray:
        """Each sample's rank after balancing (int64; the inverse of plan.parts)."""
        return self.plan.parts.assignment(n)


def post_balance(
    costs: ArrayLike,
    current_rank: ArrayLike,
    ranks: int,
    *,
    bytes: Optional[ArrayLike] = None,
    ranks_per_node: int = 8,
    tolerance: float = 0.01,
    algorithm: str = "automatic",
    max_nodes: Optional[int] = None,
    time_limit: Optional[float] = None,
) -> PostBalance:
    """Post-balancing with minimal movement (fulcrum::post_balance, balance/post_balance.hpp).

    Samples already sit on ranks (``current_rank[i]`` holds sample i; ranks r and r' share a node
    iff r // ranks_per_node == r' // ranks_per_node). Returns a balanced plan that keeps as much
    data where it is as possible, minimising bytes moved between nodes first, then between ranks of
    a node, then samples moved, and reports the bytes moved.

    costs: the cost of every sample (any numeric dtype, a sequence or a DLPack producer).
    bytes: the size of every sample in bytes (integers; default: 1 per sample, so the movement is
        counted in samples).
    tolerance: allowed makespan over a reference re-dispatch from scratch (LPT, or the complete
        search when algorithm == "complete"), relative: 0.01 = 1%.
    Guarantee: every sample placed exactly once; makespan <= target_makespan = reference makespan *
    (1 + tolerance). Not an optimum of the movement objective (NP-hard). Deterministic.
    Complexity: O(M (n log n + n C + k)) for M = 12 margins and C = ranks_per_node + nodes, plus
    bounded repair passes; an O(k^3) assignment fallback for k <= 512.
    Raises InvalidInput (ranks or ranks_per_node 0, lengths differ, a current rank not below
    ranks, negative / NaN costs, a bad tolerance).
    """
    where = "post_balance"
    algorithm = _choice(algorithm, BALANCE_ALGORITHMS, where, "algorithm")
    ranks = _int_scalar(ranks, where, "ranks")
    ranks_per_node = _int_scalar(ranks_per_node, where, "ranks_per_node")
    for name, v in (("ranks", ranks), ("ranks_per_node", ranks_per_node)):
        if v < 0:
            raise InvalidInput(f"{where}: {name} = {v}: is negative")
    if ranks == 0:
        raise InvalidInput(f"{where}: ranks = 0: need at least one rank")
    cst = np.ascontiguousarray(_numeric(costs, where, "costs"), dtype=np.float64)
    cur = _numeric(current_rank, where, "current_rank", allow_float=False)
    if cur.size and (int(cur.min()) < 0 or int(cur.max()) > 0xFFFFFFFF):
        i = int(np.argmin(cur)) if int(cur.min()) < 0 else int(np.argmax(cur))
        raise InvalidInput(f"{where}: current_rank[{i}] = {int(cur[i])}: is not a rank index")
    cur = np.ascontiguousarray(cur, dtype=np.uint32)
    if bytes is None:
        by = np.ones(len(cst), dtype=np.uint64)
    else:
        by = _numeric(bytes, where, "bytes", allow_float=False)
        if by.dtype.kind == "i" and by.size and int(by.min()) < 0:
            i = int(np.argmin(by))
            raise InvalidInput(f"{where}: bytes[{i}] = {int(by[i])}: is negative")
        by = np.ascontiguousarray(by, dtype=np.uint64)
    tol = _float_scalar(tolerance, where, "tolerance")
    r = _core.post_balance(cst, cur, by, ranks, ranks_per_node, tol, algorithm, max_nodes, time_limit)
    return PostBalance(
        plan=_partition_of(r["plan"]),
        bytes_moved_inter_node=int(r["bytes_moved_inter_node"]),
        bytes_moved_intra_node=int(r["bytes_moved_intra_node"]),
        samples_moved=int(r["samples_moved"]),
        target_makespan=float(r["target_makespan"]),
    )


def partition_stages(
    layer_costs: ArrayLike,
    stages: int,
    *,
    algorithm: str = "automatic",
    stage_speed: Optional[Sequence[float]] = None,
    stage_fixed_cost: Optional[Sequence[float]] = None,
    layer_memory: Optional[Sequence[int]] = None,
    stage_memory_cap: Optional[Sequence[int]] = None,
) -> StagePartition:
    """Exact minimum-bottleneck split of layers into contiguous pipeline stages (fulcrum::partition_stages).

    The cost of stage s holding layers [i, j) is stage_fixed_cost[s] + (c[i] + ... + c[j-1]) /
    stage_speed[s]; its memory (sum of layer_memory) must not exceed stage_memory_cap[s].
    ``automatic`` runs Nicol's search for homogeneous stages, else the exact bisection; both exact.
    Raises InvalidInput (stages 0 or above the layer count, bad costs or option lengths) or
    Infeasible (a memory cap no split meets, naming the stage).
    """
    where = "partition_stages"
    algorithm = _choice(algorithm, STAGE_ALGORITHMS, where, "algorithm")
    stages = _int_scalar(stages, where, "stages")
    if stages < 0:
        raise InvalidInput(f"{where}: stages = {stages}: is negative")
    arr = _numeric(layer_costs, where, "layer_costs")

    def floats(v: Optional[Sequence[float]]) -> list[float]:
        return [] if v is None else [float(x) for x in v]

    def ints(v: Optional[Sequence[int]], name: str) -> list[int]:
        if v is None:
            return []
        out = [_int_scalar(x, where, name) for x in v]
        for i, x in enumerate(out):
            if x < 0:
                raise InvalidInput(f"{where}: {name}[{i}] = {x}: is negative")
        return out

    r = _core.partition_stages(
        arr,
        stages,
        algorithm,
        floats(stage_speed),
        floats(stage_fixed_cost),
        ints(layer_memory, "layer_memory"),
        ints(stage_memory_cap, "stage_memory_cap"),
    )
    return StagePartition(
        boundaries=r["boundaries"],
        stage_costs=r["stage_costs"],
        bottleneck=float(r["bottleneck"]),
        lower_bound=float(r["lower_bound"]),
        proven_optimal=bool(r["proven_optimal"]),
        gap=float(r["gap"]),
    )


RECOMPUTE_ALGORITHMS = ("automatic", "dynamic_programming", "branch_and_bound", "greedy")
PIPELINE_SCHEDULES = ("gpipe", "one_f_one_b", "interleaved_1f1b")


def _layer_options(layer_options: Any, where: str, n: Optional[int] = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-layer recompute options [(memory, time), ...] as CSR (offsets, memory uint64, time float64)."""
    try:
        layers = [list(layer) for layer in layer_options]
    except TypeError as e:
        raise InvalidInput(f"{where}: recompute_options must be one list of (memory, time) pairs per layer") from e
    if n is not None and len(layers) != n:
        raise InvalidInput(f"{where}: recompute_options has {len(layers)} layers: needs one list per layer ({n})")
    offsets = np.zeros(len(layers) + 1, dtype=np.uint64)
    mem: list[int] = []
    tim: list[float] = []
    for l, layer in enumerate(layers):
        for k, opt in enumerate(layer):
            try:
                m, t = opt
            except (TypeError, ValueError) as e:
                raise InvalidInput(f"{where}: recompute_options[{l}][{k}] = {opt!r}: must be a (memory, time) pair") from e
            m = _int_scalar(m, where, f"recompute_options[{l}][{k}].memory")
            if m < 0:
                raise InvalidInput(f"{where}: recompute_options[{l}][{k}].memory = {m}: is negative")
            mem.append(m)
            tim.append(_float_scalar(t, where, f"recompute_options[{l}][{k}].time"))
        offsets[l + 1] = len(mem)
    return offsets, np.asarray(mem, dtype=np.uint64), np.asarray(tim, dtype=np.float64)


@dataclass(frozen=True)
class RecomputePlan:
    """Result of :func:`select_recompute` (fulcrum::recompute_plan, recompute/plan.hpp).

    choice[l]: index of the option taken for layer l. memory: total memory kept (<= the budget).
    time: total time added (summed in layer order). lower_bound: no plan within the budget adds
    less time. proven_optimal / gap as for every fulcrum result.
    """

    choice: np.ndarray
    memory: int
    time: float
    lower_bound: float
    proven_optimal: bool
    gap: float


def select_recompute(
    layer_options: Sequence[Sequence[tuple[int, float]]],
    memory_budget: int,
    *,
    algorithm: str = "automatic",
    max_nodes: Optional[int] = None,
    time_limit: Optional[float] = None,
) -> RecomputePlan:
    """Memory-budgeted recompute selection (fulcrum::select_recompute, recompute/select.hpp).

    layer_options: per layer a list of options ``(memory kept, time added)`` (e.g. keep all /
    selective / full recompute; memory in any integer unit). Picks one option per layer so that the
    total memory kept is <= memory_budget and the total time added is least (a multiple-choice
    knapsack). algorithm: one of RECOMPUTE_ALGORITHMS. ``automatic`` runs the exact Pareto-frontier
    DP and, past ``max_nodes`` states (default 100000), the exact anytime branch and bound;
    ``greedy`` is the convex-hull baseline.
    Guarantee: exact unless a limit is hit (then proven_optimal is False and lower_bound is the LP
    bound). Deterministic. Worst case with the defaults: O(N K log(N K) + 1e5 (H + K)) for N layers,
    K options, H <= N K hull steps (about 1 s for 2000 layers x 3 options).
    Raises InvalidInput (no layers, a layer with no options, negative / NaN / infinite time, naming
    layer and option) or Infeasible (a budget below the least memory any plan keeps).
    """
    where = "select_recompute"
    algorithm = _choice(algorithm, RECOMPUTE_ALGORITHMS, where, "algorithm")
    budget = _u64_scalar(memory_budget, where, "memory_budget")
    off, mem, tim = _layer_options(layer_options, where)
    r = _core.select_recompute(off, mem, tim, budget, algorithm, max_nodes, time_limit)
    return RecomputePlan(
        choice=r["choice"],
        memory=int(r["memory"]),
        time=float(r["time"]),
        lower_bound=float(r["lower_bound"]),
        proven_optimal=bool(r["proven_optimal"]),
        gap=float(r["gap"]),
    )


@dataclass(frozen=True)
class Schedule:
    """Result of :func:`simulate_schedule` (fulcrum::schedule_result, pipeline/schedule.hpp).

    iteration_time: end of the last operation. bubble_fraction: 1 - busy / (devices *
    iteration_time). busy_time[d]: sum of device d's operation times. peak_in_flight[d]: most
    micro-batch activations device d holds at once. peak_activation_memory[d] (empty unless
    activation_memory was given). With ``timeline=True``, ``timeline`` is a dict of per-operation
    arrays, device by device in execution order: device, forward (bool), micro_batch,
    virtual_stage, start, end (empty arrays otherwise).
    """

    iteration_time: float
    bubble_fraction: float
    busy_time: np.ndarray
    peak_in_flight: np.ndarray
    peak_activation_memory: np.ndarray
    timeline: dict[str, np.ndarray]


def _schedule_of(r: dict[str, Any]) -> Schedule:
    return Schedule(
        iteration_time=float(r["iteration_time"]),
        bubble_fraction=float(r["bubble_fraction"]),
        busy_time=r["busy_time"],
        peak_in_flight=r["peak_in_flight"],
        peak_activation_memory=r["peak_activation_memory"],
        timeline={
            "device": r["op_device"],
            "forward": r["op_forward"].astype(bool),
            "micro_batch": r["op_micro_batch"],
            "virtual_stage": r["op_virtual_stage"],
            "start": r["op_start"],
            "end": r["op_end"],
        },
    )


def _floats(values: ArrayLike, where: str, name: str) -> np.ndarray:
    return np.ascontiguousarray(_numeric(values, where, name), dtype=np.float64)


def simulate_schedule(
    forward: ArrayLike,
    backward: ArrayLike,
    micro_batches: int,
    *,
    schedule: str = "one_f_one_b",
    virtual_stages: int = 1,
    p2p_time: float = 0.0,
    activation_memory: Optional[Sequence[float]] = None,
    timeline: bool = False,
) -> Schedule:
    """Simulates one training iteration of a pipeline schedule (fulcrum::simulate_schedule, pipeline/schedule.hpp).

    schedule: ``gpipe`` (all forwards, then all backwards), ``one_f_one_b`` (PipeDream-flush,
    Megatron's default) or ``interleaved_1f1b`` (Megatron's virtual pipeline, ``virtual_stages``
    model chunks per device). forward[q], backward[q]: time of one micro-batch on virtual stage q
    (q = chunk * devices + device; for GPipe / 1F1B simply the stage); devices =
    len(forward) / virtual_stages. Every device runs its operations in the schedule's fixed order,
    each as soon as the device is free and its inputs arrived (one ``p2p_time`` per transfer).
    activation_memory (optional, per virtual stage): activation of one micro-batch, for the peak
    activation memory per device.
    Reproduces the closed forms on uniform stages without transfers: 1F1B and GPipe (m + p - 1)(f + b),
    interleaved (m + (p - 1) / v)(f + b) when m % p == 0. Complexity O(m v p).
    Raises InvalidInput (lengths differ or are 0, negative / NaN times, micro_batches 0,
    virtual_stages 0, virtual_stages > 1 without the interleaved schedule, interleaved with
    micro_batches % devices != 0).
    """
    where = "simulate_schedule"
    schedule = _choice(schedule, PIPELINE_SCHEDULES, where, "schedule")
    m = _int_scalar(micro_batches, where, "micro_batches")
    v = _int_scalar(virtual_stages, where, "virtual_stages")
    for name, x in (("micro_batches", m), ("virtual_stages", v)):
        if x < 0:
            raise InvalidInput(f"{where}: {name} = {x}: is negative")
    act = [] if activation_memory is None else [_float_scalar(x, where, "activation_memory") for x in activation_memory]
    r = _core.simulate_schedule(
        _floats(forward, where, "forward"), _floats(backward, where, "backward"), schedule, m, v,
        _float_scalar(p2p_time, where, "p2p_time"), act, bool(timeline),
    )
    return _schedule_of(r)


@dataclass(frozen=True)
class PipelinePlan:
    """Result of the pipeline searches (fulcrum::pipeline_plan, pipeline/plan.hpp).

    boundaries: stages + 1 layer indices (stage s = layers [boundaries[s], boundaries[s+1])).
    stage_costs / bottleneck: forward + backward per stage with recompute. recompute_choice[l]:
    index of layer l's recompute option (0 without options). stage_forward, stage_backward
    (recompute included), stage_recompute: per stage, one micro-batch. stage_memory: per stage,
    params + in-flight micro-batches x kept activations. schedule: the simulated 1F1B iteration
    (:class:`Schedule`); iteration_time = schedule.iteration_time. lower_bound: no plan in the
    searched set is faster; proven_optimal, gap as usual; nodes: outer search nodes visited.
    """

    boundaries: np.ndarray
    stage_costs: np.ndarray
    bottleneck: float
    recompute_choice: np.ndarray
    stage_forward: np.ndarray
    stage_backward: np.ndarray
    stage_recompute: np.ndarray
    stage_memory: np.ndarray
    schedule: Schedule
    iteration_time: float
    lower_bound: float
    proven_optimal: bool
    gap: float
    nodes: int

    @property
    def stages(self) -> int:
        return len(self.boundaries) - 1


def _pipeline(
    mode: str,
    where: str,
    forward: ArrayLike,
    backward: ArrayLike,
    parameter_memory: ArrayLike,
    activation_memory: ArrayLike,
    recompute_options: Optional[Sequence[Sequence[tuple[int, float]]]],
    stages: int,
    micro_batches: int,
    device_memory: Optional[int],
    p2p_time: float,
    bottleneck_tolerance: float,
    boundaries: Optional[ArrayLike],
    max_nodes: Optional[int],
    time_limit: Optional[float],
) -> PipelinePlan:
    f = _floats(forward, where, "forward")
    b = _floats(backward, where, "backward")

    def u64(values: ArrayLike, name: str) -> np.ndarray:
        arr = _numeric(values, where, name, allow_float=False)
        if arr.dtype.kind == "i" and arr.size and int(arr.min()) < 0:
            i = int(np.argmin(arr))
            raise InvalidInput(f"{where}: {name}[{i}] = {int(arr[i])}: is negative")
        return np.ascontiguousarray(arr, dtype=np.uint64)

    pm = u64(parameter_memory, "parameter_memory")
    am = u64(activation_memory, "activation_memory")
    if recompute_options is None:
        off, mem, tim = np.zeros(1, dtype=np.uint64), np.zeros(0, dtype=np.uint64), np.zeros(0)
    else:
        off, mem, tim = _layer_options(recompute_options, where, len(f))
    p = _int_scalar(stages, where, "stages")
    m = _int_scalar(micro_batches, where, "micro_batches")
    for name, x in (("stages", p), ("micro_batches", m)):
        if x < 0:
            raise InvalidInput(f"{where}: {name} = {x}: is negative")
    dm = None if device_memory is None else _int_scalar(device_memory, where, "device_memory")
    if dm is not None and dm < 0:
        raise InvalidInput(f"{where}: device_memory = {dm}: is negative")
    if dm is not None:
        dm = _u64_scalar(dm, where, "device_memory")
    bnd = np.zeros(0, dtype=np.uint64) if boundaries is None else u64(boundaries, "boundaries")
    r = _core.pipeline_search(
        mode, f, b, pm, am, off, mem, tim, p, m, dm, _float_scalar(p2p_time, where, "p2p_time"),
        _float_scalar(bottleneck_tolerance, where, "bottleneck_tolerance"), bnd, max_nodes, time_limit,
    )
    return PipelinePlan(
        boundaries=r["boundaries"],
        stage_costs=r["stage_costs"],
        bottleneck=float(r["bottleneck"]),
        recompute_choice=r["recompute_choice"],
        stage_forward=r["stage_forward"],
        stage_backward=r["stage_backward"],
        stage_recompute=r["stage_recompute"],
        stage_memory=r["stage_memory"],
        schedule=_schedule_of(r["schedule"]),
        iteration_time=float(r["iteration_time"]),
        lower_bound=float(r["lower_bound"]),
        proven_optimal=bool(r["proven_optimal"]),
        gap=float(r["gap"]),
        nodes=int(r["nodes"]),
    )


def joint_partition_recompute(
    forward: ArrayLike,
    backward: ArrayLike,
    parameter_memory: ArrayLike,
    activation_memory: ArrayLike,
    recompute_options: Optional[Sequence[Sequence[tuple[int, float]]]],
    stages: int,
    micro_batches: int,
    *,
    device_memory: Optional[int] = None,
    p2p_time: float = 0.0,
    max_nodes: Optional[int] = None,
    time_limit: Optional[float] = None,
) -> PipelinePlan:
    """Joint stage partition and per-layer recompute (fulcrum::joint_partition_recompute, recompute/joint.hpp).

    Per layer: forward / backward time of one micro-batch, parameter_memory (params + grads +
    optimizer state) and activation_memory (kept per micro-batch without recompute), and its
    recompute_options ``[(memory kept, time added), ...]`` (None: no recompute). Chooses the stage
    boundaries and one option per layer together (AdaPipe-style), minimising the simulated 1F1B
    iteration time under the per-device memory: params + min(m, p - s) x kept activations of stage
    s <= device_memory (None: unlimited).
    Level 1: per candidate stage the least recompute that fits (exact multiple-choice knapsack);
    level 2: exact branch and bound over partitions with longest-path bounds, leaves simulated.
    Guarantee: the least simulated iteration time over all partitions and recompute choices (up to a
    relative 1e-9), proven_optimal, unless ``max_nodes`` (default 1e5) / ``time_limit`` stop the
    search (then a valid plan and a lower bound for every plan).
    Raises InvalidInput (lengths differ, negative / NaN times, stages 0 or above the layers,
    micro_batches 0) or Infeasible (nothing fits, naming device_memory).
    """
    return _pipeline(
        "joint", "joint_partition_recompute", forward, backward, parameter_memory, activation_memory,
        recompute_options, stages, micro_batches, device_memory, p2p_time, 0.05, None, max_nodes, time_limit,
    )


def search_partition(
    forward: ArrayLike,
    backward: ArrayLike,
    parameter_memory: ArrayLike,
    activation_memory: ArrayLike,
    recompute_options: Optional[Sequence[Sequence[tuple[int, float]]]],
    stages: int,
    micro_batches: int,
    *,
    device_memory: Optional[int] = None,
    p2p_time: float = 0.0,
    bottleneck_tolerance: float = 0.05,
    max_nodes: Optional[int] = None,
    time_limit: Optional[float] = None,
) -> PipelinePlan:
    """OmniBal-style balanced pipeline search with recompute (fulcrum::search_partition, recompute/joint.hpp).

    The search of :func:`joint_partition_recompute`, restricted to partitions whose plain
    bottleneck (forward + backward, no recompute) is at most (1 + bottleneck_tolerance) x the
    optimum; each stage uses the least recompute that fits. Inputs and errors as
    joint_partition_recompute; nothing in the window fits -> Infeasible naming bottleneck_tolerance.
    """
    return _pipeline(
        "search", "search_partition", forward, backward, parameter_memory, activation_memory, recompute_options,
        stages, micro_batches, device_memory, p2p_time, bottleneck_tolerance, None, max_nodes, time_limit,
    )


def evaluate_pipeline(
    forward: ArrayLike,
    backward: ArrayLike,
    parameter_memory: ArrayLike,
    activation_memory: ArrayLike,
    recompute_options: Optional[Sequence[Sequence[tuple[int, float]]]],
    boundaries: ArrayLike,
    micro_batches: int,
    *,
    device_memory: Optional[int] = None,
    p2p_time: float = 0.0,
) -> PipelinePlan:
    """Prices a given partition like the searches do (fulcrum::evaluate_pipeline, recompute/joint.hpp):
    each stage with its least recompute that fits, then the 1F1B simulator. boundaries: p + 1
    increasing entries from 0 to the number of layers. Use it to compare a uniform or hand-made
    split with the search results. Raises Infeasible naming a stage that cannot fit.
    """
    b = _as_array(boundaries, "evaluate_pipeline", "boundaries")
    return _pipeline(
        "evaluate", "evaluate_pipeline", forward, backward, parameter_memory, activation_memory, recompute_options,
        max(len(b) - 1, 0), micro_batches, device_memory, p2p_time, 0.05, b, None, None,
    )


@dataclass(frozen=True)
class StreamStep:
    """One step of the streaming batcher: ``ranks`` micro-batches of item ids.

    micro_batches[r] is rank r's micro-batch (uint64 ids); loads[r] its tokens (for a batcher over D
    size dimensions, loads has shape (ranks, D) and loads[r, d] is its size in dimension d);
    costs[r] its cost (empty without costs); cap the step's cap in the last dimension (tokens) and
    caps those of every dimension (ramped during warm-up).
    """

    index: int
    micro_batches: Groups
    loads: np.ndarray
    costs: np.ndarray
    cap: int
    pad_multiple: int
    caps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    @property
    def ranks(self) -> int:
        return len(self.micro_batches)

    def padded_tokens(self, rank: int) -> int:
        """Rank ``rank``'s tokens rounded up to a multiple of pad_multiple."""
        m = self.pad_multiple or 1
        tokens = self.loads[rank] if self.loads.ndim == 1 else self.loads[rank, -1]
        return (int(tokens) + m - 1) // m * m


@dataclass(frozen=True)
class _StreamOptions:
    capacity: Union[int, tuple[int, ...]]
    ranks: int = 1
    buffer: int = 16384
    seed: int = 20240601
    shuffle: bool = True
    warmup_steps: int = 0
    warmup_start: float = 0.25
    drop_last: bool = False
    max_wait: int = 0
    oversize: str = "error"
    passes: int = 4
    keep_fill: float = 0.985
    keep_share: float = 0.25
    max_keep_rounds: int = 8
    pad_multiple: int = 1


class StreamBatcher:
    """Online balanced micro-batches with a bounded buffer (fulcrum::streaming_batcher<1>, docs/streaming.md).

    Items (an id and a token count, optionally a cost) are pushed one at a time; at most ``buffer``
    are held. Each step has ``ranks`` micro-batches, each within ``capacity`` tokens, balanced in
    tokens (or in cost when every item carries one). ``finish()`` ends the stream (flush, or
    ``drop_last``: only full steps, the rest in ``dropped()``). Every pushed item is emitted exactly
    once or reported as dropped; the same options, seed and pushes give the same steps everywhere.

    Size dimensions: ``capacity`` an int gives one dimension (tokens); a sequence of D = 1..4 caps
    (e.g. ``(images, tokens)``) gives fulcrum::streaming_batcher<D>: every item then has a size in
    every dimension (``push(id, (images, tokens))``, ``push_many(ids, sizes_n_by_D)``), every
    micro-batch holds every cap and the steps are balanced in every dimension normalised by its
    cap (or in cost). pad_multiple applies to the last dimension.

    The state is picklable: ``pickle.loads(pickle.dumps(b))`` (or ``StreamBatcher.restore(
    b.state(), **b.options)``) continues with exactly the steps the original would emit.
    """

    def __init__(
        self,
        capacity: Union[int, Sequence[int]],
        ranks: int = 1,
        *,
        buffer: int = 16384,
        seed: int = 20240601,
        shuffle: bool = True,
        warmup_steps: int = 0,
        warmup_start: float = 0.25,
        drop_last: bool = False,
        max_wait: int = 0,
        oversize: str = "error",
        passes: int = 4,
        keep_fill: float = 0.985,
        keep_share: float = 0.25,
        max_keep_rounds: int = 8,
        pad_multiple: int = 1,
        _state: Optional[bytes] = None,
    ) -> None:
        where = "StreamBatcher"
        oversize = _choice(oversize, ("error", "truncate"), where, "oversize")
        if isinstance(capacity, (int, np.integer)):
            caps: tuple[int, ...] = (_int_scalar(capacity, where, "capacity"),)
            cap_opt: Union[int, tuple[int, ...]] = int(capacity)
        else:
            caps = tuple(_int_scalar(c, where, "capacity") for c in capacity)
            if not 1 <= len(caps) <= 4:
                raise InvalidInput(f"{where}: capacity has {len(caps)} entries: the binding handles 1 to 4 dimensions")
            for d, c in enumerate(caps):
                if c < 0:
                    raise InvalidInput(f"{where}: capacity[{d}] = {c}: is negative")
            cap_opt = caps
        self._dims = len(caps)
        ints = dict(
            ranks=ranks,
            buffer=buffer,
            seed=seed,
            warmup_steps=warmup_steps,
            max_wait=max_wait,
            passes=passes,
            max_keep_rounds=max_keep_rounds,
            pad_multiple=pad_multiple,
        )
        for name, v in ints.items():
            if _int_scalar(v, where, name) < 0:
                raise InvalidInput(f"{where}: {name} = {v}: is negative")
        if caps[0] < 0:
            raise InvalidInput(f"{where}: capacity = {caps[0]}: is negative")
        self._opts = _StreamOptions(
            capacity=cap_opt,
            ranks=int(ranks),
            buffer=int(buffer),
            seed=int(seed),
            shuffle=bool(shuffle),
            warmup_steps=int(warmup_steps),
            warmup_start=float(warmup_start),
            drop_last=bool(drop_last),
            max_wait=int(max_wait),
            oversize=oversize,
            passes=int(passes),
            keep_fill=float(keep_fill),
            keep_share=float(keep_share),
            max_keep_rounds=int(max_keep_rounds),
            pad_multiple=int(pad_multiple),
        )
        o = self._opts
        cls = _core.StreamingBatcher if self._dims == 1 else getattr(_core, f"StreamingBatcher{self._dims}")
        self._b = cls(
            list(caps),
            o.ranks,
            o.buffer,
            o.seed,
            o.shuffle,
            o.warmup_steps,
            o.warmup_start,
            o.drop_last,
            o.max_wait,
            o.oversize,
            o.passes,
            o.keep_fill,
            o.keep_share,
            o.max_keep_rounds,
            o.pad_multiple,
            _state,
        )

    @property
    def options(self) -> dict[str, Any]:
        """The constructor's keyword arguments (what restore() needs)."""
        return dict(self._opts.__dict__)

    def push(self, id: int, size: int, cost: Optional[float] = None) -> None:
        """Pushes one item; a packing round runs when the buffer reaches its trigger.

        Either every item carries a ``cost`` or none does. Raises InvalidInput after finish() or
        for a bad cost, Infeasible for an item over the capacity (unless oversize="truncate").
        """
        where = "StreamBatcher.push"
        i = _int_scalar(id, where, "id")
        if i < 0:
            raise InvalidInput(f"{where}: id = {i}: is negative")
        if isinstance(size, (list, tuple, np.ndarray)):
            sizes = [_int_scalar(x, where, "size") for x in size]
        else:
            sizes = [_int_scalar(size, where, "size")]
        if len(sizes) != self._dims:
            raise InvalidInput(f"{where}: size has {len(sizes)} entries: the batcher has {self._dims} dimensions")
        for d, x in enumerate(sizes):
            if x < 0:
                raise InvalidInput(f"{where}: size = {x}: is negative" if self._dims == 1 else f"{where}: size[{d}] = {x}: is negative")
        if cost is None:
            self._b.push(i, sizes)
        else:
            self._b.push_cost(i, sizes, float(cost))

    def push_many(self, ids: ArrayLike, sizes: ArrayLike) -> None:
        """Pushes many items (no costs) in one call, with the GIL released."""
        where = "StreamBatcher.push_many"
        a = _numeric(ids, where, "ids", allow_float=False)
        s = _numeric(sizes, where, "sizes", ndim=1 if self._dims == 1 else 2, allow_float=False)
        for name, arr in (("ids", a), ("sizes", s)):
            if arr.dtype == np.int64 and arr.size and arr.min() < 0:
                bad = (arr < 0) if arr.ndim == 1 else (arr < 0).any(axis=1)
                i = int(np.argmax(bad))
                raise InvalidInput(f"{where}: {name}[{i}] = {arr[i].tolist()}: is negative")
        s = np.ascontiguousarray(s, dtype=np.uint64).reshape(-1, self._dims)
        self._b.push_many(a.astype(np.uint64, copy=False), s)

    def next(self) -> Optional[StreamStep]:
        """Takes the next ready step, or None."""
        d = self._b.next()
        if d is None:
            return None
        return StreamStep(
            index=int(d["index"]),
            micro_batches=Groups(d["offsets"], d["ids"]),
            loads=d["loads"] if self._dims == 1 else d["loads"].reshape(-1, self._dims),
            costs=d["costs"],
            cap=int(d["cap"]),
            pad_multiple=int(d["pad_multiple"]),
            caps=d["caps"],
        )

    def __iter__(self) -> Iterator[StreamStep]:
        """The steps ready now (drains them)."""
        while True:
            s = self.next()
            if s is None:
                return
            yield s

    def finish(self) -> None:
        """Ends the stream: buffered items are emitted (flush) or dropped (drop_last). Idempotent."""
        self._b.finish()

    def pop(self) -> Optional[StreamStep]:
        """Same as next() (the contract name, docs/design.md)."""
        return self.next()

    def flush(self) -> None:
        """Same as finish() (the contract name, docs/design.md)."""
        self.finish()

    def ready(self) -> bool:
        """Whether a step is ready for next()."""
        return bool(self._b.ready())

    @property
    def buffered(self) -> int:
        """Items buffered, not yet in an emitted step."""
        return int(self._b.buffered())

    @property
    def finished(self) -> bool:
        return bool(self._b.finished())

    def dropped(self) -> np.ndarray:
        """Ids dropped by finish() under drop_last."""
        return self._b.dropped()

    def stats(self) -> dict[str, Any]:
        """Running figures: pushed, emitted, dropped, steps, micro_batches, rounds, lower_bound, dist, gap, ..."""
        return dict(self._b.stats())

    def state(self) -> bytes:
        """The whole state as versioned, checksummed bytes (docs/streaming.md)."""
        return bytes(self._b.state())

    @classmethod
    def restore(cls, state: bytes, capacity: Union[int, Sequence[int]], ranks: int = 1, **options: Any) -> "StreamBatcher":
        """A batcher continuing from ``state()`` bytes; the options must be those that wrote them.

        Raises InvalidInput for a truncated, corrupt, other-version or other-options state.
        """
        return cls(capacity, ranks, _state=bytes(state), **options)

    def __reduce__(self) -> Any:
        opts = self.options
        return (_restore_pickled, (self.state(), opts))


def _restore_pickled(state: bytes, opts: dict[str, Any]) -> StreamBatcher:
    return StreamBatcher(_state=state, **opts)


#: The C++ class's name (fulcrum::streaming_batcher); the same class as StreamBatcher.
StreamingBatcher = StreamBatcher


@dataclass(frozen=True)
class PackedLayout:
    """Result of :func:`packed_layout`: what a varlen attention kernel takes for a packed batch.

    sequence_offsets: sequence s is tokens [sequence_offsets[s], sequence_offsets[s+1]) of the
    per-token arrays (padding included). cu_seqlens (int32): sequence s's entries are
    cu_seqlens[cu_seqlens_offsets[s]:cu_seqlens_offsets[s+1]], from 0 to its padded length, one
    segment per document and the padding as one last segment. batch_cu_seqlens: the same for the
    whole batch flattened into one row (flash_attn_varlen_func with batch size 1). max_seqlen (per
    sequence) and max_seqlen_overall: longest segment. Per token: position_ids (restart at 0 in
    every document), document_ids (document number in its sequence, -1 for padding),
    source_item / source_offset (the gather map: token t is token source_offset[t] of item
    source_item[t]; padding has source_item == PackedLayout.padding_item). kinds (uint8, per token):
    PackedLayout.TEXT, IMAGE or PADDING (for a multimodal layout, source_offset indexes the item's
    text tokens or its image tokens by kind).
    """

    padding_item = 0xFFFFFFFF

    sequence_offsets: np.ndarray
    cu_seqlens_offsets: np.ndarray
    cu_seqlens: np.ndarray
    batch_cu_seqlens: np.ndarray
    max_seqlen: np.ndarray
    max_seqlen_overall: int
    position_ids: np.ndarray
    document_ids: np.ndarray
    source_item: np.ndarray
    source_offset: np.ndarray
    content_tokens: int
    padding_tokens: int
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))

    TEXT = 0
    IMAGE = 1
    PADDING = 2

    @property
    def efficiency(self) -> float:
        """content / (content + padding); 1 without padding."""
        total = self.content_tokens + self.padding_tokens
        return 1.0 if total == 0 else self.content_tokens / total

    @property
    def sequences(self) -> int:
        return len(self.sequence_offsets) - 1

    @property
    def tokens(self) -> int:
        return int(self.sequence_offsets[-1])

    def sequence_cu_seqlens(self, s: int) -> np.ndarray:
        """cu_seqlens of sequence s (a view)."""
        return self.cu_seqlens[self.cu_seqlens_offsets[s] : self.cu_seqlens_offsets[s + 1]]


def packed_layout(
    groups: Union[Groups, Sequence[Sequence[int]]],
    sizes: ArrayLike,
    *,
    pad_multiple: int = 1,
    fixed_length: int = 0,
    fixed_sequences: int = 0,
) -> PackedLayout:
    """Packed-sequence layout of text items (fulcrum::make_packed_layout, layout/packed_layout.hpp).

    groups: one group per packed sequence, documents in group order (a :class:`Groups`, e.g.
    ``pack(...).bins``, or a list of index lists). sizes: tokens per item. pad_multiple: pad every
    sequence to a multiple of this (tensor-core alignment or the SP degree); fixed_length > 0: every
    sequence to exactly this many tokens (a multiple of pad_multiple); fixed_sequences > 0: the
    batch padded with all-padding sequences to exactly this many.

    O(items + tokens + sequences). Every token of every grouped item appears exactly once, in
    document order. Raises InvalidInput (an index out of range, an item in two groups, pad_multiple
    = 0, ...) or Infeasible (a sequence longer than fixed_length, more groups than fixed_sequences).
    """
    where = "packed_layout"
    if isinstance(groups, Groups):
        offsets = np.ascontiguousarray(groups.offsets, dtype=np.uint64)
        indices = np.ascontiguousarray(groups.indices, dtype=np.uint32)
    else:
        lists = [np.asarray(g, dtype=np.int64).reshape(-1) for g in groups]
        flat = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
        if flat.size and (flat.min() < 0 or flat.max() > 0xFFFFFFFE):
            raise InvalidInput(f"{where}: groups: an index is outside 0..4294967294")
        offsets = np.zeros(len(lists) + 1, dtype=np.uint64)
        offsets[1:] = np.cumsum([len(g) for g in lists], dtype=np.uint64)
        indices = np.ascontiguousarray(flat, dtype=np.uint32)
    arr = _numeric(sizes, where, "sizes", allow_float=False)
    if arr.dtype.kind == "i":
        if arr.size and arr.min() < 0:
            i = int(np.argmin(arr))
            raise InvalidInput(f"{where}: sizes[{i}] = {int(arr[i])}: is negative")
        arr = arr.astype(np.uint64)
    for name, v, hi in (("pad_multiple", pad_multiple, 0xFFFFFFFF), ("fixed_length", fixed_length, 0xFFFFFFFF)):
        if not 0 <= _int_scalar(v, where, name) <= hi:
            raise InvalidInput(f"{where}: {name} = {v}: must be in 0..{hi}")
    if _int_scalar(fixed_sequences, where, "fixed_sequences") < 0:
        raise InvalidInput(f"{where}: fixed_sequences = {fixed_sequences}: must be >= 0")
    r = _core.packed_layout(offsets, indices, arr, int(pad_multiple), int(fixed_length), int(fixed_sequences))
    return _layout_of(r)


def _groups_csr(groups: Union[Groups, Sequence[Sequence[int]]], where: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(groups, Groups):
        return np.ascontiguousarray(groups.offsets, dtype=np.uint64), np.ascontiguousarray(groups.indices, dtype=np.uint32)
    lists = [np.asarray(g, dtype=np.int64).reshape(-1) for g in groups]
    flat = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    if flat.size and (flat.min() < 0 or flat.max() > 0xFFFFFFFE):
        raise InvalidInput(f"{where}: groups: an index is outside 0..4294967294")
    offsets = np.zeros(len(lists) + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum([len(g) for g in lists], dtype=np.uint64)
    return offsets, np.ascontiguousarray(flat, dtype=np.uint32)


def _u32(values: ArrayLike, where: str, name: str) -> np.ndarray:
    arr = _numeric(values, where, name, allow_float=False)
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > 0xFFFFFFFF):
        i = int(np.argmin(arr)) if int(arr.min()) < 0 else int(np.argmax(arr))
        raise InvalidInput(f"{where}: {name}[{i}] = {int(arr[i])}: must be in 0..4294967295")
    return np.ascontiguousarray(arr, dtype=np.uint32)


IMAGE_PLACEMENTS = ("before_text", "after_text", "at_offsets")


def multimodal_layout(
    groups: Union[Groups, Sequence[Sequence[int]]],
    text_tokens: ArrayLike,
    images: Sequence[Sequence[int]],
    *,
    placement: str = "before_text",
    image_positions: Optional[Sequence[Sequence[int]]] = None,
    pad_multiple: int = 1,
    fixed_length: int = 0,
    fixed_sequences: int = 0,
) -> PackedLayout:
    """Packed-sequence layout of multimodal (text + image) items (fulcrum::make_packed_layout with
    multimodal_documents, layout/packed_layout.hpp; docs/long_context.md).

    groups: one group per packed sequence, documents in group order (a :class:`Groups` or a list of
    index lists). text_tokens[i]: text tokens of item i. images[i]: the token counts of item i's
    images, in order (an empty list for a text-only item). placement: where a document's image
    tokens go: ``before_text`` (all images, then the text: LLaVA-style prompts), ``after_text``,
    or ``at_offsets``: image j of item i after ``image_positions[i][j]`` text tokens of its document
    (non-decreasing within a document, at most its text length). pad_multiple, fixed_length,
    fixed_sequences as in :func:`packed_layout`.

    The result's per-token ``kinds`` says TEXT, IMAGE or PADDING, and the gather map reads
    ``source_offset[t]`` in item ``source_item[t]``'s text tokens (TEXT) or in the concatenation of
    its image tokens (IMAGE). An item's text and image tokens form one document (position ids,
    document ids and the cu_seqlens segment cover both).
    O(items + images + tokens + sequences). Every token of every grouped item (text and image)
    appears exactly once. Raises InvalidInput (lengths differ, an index out of range, an item in
    two groups, image positions beyond the text or decreasing, ...) or Infeasible (a sequence
    longer than fixed_length, more groups than fixed_sequences).
    """
    where = "multimodal_layout"
    placement = _choice(placement, IMAGE_PLACEMENTS, where, "placement")
    offsets, indices = _groups_csr(groups, where)
    text = _u32(text_tokens, where, "text_tokens")
    if len(images) != len(text):
        raise InvalidInput(f"{where}: images has {len(images)} entries: needs one per item ({len(text)})")
    counts = [len(im) for im in images]
    img_off = np.zeros(len(text) + 1, dtype=np.uint64)
    img_off[1:] = np.cumsum(counts, dtype=np.uint64)
    flat = [int(x) for im in images for x in im]
    img = _u32(flat, where, "images") if flat else np.zeros(0, dtype=np.uint32)
    if placement == "at_offsets":
        if image_positions is None or len(image_positions) != len(text):
            raise InvalidInput(f"{where}: image_positions: needs one list per item with placement='at_offsets'")
        for i, (pos, im) in enumerate(zip(image_positions, images)):
            if len(pos) != len(im):
                raise InvalidInput(f"{where}: image_positions[{i}] has {len(pos)} entries: item {i} has {len(im)} images")
        flatpos = [int(x) for pos in image_positions for x in pos]
        positions = _u32(flatpos, where, "image_positions") if flatpos else np.zeros(0, dtype=np.uint32)
    else:
        positions = np.zeros(0, dtype=np.uint32)
    for name, v in (("pad_multiple", pad_multiple), ("fixed_length", fixed_length)):
        if not 0 <= _int_scalar(v, where, name) <= 0xFFFFFFFF:
            raise InvalidInput(f"{where}: {name} = {v}: must be in 0..4294967295")
    if _int_scalar(fixed_sequences, where, "fixed_sequences") < 0:
        raise InvalidInput(f"{where}: fixed_sequences = {fixed_sequences}: must be >= 0")
    r = _core.packed_layout_multimodal(
        offsets, indices, text, img_off, img, positions, placement, int(pad_multiple), int(fixed_length),
        int(fixed_sequences),
    )
    return _layout_of(r)


def _layout_of(r: dict[str, Any]) -> PackedLayout:
    return PackedLayout(
        sequence_offsets=r["sequence_offsets"],
        cu_seqlens_offsets=r["cu_seqlens_offsets"],
        cu_seqlens=r["cu_seqlens"],
        batch_cu_seqlens=r["batch_cu_seqlens"],
        max_seqlen=r["max_seqlen"],
        max_seqlen_overall=int(r["max_seqlen_overall"]),
        position_ids=r["position_ids"],
        document_ids=r["document_ids"],
        source_item=r["source_item"],
        source_offset=r["source_offset"],
        content_tokens=int(r["content_tokens"]),
        padding_tokens=int(r["padding_tokens"]),
        kinds=r["kinds"],
    )

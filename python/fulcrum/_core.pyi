# Type stub of the fulcrum._core extension. Generated with
#   python -m nanobind.stubgen -m fulcrum._core -o python/fulcrum/_core.pyi
# then the exception classes declared here (at run time their __module__ is "fulcrum").
"""
fulcrum._core: the C++ extension behind the fulcrum package (use the fulcrum module).
"""

from collections.abc import Sequence
from typing import Annotated, overload

import numpy
from numpy.typing import NDArray

class InvalidInput(ValueError):
    """fulcrum::invalid_input: malformed input (the message names field, index and value)."""

class Infeasible(RuntimeError):
    """fulcrum::infeasible: well-formed input with no feasible solution."""

class CommError(RuntimeError):
    """fulcrum::comm_error: a collective failed."""

__version__: str


@overload
def pack(sizes: Annotated[NDArray[numpy.uint64], dict(shape=(None,), order='C', device='cpu', writable=False)], capacity: int, algorithm: str, oversize: str, max_nodes: int | None, time_limit: float | None) -> dict: ...

@overload
def pack(sizes: Annotated[NDArray[numpy.uint64], dict(shape=(None, None), order='C', device='cpu', writable=False)], capacity: Sequence[int], algorithm: str, oversize: str, max_nodes: int | None, time_limit: float | None) -> dict: ...

@overload
def pack(sizes: Annotated[NDArray[numpy.int64], dict(shape=(None,), order='C', device='cpu', writable=False)], capacity: int, algorithm: str, oversize: str, max_nodes: int | None, time_limit: float | None) -> dict: ...

@overload
def pack(sizes: Annotated[NDArray[numpy.int64], dict(shape=(None, None), order='C', device='cpu', writable=False)], capacity: Sequence[int], algorithm: str, oversize: str, max_nodes: int | None, time_limit: float | None) -> dict: ...

@overload
def pack(sizes: Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)], capacity: int, algorithm: str, oversize: str, max_nodes: int | None, time_limit: float | None) -> dict: ...

@overload
def pack(sizes: Annotated[NDArray[numpy.float64], dict(shape=(None, None), order='C', device='cpu', writable=False)], capacity: Sequence[int], algorithm: str, oversize: str, max_nodes: int | None, time_limit: float | None) -> dict: ...

@overload
def pack_for_ranks(sizes: Annotated[NDArray[numpy.uint64], dict(shape=(None,), order='C', device='cpu', writable=False)], capacity: int, ranks: int, oversize: str, passes: int, shuffle: bool, seed: int) -> dict: ...

@overload
def pack_for_ranks(sizes: Annotated[NDArray[numpy.int64], dict(shape=(None,), order='C', device='cpu', writable=False)], capacity: int, ranks: int, oversize: str, passes: int, shuffle: bool, seed: int) -> dict: ...

@overload
def pack_for_ranks(sizes: Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)], capacity: int, ranks: int, oversize: str, passes: int, shuffle: bool, seed: int) -> dict: ...

@overload
def balance(values: Annotated[NDArray[numpy.uint64], dict(shape=(None,), order='C', device='cpu', writable=False)], k: int, algorithm: str, equal_counts: bool, part_capacity: float | None, max_nodes: int | None, time_limit: float | None, cost: str, a: float, b: float, c: float) -> dict: ...

@overload
def balance(values: Annotated[NDArray[numpy.int64], dict(shape=(None,), order='C', device='cpu', writable=False)], k: int, algorithm: str, equal_counts: bool, part_capacity: float | None, max_nodes: int | None, time_limit: float | None, cost: str, a: float, b: float, c: float) -> dict: ...

@overload
def balance(values: Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)], k: int, algorithm: str, equal_counts: bool, part_capacity: float | None, max_nodes: int | None, time_limit: float | None, cost: str, a: float, b: float, c: float) -> dict: ...

@overload
def partition_stages(layer_costs: Annotated[NDArray[numpy.uint64], dict(shape=(None,), order='C', device='cpu', writable=False)], stages: int, algorithm: str, stage_speed: Sequence[float], stage_fixed_cost: Sequence[float], layer_memory: Sequence[int], stage_memory_cap: Sequence[int]) -> dict: ...

@overload
def partition_stages(layer_costs: Annotated[NDArray[numpy.int64], dict(shape=(None,), order='C', device='cpu', writable=False)], stages: int, algorithm: str, stage_speed: Sequence[float], stage_fixed_cost: Sequence[float], layer_memory: Sequence[int], stage_memory_cap: Sequence[int]) -> dict: ...

@overload
def partition_stages(layer_costs: Annotated[NDArray[numpy.float64], dict(shape=(None,), order='C', device='cpu', writable=False)], stages: int, algorithm: str, stage_speed: Sequence[float], stage_fixed_cost: Sequence[float], layer_memory: Sequence[int], stage_memory_cap: Sequence[int]) -> dict: ...

def packed_layout(offsets: Annotated[NDArray[numpy.uint64], dict(shape=(None,), order='C', device='cpu', writable=False)], indices: Annotated[NDArray[numpy.uint32], dict(shape=(None,), order='C', device='cpu', writable=False)], sizes: Annotated[NDArray[numpy.uint64], dict(shape=(None,), order='C', device='cpu', writable=False)], pad_multiple: int, fixed_length: int, fixed_sequences: int) -> dict: ...

class StreamingBatcher:
    """
    Streaming batcher over one size dimension (tokens): fulcrum::streaming_batcher<1>.
    """

    def __init__(self, capacity: int, ranks: int, buffer: int, seed: int, shuffle: bool, warmup_steps: int, warmup_start: float, drop_last: bool, max_wait: int, oversize: str, passes: int, keep_fill: float, keep_share: float, max_keep_rounds: int, pad_multiple: int, state: bytes | None = None) -> None: ...

    def push(self, id: int, size: int) -> None: ...

    def push_cost(self, id: int, size: int, cost: float) -> None: ...

    def push_many(self, ids: Annotated[NDArray[numpy.uint64], dict(shape=(None,), order='C', device='cpu', writable=False)], sizes: Annotated[NDArray[numpy.uint64], dict(shape=(None,), order='C', device='cpu', writable=False)]) -> None: ...

    def next(self) -> object: ...

    def finish(self) -> None: ...

    def ready(self) -> bool: ...

    def buffered(self) -> int: ...

    def finished(self) -> bool: ...

    def dropped(self) -> Annotated[NDArray[numpy.uint64], dict(shape=(None,))]: ...

    def stats(self) -> dict: ...

    def state(self) -> bytes: ...

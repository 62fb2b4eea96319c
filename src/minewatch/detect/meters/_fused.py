"""The compiled kernels, and the fused stage-one loop: every figure of a meter-day from one
read of its 96 readings.

The loops are C, built with the package into one library (``_kernels``) and loaded with
ctypes: stage one (``_stage_one.c``: a vector of days at a time, sixteen with AVX-512, each
running figure one vector register, read straight from Arrow's column buffers), stage two
(``_stage_two.c``, wrapped in :mod:`._per_meter`) and the boosted trees' walk. Numba could
not keep the figures in registers, and its loops ran several times slower. Each loop runs on
a few threads, each on its own rows (ctypes lets go of the interpreter lock while C runs).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np
import numpy.typing as npt

from minewatch.errors import MineWatchError

COUNTS = ("valid_slots", "negative_slots", "absurd_slots")
"""What stage one counts in a day (int16): readings kept, negative and impossible ones."""
FIGURES = (
    "mean_kw",
    "max_kw",
    "std_kw",
    "rough_kw",
    "floor_kw",
    "valley_kw",
    "daytime_kw",
    "night_kw",
    "valley_cv",
)
"""What stage one measures in a day (float32), in the C loop's order."""
ALIGN = 16
"""A thread's rows start on a multiple of this (of every vector width the C loop has)."""
MIN_ROWS_PER_THREAD = 4_096
THREADS_VARIABLE = "MINEWATCH_THREADS"
"""An environment variable capping the kernels' threads (by default, every processor this
process may run on); a Spark executor sets it to its cores."""

_LIBRARY = "minewatch.detect.meters._kernels"
_P = ctypes.c_void_p
_I64 = ctypes.c_int64
_I32 = ctypes.c_int32
_D = ctypes.c_double


@cache
def library() -> ctypes.CDLL:
    """The compiled kernels (loaded at the first call)."""
    spec = importlib.util.find_spec(_LIBRARY)
    if spec is None or spec.origin is None:
        raise MineWatchError(
            "the compiled meter kernels (_kernels) are missing: reinstall MineWatch "
            "from source with a C compiler present (make setup, or pip install -e .)"
        )
    library = ctypes.CDLL(spec.origin)
    library.mw_reduce_days.restype = ctypes.c_int
    library.mw_reduce_days.argtypes = [
        ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, _P, _P, _P, ctypes.c_int,
        ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double, _P, _P, _P, _P, _P,
        _P,
    ]  # fmt: skip
    library.mw_lanes.restype = ctypes.c_int
    library.mw_lanes.argtypes = [ctypes.c_int]
    library.mw_place_days.restype = ctypes.c_int
    library.mw_place_days.argtypes = [
        _I64, _P, _P, _I32, _I64, _P, _P, _P, _I64, _I32, ctypes.c_int, ctypes.c_int,
        _P, _P, _P, _P,
    ]  # fmt: skip
    library.mw_meter_features.restype = ctypes.c_int
    library.mw_meter_features.argtypes = [
        _I64, _I64, _I64, _I32, _I64, _P, _P, _P, _P, _P, _P, _P, _P, _D, _P,
    ]  # fmt: skip
    library.mw_tree_margin.restype = None
    library.mw_tree_margin.argtypes = [
        _I64, _I64, _I64, _I64, _P, _I64, ctypes.c_int, _P, _P, _P, _D, _D, _P,
    ]  # fmt: skip
    return library


def threads() -> int:
    """How many threads the kernels use: every processor this process may run on, or fewer
    where :data:`THREADS_VARIABLE` says so."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    wanted = os.environ.get(THREADS_VARIABLE, "").strip()
    if not wanted:
        return available
    if not wanted.isdigit() or int(wanted) < 1:
        raise MineWatchError(f"{THREADS_VARIABLE} must be a positive whole number, not {wanted!r}")
    return int(wanted)


def split(n: int, workers: int, align: int) -> list[tuple[int, int]]:
    """``[0, n)`` in at most ``workers`` runs, each but the last a multiple of ``align``."""
    if n == 0:
        return []
    step = -(-n // max(workers, 1) // align) * align
    return [(start, min(n, start + step)) for start in range(0, n, step)]


def run_split(
    function: Callable[[tuple[int, int]], int], n: int, workers: int, align: int
) -> list[int]:
    """``function`` over the runs of :func:`split`, on threads when there is more than one."""
    bounds = split(n, workers, align)
    if len(bounds) <= 1:
        return [function(bound) for bound in bounds]
    return list(_pool(len(bounds)).map(function, bounds))


def vector_lanes(lanes: int = 0) -> int:
    """How many days the stage-one loop takes together: the widest vectors the processor
    has (16 with AVX-512, 8 with AVX2, else 4). With ``lanes`` 4, 8 or 16 the loop uses that
    width from now on, where the processor has it, and stage two the matching instruction set
    (tests compare them); returns the width in use."""
    return int(library().mw_lanes(lanes))


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minewatch-kernel")


def address(array: np.ndarray) -> int:
    return int(array.ctypes.data)


def reduce_days(
    n: int,
    values: npt.NDArray[np.int64],
    bitmaps: npt.NDArray[np.int64],
    nullable: npt.NDArray[np.bool_],
    negative_tolerance: float,
    absurd_kw: float,
    spike_ratio: float,
    spike_margin: float,
    valley: npt.NDArray[np.bool_],
    daytime: npt.NDArray[np.bool_],
    night: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int16], npt.NDArray[np.uint16]]:
    """Every figure of ``n`` rows, from the slot columns as Arrow holds them: ``values``
    are the addresses of the float32 value buffers, ``bitmaps`` of the null bitmaps, read
    where ``nullable`` (NaN is missing too). The caller keeps the buffers alive.

    Faults are counted and blanked as they are read: negative readings (beyond
    ``negative_tolerance``) and readings above ``absurd_kw``. A day whose peak towers over
    the rest of it (``spike_ratio`` × their mean + ``spike_margin``: a register fault such
    as 65535) is read again on its own and the spike blanked, twice at most. Then the day's
    figures are taken from what is left, the spread about the day's mean; an hour without
    readings takes the day's mean.

    Returns ``(len(FIGURES), rows)`` figures, ``(len(COUNTS), rows)`` counts and ``(24, rows)``
    hourly means as bfloat16 bits (:data:`.daily.HOURLY_TYPE`).
    """
    slots = int(values.size)
    out = np.empty((len(FIGURES), n), dtype=np.float32)
    counts = np.empty((len(COUNTS), n), dtype=np.int16)
    hourly = np.empty((24, n), dtype=np.uint16)
    if n == 0:
        return out, counts, hourly
    values = np.ascontiguousarray(values, dtype=np.int64)
    bitmaps = np.ascontiguousarray(bitmaps, dtype=np.int64)
    flags = [np.ascontiguousarray(a, dtype=np.uint8) for a in (nullable, valley, daytime, night)]
    workers = max(1, min(threads(), n // MIN_ROWS_PER_THREAD))
    function = library().mw_reduce_days

    def run(bound: tuple[int, int]) -> int:
        return int(
            function(
                n, bound[0], bound[1], address(values), address(bitmaps), address(flags[0]),
                slots, negative_tolerance, absurd_kw, spike_ratio, spike_margin,
                address(flags[1]), address(flags[2]), address(flags[3]), address(out),
                address(counts), address(hourly),
            )
        )  # fmt: skip

    if any(run_split(run, n, workers, ALIGN)):
        raise ValueError(
            f"stage one cannot take {slots} slot columns (a multiple of 24, at most 96)"
        )
    return out, counts, hourly


TREE_ROWS_PER_THREAD = 8_192


def tree_margin(
    x: npt.NDArray[np.float64],
    features: npt.NDArray[np.int64],
    thresholds: npt.NDArray[np.float64],
    leaves: npt.NDArray[np.float64],
    depth: int,
    base_score: float,
    learning_rate: float,
) -> npt.NDArray[np.float64]:
    """The boosted trees' log-odds for every row of ``x`` (see ``TreeModel.margin``):
    ``features`` and ``thresholds`` are ``(trees, 2**depth - 1)``, ``leaves``
    ``(trees, 2**depth)``. Each row adds the trees in order."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or not (x.flags.c_contiguous or x.flags.f_contiguous):
        x = np.ascontiguousarray(x)
    n, columns = x.shape
    row_step, column_step = (stride // x.itemsize for stride in x.strides)
    trees = features.shape[0]
    internal = 2**depth - 1
    if features.shape != (trees, internal) or thresholds.shape != (trees, internal):
        raise ValueError(f"a tree of depth {depth} has {internal} splits")
    if leaves.shape != (trees, internal + 1):
        raise ValueError(f"a tree of depth {depth} has {internal + 1} leaves")
    if trees and (features.min() < 0 or features.max() >= columns):
        raise ValueError(f"the trees split on columns beyond the {columns} given")
    arrays = [
        np.ascontiguousarray(features, dtype=np.int64),
        np.ascontiguousarray(thresholds, dtype=np.float64),
        np.ascontiguousarray(leaves, dtype=np.float64),
    ]
    out = np.empty(n, dtype=np.float64)
    function = library().mw_tree_margin

    def run(bound: tuple[int, int]) -> int:
        function(
            bound[0], bound[1], row_step, column_step, address(x), trees, depth, address(arrays[0]),
            address(arrays[1]), address(arrays[2]), base_score, learning_rate, address(out),
        )  # fmt: skip
        return 0

    run_split(run, n, max(1, min(threads(), n // TREE_ROWS_PER_THREAD)), 1)
    return out

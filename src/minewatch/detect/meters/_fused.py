"""The fused stage-one loop: every figure of a meter-day from one read of its 96 readings.

The loop itself is C (``_stage_one.c``, built with the package): a vector of days at a
time (sixteen with AVX-512), each running figure one vector register, read straight from
Arrow's column buffers. Numba could not keep the figures in registers, and the loop ran
several times slower. Here it is loaded with ctypes and run on a few threads, each on its
own rows (ctypes lets go of the interpreter lock while C runs). The boosted trees' loop is
here too, in Numba.
"""

from __future__ import annotations

import ctypes
import importlib.util
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numba
import numpy as np
import numpy.typing as npt
from numba import njit, prange

from minewatch.errors import MineWatchError

FIGURES = (
    "valid_slots",
    "negative_slots",
    "absurd_slots",
    "mean_kw",
    "max_kw",
    "min_kw",
    "std_kw",
    "rough_kw",
    "max_step_kw",
    "floor_kw",
    "valley_kw",
    "daytime_kw",
    "night_kw",
    "valley_cv",
)
ALIGN = 16
"""A thread's rows start on a multiple of this (of every vector width the C loop has)."""
MIN_ROWS_PER_THREAD = 4_096
TREE_BLOCK = 64

_LIBRARY = "minewatch.detect.meters._stage_one_lib"
_P = ctypes.c_void_p


@cache
def _library() -> ctypes.CDLL:
    spec = importlib.util.find_spec(_LIBRARY)
    if spec is None or spec.origin is None:
        raise MineWatchError(
            "the compiled stage-one kernel (_stage_one_lib) is missing: reinstall MineWatch "
            "from source with a C compiler present (make setup, or pip install -e .)"
        )
    library = ctypes.CDLL(spec.origin)
    library.mw_reduce_days.restype = ctypes.c_int
    library.mw_reduce_days.argtypes = [
        ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, _P, _P, _P, ctypes.c_int,
        ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double, _P, _P, _P, _P, _P,
    ]  # fmt: skip
    library.mw_lanes.restype = ctypes.c_int
    library.mw_lanes.argtypes = [ctypes.c_int]
    return library


def vector_lanes(lanes: int = 0) -> int:
    """How many days the stage-one loop takes together: the widest vectors the processor
    has (16 with AVX-512, 8 with AVX2, else 4). With ``lanes`` 4, 8 or 16 the loop uses that
    width from now on, where the processor has it (tests compare the widths); returns the
    width in use."""
    return int(_library().mw_lanes(lanes))


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minewatch-stage-one")


def _address(array: np.ndarray) -> int:
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
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Every figure of ``n`` rows, from the slot columns as Arrow holds them: ``values``
    are the addresses of the float32 value buffers, ``bitmaps`` of the null bitmaps, read
    where ``nullable`` (NaN is missing too). The caller keeps the buffers alive.

    Faults are counted and blanked as they are read: negative readings (beyond
    ``negative_tolerance``) and readings above ``absurd_kw``. A day whose peak towers over
    the rest of it (``spike_ratio`` × their mean + ``spike_margin``: a register fault such
    as 65535) is read again on its own and the spike blanked, twice at most. Then the day's
    figures are taken from what is left, the spread about the day's mean; an hour without
    readings takes the day's mean.

    Returns ``(len(FIGURES), rows)`` figures and ``(24, rows)`` hourly means.
    """
    slots = int(values.size)
    out = np.empty((len(FIGURES), n), dtype=np.float32)
    hourly = np.empty((24, n), dtype=np.float32)
    if n == 0:
        return out, hourly
    values = np.ascontiguousarray(values, dtype=np.int64)
    bitmaps = np.ascontiguousarray(bitmaps, dtype=np.int64)
    flags = [np.ascontiguousarray(a, dtype=np.uint8) for a in (nullable, valley, daytime, night)]
    threads = max(1, min(numba.get_num_threads(), n // MIN_ROWS_PER_THREAD))
    step = -(-n // threads // ALIGN) * ALIGN
    bounds = [(start, min(n, start + step)) for start in range(0, n, step)]
    function = _library().mw_reduce_days

    def run(bound: tuple[int, int]) -> int:
        return int(
            function(
                n, bound[0], bound[1], _address(values), _address(bitmaps), _address(flags[0]),
                slots, negative_tolerance, absurd_kw, spike_ratio, spike_margin,
                _address(flags[1]), _address(flags[2]), _address(flags[3]), _address(out),
                _address(hourly),
            )
        )  # fmt: skip

    codes = [run(bounds[0])] if len(bounds) == 1 else list(_pool(threads).map(run, bounds))
    if any(codes):
        raise ValueError(
            f"stage one cannot take {slots} slot columns (a multiple of 24, at most 96)"
        )
    return out, hourly


@njit(parallel=True, cache=True, nogil=True)
def tree_margin(
    x: npt.NDArray[np.float64],
    features: npt.NDArray[np.int64],
    thresholds: npt.NDArray[np.float64],
    leaves: npt.NDArray[np.float64],
    depth: int,
    base_score: float,
    learning_rate: float,
) -> npt.NDArray[np.float64]:  # pragma: no cover - compiled
    """The boosted trees' log-odds for every row (see ``TreeModel.margin``).

    A block of rows goes down each tree together: the rows' walks do not depend on one
    another, so the processor overlaps them; each row still adds the trees in order."""
    n = x.shape[0]
    trees = features.shape[0]
    internal = 2**depth - 1
    out = np.empty(n, dtype=np.float64)
    blocks = (n + TREE_BLOCK - 1) // TREE_BLOCK
    for b in prange(blocks):
        first = b * TREE_BLOCK
        size = min(n, first + TREE_BLOCK) - first
        total = np.full(size, base_score)
        node = np.empty(size, dtype=np.int64)
        for t in range(trees):
            split_on = features[t]
            split_at = thresholds[t]
            leaf = leaves[t]
            for r in range(size):
                node[r] = 0
            for _ in range(depth):
                for r in range(size):
                    k = node[r]
                    right = x[first + r, split_on[k]] > split_at[k]
                    node[r] = 2 * k + 1 + (1 if right else 0)
            for r in range(size):
                total[r] += learning_rate * leaf[node[r] - internal]
        for r in range(size):
            out[first + r] = total[r]
    return out

"""Which block of addresses, valid at which time, holds an address: vectorised look-ups.

A :class:`RangeIndex` holds records, each a block of keys (``first`` … ``last``, fixed-width
big-endian bytes such as :func:`minewatch.reference.ip_address.address_key`) and a validity
window ``[start_s, end_s)`` in seconds since 1970 (UTC). :meth:`RangeIndex.lookup` answers, for
many ``(key, time)`` pairs at once, the narrowest block that holds the key *and* is valid at that
time — the longest-prefix match of routing, with time: a /29 an ISP sub-allocated to an
enterprise wins over the ISP's /16, and a block whose allocation ended before the flow does not
match (the /16 then does).

How: the distinct blocks never cross (two blocks are disjoint or one holds the other), so each
block gets its nesting depth, and the blocks of one depth are disjoint and sorted. A look-up
tries the deepest level first: one ``searchsorted`` finds the block that may hold each key,
a second finds, among that block's records sorted by start, the last one started at or before
the time, which is valid if it has not ended. Records of one block must not overlap in time
(readers check it). Cost: O((n + m) log n) for n records and m look-ups, all in numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from minewatch.errors import MineWatchError

OPEN_START_S = 0
"""Start of a window open to the past (1970-01-01)."""
OPEN_END_S = (1 << 34) - 1
"""End of a window open to the future (year 2514)."""
_RANGE_SHIFT = 35  # composite key: block id << 35 | start second

IntArray = npt.NDArray[np.int64]
KeyArray = npt.NDArray[np.bytes_]


class CrossingRangesError(MineWatchError):
    """Two blocks overlap without one holding the other; ``first`` and ``second`` are record
    positions."""

    def __init__(self, first: int, second: int) -> None:
        self.first = first
        self.second = second
        super().__init__(f"records {first} and {second} overlap without one holding the other")


@dataclass(frozen=True)
class _Level:
    first: KeyArray  # sorted, disjoint blocks of one nesting depth
    last: KeyArray
    block: IntArray  # block id of each


@dataclass(frozen=True)
class RangeIndex:
    """Blocks of keys with validity windows; see the module's description."""

    levels: tuple[_Level, ...]  # deepest first
    composite: IntArray  # block id << 35 | start, sorted
    end_s: IntArray  # in the order of ``composite``
    record: IntArray  # the caller's record position, in the order of ``composite``
    width: int

    @classmethod
    def build(
        cls, first: KeyArray, last: KeyArray, start_s: IntArray, end_s: IntArray
    ) -> RangeIndex:
        """Index records given as parallel arrays (``first``/``last`` of one ``S`` width).

        Raises :class:`CrossingRangesError` when two blocks overlap without nesting.
        """
        width = max(first.dtype.itemsize, last.dtype.itemsize, 1)
        pairs = _keys(np.hstack([_matrix(first, width), _matrix(last, width)]))
        distinct, block_of = np.unique(pairs, return_inverse=True)
        block_of = np.asarray(block_of, np.int64).reshape(-1)
        rows = _matrix(distinct, 2 * width)
        block_first = _keys(rows[:, :width])
        block_last = _keys(rows[:, width:])
        depth = _depths(block_first, block_last, block_of)
        levels = []
        for level in range(int(depth.max(initial=-1)), -1, -1):
            chosen = np.flatnonzero(depth == level)
            order = chosen[np.argsort(block_first[chosen], kind="stable")]
            levels.append(_Level(block_first[order], block_last[order], order.astype(np.int64)))
        start = np.clip(np.asarray(start_s, np.int64), OPEN_START_S, OPEN_END_S)
        end = np.clip(np.asarray(end_s, np.int64), OPEN_START_S, OPEN_END_S)
        composite = (np.asarray(block_of, np.int64) << _RANGE_SHIFT) | start
        order = np.argsort(composite, kind="stable")
        return cls(tuple(levels), composite[order], end[order], order.astype(np.int64), width)

    def lookup(self, keys: KeyArray, times_s: IntArray) -> IntArray:
        """For each key and time, the record position of the narrowest block holding the key
        that is valid then, or -1."""
        found = np.full(len(keys), -1, dtype=np.int64)
        if not len(keys) or not len(self.composite):
            return found
        keys = keys.astype(f"S{self.width}")
        times = np.clip(np.asarray(times_s, np.int64), OPEN_START_S, OPEN_END_S)
        for level in self.levels:
            pending = np.flatnonzero(found < 0)
            if not len(pending):
                break
            wanted = keys[pending]
            at = np.searchsorted(level.first, wanted, side="right") - 1
            inside = at >= 0
            at = np.maximum(at, 0)
            inside &= wanted <= level.last[at]
            block = level.block[at]
            probe = (block << _RANGE_SHIFT) | times[pending]
            slot = np.searchsorted(self.composite, probe, side="right") - 1
            valid = inside & (slot >= 0)
            slot = np.maximum(slot, 0)
            valid &= (self.composite[slot] >> _RANGE_SHIFT) == block
            valid &= times[pending] < self.end_s[slot]
            found[pending[valid]] = self.record[slot[valid]]
        return found


def _matrix(keys: KeyArray, width: int) -> npt.NDArray[np.uint8]:
    """Keys as rows of bytes (fixed width: numpy's ``S`` values lose trailing zero bytes)."""
    data = np.ascontiguousarray(keys.astype(f"S{width}"))
    return np.frombuffer(data.tobytes(), dtype=np.uint8).reshape(len(keys), width)


def _keys(rows: npt.NDArray[np.uint8]) -> KeyArray:
    width = rows.shape[1]
    return np.ascontiguousarray(rows).view(f"S{width}").reshape(-1)


def _depths(
    block_first: KeyArray,
    block_last: KeyArray,
    block_of: IntArray,
) -> IntArray:
    """Nesting depth of each distinct block (0 = outermost), by a sweep in (first, -size) order."""
    count = len(block_first)
    depth = np.zeros(count, dtype=np.int64)
    if count < 2 or bool((block_first[1:] > block_last[:-1]).all()):
        return depth  # disjoint blocks (np.unique sorted them): every one is outermost
    width = block_first.dtype.itemsize
    firsts = [bytes(row) for row in _matrix(block_first, width)]
    lasts = [bytes(row) for row in _matrix(block_last, width)]
    order = sorted(range(count), key=lambda b: (firsts[b], _negated(lasts[b])))
    stack: list[int] = []
    for block in order:
        while stack and lasts[stack[-1]] < firsts[block]:
            stack.pop()
        if stack and lasts[stack[-1]] < lasts[block]:
            outer = stack[-1]
            raise CrossingRangesError(
                int(np.flatnonzero(block_of == outer)[0]), int(np.flatnonzero(block_of == block)[0])
            )
        depth[block] = len(stack)
        stack.append(block)
    return depth


def _negated(key: bytes) -> bytes:
    return bytes(255 - b for b in key)

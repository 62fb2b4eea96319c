"""Arrow buffers read in place by the compiled kernels.

Arrow keeps each column of a batch (and each chunk of a table) in its own buffer. Copying them
into one matrix would cost a pass over the data and as much fresh memory again; instead the
kernels receive the buffers' addresses as int64 arrays and read through typed pointers. The
Python side keeps the Arrow objects alive while a kernel runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc


def value_address(
    array: pa.Array, kind: pa.DataType, keep: list[object], nulls_in_place: bool = False
) -> int:
    """The address of ``array``'s first value as ``kind`` (float32, int16 or uint16): Arrow's own
    buffer where the array is of that type (and has no nulls, unless ``nulls_in_place``: the
    caller then reads the bitmap); otherwise a converted copy, which ``keep`` holds alive
    (nulls becoming NaN, or 0 for integers)."""
    if (
        array.type == kind
        and len(array)
        and (nulls_in_place or array.null_count == 0)
        and array.buffers()[1] is not None
    ):
        return int(array.buffers()[1].address + array.offset * kind.bit_width // 8)
    dtype = kind.to_pandas_dtype()
    if pa.types.is_integer(kind):
        array = pc.fill_null(array, 0)
    copy = np.ascontiguousarray(array.to_numpy(zero_copy_only=False), dtype)
    keep.append(copy)
    return int(copy.ctypes.data)


@dataclass(frozen=True)
class SlotBuffers:
    """The 96 slot columns of a batch as the stage-one kernel reads them, in place: the
    addresses of the float32 value buffers and of the null bitmaps (read where ``nullable``).
    ``keep`` holds the buffers alive while the addresses are in use."""

    rows: int
    values: npt.NDArray[np.int64]
    bitmaps: npt.NDArray[np.int64]
    nullable: npt.NDArray[np.bool_]
    keep: list[object]


_NO_BITMAP = np.zeros(1, dtype=np.uint8)


def slot_buffers(batch: pa.RecordBatch | pa.Table, names: Sequence[str]) -> SlotBuffers:
    """Where the kernel finds each of the ``names`` columns of ``batch``. A float32 column's
    null bitmap is read in place too where the column starts on a whole byte of it."""
    values = np.zeros(len(names), dtype=np.int64)
    bitmaps = np.full(len(names), _NO_BITMAP.ctypes.data, dtype=np.int64)
    nullable = np.zeros(len(names), dtype=np.bool_)
    keep: list[object] = [batch]
    for k, name in enumerate(names):
        column = batch.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        keep.append(column)
        validity = column.buffers()[0] if column.type == pa.float32() else None
        bitmap = bool(column.null_count) and validity is not None and column.offset == 0
        values[k] = value_address(column, pa.float32(), keep, nulls_in_place=bitmap)
        if bitmap and validity is not None:
            bitmaps[k] = validity.address
            nullable[k] = True
    return SlotBuffers(batch.num_rows, values, bitmaps, nullable, keep)


@dataclass(frozen=True)
class ChunkedFloats:
    """Where columns of one type live in a table: ``starts[c]`` is chunk ``c``'s first row
    (``starts[-1]`` the row count) and ``addresses[k, c]`` the first value of column ``k`` in
    chunk ``c``. ``keep`` holds the buffers alive."""

    starts: npt.NDArray[np.int64]
    addresses: npt.NDArray[np.int64]
    keep: list[object]


def chunked_floats(
    table: pa.Table, names: tuple[str, ...], kind: pa.DataType | None = None
) -> ChunkedFloats:
    """The buffers of ``names`` (columns of ``kind``, float32 unless given) in place. A chunk
    with nulls, or of another type, is converted first."""
    if not names:
        raise ValueError("no columns")
    kind = kind or pa.float32()
    columns = [table.column(name) for name in names]
    lengths = [len(chunk) for chunk in columns[0].chunks]
    starts = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64)
    addresses = np.zeros((len(names), len(lengths)), dtype=np.int64)
    keep: list[object] = [table]
    for k, column in enumerate(columns):
        if [len(chunk) for chunk in column.chunks] != lengths:
            column = column.combine_chunks()
            column = pa.chunked_array(
                [column.slice(int(s), n) for s, n in zip(starts[:-1], lengths, strict=True)]
            )
        for c, chunk in enumerate(column.chunks):
            addresses[k, c] = value_address(chunk, kind, keep)
    return ChunkedFloats(starts, addresses, keep)

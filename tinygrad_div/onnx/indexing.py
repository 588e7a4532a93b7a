"""GetItem in ONNX: numpy's indexing rules as Slice, Squeeze, Unsqueeze and Gather.

Basic indexing (ints, slices, None, ...) is one Slice, then a Squeeze for the ints
and an Unsqueeze for the new axes. Advanced indexing (integer arrays, masks, and the
ints next to them) on adjacent axes is one Gather: the indexed axes are merged into
one and the index arrays turned into flat positions, so a label lookup
`x[rows, labels]` is a single Gather too. numpy moves the result of non-adjacent
index arrays to the front, and mixes new axes in; those are refused by name.
"""

from __future__ import annotations

import numpy as np

from tinygrad_div.onnx.builder import OnnxGraph
from tinygrad_div.onnx.errors import ExportError
from tinygrad_div.onnx.trace import Dim

INT64_MAX, INT64_MIN = int(np.iinfo(np.int64).max), int(np.iinfo(np.int64).min)


def getitem(ctx, g: OnnxGraph, x: str) -> str:
    return index_tensor(g, x, tuple(g.input_dims[0]), ctx.index)


def index_tensor(g: OnnxGraph, x: str, dims: tuple, index) -> str:
    """x[index] for a tensor of shape `dims` (ints, and Dims that follow the batch size)."""
    index = index if isinstance(index, tuple) else (index,)
    index = _expand_ellipsis(tuple(np.asarray(i) if isinstance(i, list) else i for i in index), len(dims))
    if any(isinstance(i, np.ndarray) and i.ndim > 0 for i in index):
        return _advanced(g, x, dims, index)
    return _basic(g, x, dims, index)


def _covered(entry) -> int:
    """How many input axes an index entry consumes."""
    if entry is None:
        return 0
    if isinstance(entry, np.ndarray) and entry.dtype == bool:
        return entry.ndim
    return 1


def _expand_ellipsis(index: tuple, rank: int) -> tuple:
    rest = rank - sum(_covered(i) for i in index if i is not Ellipsis)
    if any(i is Ellipsis for i in index):
        k = next(k for k, i in enumerate(index) if i is Ellipsis)
        return index[:k] + (slice(None),) * rest + index[k + 1:]
    return index + (slice(None),) * rest


def _basic(g: OnnxGraph, x: str, dims: tuple, index: tuple) -> str:
    original = x
    slices: list[tuple[int, int, int, int]] = []  # (axis, start, stop, step)
    squeezed, inserted = [], []
    axis = position = 0  # the input axis an entry indexes, the output axis it makes
    for entry in index:
        if entry is None:
            inserted.append(position)
            position += 1
            continue
        if isinstance(entry, slice):
            slices.append((axis, *_slice_bounds(entry, dims[axis])))
            position += 1
        else:
            i = int(entry)
            slices.append((axis, i, i + 1 if i != -1 else INT64_MAX, 1))
            squeezed.append(axis)
        axis += 1
    x = _slice(g, x, slices)
    if squeezed:
        x = g.op("Squeeze", x, g.integers(squeezed))
    if inserted:
        x = g.op("Unsqueeze", x, g.integers(inserted))
    return x if x != original else g.op("Identity", x)


def _slice(g: OnnxGraph, x: str, slices: list) -> str:
    slices = [s for s in slices if s[1:] != (0, INT64_MAX, 1)]  # the whole axis: nothing to do
    if not slices:
        return x
    axes, starts, stops, steps = zip(*slices)
    return g.op("Slice", x, g.integers(starts), g.integers(stops), g.integers(axes), g.integers(steps))


def _slice_bounds(s: slice, size: int | Dim) -> tuple[int, int, int]:
    step = 1 if s.step is None else int(s.step)
    if isinstance(size, Dim):  # ONNX Slice clamps as Python does; None means "to the end"
        start = s.start if s.start is not None else (0 if step > 0 else INT64_MAX)
        stop = s.stop if s.stop is not None else (INT64_MAX if step > 0 else INT64_MIN)
        return int(start), int(stop), step
    start, stop, step = s.indices(size)
    if step < 0 and stop < 0:
        stop = INT64_MIN  # slice.indices' -1 means "before index 0"; ONNX's -1 would be the last element
    if step > 0 and (start, stop) == (0, size):
        stop = INT64_MAX
    return start, stop, step


def _advanced(g: OnnxGraph, x: str, dims: tuple, index: tuple) -> str:
    """Index arrays (ints and masks among them) on adjacent axes, slices elsewhere."""
    if any(i is None for i in index):
        raise ExportError(f"GetItem: index {_describe(index)} mixes index arrays with new axes (None); "
                          "it does not export")
    entries: list = []  # one per input axis: a slice, or an integer array
    for entry in index:
        if isinstance(entry, np.ndarray) and entry.dtype == bool:
            entries.extend(np.nonzero(entry))
        elif isinstance(entry, slice):
            entries.append(entry)
        else:
            array = np.asarray(entry)
            if not np.issubdtype(array.dtype, np.integer):
                raise ExportError(f"GetItem: an index of dtype {array.dtype} does not export")
            entries.append(array)
    arrays = [k for k, e in enumerate(entries) if not isinstance(e, slice)]
    first, count = arrays[0], len(arrays)
    if arrays != list(range(first, first + count)):
        raise ExportError(f"GetItem: index {_describe(index)} has index arrays on axes that are not adjacent "
                          "(numpy moves their result to the front); it does not export")
    indexed = dims[first:first + count]
    if any(isinstance(d, Dim) for d in indexed):
        raise ExportError("GetItem: index arrays along the batch axis do not export with dynamic_batch; "
                          "export with dynamic_batch=False")
    broadcast = np.broadcast_arrays(*[entries[k] for k in arrays])
    positions = np.ravel_multi_index(tuple(broadcast), indexed, mode="wrap")  # wrap: -1 is the last
    if count > 1:  # merge the indexed axes into one
        x = g.op("Reshape", x, g.shape(dims[:first] + (int(np.prod(indexed)),) + dims[first + count:]))
    x = g.op("Gather", x, g.constant(np.asarray(positions, dtype=np.int64), np.int64), axis=first)
    shift = positions.ndim - count  # axes after the indexed ones move by this much
    slices = [((k if k < first else k + shift), *_slice_bounds(e, dims[k]))
              for k, e in enumerate(entries) if isinstance(e, slice)]
    return _slice(g, x, slices)


def _describe(index: tuple) -> str:
    return "[" + ", ".join(f"array{i.shape}" if isinstance(i, np.ndarray) else repr(i) for i in index) + "]"

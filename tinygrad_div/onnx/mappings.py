"""Every built-in op's ONNX form: `MAPPINGS[op class](ctx, g, *inputs) -> output name`.

The same signature as a user Function's `to_onnx` hook (see `builder.OnnxGraph`).
Shapes come from the run (`g.input_dims`, `g.output_dims`), so ops whose output shape
numpy derives from parameters (reshape, broadcast, sum-to, reductions with size-1
axes) end in an exact Reshape/Expand to the shape the model produced.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinygrad_div.engine import ops
from tinygrad_div.onnx.builder import OnnxGraph
from tinygrad_div.onnx.errors import ExportError
from tinygrad_div.onnx.trace import Dim

Mapping = Callable[..., str]

INT64_MAX, INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def _same(onnx_op: str) -> Mapping:
    """An op that ONNX has under another name with numpy's semantics (multidirectional broadcasting)."""
    return lambda ctx, g, *inputs: g.op(onnx_op, *inputs)


def _reshaped(g: OnnxGraph, x: str, dims: tuple) -> str:
    """x reshaped to `dims` (the run's output shape), skipped when it already has it."""
    return x if tuple(dims) == tuple(g.current_dims) else g.op("Reshape", x, g.shape(dims))


def _reduce(onnx_op: str) -> Mapping:
    def reduce(ctx, g: OnnxGraph, x: str) -> str:
        # ctx.kept_shape has 1 on every reduced axis, and on size-1 axes reduced or not: reducing
        # a size-1 axis changes no number, and the final Reshape gives the run's exact output shape
        dims = g.input_dims[0]
        axes = [i for i, (d, kept) in enumerate(zip(dims, ctx.kept_shape)) if kept == 1 and d != 1]
        g.current_dims = dims
        if axes:
            x = g.op(onnx_op, x, g.integers(axes), keepdims=1)
            g.current_dims = tuple(1 if i in axes else d for i, d in enumerate(dims))
        return _reshaped(g, x, g.output_dims) if axes or g.output_dims != dims else g.op("Identity", x)
    return reduce


def _sum_to(ctx, g: OnnxGraph, x: str) -> str:
    dims, target = g.input_dims[0], g.output_dims
    lead = len(dims) - len(target)
    axes = list(range(lead)) + [lead + i for i, t in enumerate(target) if t == 1 and dims[lead + i] != 1]
    g.current_dims = dims
    if axes:
        x = g.op("ReduceSum", x, g.integers(axes), keepdims=1)
        g.current_dims = tuple(1 if i in axes else d for i, d in enumerate(dims))
    return _reshaped(g, x, target) if axes or target != dims else g.op("Identity", x)


def _reshape(ctx, g: OnnxGraph, x: str) -> str:
    return g.op("Reshape", x, g.shape(g.output_dims))


def _transpose(ctx, g: OnnxGraph, x: str) -> str:
    rank = len(g.input_dims[0])
    perm = list(range(rank))[::-1] if ctx.axes is None else [int(a) for a in ctx.axes]
    return g.op("Transpose", x, perm=perm) if rank > 1 else g.op("Identity", x)


def _broadcast_to(ctx, g: OnnxGraph, x: str) -> str:
    return g.op("Expand", x, g.shape(g.output_dims))


def _getitem(ctx, g: OnnxGraph, x: str) -> str:
    """Basic indexing (ints, slices, None, ...) as Slice, Squeeze, Unsqueeze; one index array or mask as a Gather."""
    dims = g.input_dims[0]
    index = ctx.index if isinstance(ctx.index, tuple) else (ctx.index,)
    index = tuple(np.asarray(i) if isinstance(i, list) else i for i in index)
    arrays = [k for k, i in enumerate(index) if isinstance(i, np.ndarray) and i.ndim > 0]
    scalars = [k for k, i in enumerate(index) if not isinstance(i, (slice, np.ndarray)) and i is not None
               and i is not Ellipsis]
    if len(arrays) > 1 or (arrays and (scalars or any(i is None for i in index))):
        raise ExportError(f"GetItem: index {_describe(index)} mixes an index array with other integer or new "
                          "axes; only basic indexing or a single index array or mask exports")
    # Expand the Ellipsis: every input axis gets one entry; a mask covers as many axes as it has
    covered = sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1 for i in index
                  if i is not None and i is not Ellipsis)
    if any(i is Ellipsis for i in index):
        k = next(k for k, i in enumerate(index) if i is Ellipsis)
        index = index[:k] + (slice(None),) * (len(dims) - covered) + index[k + 1:]
    else:
        index = index + (slice(None),) * (len(dims) - covered)
    starts, ends, axes, steps, squeezed, inserted = [], [], [], [], [], []
    axis = position = 0  # the input axis an entry indexes, the output axis it makes
    gather = None
    for entry in index:
        if entry is None:
            inserted.append(position)
            position += 1
            continue
        if isinstance(entry, np.ndarray) and entry.ndim > 0:
            gather = (axis, entry)
            axis += entry.ndim if entry.dtype == bool else 1
            position += 1
            continue
        if isinstance(entry, slice):
            start, stop, step = _slice_bounds(entry, dims[axis])
            position += 1
        else:
            i = int(entry)
            start, stop, step = i, (i + 1 if i != -1 else INT64_MAX), 1
            squeezed.append(axis)
        if (start, stop, step) != (0, INT64_MAX, 1):
            starts.append(start), ends.append(stop), axes.append(axis), steps.append(step)
        axis += 1
    if starts:
        x = g.op("Slice", x, g.integers(starts), g.integers(ends), g.integers(axes), g.integers(steps))
    if gather is not None:
        return _gather(g, x, dims, *gather, sliced=bool(starts))
    if squeezed:
        x = g.op("Squeeze", x, g.integers(squeezed))
    if inserted:
        x = g.op("Unsqueeze", x, g.integers(inserted))
    return x if starts or squeezed or inserted else g.op("Identity", x)


def _slice_bounds(s: slice, size: int | Dim) -> tuple[int, int, int]:
    step = 1 if s.step is None else int(s.step)
    if isinstance(size, Dim):  # ONNX Slice clamps like Python does; None means "to the end"
        start = s.start if s.start is not None else (0 if step > 0 else INT64_MAX)
        stop = s.stop if s.stop is not None else (INT64_MAX if step > 0 else INT64_MIN)
        return int(start), int(stop), step
    start, stop, step = s.indices(size)
    if step < 0 and stop < 0:
        stop = INT64_MIN  # slice.indices' -1 means "before index 0", ONNX's would mean the last element
    if step > 0 and (start, stop) == (0, size):
        stop = INT64_MAX
    return start, stop, step


def _gather(g: OnnxGraph, x: str, dims: tuple, axis: int, entry: np.ndarray, sliced: bool) -> str:
    if entry.dtype == bool:
        if any(isinstance(d, Dim) for d in dims[axis:axis + entry.ndim]):
            raise ExportError("GetItem: a mask over the batch axis cannot export with dynamic_batch")
        if entry.ndim > 1:  # merge the masked axes into one, then take the flat positions
            merged = dims[:axis] + (int(np.prod(entry.shape)),) + dims[axis + entry.ndim:]
            if sliced:
                raise ExportError("GetItem: a multi-axis mask combined with slices does not export")
            x = g.op("Reshape", x, g.shape(merged))
        entry = np.flatnonzero(entry)
    elif not np.issubdtype(entry.dtype, np.integer):
        raise ExportError(f"GetItem: an index array of dtype {entry.dtype} does not export")
    return g.op("Gather", x, g.constant(entry.astype(np.int64), np.int64), axis=axis)


def _describe(index: tuple) -> str:
    return "[" + ", ".join(f"array{i.shape}" if isinstance(i, np.ndarray) else repr(i) for i in index) + "]"


MAPPINGS: dict[type, Mapping] = {
    ops.Add: _same("Add"), ops.Sub: _same("Sub"), ops.Mul: _same("Mul"), ops.Div: _same("Div"),
    ops.Neg: _same("Neg"), ops.Pow: _same("Pow"),
    ops.Exp: _same("Exp"), ops.Log: _same("Log"), ops.Sigmoid: _same("Sigmoid"), ops.Tanh: _same("Tanh"),
    ops.ReLU: _same("Relu"), ops.Abs: _same("Abs"),
    ops.Sum: _reduce("ReduceSum"), ops.Mean: _reduce("ReduceMean"),
    ops.Reshape: _reshape, ops.Transpose: _transpose, ops.BroadcastTo: _broadcast_to, ops.SumTo: _sum_to,
    ops.GetItem: _getitem,
    ops.MatMul: _same("MatMul"),
}

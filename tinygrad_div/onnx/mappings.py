"""Every built-in op's ONNX form: `MAPPINGS[op class](ctx, g, *inputs) -> output name`.

The same signature as a user Function's `to_onnx` hook (see `builder.OnnxGraph`).
Shapes come from the run (`g.input_dims`, `g.output_dims`), so ops whose output shape
numpy derives from parameters (reshape, broadcast, sum-to, reductions with size-1
axes) end in an exact Reshape/Expand to the shape the model produced.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from onnx import TensorProto

from tinygrad_div.engine import ops
from tinygrad_div.engine.ops.activation import SQRT1_2, TANH_BETA, TANH_KAPPA
from tinygrad_div.onnx.builder import OnnxGraph
from tinygrad_div.onnx.indexing import getitem
from tinygrad_div.onnx.windows import avg_pool, conv, max_pool

Mapping = Callable[..., str]


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
            x = g.reduce(onnx_op, x, axes, keepdims=True)
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


def _broadcast_to(ctx, g: OnnxGraph, x: str) -> str:
    return g.op("Expand", x, g.shape(g.output_dims))


def _where(ctx, g: OnnxGraph, cond: str, a: str, b: str) -> str:
    return g.op("Where", g.op("Cast", cond, to=TensorProto.BOOL), a, b)


def _clip(ctx, g: OnnxGraph, a: str, low: str, high: str) -> str:
    """np.clip is min(max(a, lo), hi) with broadcasting; ONNX's Clip takes scalar bounds only."""
    return g.op("Min", g.op("Max", a, low), high)


def _reduce_axes(g: OnnxGraph, axes: tuple) -> list[int]:
    """The axes of a reduction that change a number (not those of size 1)."""
    dims = g.input_dims[0]
    return [i for i in axes if dims[i] != 1]


def _shifted(g: OnnxGraph, a: str, axes: list[int]) -> tuple[str, str]:
    """(m, a − m), m the maximum along `axes` (kept), 0 where it is not finite, as the engine does."""
    m = g.op("ReduceMax", a, g.integers(axes), keepdims=1) if axes else a
    finite = g.op("Equal", g.op("Sub", m, m), g.constant(0.0))  # m − m is nan for ±inf and nan
    m = g.op("Where", finite, m, g.constant(0.0))
    return m, g.op("Sub", a, m)


def _log_total(g: OnnxGraph, shifted: str, axes: list[int]) -> str:
    e = g.op("Exp", shifted)
    return g.op("Log", g.op("ReduceSum", e, g.integers(axes), keepdims=1) if axes else e)


def _softmax(ctx, g: OnnxGraph, a: str) -> str:
    axes = _reduce_axes(g, ctx.axes)
    e = g.op("Exp", _shifted(g, a, axes)[1])
    return g.op("Div", e, g.op("ReduceSum", e, g.integers(axes), keepdims=1) if axes else e)


def _log_softmax(ctx, g: OnnxGraph, a: str) -> str:
    axes = _reduce_axes(g, ctx.axes)
    shifted = _shifted(g, a, axes)[1]
    return g.op("Sub", shifted, _log_total(g, shifted, axes))


def _logsumexp(ctx, g: OnnxGraph, a: str) -> str:
    dims = g.input_dims[0]
    axes = [i for i, (d, kept) in enumerate(zip(dims, ctx.kept_shape)) if kept == 1 and d != 1]
    m, shifted = _shifted(g, a, axes)
    out = g.op("Add", _log_total(g, shifted, axes), m)
    g.current_dims = tuple(1 if i in axes else d for i, d in enumerate(dims))
    return _reshaped(g, out, g.output_dims)


def _concatenate(ctx, g: OnnxGraph, *inputs: str) -> str:
    return g.op("Concat", *inputs, axis=ctx.axis)


def _stack(ctx, g: OnnxGraph, *inputs: str) -> str:
    axis = g.integers([ctx.axis])
    return g.op("Concat", *[g.op("Unsqueeze", x, axis) for x in inputs], axis=ctx.axis)


def _batch_norm(ctx, g: OnnxGraph, x: str, w: str, b: str) -> str:
    """x̂·w + b per channel: x̂ from the running statistics (eval: constants of the model) or the batch's."""
    kept = g.integers(ctx.kept)
    if ctx.training:
        axes = g.integers(ctx.axes)
        centred = g.op("Sub", x, g.op("ReduceMean", x, axes, keepdims=1))
        variance = g.op("ReduceMean", g.op("Mul", centred, centred), axes, keepdims=1)
        inv = g.op("Div", g.constant(1.0), g.op("Sqrt", g.op("Add", variance, g.constant(ctx.eps))))
        x_hat = g.op("Mul", centred, inv)
    else:
        x_hat = g.op("Mul", g.op("Sub", x, g.constant(ctx.running[0])), g.constant(ctx.running[1]))
    w, b = (v if not dims else g.op("Reshape", v, kept) for v, dims in ((w, g.input_dims[1]), (b, g.input_dims[2])))
    return g.op("Add", g.op("Mul", x_hat, w), b)


def _gelu(ctx, g: OnnxGraph, x: str) -> str:
    """½x(1 + erf(x/√2)) (erf: ONNX's in float32, `erf_series` in float64), or the tanh form."""
    half_x = g.op("Mul", x, g.constant(0.5))
    if ctx.approximate == "tanh":
        cube = g.op("Mul", g.op("Mul", x, x), x)
        inner = g.op("Mul", g.constant(TANH_BETA), g.op("Add", x, g.op("Mul", g.constant(TANH_KAPPA), cube)))
        return g.op("Mul", half_x, g.op("Add", g.constant(1.0), g.op("Tanh", inner)))
    u = g.op("Mul", x, g.constant(SQRT1_2))
    erf = g.op("Erf", u) if g.dtype == np.float32 else erf_series(g, u)
    return g.op("Mul", half_x, g.op("Add", g.constant(1.0), erf))


def erf_series(g: OnnxGraph, u: str, terms: int = 100) -> str:
    """erf u in exact operators (onnxruntime has no float64 Erf): (2/√π)·e^(−u²)·u·Σₙ (2u²)ⁿ/(2n+1)!! with |u|
    clipped to 6, a series of positive terms (no cancellation), 100 of them: within 1.5e-15 of math.erf on
    [-6, 6] (measured); ±1 beyond, where erf rounds to ±1 in float64."""
    six = g.constant(6.0)
    clipped = g.op("Min", g.op("Max", u, g.op("Neg", six)), six)
    twice_square = g.op("Mul", g.op("Mul", clipped, clipped), g.constant(2.0))
    total = g.constant(1.0)
    for n in range(terms, 0, -1):
        total = g.op("Add", g.constant(1.0), g.op("Div", g.op("Mul", total, twice_square), g.constant(2.0 * n + 1)))
    decay = g.op("Exp", g.op("Neg", g.op("Mul", clipped, clipped)))
    series = g.op("Mul", g.op("Mul", g.op("Mul", g.constant(2.0 / math.sqrt(math.pi)), decay), clipped), total)
    beyond = g.op("Where", g.op("Less", u, g.op("Neg", six)), g.constant(-1.0), series)
    return g.op("Where", g.op("Greater", u, six), g.constant(1.0), beyond)


#: The ops whose ONNX form is written here rather than traced from their forward, each with its reason.
#: Every other op (and a user's Function without a `to_onnx` hook) is traced (see `symbolic`); the
#: cross-path registry holds each of these to its op at the edges.
MAPPINGS: dict[type, Mapping] = {
    # output shapes that follow the batch size: computed in the graph from g.output_dims, not from the run
    ops.Reshape: _reshape, ops.Squeeze: _reshape, ops.ExpandDims: _reshape, ops.Flatten: _reshape,
    ops.BroadcastTo: _broadcast_to, ops.SumTo: _sum_to,
    ops.GetItem: getitem,  # indexing: numpy's rules as Slice/Gather (indexing a traced tensor is refused)
    ops.Mean: _reduce("ReduceMean"),  # the count follows the batch size: ReduceMean computes it in the graph
    # their forwards call np.asarray (for the masks their backward needs), which reads the data
    ops.Where: _where, ops.Clip: _clip, ops.Max: _reduce("ReduceMax"), ops.Min: _reduce("ReduceMin"),
    ops.LogSumExp: _logsumexp, ops.Softmax: _softmax, ops.LogSoftmax: _log_softmax,
    ops.Concatenate: _concatenate, ops.Stack: _stack,  # a list of inputs, which a forward gets unpacked
    # windows (np.pad, sliding_window_view, a loop over kernel offsets); float64 without Conv/AveragePool kernels
    ops.Conv: conv, ops.MaxPool: max_pool, ops.AvgPool: avg_pool,
    ops.BatchNorm: _batch_norm,  # its forward updates the running statistics in place (training)
    ops.GELU: _gelu,  # numpy has no erf (its forward calls math.erf), and onnxruntime no float64 Erf
}

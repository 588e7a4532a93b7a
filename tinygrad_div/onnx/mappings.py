"""Every built-in op's ONNX form: `MAPPINGS[op class](ctx, g, *inputs) -> output name`.

The same signature as a user Function's `to_onnx` hook (see `builder.OnnxGraph`).
Shapes come from the run (`g.input_dims`, `g.output_dims`), so ops whose output shape
numpy derives from parameters (reshape, broadcast, sum-to, reductions with size-1
axes) end in an exact Reshape/Expand to the shape the model produced.
"""

from __future__ import annotations

from collections.abc import Callable

from onnx import TensorProto

from tinygrad_div.engine import ops
from tinygrad_div.onnx.builder import OnnxGraph
from tinygrad_div.onnx.indexing import getitem

Mapping = Callable[..., str]


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


def _log1p(ctx, g: OnnxGraph, x: str) -> str:
    """ln(1 + x) accurate for tiny x: with u = 1 + x, ln(u)·x/(u − 1), and x itself where u rounds to 1."""
    u = g.op("Add", x, g.constant(1.0))
    ratio = g.op("Div", g.op("Mul", g.op("Log", u), x), g.op("Sub", u, g.constant(1.0)))
    return g.op("Where", g.op("Equal", u, g.constant(1.0)), x, ratio)


def _expm1(ctx, g: OnnxGraph, x: str) -> str:
    """e^x − 1 accurate for tiny x: with u = e^x, (u − 1)·x/ln u; x where u rounds to 1, u − 1 where that is
    −1 or u is inf (the ratio would be 0/0 or inf/inf there)."""
    u = g.op("Exp", x)
    um1 = g.op("Sub", u, g.constant(1.0))
    ratio = g.op("Div", g.op("Mul", um1, x), g.op("Log", u))
    exact = g.op("Or", g.op("Equal", um1, g.constant(-1.0)), g.op("IsInf", u))
    return g.op("Where", g.op("Equal", u, g.constant(1.0)), x, g.op("Where", exact, um1, ratio))


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


MAPPINGS: dict[type, Mapping] = {
    ops.Add: _same("Add"), ops.Sub: _same("Sub"), ops.Mul: _same("Mul"), ops.Div: _same("Div"),
    ops.Neg: _same("Neg"), ops.Pow: _same("Pow"),
    ops.Exp: _same("Exp"), ops.Log: _same("Log"), ops.Sigmoid: _same("Sigmoid"), ops.Tanh: _same("Tanh"),
    ops.ReLU: _same("Relu"), ops.Abs: _same("Abs"),
    ops.Sum: _reduce("ReduceSum"), ops.Mean: _reduce("ReduceMean"),
    ops.Reshape: _reshape, ops.Transpose: _transpose, ops.BroadcastTo: _broadcast_to, ops.SumTo: _sum_to,
    ops.GetItem: getitem,
    ops.MatMul: _same("MatMul"),
    ops.Sqrt: _same("Sqrt"), ops.Sin: _same("Sin"), ops.Cos: _same("Cos"), ops.Log1p: _log1p, ops.Expm1: _expm1,
    ops.Where: _where, ops.Maximum: _same("Max"), ops.Minimum: _same("Min"), ops.Clip: _clip,
    ops.Max: _reduce("ReduceMax"), ops.Min: _reduce("ReduceMin"),
    ops.LogSumExp: _logsumexp, ops.Softmax: _softmax, ops.LogSoftmax: _log_softmax,
    ops.Squeeze: _reshape, ops.ExpandDims: _reshape, ops.Flatten: _reshape,
    ops.Concatenate: _concatenate, ops.Stack: _stack,
}

"""Every built-in op's ONNX form: `MAPPINGS[op class](ctx, g, *inputs) -> output name`.

The same signature as a user Function's `to_onnx` hook (see `builder.OnnxGraph`).
Shapes come from the run (`g.input_dims`, `g.output_dims`), so ops whose output shape
numpy derives from parameters (reshape, broadcast, sum-to, reductions with size-1
axes) end in an exact Reshape/Expand to the shape the model produced.
"""

from __future__ import annotations

from collections.abc import Callable

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


MAPPINGS: dict[type, Mapping] = {
    ops.Add: _same("Add"), ops.Sub: _same("Sub"), ops.Mul: _same("Mul"), ops.Div: _same("Div"),
    ops.Neg: _same("Neg"), ops.Pow: _same("Pow"),
    ops.Exp: _same("Exp"), ops.Log: _same("Log"), ops.Sigmoid: _same("Sigmoid"), ops.Tanh: _same("Tanh"),
    ops.ReLU: _same("Relu"), ops.Abs: _same("Abs"),
    ops.Sum: _reduce("ReduceSum"), ops.Mean: _reduce("ReduceMean"),
    ops.Reshape: _reshape, ops.Transpose: _transpose, ops.BroadcastTo: _broadcast_to, ops.SumTo: _sum_to,
    ops.GetItem: getitem,
    ops.MatMul: _same("MatMul"),
}

"""ONNX forms of convolution and pooling: gathered windows in float64, the native operators in float32.

onnxruntime's CPU build has no float64 kernel for Conv or AveragePool, so in float64
each op is written with exact operators: the padded input's spatial axes flattened,
one Gather with a constant index table (P, K) (every window's positions, made by the
engine's own `windows` on an array of indices) and then MatMul, ReduceMax or
ReduceSum, as the engine computes them. In float32 the native Conv and AveragePool
run (PyTorch's semantics, which the engine follows); MaxPool is gathered in both.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_div.engine.ops.windows import Geometry, out_sizes, windows
from tinygrad_div.onnx.builder import OnnxGraph


def _attributes(geometry: Geometry) -> dict:
    kernel, stride, padding, dilation = geometry
    return {"kernel_shape": list(kernel), "strides": list(stride), "pads": list(padding) * 2,
            "dilations": list(dilation)}


def _gathered(g: OnnxGraph, x: str, geometry: Geometry, fill: float) -> tuple[str, tuple[int, ...]]:
    """(N, C, P, K): the windows of x padded with `fill`, and the output's spatial sizes."""
    kernel, _, padding, _ = geometry
    sizes = tuple(g.input_dims[0][2:])
    if any(padding):
        x = g.op("Pad", x, g.integers([0, 0, *padding, 0, 0, *padding]), g.constant(fill), mode="constant")
    padded = tuple(n + 2 * p for n, p in zip(sizes, padding))
    positions = np.arange(math.prod(padded)).reshape((1, 1, *padded))
    unpadded = (kernel, geometry[1], (0,) * len(kernel), geometry[3])
    table = windows(positions, unpadded).reshape((-1, math.prod(kernel)))  # (P, K) flat positions
    flat = g.op("Reshape", x, g.integers([0, 0, -1]))  # 0 keeps the (maybe symbolic) batch and channels
    return g.op("Gather", flat, g.constant(table, np.int64), axis=2), out_sizes(sizes, geometry)


def conv(ctx, g: OnnxGraph, x: str, w: str, b: str) -> str:
    groups, (out_channels, cg, *kernel) = ctx.groups, g.input_dims[1]
    if g.dtype == np.float32:
        y = g.op("Conv", x, w, group=groups, **_attributes(ctx.geometry))
    else:
        windows_, positions = _gathered(g, x, ctx.geometry, 0.0)
        k, og, p = math.prod(kernel), out_channels // groups, math.prod(positions)
        cols = g.op("Reshape", windows_, g.integers([0, groups, cg, p, k]))
        cols = g.op("Reshape", g.op("Transpose", cols, perm=[0, 1, 3, 2, 4]), g.integers([0, groups, p, cg * k]))
        weight = g.op("Transpose", g.op("Reshape", w, g.integers([groups, og, cg * k])), perm=[0, 2, 1])
        rows = g.op("Transpose", g.op("MatMul", cols, weight), perm=[0, 1, 3, 2])  # (N, G, Og, P)
        y = g.op("Reshape", rows, g.integers([0, out_channels, *positions]))
    bias = b if not g.input_dims[2] else g.op("Reshape", b, g.integers([out_channels] + [1] * len(kernel)))
    return g.op("Add", y, bias)


def max_pool(ctx, g: OnnxGraph, x: str) -> str:
    """Gathered windows in float32 too: onnxruntime's MaxPool starts from the lowest float (−3.4e38 where a
    window is −inf) and skips nan, as its ReduceMax does (`g.reduce` gives nan back)."""
    windows_, positions = _gathered(g, x, ctx.geometry, -np.inf)
    top = g.reduce("ReduceMax", windows_, [3], keepdims=False)
    return g.op("Reshape", top, g.integers([0, 0, *positions]))


def avg_pool(ctx, g: OnnxGraph, x: str) -> str:
    if g.dtype == np.float32:
        attributes = _attributes(ctx.geometry)
        del attributes["dilations"]
        return g.op("AveragePool", x, count_include_pad=1, **attributes)
    windows_, positions = _gathered(g, x, ctx.geometry, 0.0)
    total = g.op("ReduceSum", windows_, g.integers([3]), keepdims=0)
    return g.op("Div", g.op("Reshape", total, g.integers([0, 0, *positions])), g.constant(ctx.count))

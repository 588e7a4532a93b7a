"""Pooling over 1 or 2 (or more) spatial axes, as PyTorch's max_pool2d and avg_pool2d (ceil_mode=False).

Both read the windows of `windows.windows` (a strided view, no loop over pixels) and
send the gradient back with `fold`, its adjoint. Max pooling pads with -inf (padding
never wins) and, where several elements of a window tie for the maximum, splits that
window's gradient evenly among them, as this engine's `max` does (PyTorch's
max_pool2d gives it all to the first one; docs/conventions.md). Average pooling
counts padded zeros in the mean (PyTorch's count_include_pad=True).
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.function import Function
from tinygrad_div.engine.ops.conv import check_geometry
from tinygrad_div.engine.ops.windows import Geometry, draw_array, fold_any, windows


def _check_pool(name: str, x_shape: tuple, geometry: Geometry) -> tuple[int, ...]:
    kernel, _, padding, dilation = geometry
    rank = len(kernel)
    if len(x_shape) != rank + 2:
        raise ShapeError(f"{name}: expected a {rank + 2}-D input (batch, channels, {rank} spatial axes), "
                         f"got shape {x_shape}")
    for k, p, d in zip(kernel, padding, dilation):
        if 2 * p > d * (k - 1) + 1:
            raise ShapeError(f"{name}: padding should be at most half of the effective kernel size, got "
                             f"padding={p}, kernel_size={k} and dilation={d}")
    return check_geometry(name, x_shape[2:], geometry)


def _draw_pool(draw, dilated: bool):
    """A pooling case: an input with every element distinct (no ties), and a geometry that fits it."""
    from hypothesis import strategies as st
    rank = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) if dilated else 1 for _ in range(rank))
    # padding only undilated: a dilated window may then fall wholly in the padding (-inf, as in PyTorch)
    padding = tuple(draw(st.integers(0, k // 2)) if d == 1 else 0 for k, d in zip(kernel, dilation))
    sizes = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 3 - rank))
                  for k, p, d in zip(kernel, padding, dilation))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *sizes)
    x = draw_array(draw, shape, distinct=True)
    params = {"kernel": kernel, "stride": stride, "padding": padding}
    return [x], (params | {"dilation": dilation}) if dilated else params


def _pool_examples(shape):
    rank = len(shape) - 2
    return [{"kernel": (2,) * rank, "stride": (1,) * rank, "padding": (0,) * rank}] if rank >= 1 and all(
        n >= 2 for n in shape[2:]) else []


class MaxPool(Function):
    """y[n, c, p] = max_k x_pad[n, c, p·s + k·d]  (padding -inf);  dL/dx = fold(G[p] · [x = y] / #ties in the window)"""

    domain = "distinct"  # a tie inside a window is a kink: finite differences there see both sides' average

    @staticmethod
    def draw_inputs(draw):
        return _draw_pool(draw, dilated=True)

    example_params = staticmethod(_pool_examples)

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, dilation=None):
        dilation = dilation or (1,) * len(kernel)
        geometry = (kernel, stride, padding, dilation)
        _check_pool(f"max_pool{len(kernel)}d", np.shape(x), geometry)
        view = windows(x, geometry, fill=-np.inf)
        flat = np.reshape(view, (*view.shape[:2 + len(kernel)], -1))  # (N, C, *P, K): one copy
        out = np.max(flat, axis=-1)
        hit = flat == out[..., None]
        weights = hit / np.maximum(np.sum(hit, axis=-1, keepdims=True), 1)  # nan hits nothing: weight 0, not 0/0
        ctx.weights, ctx.sizes, ctx.geometry = np.reshape(weights, view.shape), np.shape(x)[2:], geometry
        return out

    @staticmethod
    def backward(ctx, grad):
        rank = len(ctx.geometry[0])
        spread = np.reshape(grad, (*grad.shape, *(1,) * rank)) * ctx.weights
        return fold_any(spread, ctx.sizes, ctx.geometry)


class AvgPool(Function):
    """y[n, c, p] = (1/K) Σ_k x_pad[n, c, p·s + k]  (padded zeros counted);  dL/dx = fold(G[p] / K)"""

    @staticmethod
    def draw_inputs(draw):
        return _draw_pool(draw, dilated=False)

    example_params = staticmethod(_pool_examples)

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding):
        geometry = (kernel, stride, padding, (1,) * len(kernel))
        _check_pool(f"avg_pool{len(kernel)}d", np.shape(x), geometry)
        view = windows(x, geometry)
        ctx.sizes, ctx.geometry, ctx.count = np.shape(x)[2:], geometry, float(math.prod(kernel))
        return np.sum(view, axis=tuple(range(-len(kernel), 0))) / ctx.count

    @staticmethod
    def backward(ctx, grad):
        rank = len(ctx.geometry[0])
        share = np.reshape(grad / ctx.count, (*grad.shape, *(1,) * rank))
        return fold_any(np.broadcast_to(share, (*grad.shape, *ctx.geometry[0])), ctx.sizes, ctx.geometry)

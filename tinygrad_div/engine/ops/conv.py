"""Convolution over 1 or 2 (or more) spatial axes, as PyTorch's conv1d/conv2d: windows (im2col) and one matmul.

The windows of the padded input (`windows.windows`, a strided view) are copied once
into a matrix (G, N·P, Cg·K) (G groups, P output positions, Cg channels per group,
K kernel entries) and meet the weight (G, Cg·K, Og) in one batched BLAS product. The
backward rule is the same few lines of numpy on the data, or on Values for a second
derivative (`unfold_any`/`fold_any` then record the window ops).
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.function import Function
from tinygrad_div.engine.ops.windows import Geometry, draw_array, fold_any, out_sizes, unfold_any, windows
from tinygrad_div.engine.value import Value


def check_geometry(name: str, sizes: tuple[int, ...], geometry: Geometry) -> tuple[int, ...]:
    """The output's spatial sizes, or a ShapeError naming a (dilated) kernel larger than the padded input."""
    kernel, _, padding, dilation = geometry
    padded = tuple(n + 2 * p for n, p in zip(sizes, padding))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s > n for s, n in zip(span, padded)):
        raise ShapeError(f"{name}: kernel size {_dims(span)} (dilated) is larger than the padded input "
                         f"{_dims(padded)}")
    return out_sizes(sizes, geometry)


def _dims(sizes: tuple[int, ...]) -> str:
    return " x ".join(map(str, sizes))


def _check_conv(x_shape: tuple, w_shape: tuple, b_shape: tuple, rank: int, groups: int) -> None:
    name = f"conv{rank}d"
    if len(x_shape) != rank + 2:
        raise ShapeError(f"{name}: expected a {rank + 2}-D input (batch, channels, {_spatial(rank)}), "
                         f"got shape {x_shape}")
    if len(w_shape) != rank + 2:
        raise ShapeError(f"{name}: weight must be {rank + 2}-D (out_channels, in_channels/groups, "
                         f"{_spatial(rank, 'kernel ')}), got shape {w_shape}")
    if w_shape[0] % groups:
        raise ShapeError(f"{name}: out_channels {w_shape[0]} is not divisible by groups {groups}")
    if x_shape[1] != w_shape[1] * groups:
        raise ShapeError(f"{name}: input has {x_shape[1]} channels, weight expects {w_shape[1] * groups}")
    if b_shape not in ((), (w_shape[0],)):
        raise ShapeError(f"{name}: bias must have shape ({w_shape[0]},), got {b_shape}")


def _spatial(rank: int, prefix: str = "") -> str:
    axes = ("length",) if rank == 1 else ("height", "width", "depth")[:rank]
    return ", ".join(prefix + axis for axis in axes)


def to_columns(u, groups: int):
    """Windows (N, C, *P, *K) as the matrix (G, N·P, Cg·K): one row per output position and group."""
    n, c = u.shape[:2]
    rank = (len(u.shape) - 2) // 2
    positions, kernel = u.shape[2:2 + rank], u.shape[2 + rank:]
    u = np.reshape(u, (n, groups, c // groups, *positions, *kernel))
    order = (1, 0, *range(3, 3 + rank), 2, *range(3 + rank, 3 + 2 * rank))
    return np.reshape(np.transpose(u, order), (groups, n * math.prod(positions), c // groups * math.prod(kernel)))


def from_columns(m, shape: tuple, groups: int):
    """The inverse of `to_columns`: (G, N·P, Cg·K) back to windows of `shape` (N, C, *P, *K)."""
    n, c = shape[:2]
    rank = (len(shape) - 2) // 2
    positions, kernel = shape[2:2 + rank], shape[2 + rank:]
    m = np.reshape(m, (groups, n, *positions, c // groups, *kernel))
    order = (1, 0, 2 + rank, *range(2, 2 + rank), *range(3 + rank, 3 + 2 * rank))
    return np.reshape(np.transpose(m, order), shape)


def _output_rows(grad, groups: int):
    """The output's gradient (N, O, *P) as (G, N·P, Og), the layout of the product."""
    n, o, *positions = grad.shape
    rank = len(positions)
    grad = np.reshape(grad, (n, groups, o // groups, *positions))
    rows = np.transpose(grad, (1, 0, *range(3, 3 + rank), 2))
    return np.reshape(rows, (groups, n * math.prod(positions), o // groups))


def grouped_matmul(a, b):
    """a @ b for stacked (G, m, k) and (G, k, n): one 2-D (BLAS) product per group. numpy's stacked matmul
    falls back to a loop of its own for transposed operands, 10-50x slower at these sizes."""
    if a.shape[0] == 1:
        return np.expand_dims(a[0] @ b[0], 0)  # a view, no copy
    return np.stack([a[g] @ b[g] for g in range(a.shape[0])])


class Conv(Function):
    """y[n, o, p] = b[o] + Σ_{c, k} x_pad[n, g·Cg + c, p·s + k·d] · w[o, c, k],  g = o // Og  (cross-correlation)

    x (N, C, *S), w (O, C/groups, *K), b (O,) or a scalar: PyTorch's layout. With G the
    output's gradient, U = window(x) and the per-group matrices of `to_columns`:
        dL/dx = fold(G · W),   dL/dw = Gᵀ · U,   dL/db[o] = Σ_{n, p} G[n, o, p].
    All three are linear in G and in the other input: the second derivative reuses them.
    """

    shapes = ("N,C,L", "O,C,K", "O")  # a fallback; the checker draws whole cases (draw_inputs)

    @staticmethod
    def draw_inputs(draw):
        from hypothesis import strategies as st
        rank, groups = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        n, cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 3 - groups)), draw(st.integers(1, 3 - groups))
        kernel = tuple(draw(st.integers(1, 2)) for _ in range(rank))
        stride = tuple(draw(st.integers(1, 2)) for _ in range(rank))
        padding = tuple(draw(st.integers(0, 1)) for _ in range(rank))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
        sizes = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 3 - rank))
                      for k, p, d in zip(kernel, padding, dilation))
        x = draw_array(draw, (n, cg * groups, *sizes))
        w = draw_array(draw, (og * groups, cg, *kernel))
        b = draw_array(draw, (og * groups,))
        return [x, w, b], {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}

    @staticmethod
    def example_params(*shapes):
        """Unit stride, no padding, for an input and weight of one rank whose channels and sizes fit."""
        x, w = shapes[0], shapes[1]
        rank = len(w) - 2
        fits = rank >= 1 and len(x) == len(w) and x[1] == w[1] and all(k <= n for k, n in zip(w[2:], x[2:]))
        return [{"stride": (1,) * rank, "padding": (0,) * rank, "dilation": (1,) * rank}] if fits else []

    @staticmethod
    def forward(ctx, x, w, b, *, stride, padding, dilation, groups=1):
        x_shape, w_shape = np.shape(x), np.shape(w)
        _check_conv(x_shape, w_shape, np.shape(b), len(stride), groups)
        geometry = (w_shape[2:], stride, padding, dilation)
        positions = check_geometry(f"conv{len(stride)}d", x_shape[2:], geometry)
        columns = to_columns(windows(x, geometry), groups)
        weight = np.reshape(w, (groups, w_shape[0] // groups, -1))
        rows = grouped_matmul(columns, np.transpose(weight, (0, 2, 1)))  # (G, N·P, Og)
        n, rank = x_shape[0], len(positions)
        out = np.reshape(np.transpose(np.reshape(rows, (groups, n, *positions, -1)),
                                      (1, 0, 1 + rank + 1, *range(2, 2 + rank))), (n, w_shape[0], *positions))
        ctx.geometry, ctx.groups = geometry, groups
        ctx.columns = columns  # the windows of x, reused by dL/dw (recomputed after a backward freed them)
        ctx.save_for_backward(x, w)
        if type(b) is float and b == 0.0:
            return out
        return out + np.reshape(b, (-1,) + (1,) * rank)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        geometry, groups = ctx.geometry, ctx.groups
        rows = _output_rows(grad, groups)  # (G, N·P, Og)
        grad_x = grad_w = grad_b = None
        if need_x:
            weight = np.reshape(w, (groups, w.shape[0] // groups, -1))  # (G, Og, Cg·K)
            shape = (*x.shape[:2], *grad.shape[2:], *w.shape[2:])
            grad_x = fold_any(from_columns(grouped_matmul(rows, weight), shape, groups), x.shape[2:], geometry)
        if need_w:
            columns = ctx.columns if not isinstance(x, Value) and ctx.columns is not None else \
                to_columns(unfold_any(x, geometry), groups)
            grad_w = np.reshape(grouped_matmul(np.transpose(rows, (0, 2, 1)), columns), w.shape)
        if need_b:
            grad_b = np.sum(grad, axis=(0, *range(2, len(grad.shape))))
        ctx.columns = None
        return grad_x, grad_w, grad_b

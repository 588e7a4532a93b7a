"""Sliding windows (im2col) and their adjoint (col2im): what convolution and pooling are built on.

    window(x)[n, c, p, k] = x_pad[n, c, p·s + k·d]        p, k: multi-indices over the spatial axes
    fold(u)[n, c, i]      = Σ over (p, k) with p·s + k·d = i + pad of u[n, c, p, k]

`windows` is a strided view of the padded input (sliding_window_view, then stride and
dilation as slices): no Python loop over pixels. `fold` adds each kernel offset's slab
back with one strided slice per offset (a loop over the K kernel entries only). The two
are adjoint linear maps, so as ops (`Unfold`, `Fold`) each is the other's backward,
and a backward rule that calls them on Values records a graph that differentiates again.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_div.engine.function import Function
from tinygrad_div.engine.value import Value

#: (kernel, stride, padding, dilation), one int per spatial axis each
Geometry = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def out_sizes(sizes: tuple[int, ...], geometry: Geometry) -> tuple[int, ...]:
    """The number of window positions along each spatial axis: ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1."""
    kernel, stride, padding, dilation = geometry
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation))


def windows(x: np.ndarray, geometry: Geometry, fill: float = 0.0) -> np.ndarray:
    """(N, C, *positions, *kernel): every window of x padded with `fill`, a strided view (no copy unpadded)."""
    kernel, stride, padding, dilation = geometry
    if any(padding):
        x = np.pad(x, ((0, 0), (0, 0), *((p, p) for p in padding)), constant_values=fill)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = sliding_window_view(x, span, axis=tuple(range(2, 2 + len(kernel))))
    return view[(slice(None), slice(None), *(slice(None, None, s) for s in stride),
                 *(slice(None, None, d) for d in dilation))]


def fold(u: np.ndarray, sizes: tuple[int, ...], geometry: Geometry) -> np.ndarray:
    """The adjoint of `windows` (zero fill): every window entry added back where it was taken, padding cropped."""
    kernel, stride, padding, dilation = geometry
    rank = len(kernel)
    positions = u.shape[2:2 + rank]
    padded = np.zeros(u.shape[:2] + tuple(n + 2 * p for n, p in zip(sizes, padding)))
    for offset in np.ndindex(*kernel):
        target = tuple(slice(o * d, o * d + s * (m - 1) + 1, s)
                       for o, d, s, m in zip(offset, dilation, stride, positions))
        padded[(slice(None), slice(None), *target)] += u[(Ellipsis, *offset)]
    if not any(padding):
        return padded
    return np.ascontiguousarray(padded[(slice(None), slice(None), *(slice(p, p + n) for p, n in zip(padding, sizes)))])


def draw_array(draw, shape: tuple[int, ...], distinct: bool = False) -> np.ndarray:
    """For ops' `draw_inputs` hooks (hypothesis, imported only when checking): floats in [-2, 2] of this shape;
    `distinct`: all on a grid at least 3.6/(2·size) apart (off the ties where a maximum has a kink)."""
    from hypothesis import strategies as st
    size = math.prod(shape)
    if distinct:
        slots = max(2 * size, 8)
        picks = np.array(draw(st.permutations(range(slots)))[:size], dtype=np.float64)
        return np.reshape(-1.8 + (picks + draw(st.floats(0.0, 0.25))) * (3.6 / slots), shape)
    return np.reshape(np.array(draw(st.lists(st.floats(-2.0, 2.0), min_size=size, max_size=size)), np.float64), shape)


def unfold_any(x, geometry: Geometry):
    """`windows` of data (zero fill), or the recorded `Unfold` of a Value (for a backward rule handed Values)."""
    if isinstance(x, Value):
        return Unfold.apply(x, geometry=geometry)
    return windows(x, geometry)


def fold_any(u, sizes: tuple[int, ...], geometry: Geometry):
    """`fold` of data, or the recorded `Fold` of a Value."""
    if isinstance(u, Value):
        return Fold.apply(u, sizes=sizes, geometry=geometry)
    return fold(u, sizes, geometry)


class Unfold(Function, register=False):
    """u = window(x) (zero padding);  dL/dx = fold(G)   (an internal op: the backward rules' windows on Values)"""

    @staticmethod
    def forward(ctx, x, *, geometry):
        ctx.sizes, ctx.geometry = x.shape[2:], geometry
        return np.ascontiguousarray(windows(x, geometry))

    @staticmethod
    def backward(ctx, grad):
        return fold_any(grad, ctx.sizes, ctx.geometry)


class Fold(Function, register=False):
    """x = fold(u);  dL/du = window(G)   (an internal op, the adjoint of Unfold)"""

    @staticmethod
    def forward(ctx, u, *, sizes, geometry):
        ctx.geometry = geometry
        return fold(u, sizes, geometry)

    @staticmethod
    def backward(ctx, grad):
        return unfold_any(grad, ctx.geometry)

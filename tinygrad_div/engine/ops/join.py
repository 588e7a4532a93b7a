"""Joining: concatenate and stack any number of Values (numpy's rules); the gradient is sliced back apart."""

from __future__ import annotations

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from tinygrad_div.engine.function import Function


def _join_axes(shapes, stacked: bool):
    """The axes along which inputs of these shapes can be joined (for the gradient check's parameters)."""
    if not shapes:
        return []
    ndim = len(shapes[0]) + stacked
    fits = []
    for axis in range(ndim):
        rest = {tuple(n for i, n in enumerate(shape) if i != axis or stacked) for shape in shapes}
        if len(rest) == 1:
            fits += [{"axis": axis}, {"axis": axis - ndim}]
    return fits


class Concatenate(Function):
    """y = the inputs joined along `axis`;  dy/dinput_k: the gradient's slice where input k went"""

    shapes = ("K,B", "L,B", "M,B")  # what the gradient check draws: joinable along axis 0, and -1 when K = L = M

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        if not arrays:
            raise ValueError("concatenate needs at least one Value")
        if any(type(x) is float for x in arrays):
            raise ValueError("concatenate: scalars (0-d) cannot be concatenated; stack them instead")
        out = np.concatenate(arrays, axis=axis)
        ctx.axis = normalize_axis_index(axis, out.ndim)
        ctx.ends = np.cumsum([x.shape[ctx.axis] for x in arrays]).tolist()
        return out

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        starts = [0, *ctx.ends[:-1]]
        return tuple(grad[(*lead, slice(start, end))] for start, end in zip(starts, ctx.ends))

    @staticmethod
    def example_params(*shapes):
        return _join_axes(shapes, stacked=False)


class Stack(Function):
    """y = the inputs (all of one shape) stacked along a new `axis`;  dy/dinput_k: the gradient at k on that axis"""

    shapes = ("A,B", "A,B", "A,B")

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        if not arrays:
            raise ValueError("stack needs at least one Value")
        out = np.stack(arrays, axis=axis)
        ctx.axis = normalize_axis_index(axis, out.ndim)
        ctx.count = len(arrays)
        return out

    @staticmethod
    def backward(ctx, grad):
        lead = (slice(None),) * ctx.axis
        return tuple(grad[(*lead, k)] for k in range(ctx.count))

    @staticmethod
    def example_params(*shapes):
        return _join_axes(shapes, stacked=True)

"""Reductions: sum and mean over all or some axes (numpy's axis/keepdims semantics)."""

from __future__ import annotations

import math
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from tinygrad_div.engine.function import Function
from tinygrad_div.engine.ops.numeric import divide
from tinygrad_div.engine.ops.shape import broadcast_to
from tinygrad_div.engine.value import shape_of


def reduced_axes(shape: tuple, axis) -> tuple[int, ...]:
    """The axes a reduction removes, by numpy's rules (None for all, ints, tuples, negatives).

    Numpy lets a reduction of a 0-d array name axis 0 or -1 as a plain int (not in a
    tuple): `np.sum(0.0, axis=-1)` is 0.0. Scalars follow it: nothing is reduced.
    """
    if axis is None:
        return tuple(range(len(shape)))
    if not shape and not isinstance(axis, tuple) and operator.index(axis) in (0, -1):
        return ()
    return normalize_axis_tuple(axis, len(shape))


def kept_shape(shape: tuple, axes: tuple[int, ...]) -> tuple:
    """The shape of the reduction with keepdims=True, so its gradient can broadcast back."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _sum(a, axis, keepdims):
    if type(a) is float:
        return np.sum(a, axis=axis, keepdims=keepdims)  # numpy still validates the axis of a scalar
    out = np.add.reduce(a, axis=axis, keepdims=keepdims)  # np.sum without its Python wrapper
    return float(out) if type(out) is np.float64 else out


def spread(grad, kept_shape: tuple, shape: tuple):
    """A reduction's gradient broadcast back over the axes it reduced."""
    return broadcast_to(grad if type(grad) is float else grad.reshape(kept_shape), shape)


def reduction_examples(shape):
    examples = [{}, {"keepdims": True}]
    if shape:
        examples += [{"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": tuple(range(len(shape)))},
                     {"axis": tuple(range(-1, -len(shape) - 1, -1))}]
    return examples


class Sum(Function):
    """y = Σ a over `axis`;  dy/da = 1 for every summed element"""

    example_params = staticmethod(reduction_examples)

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        ctx.input_shape = shape = shape_of(a)
        out = _sum(a, axis, keepdims)  # first: numpy validates the axis
        ctx.kept_shape = kept_shape(shape, reduced_axes(shape, axis))
        return out

    @staticmethod
    def backward(ctx, grad):
        return spread(grad, ctx.kept_shape, ctx.input_shape)


class Mean(Function):
    """y = (Σ a over `axis`) / n;  dy/da = 1/n for every averaged element"""

    example_params = staticmethod(reduction_examples)

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        ctx.input_shape = shape = shape_of(a)
        total = _sum(a, axis, keepdims)  # first: numpy validates the axis
        axes = reduced_axes(shape, axis)
        ctx.kept_shape = kept_shape(shape, axes)
        ctx.count = count = float(math.prod(shape[i] for i in axes))
        return divide(total, count)  # exactly np.mean: the sum, then one division (0/0 is nan)

    @staticmethod
    def backward(ctx, grad):
        return spread(divide(grad, ctx.count), ctx.kept_shape, ctx.input_shape)

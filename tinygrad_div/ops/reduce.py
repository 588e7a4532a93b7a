"""Reductions: sum and mean over all or some axes (numpy's axis/keepdims semantics)."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_div.function import Function
from tinygrad_div.ops.shape import broadcast_to, reshape
from tinygrad_div.value import shape_of


def _kept_shape(shape: tuple, axis) -> tuple:
    """The shape of the reduction with keepdims=True, so its gradient can broadcast back."""
    if axis is None:
        return tuple(1 for _ in shape)
    axes = (axis,) if isinstance(axis, int) else axis
    axes = {a % len(shape) for a in axes}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduction_examples(shape):
    examples = [{}, {"keepdims": True}]
    if shape:
        examples += [{"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": tuple(range(len(shape)))}]
    return examples


class Sum(Function):
    """y = Σ a over `axis`;  dy/da = 1 for every summed element"""

    example_params = staticmethod(_reduction_examples)

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        ctx.input_shape = shape = shape_of(a)
        ctx.kept_shape = _kept_shape(shape, axis)
        return np.sum(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(reshape(grad, ctx.kept_shape), ctx.input_shape)


class Mean(Function):
    """y = (Σ a over `axis`) / n;  dy/da = 1/n for every averaged element"""

    example_params = staticmethod(_reduction_examples)

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        ctx.input_shape = shape = shape_of(a)
        ctx.kept_shape = _kept_shape(shape, axis)
        ctx.count = math.prod(shape) // math.prod(ctx.kept_shape) or 1
        return np.mean(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(reshape(grad / float(ctx.count), ctx.kept_shape), ctx.input_shape)

"""Selection and limits: where, maximum, minimum, clip, and the max/min reductions.

Each picks one of its inputs per element, so its gradient goes to what was picked,
through a 0/1 (or tie-splitting) weight computed from the data at forward time. The
weights are constants of the backward rule: the derivative of a selection is zero
almost everywhere, so second derivatives need nothing more. At a tie the gradient
is split evenly, as PyTorch does for `maximum`, `minimum` and `amax`/`amin`.
"""

from __future__ import annotations

import numpy as np

from tinygrad_div.engine.function import Function
from tinygrad_div.engine.ops.reduce import kept_shape, reduced_axes, reduction_examples, spread
from tinygrad_div.engine.value import shape_of


def _weights(chosen, tied):
    """1.0 where chosen, 0.5 where tied, else 0.0: float for scalars, arrays otherwise."""
    if type(chosen) is bool:
        return 1.0 if chosen else (0.5 if tied else 0.0)
    out = chosen.astype(np.float64)
    out[tied] = 0.5
    return out


class Where(Function):
    """y = a where cond else b;  dy/da = cond, dy/db = not cond   (cond: a mask, never differentiated)"""

    domain = ("bool", "real", "real")

    @staticmethod
    def forward(ctx, cond, a, b):
        cond = np.asarray(cond, dtype=bool)
        ctx.weight_a = cond.astype(np.float64) if cond.ndim else float(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        w = ctx.weight_a
        return None, grad * w, grad * (1.0 - w)


class Maximum(Function):
    """y = max(a, b) elementwise;  dy/da = [a > b] + ½[a = b], dy/db = [b > a] + ½[a = b]"""

    domain = "distinct"  # a = b is a kink: finite differences there see the average of both sides

    @staticmethod
    def forward(ctx, a, b):
        ctx.weight_a = _weights(a > b, a == b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        w = ctx.weight_a
        return grad * w, grad * (1.0 - w)


class Minimum(Function):
    """y = min(a, b) elementwise;  dy/da = [a < b] + ½[a = b], dy/db = [b < a] + ½[a = b]"""

    domain = "distinct"

    @staticmethod
    def forward(ctx, a, b):
        ctx.weight_a = _weights(a < b, a == b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        w = ctx.weight_a
        return grad * w, grad * (1.0 - w)


class Clip(Function):
    """y = min(max(a, lo), hi);  dy/da = [lo <= a <= hi], dy/dlo = [a < lo <= hi], dy/dhi = [a > hi or lo > hi]

    The ties as torch.clamp with tensor limits (at a = lo or a = hi the gradient goes
    to a; with lo > hi, output hi, to hi; where a or lo is nan, output nan, to hi if the
    other one is above hi), except at a < lo = hi: the output is the limit, and lo gets
    the gradient (torch.clamp gives it to none), so clip(a, v, v) = v has dv = 1.
    """

    domain = "distinct"

    @staticmethod
    def forward(ctx, a, lo, hi):
        above_lo = np.maximum(a, lo)
        ctx.masks = [np.asarray(m, dtype=np.float64) for m in
                     ((a >= lo) & (a <= hi), (a < lo) & (lo <= hi), (a > hi) | (lo > hi))]
        return np.minimum(above_lo, hi)

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad * (float(m) if m.ndim == 0 else m) for m in ctx.masks)


def _extreme(ctx, a, axis, keepdims, reduce):
    shape = shape_of(a)
    out = reduce(a, axis=axis, keepdims=keepdims)  # first: numpy validates the axis (and refuses empty arrays)
    ctx.input_shape = shape
    ctx.kept_shape = kept = kept_shape(shape, reduced_axes(shape, axis))
    hit = np.asarray(a) == np.reshape(out, kept)
    ties = np.sum(hit, axis=reduced_axes(shape, axis), keepdims=True)
    ctx.weights = hit / np.maximum(ties, 1)  # ties share evenly; nan hits nothing (and divides by 1, not 0)
    return out


class Max(Function):
    """y = max of a over `axis`;  dy/da = [a = y] / (number of elements equal to y)  (ties share, as torch.amax)"""

    domain = "distinct"
    example_params = staticmethod(reduction_examples)

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        return _extreme(ctx, a, axis, keepdims, np.max)

    @staticmethod
    def backward(ctx, grad):
        weights = ctx.weights
        return spread(grad, ctx.kept_shape, ctx.input_shape) * (float(weights) if weights.ndim == 0 else weights)


class Min(Function):
    """y = min of a over `axis`;  dy/da = [a = y] / (number of elements equal to y)  (ties share, as torch.amin)"""

    domain = "distinct"
    example_params = staticmethod(reduction_examples)

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        return _extreme(ctx, a, axis, keepdims, np.min)

    @staticmethod
    def backward(ctx, grad):
        weights = ctx.weights
        return spread(grad, ctx.kept_shape, ctx.input_shape) * (float(weights) if weights.ndim == 0 else weights)

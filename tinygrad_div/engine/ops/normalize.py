"""Normalising: logsumexp, softmax and log_softmax, stable for every float64 input.

Each subtracts the maximum m along the axis before exponentiating, so e^(a - m) <= 1
never overflows (no warning at ±1000 or at ±1e308), and log_softmax is computed as
(a - m) - ln Σ e^(a - m): exact where softmax itself underflows to 0 (it gives -1000,
not ln 0 = -inf, for a = [0, -1000]). Infinite maxima are replaced by 0 before the
shift (-inf - -inf would be nan), as scipy's logsumexp does.
"""

from __future__ import annotations

import numpy as np

from tinygrad_div.engine.function import Function
from tinygrad_div.engine.ops.reduce import kept_shape, reduced_axes, reduction_examples, spread
from tinygrad_div.engine.ops.shape import reshape
from tinygrad_div.engine.value import shape_of


def _shifted(a, axes):
    """m, the finite maximum along `axes` (kept dims), and a - m."""
    a = np.asarray(a)
    m = np.max(a, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(over="ignore"):  # -1e308 - 1e308 is -inf: right for e^(a - m), and the rounded log_softmax
        return m, a - m


def _log_total(shifted, axes):
    """ln Σ e^(a - m) along `axes` (kept dims)."""
    with np.errstate(divide="ignore"):  # a row of -inf sums to 0: its log is -inf, as it should be
        return np.log(np.sum(np.exp(shifted), axis=axes, keepdims=True))


def _axis_examples(shape):
    return [{}] + ([{"axis": 0}, {"axis": len(shape) - 1}] if len(shape) > 1 else [])


class LogSumExp(Function):
    """y = ln Σ e^a over `axis` (m + ln Σ e^(a - m));  dy/da = e^(a - y) = softmax(a)"""

    example_params = staticmethod(reduction_examples)

    @staticmethod
    def forward(ctx, a, *, axis=None, keepdims=False):
        shape = shape_of(a)
        axes = reduced_axes(shape, axis)  # numpy's axis rules, scalars included
        m, shifted = _shifted(a, axes)
        out = _log_total(shifted, axes) + m
        ctx.input_shape, ctx.kept_shape = shape, kept_shape(shape, axes)
        out = out if keepdims else np.reshape(out, tuple(n for i, n in enumerate(shape) if i not in axes))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        with np.errstate(over="ignore"):  # a - y is -inf only where the softmax is exactly 0
            softmax = np.exp(a - reshape(out, ctx.kept_shape))
        return spread(grad, ctx.kept_shape, ctx.input_shape) * softmax


class LogSoftmax(Function):
    """y = a - logsumexp(a, axis, keepdims=True);  dy/da: grad - e^y · Σ grad over `axis`"""

    example_params = staticmethod(_axis_examples)

    @staticmethod
    def forward(ctx, a, *, axis=-1):
        ctx.axes = axes = reduced_axes(shape_of(a), axis)
        _, shifted = _shifted(a, axes)
        out = shifted - _log_total(shifted, axes)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * np.sum(grad, axis=ctx.axes, keepdims=True)


class Softmax(Function):
    """y = e^(a - m) / Σ e^(a - m) over `axis`;  dy/da: y · (grad - Σ grad·y over `axis`)"""

    example_params = staticmethod(_axis_examples)

    @staticmethod
    def forward(ctx, a, *, axis=-1):
        ctx.axes = axes = reduced_axes(shape_of(a), axis)
        _, shifted = _shifted(a, axes)
        out = np.exp(shifted)
        out /= np.sum(out, axis=axes, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        product = grad * out
        return product - out * np.sum(product, axis=ctx.axes, keepdims=True)

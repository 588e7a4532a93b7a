"""Batch normalisation (PyTorch's functional batch_norm): batch statistics in training, running ones in eval.

One op for both modes, so that the running statistics (numpy arrays, a layer's
buffers, passed as keyword parameters) are read, and in training updated in place,
by the op's own forward: a compiled step, which replays it, keeps doing both on every
call. The channels are axis 1; the statistics are taken over every other axis.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.function import Function
from tinygrad_div.engine.ops.windows import draw_array
from tinygrad_div.engine.value import Value


def _kept(shape: tuple) -> tuple:
    return (1, shape[1]) + (1,) * (len(shape) - 2)


def _per_channel(v, kept: tuple):
    """A weight or bias (C,) shaped to broadcast over the channel axis; a scalar as it is."""
    return np.reshape(v, kept) if len(np.shape(v) if not isinstance(v, Value) else v.shape) else v


def normalised(ctx, x):
    """(x̂, 1/σ): x̂ = (x − μ)/σ with σ = √(σ² + ε), from the batch (training) or the running statistics (eval).
    On data or on Values alike (the batch statistics are then recorded ops)."""
    if ctx.training:
        mean = np.mean(x, axis=ctx.axes, keepdims=True)
        centred = x - mean
        inv = 1.0 / np.sqrt(np.mean(centred * centred, axis=ctx.axes, keepdims=True) + ctx.eps)
        return centred * inv, inv
    return (x - ctx.running[0]) * ctx.running[1], ctx.running[1]


def _check(x_shape: tuple, running_mean, running_var, training: bool) -> None:
    if len(x_shape) < 2:
        raise ShapeError(f"batch_norm: expected an input (N, C, ...) of at least 2 axes, got shape {x_shape}")
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and np.shape(stat) != (x_shape[1],):
            raise ShapeError(f"batch_norm: {name} should contain {x_shape[1]} elements (one per channel), "
                             f"got shape {np.shape(stat)}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: eval mode (training=False) needs running_mean and running_var")
    if training and math.prod(x_shape) // x_shape[1] <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x_shape}")


def _update(ctx, x, momentum, running_mean, running_var, num_batches_tracked) -> None:
    """PyTorch's running update, in place: r ← (1 − m)·r + m·s, with the unbiased variance for running_var;
    momentum None: the cumulative average, m = 1/num_batches_tracked (counted first)."""
    if num_batches_tracked is not None:
        num_batches_tracked += 1
    if running_mean is None and running_var is None:
        return
    m = 1.0 / float(num_batches_tracked) if momentum is None else momentum
    count = math.prod(np.shape(x)) // np.shape(x)[1]
    mean = np.mean(x, axis=ctx.axes)
    if running_mean is not None:
        running_mean *= 1.0 - m
        running_mean += m * mean
    if running_var is not None:
        centred = x - np.reshape(mean, ctx.kept)
        running_var *= 1.0 - m
        running_var += m * (np.sum(centred * centred, axis=ctx.axes) / (count - 1))


class BatchNorm(Function):
    """y = x̂·w + b per channel, x̂ = (x − μ)/σ, σ = √(σ² + ε); μ, σ² (biased): the batch's, or the running ones (eval).

    With sums and means over every axis but the channels:
        dL/db = Σ G,   dL/dw = Σ G·x̂,
        dL/dx = (w/σ)·(G − mean G − x̂·mean(G·x̂))   (training),   (w/σ)·G   (eval).
    Training also updates the running statistics in place (see `_update`), as PyTorch does.
    """

    shapes = ("N,C,L", "C", "C")

    @staticmethod
    def draw_inputs(draw):
        from hypothesis import strategies as st
        spatial = (draw(st.integers(1, 2)),) * draw(st.integers(0, 2))
        shape = (draw(st.integers(1, 3)), draw(st.integers(1, 2)), *spatial)
        if math.prod(shape) // shape[1] < 2:
            shape = (2, *shape[1:])
        channels = shape[1]
        training = draw(st.booleans())
        params = {"training": training, "eps": draw(st.sampled_from([1e-5, 0.1]))}
        if not training:
            params |= {"running_mean": draw_array(draw, (channels,)),
                       "running_var": np.abs(draw_array(draw, (channels,))) + 0.1}
        x = draw_array(draw, shape, distinct=True)  # distinct: a batch's variance stays away from 0
        return [x, draw_array(draw, (channels,)), draw_array(draw, (channels,))], params

    @staticmethod
    def example_params(*shapes):
        """Training mode for a batch (N, C, ...) of more than one value per channel and a weight and bias (C,)."""
        x, w, b = shapes
        fits = len(x) >= 2 and w == b == (x[1],) and math.prod(x) // x[1] >= 2
        return [{"training": True}] if fits else []

    @staticmethod
    def forward(ctx, x, w, b, *, training, eps=1e-5, momentum=0.1, running_mean=None, running_var=None,
                num_batches_tracked=None):
        shape = np.shape(x)
        _check(shape, running_mean, running_var, training)
        ctx.training, ctx.eps = training, eps
        ctx.axes, ctx.kept = (0, *range(2, len(shape))), _kept(shape)
        if not training:
            ctx.running = (np.reshape(running_mean, ctx.kept), np.reshape(1.0 / np.sqrt(running_var + eps), ctx.kept))
        x_hat, inv = normalised(ctx, x)
        ctx.save_for_backward(x_hat, inv, w)
        if training:
            _update(ctx, x, momentum, running_mean, running_var, num_batches_tracked)
        return x_hat * _per_channel(w, ctx.kept) + _per_channel(b, ctx.kept)

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        axes = ctx.axes
        grad_x = grad_w = grad_b = None
        if need_x:
            g = grad
            if ctx.training:
                g = g - np.mean(grad, axis=axes, keepdims=True) - x_hat * np.mean(grad * x_hat, axis=axes,
                                                                                 keepdims=True)
            grad_x = (_per_channel(w, ctx.kept) * inv) * g
        if need_w:
            grad_w = np.sum(grad * x_hat, axis=axes)
        if need_b:
            grad_b = np.sum(grad, axis=axes)
        return grad_x, grad_w, grad_b

    @classmethod
    def saved_values(cls, ctx, inputs, output):
        """x̂ and 1/σ recomputed from x with recorded ops (they depend on it), and w's Value."""
        x, w, _ = inputs
        x_hat, inv = normalised(ctx, x if isinstance(x, Value) else Value(x, requires_grad=False))
        return x_hat, inv, w

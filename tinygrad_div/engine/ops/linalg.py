"""Matrix multiplication, with numpy.matmul's rules for 1-D and stacked operands."""

from __future__ import annotations

import numpy as np

from tinygrad_div.engine.function import Function


class MatMul(Function):
    """Y = A @ B;  dL/dA = G @ Bᵀ, dL/dB = Aᵀ @ G  (1-D operands promoted as numpy does, then squeezed back)"""

    shapes = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad  # a matmul per unneeded side saved (often a constant input)
        a_is_vector, b_is_vector = a.ndim == 1, b.ndim == 1
        if a_is_vector and b_is_vector:
            return (grad * b if need_a else None), (grad * a if need_b else None)
        # Promote 1-D operands as numpy does: a (k,) is a row (1, k), b (k,) a column (k, 1);
        # grad gets the matching unit axis. grad is an array or a Value: both have .reshape.
        if a_is_vector:
            a = a.reshape((1, a.shape[0]))
            grad = grad.reshape((*grad.shape[:-1], 1, grad.shape[-1]))
        elif b_is_vector:
            b = b.reshape((b.shape[0], 1))
            grad = grad.reshape((*grad.shape, 1))
        grad_a = grad @ b.swapaxes(-1, -2) if need_a else None
        grad_b = a.swapaxes(-1, -2) @ grad if need_b else None
        # Drop the unit axis again; the engine sums away any broadcast batch axes.
        if need_a and a_is_vector:
            grad_a = grad_a.reshape((*grad_a.shape[:-2], grad_a.shape[-1]))
        if need_b and b_is_vector:
            grad_b = grad_b.reshape(grad_b.shape[:-1])
        return grad_a, grad_b

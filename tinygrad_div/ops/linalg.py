"""Matrix multiplication, with numpy.matmul's rules for 1-D and stacked operands."""

from __future__ import annotations

import numpy as np

from tinygrad_div.function import Function


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
        if a.ndim == 1 and b.ndim == 1:
            return grad * b, grad * a
        # grad is an array or a Value here; both have .reshape and .swapaxes
        if a.ndim == 1:  # (k,) @ (..., k, m): a acts as a row (1, k)
            g = grad.reshape((*grad.shape[:-1], 1, grad.shape[-1]))
            grad_a = g @ b.swapaxes(-1, -2)
            grad_a = grad_a.reshape((*grad_a.shape[:-2], grad_a.shape[-1]))
            return grad_a, a.reshape((a.shape[0], 1)) @ g
        if b.ndim == 1:  # (..., n, k) @ (k,): b acts as a column (k, 1)
            g = grad.reshape((*grad.shape, 1))
            grad_b = a.swapaxes(-1, -2) @ g
            return g @ b.reshape((1, b.shape[0])), grad_b.reshape(grad_b.shape[:-1])
        return grad @ b.swapaxes(-1, -2), a.swapaxes(-1, -2) @ grad

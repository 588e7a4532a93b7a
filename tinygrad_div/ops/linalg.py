"""Matrix multiplication, with numpy.matmul's rules for 1-D and stacked operands."""

from __future__ import annotations

import numpy as np

from tinygrad_div.function import Function
from tinygrad_div.ops.shape import reshape


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
        if a.ndim == 1:  # (k,) @ (..., k, m): a acts as a row (1, k)
            g = reshape(grad, (*grad.shape[:-1], 1, grad.shape[-1]))
            grad_a = g @ b.swapaxes(-1, -2)
            grad_a = reshape(grad_a, (*grad_a.shape[:-2], grad_a.shape[-1]))
            return grad_a, reshape(a, (a.shape[0], 1)) @ g
        if b.ndim == 1:  # (..., n, k) @ (k,): b acts as a column (k, 1)
            g = reshape(grad, (*grad.shape, 1))
            grad_b = a.swapaxes(-1, -2) @ g
            return g @ reshape(b, (1, b.shape[0])), reshape(grad_b, grad_b.shape[:-1])
        return grad @ b.swapaxes(-1, -2), a.swapaxes(-1, -2) @ grad

    @staticmethod
    def example_params(*shapes):
        return [{}]

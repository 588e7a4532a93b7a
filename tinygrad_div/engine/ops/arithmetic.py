"""The arithmetic operators: + - * / ** and unary minus."""

from __future__ import annotations

import numpy as np

from tinygrad_div.engine.function import Function
from tinygrad_div.engine.ops.numeric import divide, power, raw
from tinygrad_div.engine.ops.select import Where


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1"""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1"""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Neg(Function):
    """y = -a;  dy/da = -1"""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return (-grad,)


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b²"""

    domain = ("real", "nonzero")

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = divide(grad, b)
        return grad_a, divide(-grad_a * a, b)


def _zero_like(a):
    """+0.0 in a's shape: a gradient has its input's shape, never a number the engine would expand."""
    return 0.0 if type(a) is float else np.zeros(a.shape)


class Pow(Function):
    """y = a ** b;  dy/da = b·a^(b-1), dy/db = a^b·ln(a)  (the latter only when b needs a gradient)

    PyTorch's conventions at the edges (docs/conventions.md): dy/da = 0 wherever b = 0
    (a^0 is constant in a, even at a = 0 where b·a^(b-1) would be 0·inf); dy/db = 0
    at a = 0 for b >= 0 (not 0·ln 0), and nan for a < 0 (ln of a negative number).
    """

    domain = ("positive", "real")

    @staticmethod
    def forward(ctx, a, b):
        out = power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        if type(b) is float:  # raw data (no create_graph): the scalar fast path
            grad_a = _zero_like(a) if b == 0.0 else grad * b * power(a, b - 1.0)
        elif type(b) is np.ndarray:
            zero = b == 0.0
            if zero.any():  # exactly +0 there, whatever grad and a are (PyTorch's where); no 0·inf
                grad_a = np.where(zero, 0.0, grad * b * power(np.where(zero, 1.0, a), b - 1.0))
            else:
                grad_a = grad * b * power(a, b - 1.0)
        else:  # Values: 1 added to a only where a = b = 0 (-0.0 elsewhere, which keeps a = -0.0 as it is),
            # and exactly +0 selected where b = 0, as on raw arrays
            zero = raw(b) == 0.0
            grad_a = grad * b * power(a + np.where(zero & (raw(a) == 0.0), 1.0, -0.0), b - 1.0)
            if np.any(zero):  # exactly +0 where b = 0, as on raw arrays, its derivative in b kept:
                finite = np.isfinite(raw(grad_a))  # x - (x as a constant) is +0, with x's derivative
                kept = grad_a - np.where(finite, raw(grad_a), 0.0)
                grad_a = Where.apply(zero & finite, kept, Where.apply(zero, 0.0, grad_a))
        grad_b = None
        if ctx.needs_input_grad[1]:
            # 1 added to a where a = 0 and b >= 0, so out·ln(1) = 0 there; for b < 0 it stays inf·(-inf)
            grad_b = grad * out * np.log(a + ((raw(a) == 0.0) & (raw(b) >= 0.0)))
        return grad_a, grad_b

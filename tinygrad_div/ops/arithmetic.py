"""The arithmetic operators: + - * / ** and unary minus."""

from __future__ import annotations

import numpy as np

from tinygrad_div.function import Function
from tinygrad_div.ops._numeric import divide, power


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


class Pow(Function):
    """y = a ** b;  dy/da = b·a^(b-1), dy/db = a^b·ln(a)  (the latter only when b needs a gradient)"""

    domain = ("positive", "real")

    @staticmethod
    def forward(ctx, a, b):
        out = power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        grad_a = grad * b * power(a, b - 1.0)
        # ln(a) is nan for a < 0, where only integer exponents make sense anyway
        grad_b = grad * out * np.log(a) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b

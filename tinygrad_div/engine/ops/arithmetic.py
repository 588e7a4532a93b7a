"""The arithmetic operators: + - * / ** and unary minus."""

from __future__ import annotations

import numpy as np

from tinygrad_div.engine.function import Function
from tinygrad_div.engine.ops._numeric import divide, power, raw


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
        exponent = raw(b)
        if type(exponent) is float and exponent == 0.0 and not getattr(b, "requires_grad", False):
            grad_a = grad * 0.0  # a^0 is constant in a; b·a^(b-1) would be 0·inf at a = 0
        else:
            grad_a = grad * b * power(a, b - 1.0)
        grad_b = None
        if ctx.needs_input_grad[1]:
            # a^b·ln(a): ln(a) is nan for a < 0, where only integer exponents make sense
            # anyway; at a = 0 the derivative is 0 (for b > 0), not 0·(-inf)
            grad_b = grad * out * np.log(a + (raw(a) == 0.0))
        return grad_a, grad_b

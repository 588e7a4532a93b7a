"""Elementwise functions: exp, log, sigmoid, tanh, relu, abs, sqrt, sin, cos, log1p, expm1.

Scalars go through the same numpy function as arrays (`numeric.call`), never `math`:
that keeps a scalar and a one-element array bit for bit equal.
"""

from __future__ import annotations

import numpy as np

from tinygrad_div.engine.function import Function
from tinygrad_div.engine.ops.numeric import call, divide


class Exp(Function):
    """y = e^a;  dy/da = e^a = y"""

    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    """y = ln a;  dy/da = 1/a   (a <= 0 gives nan / -inf, as numpy does)"""

    domain = "positive"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return divide(grad, a)


def _logistic_parts(a):
    """z = e^-|a| and r = 1/(1+z): never overflow, and σ(a)·σ(-a) = z·r² exactly as written."""
    if type(a) is float:
        z = float(np.exp(-abs(a)))
        return z, 1.0 / (1.0 + z)
    if type(a) is np.ndarray:  # in place: on large arrays the temporaries cost more than the passes
        z = np.copysign(a, -1.0)  # -|a| in one pass
        np.exp(z, z)
        r = z + 1.0
        np.reciprocal(r, r)
        return z, r
    z = np.exp(-np.abs(a))  # Values (second derivatives): the same formula, recorded
    return z, 1.0 / (1.0 + z)


class Sigmoid(Function):
    """y = σ(a) = 1/(1+e^-a);  dy/da = σ(a)·σ(-a) = z/(1+z)², z = e^-|a|

    Not y·(1-y): that rounds to 0 once y rounds to 1 (a ≳ 37 in float64), while
    the true derivative is still e^-a; the z form is accurate for every a.
    """

    @staticmethod
    def forward(ctx, a):
        z, r = _logistic_parts(a)
        ctx.save_for_backward(z, r)
        if type(a) is float:
            return float(r if a >= 0.0 else z * r)
        # σ(a) is r for a >= 0 and z·r for a < 0, that is e^min(a,0)·r (cheaper than np.where)
        out = np.minimum(a, 0.0)
        np.exp(out, out)
        out *= r
        return out

    @staticmethod
    def backward(ctx, grad):
        z, r = ctx.saved_tensors
        out = grad * z
        out *= r  # in place on arrays (one temporary, not three); a plain product on floats and Values
        out *= r
        return out

    @classmethod
    def saved_values(cls, ctx, inputs, output):
        return _logistic_parts(inputs[0])


class Tanh(Function):
    """y = tanh a;  dy/da = 1 - y² = 4z/(1+z)², z = e^-2|a|  (the z form keeps full precision for large |a|)"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.tanh(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        z, _ = _logistic_parts(a)
        z = z * z  # e^-2|a| as (e^-|a|)²: 2·a would overflow for |a| > 9e307
        r = 1.0 / (1.0 + z)
        return grad * 4.0 * z * r * r


class ReLU(Function):
    """y = max(a, 0);  dy/da = 1 for a > 0, 0 for a <= 0 (PyTorch's 0 at the kink), 1 at nan (passed on, as PyTorch)"""

    domain = "nonzero"  # the kink at 0 has no derivative to check

    @staticmethod
    def forward(ctx, a):
        if type(a) is float:
            passes = a > 0.0 or a != a  # a != a: nan passes through, as in numpy and PyTorch
            ctx.save_for_backward(1.0 if passes else 0.0)
            return a if passes else 0.0
        out = np.maximum(a, 0.0)
        ctx.save_for_backward(out != 0.0)  # a > 0 or nan, in one pass
        return out

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask


class Abs(Function):
    """y = |a|;  dy/da = sign(a), with PyTorch's 0 at a = ±0 and at nan"""

    domain = "nonzero"

    @staticmethod
    def forward(ctx, a):
        if type(a) is float:
            ctx.save_for_backward(1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0))
            return abs(a)
        sign = np.sign(a)
        np.copyto(sign, 0.0, where=sign != sign)  # np.sign(nan) is nan
        ctx.save_for_backward(sign)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (sign,) = ctx.saved_tensors
        return grad * sign


class Sqrt(Function):
    """y = √a;  dy/da = 1/(2y)   (a < 0 gives nan, a = 0 an infinite gradient, as numpy and torch)"""

    domain = "positive"

    @staticmethod
    def forward(ctx, a):
        out = call(np.sqrt, a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return divide(grad, 2.0 * out)


class Sin(Function):
    """y = sin a;  dy/da = cos a"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return call(np.sin, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * call(np.cos, a)


class Cos(Function):
    """y = cos a;  dy/da = -sin a"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return call(np.cos, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -grad * call(np.sin, a)


class Log1p(Function):
    """y = ln(1 + a), exact for tiny a;  dy/da = 1/(1 + a)"""

    domain = "positive"  # a > -1; the pole at -1 stays out of finite differences' reach

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return call(np.log1p, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return divide(grad, 1.0 + a)


class Expm1(Function):
    """y = e^a - 1, exact for tiny a;  dy/da = e^a"""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return call(np.expm1, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * call(np.exp, a)

"""testing.check_op: the one-line gradient check a user runs on their own op."""

import numpy as np
import pytest

from tinygrad_div import Function
from tinygrad_div.testing import OpCheckError, check_op


class Softplus(Function, register=False):
    """y = ln(1 + e^x);  dy/dx = σ(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + np.exp(-x))


class WrongHypot(Function, register=False):
    """y = sqrt(a² + b²); the gradient for b is deliberately missing its factor b."""

    domain = "nonzero"  # the cone's tip at 0 has no derivative

    @staticmethod
    def forward(ctx, a, b):
        out = np.sqrt(a * a + b * b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        return grad * a / out, grad / out


def test_a_correct_user_op_passes_with_second_derivatives():
    report = check_op(Softplus, examples=15)
    assert report.name == "Softplus" and report.examples == 15 and report.second_order_checked
    assert report.first_order.max_abs_error < 1e-6


def test_a_wrong_user_op_fails_with_the_shrunk_input_and_the_element():
    with pytest.raises(OpCheckError) as info:
        check_op(WrongHypot, examples=15, second_order=False)
    message = str(info.value)
    assert message.startswith("WrongHypot failed its gradient check on inputs (")
    assert "gradient of input 1 at element" in message


def test_ops_declaring_a_domain_get_inputs_from_it():
    class LogOfPositive(Function, register=False):
        domain = "positive"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.log(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad / x

    assert check_op(LogOfPositive, examples=10).examples == 10


def test_a_bad_domain_name_is_explained():
    class Odd(Function, register=False):
        domain = "complex"

        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(OpCheckError, match="unknown domain"):
        check_op(Odd, examples=2)

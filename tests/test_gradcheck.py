"""gradcheck and gradgradcheck: they pass correct gradients and name the element of a wrong one."""

import numpy as np
import pytest

from tinygrad_div import Function, GradcheckError, Value, gradcheck, gradgradcheck


class WrongSquare(Function, register=False):
    """y = x²; backward deliberately returns x instead of 2x (the negative control)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class LeakyZero(Function, register=False):
    """Right first derivative on nonzero upstream, but a nonzero gradient for a zero upstream."""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * x

    @staticmethod
    def backward(ctx, grad):
        return 2.0 * grad + (1.0 if np.all(np.asarray(grad) == 0.0) else 0.0)


class SquareWithConstantSlope(Function, register=False):
    """Right first derivative, but written so the second derivative comes out as 0 instead of 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(2.0 * x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        return grad * slope


def test_correct_gradients_pass():
    assert gradcheck(lambda a, b: (a @ b).tanh().sum(), [np.random.default_rng(0).random((2, 3)), np.ones(3)])


def test_a_wrong_gradient_is_reported_with_input_element_and_values():
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongSquare.apply, [np.array([1.0, 3.0])])
    message = str(info.value)
    assert "input 0" in message and "element (0,)" in message
    assert "analytic 1" in message and "numeric 2" in message and "difference" in message


def test_a_nonzero_gradient_for_zero_upstream_is_caught():
    with pytest.raises(GradcheckError, match="zero upstream"):
        gradcheck(LeakyZero.apply, [np.array([1.0, 2.0])])


def test_gradgradcheck_catches_a_wrong_second_derivative():
    assert gradcheck(SquareWithConstantSlope.apply, [np.array([1.0, 2.0])])
    with pytest.raises(GradcheckError):
        gradgradcheck(SquareWithConstantSlope.apply, [np.array([1.0, 2.0])])


@pytest.mark.parametrize("bad", [np.array([1.0], dtype=np.float32), 3, "x"])
def test_non_float64_inputs_are_refused(bad):
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * 2.0, [bad])


def test_integer_and_boolean_inputs_are_constants_passed_through_untouched():
    seen = []

    def pick(x, labels, mask):
        seen.append((labels.dtype, mask.dtype))
        return x[np.arange(2), labels] * mask

    labels, mask = np.array([1, 0]), np.array([True, False])
    assert gradcheck(pick, [np.array([[1.0, 2.0], [3.0, 4.0]]), labels, mask])
    assert gradgradcheck(lambda x, m: (x * x * m).sum(), [np.array([1.0, 2.0]), mask])
    assert set(seen) == {(labels.dtype, np.dtype(bool))}


def test_only_constant_inputs_is_a_one_line_error():
    with pytest.raises(TypeError, match="at least one float64 input"):
        gradcheck(lambda m: m, [np.array([True])])


def test_large_inputs_use_random_projections_and_still_catch_errors():
    x = np.linspace(0.5, 2.0, 100)
    assert gradcheck(lambda v: v * v, [x])
    with pytest.raises(GradcheckError, match="projection"):
        gradcheck(WrongSquare.apply, [x])


def test_fn_must_return_a_value():
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda x: 1.0, [1.0])


def test_gradcheck_does_not_touch_callers_values():
    v = Value(np.array([1.0, 2.0]))
    gradcheck(lambda x: x * x, [v])
    assert v.grad is None


def test_numpy_float64_scalars_are_float64_inputs():
    assert gradcheck(lambda x: x * x, [np.float64(1.5)])

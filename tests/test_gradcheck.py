"""gradcheck and gradgradcheck: they pass correct gradients and name the element of a wrong one."""

import numpy as np
import pytest

from tinygrad_div import Function, GradcheckError, Value, gradcheck, gradgradcheck
from tinygrad_div.gradcheck import compare_gradients


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


def test_every_value_of_a_returned_tuple_is_checked():
    """As torch's gradcheck: each output on its own; items that are not Values (indices) are passed over."""
    x = np.array([0.5, -1.0])
    both = lambda v: (v.sin(), (v * v).sum(), np.argmax(v.data))  # noqa: E731
    assert gradcheck(both, [x]) and gradgradcheck(both, [x])
    assert compare_gradients(both, [x]).entries == 2 * 2 + 2  # the sine's 2x2 Jacobian, the sum's 1x2
    with pytest.raises(GradcheckError, match=r"^<lambda> \(output 1\): gradient of input 0 at element \(0,\)"):
        gradcheck(lambda v: (v.sin(), WrongSquare.apply(v)), [x])
    with pytest.raises(GradcheckError, match=r"\(output 1\)"):
        gradgradcheck(lambda v: (v * 1.0, SquareWithConstantSlope.apply(v)), [x])
    with pytest.raises(TypeError, match="returned a tuple with no Value in it"):
        gradcheck(lambda v: (1.0, 2), [x])


def test_gradcheck_does_not_touch_callers_values():
    v = Value(np.array([1.0, 2.0]))
    gradcheck(lambda x: x * x, [v])
    assert v.grad is None


def test_numpy_float64_scalars_are_float64_inputs():
    assert gradcheck(lambda x: x * x, [np.float64(1.5)])


# -- the checkers' own tolerances, step and projections: each just inside and just outside ------
class Slope(Function, register=False):
    """y = slope·x, whose backward reports slope + error: a gradient off by exactly `error`."""

    @staticmethod
    def forward(ctx, x, *, slope, error):
        ctx.reported = slope + error
        return slope * x

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.reported


def slope_with_error(slope, error):
    return lambda x: Slope.apply(x, slope=slope, error=error)


@pytest.mark.parametrize("check", [gradcheck, compare_gradients])
def test_gradcheck_tolerates_an_absolute_error_up_to_1e_5(check):
    """Where the true gradient is 0 only atol = 1e-5 counts: 0.9e-5 passes, 1.1e-5 fails."""
    check(slope_with_error(0.0, 0.9e-5), [np.array([0.5, -1.0])])
    with pytest.raises(GradcheckError, match="analytic 1.1e-05, numeric 0,"):
        check(slope_with_error(0.0, 1.1e-5), [np.array([0.5, -1.0])])


@pytest.mark.parametrize("check", [gradcheck, compare_gradients])
def test_gradcheck_tolerates_a_relative_error_up_to_1e_3(check):
    """Where the true gradient is 1000, rtol = 1e-3 of it (plus atol) counts: 0.99 passes, 1.01 fails."""
    check(slope_with_error(1000.0, 0.99), [0.5])
    with pytest.raises(GradcheckError, match="analytic 1001.01"):
        check(slope_with_error(1000.0, 1.01), [0.5])


def ripple(t):
    """0 for 0.5e-6 <= |t| <= 2e-6, else ±1e-6 (by the sign of t): invisible to a step of 1e-6 only."""
    off = (np.abs(t) < 0.5e-6) | (np.abs(t) > 2e-6)
    return 1e-6 * np.sign(t) * off


class Rippled(Function, register=False):
    """y = x + ripple(x): slope 1 as seen by central differences with a step between 0.5e-6 and 2e-6."""

    @staticmethod
    def forward(ctx, x):
        return x + ripple(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * 1.0


def test_gradcheck_steps_by_1e_minus_6():
    """A step of 1e-5 or 1e-7 would see the ripple: a slope of 1.1 or 11, not 1."""
    assert gradcheck(Rippled.apply, [np.array([0.0, 0.0])])
    with pytest.raises(GradcheckError, match="numeric 1.1,"):
        gradcheck(Rippled.apply, [np.array([0.0])], eps=1e-5)
    with pytest.raises(GradcheckError, match="numeric 11"):
        gradcheck(Rippled.apply, [np.array([0.0])], eps=1e-7)


class RippledGradient(Function, register=False):
    """y = ½·x²; backward's value is x + ripple(x), recorded with the ripple a constant: second derivative 1
    as central differences with a step between 0.5e-6 and 2e-6 see it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x + ripple(x.data if isinstance(x, Value) else x))


def test_gradgradcheck_steps_by_1e_minus_6():
    assert gradgradcheck(RippledGradient.apply, [np.array([0.0, 0.0])])
    for eps in (1e-4, 1e-7):
        with pytest.raises(GradcheckError, match="gradient of"):
            gradgradcheck(RippledGradient.apply, [np.array([0.0])], eps=eps)


class BentHessian(Function, register=False):
    """y = Σ ½·k·x²; backward's value k·x is right, but its recorded graph adds `bend`·(x − x detached),
    so the second derivative it reports is k + bend (along `direction`, when one is given)."""

    @staticmethod
    def forward(ctx, x, *, k, bend, direction=None):
        ctx.save_for_backward(x)
        ctx.k, ctx.bend, ctx.direction = k, bend, direction
        return 0.5 * k * float(np.sum(x * x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if not isinstance(x, Value):
            return grad * ctx.k * x
        if ctx.direction is None:
            return grad * (ctx.k * x + ctx.bend * (x - x.detach()))
        along = (x * ctx.direction).sum()
        return grad * (ctx.k * x + ctx.bend * ctx.direction * (along - along.detach()))


def projection_draws(seed, shape, projections=2):
    """The upstream gradient and weights of each of gradgradcheck's projections, drawn as its docstring says."""
    rng = np.random.default_rng(seed)
    return [(float(rng.standard_normal()), rng.standard_normal(shape) if shape else float(rng.standard_normal()))
            for _ in range(projections)]


def test_gradgradcheck_tolerates_a_relative_error_up_to_1e_3():
    """Second derivative 1e6: an error of 0.9e3 passes and 1.1e3 fails, whatever the projections."""
    assert gradgradcheck(lambda x: BentHessian.apply(x, k=1e6, bend=0.9e3), [0.5])
    with pytest.raises(GradcheckError, match="gradient of"):
        gradgradcheck(lambda x: BentHessian.apply(x, k=1e6, bend=1.1e3), [0.5])


def test_gradgradcheck_tolerates_an_absolute_error_up_to_1e_5_in_every_projection():
    """True second derivative 0: projection (u, w) reports u·w·bend. With the default seed the second
    projection is the larger, so an error just over atol there is seen by it alone."""
    (u1, w1), (u2, w2) = projection_draws(0, ())
    assert abs(u1 * w1) * 1.1 < abs(u2 * w2)
    inside, outside = 0.9e-5 / abs(u2 * w2), 1.1e-5 / abs(u2 * w2)
    assert gradgradcheck(lambda x: BentHessian.apply(x, k=0.0, bend=inside), [0.5])
    assert gradgradcheck(lambda x: BentHessian.apply(x, k=0.0, bend=outside), [0.5], projections=1)
    with pytest.raises(GradcheckError, match="gradient of"):
        gradgradcheck(lambda x: BentHessian.apply(x, k=0.0, bend=outside), [0.5])


def test_gradgradcheck_checks_every_projection():
    """A Hessian error along a direction the first projection's weights are orthogonal to: only the
    second projection sees it."""
    (_, w1), _ = projection_draws(0, (3,))
    direction = np.array([1.0, -2.0, 0.5])
    direction -= (direction @ w1) / (w1 @ w1) * w1
    bent = lambda x: BentHessian.apply(x, k=1.0, bend=1.0, direction=direction)  # noqa: E731
    x = np.array([0.5, -1.0, 2.0])
    assert gradgradcheck(bent, [x], projections=1)
    with pytest.raises(GradcheckError):
        gradgradcheck(bent, [x])

"""The extension contract: a user's Function behaves exactly like a built-in op."""

import numpy as np
import pytest

from tinygrad_div import BackwardError, Function, Value, grad, gradcheck, gradgradcheck, registered_ops


class Cube(Function, register=False):
    """y = x³;  dy/dx = 3x²"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3.0 * x * x * grad


class ScaledAdd(Function, register=False):
    """y = a + scale·b;  dy/da = 1, dy/db = scale  (a keyword parameter, and needs_input_grad)"""

    @staticmethod
    def forward(ctx, a, b, *, scale):
        ctx.scale = scale
        return a + scale * b

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        return (grad if need_a else None), (ctx.scale * grad if need_b else None)


def test_a_user_op_backpropagates_like_a_builtin():
    x = Value(np.array([1.0, -2.0]))
    Cube.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 12.0])


def test_a_user_op_is_gradchecked_in_one_line():
    assert gradcheck(Cube.apply, [np.array([0.5, -1.5, 2.0])])
    assert gradgradcheck(Cube.apply, [np.array([0.5, -1.5, 2.0])])


def test_keyword_parameters_and_needs_input_grad():
    a, b = Value(1.0), Value(2.0, requires_grad=False)
    y = ScaledAdd.apply(a, b, scale=3.0)
    assert y.data == 7.0
    assert y.grad_fn.needs_input_grad == (True, False)
    y.backward()
    assert a.grad == 1.0 and b.grad is None


def test_raw_numbers_and_arrays_are_constant_inputs():
    a = Value(2.0)
    y = ScaledAdd.apply(a, np.array([1.0, 2.0]), scale=0.5)
    y.sum().backward()
    assert a.grad == 2.0


def test_subclasses_register_unless_told_not_to():
    class Registered(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    assert Registered in registered_ops(__name__)
    assert Cube not in registered_ops()
    del Function.registry[f"{__name__}.{Registered.__qualname__}"]


def test_wrong_number_of_gradients_names_the_op():
    class TwoGrads(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(BackwardError, match=r"TwoGrads.backward returned 2 gradients for 1 inputs"):
        TwoGrads.apply(Value(1.0)).backward()


def test_wrong_gradient_shape_names_the_op_and_shapes():
    class BadShape(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad):
            return np.ones(4)

    expected = r"BadShape.backward returned a gradient of shape \(4,\) for input 0 of shape \(3,\)"
    with pytest.raises(BackwardError, match=expected):
        BadShape.apply(Value(np.ones(3))).sum().backward()


def test_a_smaller_gradient_is_broadcast_to_the_input():
    class ScalarGrad(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad  # a scalar for an array input: the engine expands it

    x = Value(np.ones(3))
    ScalarGrad.apply(x).backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0])


def test_forward_returning_a_value_is_refused():
    class ReturnsValue(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return Value(x)

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="raw data"):
        ReturnsValue.apply(Value(1.0))


def test_non_float64_outputs_are_converted():
    class Floor(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return np.floor(x).astype(np.int64)

        @staticmethod
        def backward(ctx, grad):
            return grad * 0.0

    y = Floor.apply(Value(np.array([1.5, 2.5])))
    assert y.data.dtype == np.float64


def test_saving_an_intermediate_makes_it_a_constant_in_double_backward():
    """Documented rule: saved inputs/outputs become Values; anything else is a constant unless saved_values says."""

    class SquareSavingTwiceX(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(2.0 * x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (twice_x,) = ctx.saved_tensors
            return grad * twice_x

    x = Value(3.0)
    (g,) = grad(SquareSavingTwiceX.apply(x), [x], create_graph=True)
    assert g.data == 6.0 and not g.requires_grad  # the second derivative is lost, as documented


def test_a_smaller_non_scalar_gradient_is_an_error_not_a_broadcast():
    class Column(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad[:, :1]

    with pytest.raises(BackwardError, match=r"Column.backward returned a gradient of shape \(2, 1\)"):
        Column.apply(Value(np.ones((2, 3)))).sum().backward()


def test_a_non_numeric_gradient_names_the_op():
    class Wordy(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return "oops"

    with pytest.raises(BackwardError, match="Wordy.backward returned str for input 0"):
        Wordy.apply(Value(1.0)).backward()


def test_a_user_forward_error_is_not_disguised_as_a_shape_error():
    import math

    class MathLog(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return math.log(x)

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(ValueError, match="math domain error") as info:
        MathLog.apply(Value(-1.0))
    assert type(info.value) is ValueError

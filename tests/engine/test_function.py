"""The extension contract: a user's Function behaves exactly like a built-in op."""

import numpy as np
import pytest

from tinygrad_div import BackwardError, Function, Value, grad, gradcheck, gradgradcheck, no_grad, registered_ops


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

    expected = (r"^BadShape.backward returned an invalid gradient at index 0: got shape \(4,\) but expected shape "
                r"compatible with \(3,\)")
    with pytest.raises(BackwardError, match=expected):
        BadShape.apply(Value(np.ones(3))).sum().backward()


class TwiceTheSum(Function, register=False):
    """y = 2·Σx; its backward returns Σ(g)·2, a scalar for an array input (the issue's example)."""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * np.sum(x)

    @staticmethod
    def backward(ctx, grad):
        return np.sum(grad) * 2.0


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_scalar_gradient_for_an_array_input_is_an_error_not_expanded(create_graph):
    """The gradient shape contract, as PyTorch's: never expanded up (that gave .grad all 12s for (2, 3))."""
    x = Value(np.ones((2, 3)))
    expected = (r"^TwiceTheSum.backward returned an invalid gradient at index 0: got shape \(\) but expected shape "
                r"compatible with \(2, 3\)")
    with pytest.raises(BackwardError, match=expected):
        TwiceTheSum.apply(x).backward(create_graph=create_graph)
    assert x.grad is None


def test_the_error_names_the_input_whose_gradient_has_the_wrong_shape():
    class Scale(Function, register=False):
        """y = a·s, a (2, 3) and s (1,); backward returns s's gradient Σ(g·a) as a number, not in s's shape."""

        @staticmethod
        def forward(ctx, a, s):
            ctx.save_for_backward(a, s)
            return a * s

        @staticmethod
        def backward(ctx, grad):
            a, s = ctx.saved_tensors
            return grad * s, np.sum(grad * a, keepdims=False)

    with pytest.raises(BackwardError, match=r"^Scale.backward returned an invalid gradient at index 1: got shape \(\) "
                                            r"but expected shape compatible with \(1,\)"):
        Scale.apply(Value(np.ones((2, 3))), Value(np.ones(1))).sum().backward()


@pytest.mark.parametrize("shape, gradient_shape", [
    ((2, 3), (4, 2, 3)), ((1, 3), (2, 3)), ((3,), (1, 3)), ((), ()), ((), (1,)), ((), (1, 1)), ((), (2, 2)),
])
def test_a_gradient_of_a_shape_broadcasting_gives_is_summed_down(shape, gradient_shape):
    """What broadcasting the input in forward could give is summed back: added axes, stretched 1s. A Python
    float input takes a 0-d array or a one-element array as well as a number, and gets a float."""

    class Spread(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return np.ones(gradient_shape)

    x = Value(np.ones(shape) if shape else 1.0)
    Spread.apply(x).sum().backward()
    copies = int(np.prod(gradient_shape)) // int(np.prod(shape))
    if shape:
        np.testing.assert_array_equal(x.grad, np.full(shape, float(copies)))
    else:
        assert type(x.grad) is float and x.grad == copies


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


def test_numpy_float64_scalars_and_0d_arrays_are_outputs_like_floats():
    for out in (np.float64(2.0), np.array(2.0)):
        class Constant(Function, register=False):
            @staticmethod
            def forward(ctx, x, out=out):
                return out

            @staticmethod
            def backward(ctx, grad):
                return grad * 0.0

        y = Constant.apply(Value(1.0))
        assert type(y.data) is float and y.data == 2.0


@pytest.mark.parametrize("out, named", [
    (np.array([1, 2]), "an array of dtype int64"), (np.array([True]), "an array of dtype bool"),
    (np.array([1.0], dtype=np.float32), "an array of dtype float32"), (np.float32(1.0), "a numpy float32 scalar"),
    ([1.0, 2.0], "list"), (None, "NoneType"), (3, "int"),
])
def test_any_other_output_is_a_type_error_naming_the_op(out, named):
    """No silent conversion: an int64 or float32 output is a bug in the op (or wants mark_non_differentiable)."""

    class Floor(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return out

        @staticmethod
        def backward(ctx, grad):
            return grad * 0.0

    with pytest.raises(TypeError, match=rf"^Floor.forward returned {named} as its output: an op returns a float"):
        Floor.apply(Value(np.array([1.5, 2.5])))


def test_a_value_as_output_is_a_type_error():
    class Wrapped(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return Value(x)

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="Wrapped.forward returned a Value as its output"):
        Wrapped.apply(Value(1.0))


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

    expected = r"Column.backward returned an invalid gradient at index 0: got shape \(2, 1\) "
    with pytest.raises(BackwardError, match=expected):
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


# -- a forward's ValueError: numpy refusing shapes becomes a ShapeError, anything else passes unchanged --
class OddWindow(Function, register=False):
    """y = x, for odd window sizes only: an op with a ValueError of its own."""

    @staticmethod
    def forward(ctx, x, *, window):
        if window % 2 == 0:
            raise ValueError("window size must be odd")
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_a_user_ops_own_value_error_reaches_the_user_unchanged():
    import traceback

    with pytest.raises(ValueError) as info:
        OddWindow.apply(Value(np.ones(2)), window=4)
    assert type(info.value) is ValueError and str(info.value) == "window size must be odd"
    innermost = traceback.extract_tb(info.value.__traceback__)[-1]
    assert innermost.name == "forward" and innermost.line == 'raise ValueError("window size must be odd")'


def test_a_user_ops_own_value_error_is_not_relabelled_even_when_shapes_do_not_fit():
    class SameShape(Function, register=False):
        @staticmethod
        def forward(ctx, a, b):
            if np.shape(a) != np.shape(b):
                raise ValueError("a and b must have the same shape")
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(ValueError, match="^a and b must have the same shape$") as info:
        SameShape.apply(Value(np.ones(2)), Value(np.ones(3)))
    assert type(info.value) is ValueError


class Plus(Function, register=False):
    """y = a + b (a broadcasting op, the default `shapes`)"""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Times(Function, register=False):
    """Y = A @ B"""

    shapes = "matmul"

    @staticmethod
    def forward(ctx, a, b):
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError


def test_numpy_refusing_a_user_ops_inputs_is_a_shape_error_decided_from_the_shapes():
    from tinygrad_div import ShapeError

    with pytest.raises(ShapeError, match=r"^Plus: inputs of shapes \(2,\) and \(3,\) do not fit"):
        Plus.apply(Value(np.ones(2)), Value(np.ones(3)))
    with pytest.raises(ShapeError, match=r"^Times: inputs of shapes \(2, 3\) and \(2,\) do not fit"):
        Times.apply(Value(np.ones((2, 3))), Value(np.ones(2)))
    assert Times.apply(Value(np.ones((4, 2, 3))), Value(np.ones(3))).shape == (4, 2)  # fits: no error


def test_an_error_raised_inside_numpys_own_code_is_a_shape_error():
    from tinygrad_div import ShapeError

    class Flatten4(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return np.reshape(x, (4,))

        @staticmethod
        def backward(ctx, grad):
            raise NotImplementedError

    with pytest.raises(ShapeError, match=r"^Flatten4: inputs of shapes \(6,\) do not fit: cannot reshape"):
        Flatten4.apply(Value(np.ones(6)))


def test_builtin_ops_with_parameters_that_do_not_fit_raise_shape_errors():
    from tinygrad_div import ShapeError
    from tinygrad_div.engine import ops

    v = Value(np.ones((2, 3)))
    with pytest.raises(ShapeError, match="BroadcastTo"):
        ops.BroadcastTo.apply(v, shape=(4,))
    with pytest.raises(ShapeError, match="SumTo"):
        ops.SumTo.apply(v, shape=(4,))
    with pytest.raises(ShapeError, match="Transpose"):
        v.transpose(0, 0, 1)
    with pytest.raises(ShapeError, match="Transpose"):
        v.transpose(0, 5)


# -- a node's fields ---------------------------------------------------------------------------------
NODE_FIELDS = {"parents", "sequence", "saved_tensors", "input_data", "creation_site"}


def test_a_nodes_fields_are_declared_on_function_with_defaults():
    assert NODE_FIELDS <= set(Function.__annotations__)
    for field in NODE_FIELDS:
        assert hasattr(Function, field), field


def test_apply_sets_only_declared_fields_on_the_node():
    x, y = Value(2.0), Value(3.0)
    node = Plus.apply(x, y).grad_fn
    assert set(vars(node)) == {"parents", "sequence"}
    assert node.parents == (x, y) and node.input_data is None and node.creation_site is None
    twin = Value(2.0)
    same_data = Plus.apply(x, twin).grad_fn  # two Value(2.0) share Python's float object: data is separated
    assert set(vars(same_data)) == {"parents", "sequence", "input_data"}
    assert same_data.sequence > node.sequence  # creation order


def test_every_value_has_every_field_however_it_was_made():
    from tinygrad_div.engine.value import Value as EngineValue

    x = Value(np.ones(2))
    made = [x, x.detach(), x * 2, Value(1.0, requires_grad=False) + 1.0, grad((x * x).sum(), x, create_graph=True)[0]]
    for v in made:
        assert type(v) is EngineValue
        for field in ("data", "grad", "requires_grad", "_ctx", "_retains_grad"):
            getattr(v, field)  # an unset slot would raise AttributeError


def test_values_copy_and_pickle():
    import copy
    import pickle

    y = Value(np.ones(3)) * 2
    clone = copy.deepcopy(y)
    np.testing.assert_array_equal(clone.data, y.data)
    assert clone.data is not y.data and type(clone.grad_fn) is type(y.grad_fn)
    back = pickle.loads(pickle.dumps(Value(2.0, requires_grad=False)))
    assert back.data == 2.0 and back.requires_grad is False and back.grad is None


# -- the contract for real ops: integer inputs, several outputs, non-differentiable outputs ---------
class PickLabels(Function, register=False):
    """y[n] = z[n, t[n]];  dy/dz: grad at the picked entries, none for the labels t"""

    seen: list = []

    @staticmethod
    def forward(ctx, z, t):
        PickLabels.seen.append(t.dtype)
        ctx.save_for_backward(z, t)
        return z[np.arange(len(t)), t]

    @staticmethod
    def backward(ctx, grad):
        z, t = ctx.saved_tensors
        return np.eye(z.shape[1])[t] * np.expand_dims(grad, -1), None  # recordable: second order works


def test_integer_and_boolean_inputs_reach_forward_untouched_and_get_no_gradient():
    z, labels = Value(np.arange(6.0).reshape(3, 2)), np.array([1, 0, 1])
    y = PickLabels.apply(z, labels)
    assert PickLabels.seen[-1] == np.int64 and y.data.tolist() == [1.0, 2.0, 5.0]
    y.sum().backward()
    np.testing.assert_array_equal(z.grad, np.eye(2)[labels])
    assert y.grad_fn.needs_input_grad == (True, False)
    assert gradgradcheck(lambda z: PickLabels.apply(z, labels) ** 2.0, [np.ones((3, 2)) * 0.5])
    mask = np.array([True, False])
    assert (Value(np.array([1.0, 2.0])) * mask).data.tolist() == [1.0, 0.0]  # built-ins take masks too


def test_saved_integer_inputs_stay_integers_in_double_backward():
    z, labels = Value(np.ones((2, 3))), np.array([2, 0])
    (g,) = grad((PickLabels.apply(z, labels) ** 2.0).sum(), [z], create_graph=True)
    (h,) = grad(g.sum(), [z])
    np.testing.assert_array_equal(h, 2.0 * np.eye(3)[labels])


class SinCos(Function, register=False):
    """(sin x, cos x);  backward gets one gradient per output: g_s·cos x - g_c·sin x"""

    calls: list = []

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x), np.cos(x)

    @staticmethod
    def backward(ctx, grad_sin, grad_cos):
        SinCos.calls.append((grad_sin, grad_cos))
        (x,) = ctx.saved_tensors
        return grad_sin * np.cos(x) - grad_cos * np.sin(x)


def test_a_tuple_from_forward_is_a_tuple_of_values_and_backward_runs_once_with_both_gradients():
    x = Value(np.array([0.5, 1.0]))
    s, c = SinCos.apply(x)
    assert isinstance(s, Value) and isinstance(c, Value) and s.grad_fn.node is c.grad_fn.node
    SinCos.calls.clear()
    (s * s + c * c).sum().backward()  # sin² + cos² = 1: the two paths cancel
    assert len(SinCos.calls) == 1
    np.testing.assert_allclose(x.grad, [0.0, 0.0], atol=1e-16)


def test_an_output_nobody_used_gets_zeros():
    x = Value(np.array([0.5, 1.0]))
    s, _ = SinCos.apply(x)
    SinCos.calls.clear()
    s.sum().backward()
    (_, unused), = SinCos.calls
    np.testing.assert_array_equal(unused, [0.0, 0.0])
    np.testing.assert_array_equal(x.grad, np.cos([0.5, 1.0]))


def test_several_outputs_to_second_order_and_through_grad_and_retain_grad():
    x = Value(0.3)
    s, c = SinCos.apply(x)
    c.retain_grad()
    (s + 2.0 * c).backward(retain_graph=True)
    assert c.grad == 2.0 and x.grad == pytest.approx(np.cos(0.3) - 2.0 * np.sin(0.3), rel=1e-15)
    (g,) = grad(c, [x], create_graph=True)
    (h,) = grad(g, [x])
    assert h == pytest.approx(-np.cos(0.3), rel=1e-15)
    assert gradcheck(lambda x: SinCos.apply(x)[1], [np.array([0.2, 1.4])])
    assert gradgradcheck(lambda x: SinCos.apply(x)[0] * SinCos.apply(x)[1], [np.array([0.2, 1.4])])


class MaxAndArgmax(Function, register=False):
    """(max over the last axis, its index);  the index is marked non-differentiable"""

    @staticmethod
    def forward(ctx, x):
        index = np.argmax(x, axis=-1)
        ctx.mark_non_differentiable(index)
        ctx.save_for_backward(x, index)
        return np.max(x, axis=-1), index

    @staticmethod
    def backward(ctx, grad, grad_index):
        x, index = ctx.saved_tensors
        out = np.zeros(x.shape)
        out[np.arange(len(index)), index] = grad
        return out


def test_mark_non_differentiable_gives_integer_outputs_raw_and_float_outputs_constant():
    x = Value(np.array([[1.0, 3.0], [4.0, 2.0]]))
    top, index = MaxAndArgmax.apply(x)
    assert type(index) is np.ndarray and index.tolist() == [1, 0]
    top.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0], [1.0, 0.0]])
    with no_grad():
        top, index = MaxAndArgmax.apply(x)
    assert index.dtype.kind == "i" and not top.requires_grad

    class Doubled(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            out = 2.0 * x
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            return 2.0 * grad

    y = Doubled.apply(Value(np.ones(2)))
    assert not y.requires_grad and y.grad_fn is None


def test_several_outputs_must_each_be_float_data():
    class Half(Function, register=False):
        @staticmethod
        def forward(ctx, x):
            return x, np.argmax(x)  # an integer output not marked

        @staticmethod
        def backward(ctx, a, b):
            return a

    with pytest.raises(TypeError, match="^Half.forward returned .* as its output 1: an op returns"):
        Half.apply(Value(np.ones(2)))


def test_compiling_a_step_with_a_several_output_op_is_refused_in_one_line():
    import tinygrad_div as td

    w = Value(np.ones(3))

    @td.compile
    def step(x):
        s, c = SinCos.apply(w * x)
        return (s + c).sum()

    with pytest.raises(Exception, match="SinCos \\(an op with several outputs or an integer output\\)") as info:
        step(np.ones(3))
    assert type(info.value).__name__ == "TraceError"


def test_a_user_ops_value_error_is_not_relabelled_when_its_source_cannot_be_read():
    """An op defined in exec'd code (python -c, a notebook cell, the REPL): with no source to tell a `raise`
    statement from numpy's refusal, the op's own error reaches the user unchanged."""
    namespace: dict = {"Function": Function, "np": np}
    exec(compile(  # noqa: S102  (an op whose source file does not exist)
        "class SameShape(Function, register=False):\n"
        "    @staticmethod\n"
        "    def forward(ctx, a, b):\n"
        "        if np.shape(a) != np.shape(b):\n"
        "            raise ValueError('a and b must have the same shape')\n"
        "        return a + b\n", "<no such file>", "exec"), namespace)
    with pytest.raises(ValueError, match="^a and b must have the same shape$") as info:
        namespace["SameShape"].apply(Value(np.ones(2)), Value(np.ones(3)))
    assert type(info.value) is ValueError

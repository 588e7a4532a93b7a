"""Backward: order, accumulation, broadcasting, freeing, higher order, and deep graphs."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_div as td
from tinygrad_div import BackwardError, ShapeError, Value, grad, gradcheck, gradgradcheck


class TestBackward:
    def test_chain_rule_on_scalars(self):
        x = Value(3.0)
        y = x * x + 2 * x  # dy/dx = 2x + 2
        y.backward()
        assert x.grad == 8.0

    def test_reused_node_accumulates(self):
        x = Value(2.0)
        h = x * 3.0
        y = h * h + h  # diamond through h: dy/dx = (2h + 1)·3
        y.backward()
        assert x.grad == (2 * 6.0 + 1) * 3

    def test_gradients_accumulate_across_calls_until_zero_grad(self):
        x = Value(1.5)
        (x * 2).backward()
        (x * 2).backward()
        assert x.grad == 4.0
        x.zero_grad()
        assert x.grad is None

    def test_broadcast_gradients_are_summed_back_to_input_shape(self):
        a = Value(np.ones((2, 3)))
        b = Value(np.ones(3))
        c = Value(2.0)
        (a * b * c).sum().backward()
        assert a.grad.shape == (2, 3) and b.grad.shape == (3,) and type(c.grad) is float
        np.testing.assert_array_equal(b.grad, [4.0, 4.0, 4.0])
        assert c.grad == 6.0

    def test_keepdims_style_broadcast(self):
        a = Value(np.ones((2, 1)))
        (a * np.ones((2, 4))).sum().backward()
        np.testing.assert_array_equal(a.grad, [[4.0], [4.0]])

    def test_non_scalar_output_needs_a_seed(self):
        y = Value([1.0, 2.0]) * 2
        with pytest.raises(ValueError, match=r"one-element output.*shape \(2,\)"):
            y.backward()
        y.backward(np.array([1.0, 0.5]))

    @pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 1, 1)])
    def test_a_one_element_output_of_any_shape_is_seeded_with_one_as_torch_does(self, shape):
        x = Value(np.full(shape, 3.0))
        (x * x).backward()
        np.testing.assert_array_equal(x.grad, np.full(shape, 6.0))
        (g,) = grad(x * x, [x])
        np.testing.assert_array_equal(g, np.full(shape, 6.0))

    def test_seed_shape_must_match(self):
        y = Value([1.0, 2.0]) * 2
        with pytest.raises(ShapeError, match=r"\(3,\)"):
            y.backward(np.ones(3))

    def test_constants_receive_no_gradient(self):
        x = Value(2.0)
        k = Value(5.0, requires_grad=False)
        (x * k).backward()
        assert x.grad == 5.0 and k.grad is None

    def test_backward_on_a_constant_is_an_error(self):
        with pytest.raises(BackwardError, match="does not require grad"):
            Value(1.0, requires_grad=False).backward()

    def test_second_backward_through_a_freed_graph_is_an_error(self):
        x = Value(2.0)
        y = x * x
        y.backward()
        with pytest.raises(BackwardError, match="retain_graph=True"):
            y.backward()

    def test_retain_graph_allows_a_second_backward(self):
        x = Value(2.0)
        y = x * x
        y.backward(retain_graph=True)
        y.backward()
        assert x.grad == 8.0

    def test_intermediate_grads_are_kept_only_when_asked(self):
        x = Value(2.0)
        h = (x * 3.0).retain_grad()
        k = x * 4.0
        (h * k).backward()
        assert h.grad == 8.0 and k.grad is None

    def test_detach_cuts_the_graph(self):
        x = Value(2.0)
        y = x * x.detach()
        y.backward()
        assert x.grad == 2.0

    def test_a_million_op_chain_needs_no_recursion(self):
        x = Value(1.0)
        y = x
        for _ in range(1_000_000):
            y = y + 1.0
        y.backward()
        assert x.grad == 1.0


class TestNoGrad:
    def test_no_grad_records_nothing(self):
        x = Value(2.0)
        with td.no_grad():
            y = x * x
            assert not td.is_grad_enabled()
        assert td.is_grad_enabled()
        assert y.grad_fn is None and not y.requires_grad

    def test_enable_grad_inside_no_grad(self):
        x = Value(2.0)
        with td.no_grad(), td.enable_grad():
            y = x * x
        assert y.grad_fn is not None

    def test_mode_is_restored_after_an_exception(self):
        with pytest.raises(RuntimeError), td.no_grad():
            raise RuntimeError
        assert td.is_grad_enabled()


class TestGradFunction:
    def test_grad_returns_instead_of_accumulating(self):
        x, y = Value(2.0), Value(3.0)
        gx, gy = grad(x * y, [x, y])
        assert (gx, gy) == (3.0, 2.0) and x.grad is None

    def test_unused_input(self):
        x, unused = Value(2.0), Value(1.0)
        with pytest.raises(ValueError, match="not used"):
            grad(x * x, [x, unused])
        assert grad(x * x, [x, unused], allow_unused=True)[1] is None

    def test_gradient_of_an_intermediate(self):
        x = Value(2.0)
        h = x * 3.0
        (gh,) = grad(h * h, [h])
        assert gh == 12.0

    def test_second_and_third_derivatives(self):
        x = Value(1.5)
        (g1,) = grad(x**3, [x], create_graph=True)
        (g2,) = grad(g1, [x], create_graph=True)
        (g3,) = grad(g2, [x])
        assert (g1.data, g2.data, g3) == pytest.approx((3 * 1.5**2, 6 * 1.5, 6.0))

    def test_backward_with_create_graph_gives_differentiable_grads(self):
        x = Value(0.7)
        y = x.sigmoid()
        y.backward(create_graph=True)
        assert isinstance(x.grad, Value)
        (second,) = grad(x.grad, [x])
        s = 1 / (1 + np.exp(-0.7))
        assert second == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-12, abs=0)

    def test_grad_outputs_stay_differentiable_under_create_graph(self):
        """grad(y, x, grad_outputs=v, create_graph=True) is vᵀ·dy/dx as a Value of v too (torch.autograd.grad)."""
        x, v = Value(np.array([1.0, 2.0])), Value(np.array([3.0, -1.0]))
        (g,) = grad(x * x, x, grad_outputs=v, create_graph=True)  # 2·x·v
        assert g.data.tolist() == [6.0, -4.0]
        dv, dx = grad(g.sum(), [v, x])
        assert dv.tolist() == [2.0, 4.0] and dx.tolist() == [6.0, -2.0]
        x = Value(np.array([1.0, 2.0]))
        (x * x).backward(v, create_graph=True)  # the same through backward(): x.grad = 2·x·v
        (dv,) = grad(x.grad.sum(), v)
        assert dv.tolist() == [2.0, 4.0]

    def test_sigmoid_second_derivative_is_exact_where_it_is_tiny(self):
        x = Value(40.0)
        (g1,) = grad(x.sigmoid(), [x], create_graph=True)
        (g2,) = grad(g1, [x])
        # σ''(x) = σ'(x)(1 - 2σ(x)) ≈ -e^-x for large x
        assert g2 == pytest.approx(-np.exp(-40.0), rel=1e-12, abs=0)


# -- random composite expressions: reuse, diamonds, broadcasting ---------------------------
UNARY = {"sigmoid": Value.sigmoid, "tanh": Value.tanh, "neg": Value.__neg__, "square": lambda v: v * v}
BINARY = {"add": Value.__add__, "sub": Value.__sub__, "mul": Value.__mul__}


@st.composite
def programs(draw):
    """A random straight-line program over two inputs; operands are drawn from everything computed so far."""
    steps = []
    for i in range(draw(st.integers(1, 8))):
        available = 2 + i
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, available - 1))))
        else:
            operands = draw(st.tuples(st.integers(0, available - 1), st.integers(0, available - 1)))
            steps.append((draw(st.sampled_from(sorted(BINARY))), *operands))
    return steps


def run_program(steps, a, b):
    values = [a, b]
    for name, *operands in steps:
        fn = UNARY.get(name) or BINARY[name]
        values.append(fn(*(values[i] for i in operands)))
    return values[-1].sum() + 0.0 * (a.sum() + b.sum())  # keep both inputs in the graph


@given(programs(), st.sampled_from([((), ()), ((3,), ()), ((2, 3), (3,)), ((2, 1), (1, 3))]), st.integers(0, 10**6))
def test_random_expressions_match_finite_differences(steps, shapes, seed):
    rng = np.random.default_rng(seed)
    inputs = [float(rng.uniform(-1, 1)) if s == () else rng.uniform(-1, 1, s) for s in shapes]

    def program(a, b):
        return run_program(steps, a, b)

    assert gradcheck(program, inputs)
    assert gradgradcheck(program, inputs, projections=1)


class TestSharedData:
    """Two different Values may hold the very same float or array object; the graph must still tell them apart."""

    def test_two_equal_python_floats_stay_two_inputs_for_second_derivatives(self):
        a, b = Value(1.0), Value(1.0)
        assert a.data is b.data  # Python shares the float object
        ga, _ = grad(a * b, [a, b], create_graph=True)
        assert grad(ga, [a, b], allow_unused=True) == (None, 1.0)  # ∂(∂ab/∂a)/∂b = 1

    def test_detach_is_a_constant_in_double_backward(self):
        x = Value(2.0)
        (g,) = grad(x * x.detach(), [x], create_graph=True)
        assert g.data == 2.0 and not g.requires_grad

    def test_a_user_op_saving_both_inputs_with_equal_data(self):
        class Hypot(td.Function, register=False):
            @staticmethod
            def forward(ctx, a, b):
                y = np.sqrt(a * a + b * b)
                ctx.save_for_backward(a, b, y)
                return y

            @staticmethod
            def backward(ctx, grad):
                a, b, y = ctx.saved_tensors
                return grad * a / y, grad * b / y

        assert gradgradcheck(Hypot.apply, [-1.0, -1.0])
        assert gradgradcheck(Hypot.apply, [np.array([1.0, 2.0])] * 2)


class TestOwnership:
    def test_leaf_grads_are_not_shared_with_the_seed_or_each_other(self):
        a, b = Value(np.zeros(2)), Value(np.zeros(2))
        seed = np.ones(2)
        (a + b).backward(seed)
        a.grad += 5.0
        np.testing.assert_array_equal(b.grad, [1.0, 1.0])
        np.testing.assert_array_equal(seed, [1.0, 1.0])

    def test_value_of_a_value_copies(self):
        p = Value(np.zeros(2))
        q = Value(p)
        q.data += 1.0
        np.testing.assert_array_equal(p.data, [0.0, 0.0])


class TestGradOnlyVisitsWhatItNeeds:
    def test_grad_leaves_the_graph_below_its_inputs_alone(self):
        x = Value(2.0)
        h = x * 3.0
        (gh,) = grad(h * h, [h])
        assert gh == 12.0
        (h * h).backward()  # the graph below h was neither walked nor freed
        assert x.grad == 36.0

    def test_create_graph_through_a_freed_graph_is_a_clear_error(self):
        x = Value(2.0)
        y = x * x
        y.backward()
        with pytest.raises(BackwardError, match="retain_graph"):
            grad(y, [x], create_graph=True)


class TestTruthValue:
    def test_scalars_and_single_elements(self):
        assert Value(2.0) and not Value(0.0) and Value([1.0])

    def test_arrays_are_ambiguous(self):
        with pytest.raises(ValueError, match="ambiguous"):
            bool(Value([0.0, 1.0]))


def test_no_grad_as_a_decorator():
    @td.no_grad()
    def predict(v):
        return v * v

    y = predict(Value(2.0))
    assert not y.requires_grad and td.is_grad_enabled()


class TestConstantsOnTheLeft:
    """A numpy array or scalar as the left operand is a constant input like any other."""

    def test_broadcast_gradient_with_an_array_on_the_left(self):
        v = Value(np.ones(3))
        (np.ones((2, 3)) + v).sum().backward()
        np.testing.assert_array_equal(v.grad, [2.0, 2.0, 2.0])

    def test_scalar_gradient_with_an_array_on_the_left(self):
        v = Value(2.0)
        (np.ones(3) * v).sum().backward()
        assert v.grad == 3.0

    def test_second_derivatives_with_numpy_constants_on_the_left(self):
        assert gradgradcheck(lambda w: (np.array([0.5, -0.2]) @ w).sigmoid().sum(), [np.ones((2, 1))])
        w = Value(np.ones(2))
        (g,) = grad((np.float64(0.5) * w * w).sum(), [w], create_graph=True)
        np.testing.assert_array_equal(g.data, [1.0, 1.0])


class TestGradLeavesCallersAlone:
    def test_grad_does_not_return_the_callers_seed(self):
        x = Value(np.zeros(2))
        seed = np.ones(2)
        (gx,) = grad(x + 0.0, [x], seed)
        gx += 1.0
        np.testing.assert_array_equal(seed, [1.0, 1.0])

    def test_grad_does_not_fill_retained_grads(self):
        x = Value(2.0)
        h = (x * 3.0).retain_grad()
        grad(h * h, [x])
        assert h.grad is None and x.grad is None

    def test_a_retained_grad_is_not_the_seed(self):
        x = Value(np.zeros(2))
        y = (x + 0.0).retain_grad()
        seed = np.ones(2)
        y.backward(seed)
        assert y.grad is not seed


def test_no_grad_decorator_on_a_recursive_function_restores_recording():
    @td.no_grad()
    def depth(v, n):
        return v if n == 0 else depth(v * 1.0, n - 1)

    assert not depth(Value(1.0), 3).requires_grad
    assert td.is_grad_enabled()
    assert (Value(1.0) * 2.0).requires_grad


class TestTheRunningNode:
    """`state.backward_node`: what a tool (anomaly mode) reads to name the node whose backward rule runs."""

    def test_it_names_the_node_while_its_rule_runs_and_is_cleared_after(self):
        from tinygrad_div import Function
        from tinygrad_div.engine.mode import state

        seen = []

        class Spy(Function, register=False):
            @staticmethod
            def forward(ctx, x):
                return x * 2.0

            @staticmethod
            def backward(ctx, grad):
                seen.append(state.backward_node)
                return grad * 2.0

        y = Spy.apply(Value(1.0))
        assert state.backward_node is None
        y.backward()
        assert seen == [y.grad_fn] and state.backward_node is None

    def test_it_is_cleared_after_a_failing_backward(self):
        from tinygrad_div.engine.mode import state

        y = Value(2.0) * 3.0
        y.backward()
        with pytest.raises(BackwardError):
            y.backward()
        assert state.backward_node is None and td.is_grad_enabled()


class TestRootsThatAreLeaves:
    def test_backward_of_a_leaf_seeds_its_own_grad(self):
        x = Value(np.array([1.0, 2.0]))
        seed = np.array([3.0, 4.0])
        x.backward(seed)
        x.backward(seed)
        np.testing.assert_array_equal(x.grad, [6.0, 8.0])
        assert x.grad is not seed

    def test_grad_of_a_leaf_with_respect_to_itself(self):
        x = Value(2.0)
        assert grad(x, x) == (1.0,)
        assert grad([x, x * 3.0], x) == (4.0,)  # the seed and the path through the op add up
        assert x.grad is None

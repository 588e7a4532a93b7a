"""optim.SGD: the notes' update w ← w − rate · dE/dw, in numpy on the parameters' data, never recorded."""

import numpy as np
import pytest

from tinygrad_div import BackwardError, Value, grad
from tinygrad_div.engine.function import Function
from tinygrad_div.nn import MLP, mse_loss
from tinygrad_div.optim import SGD


def test_step_moves_each_parameter_against_its_gradient():
    scalar, array = Value(2.0), Value([1.0, -3.0])
    ((scalar * array) ** 2).sum().backward()
    expected = (scalar.data - 0.1 * scalar.grad, array.data - 0.1 * array.grad)
    SGD([scalar, array], lr=0.1).step()
    assert scalar.data == pytest.approx(expected[0], rel=1e-15)
    np.testing.assert_allclose(array.data, expected[1], rtol=1e-15)


def test_the_update_is_numpy_on_data_and_applies_no_op(monkeypatch):
    net = MLP([2, 3, 1], seed=0)
    mse_loss(net(np.ones(2)), np.zeros(1)).backward()
    applied, apply = [], Function.apply.__func__

    def counted(op, *args, **kwargs):
        applied.append(op)
        return apply(op, *args, **kwargs)

    monkeypatch.setattr(Function, "apply", classmethod(counted))
    SGD(net.parameters(), lr=0.5).step()
    assert applied == []


def test_the_update_writes_new_arrays_and_never_touches_a_gradient():
    w = Value([1.0, 2.0])
    data, shared_grad = w.data, np.array([0.5, 0.5])  # the engine may hand one gradient array to several leaves
    w.grad = shared_grad
    SGD([w], lr=1.0).step()
    np.testing.assert_array_equal(w.data, [0.5, 1.5])
    np.testing.assert_array_equal(data, [1.0, 2.0])
    np.testing.assert_array_equal(shared_grad, [0.5, 0.5])


def test_scalar_parameters_stay_python_floats():
    s = Value(2.0)
    (s * s).backward()
    SGD([s], lr=0.25).step()
    assert type(s.data) is float and s.data == 1.0


def test_step_leaves_parameters_without_a_gradient_alone():
    used, unused = Value(1.0), Value(5.0)
    (used * 3.0).backward()
    SGD([used, unused], lr=1.0).step()
    assert (used.data, unused.data) == (-2.0, 5.0)


def test_zero_grad_clears_every_gradient():
    net = MLP([2, 2, 1], seed=0)
    optimizer = SGD(net.parameters(), lr=0.5)
    mse_loss(net(np.ones(2)), np.zeros(1)).backward()
    assert all(p.grad is not None for p in net.parameters())
    optimizer.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_the_update_is_not_recorded_even_when_gradients_are_values():
    w = Value([0.5, -0.5])
    (dw,) = grad((w ** 3).sum(), w, create_graph=True)  # a Value with a graph of its own
    w.grad = dw
    SGD([w], lr=0.1).step()
    assert w.is_leaf and w.requires_grad and isinstance(w.data, np.ndarray)
    np.testing.assert_allclose(w.data, [0.5 - 0.1 * 0.75, -0.5 - 0.1 * 0.75], rtol=1e-15)


def test_the_update_does_not_overwrite_data_a_retained_graph_saved():
    w = Value([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    old = w.data
    SGD([w], lr=0.25).step()
    np.testing.assert_array_equal(old, [1.0, 2.0])
    w.zero_grad()
    # but w changed since the graph was recorded: backward refuses, as PyTorch's version counter does
    with pytest.raises(BackwardError, match="Mul: input 0"):
        loss.backward()


def test_sgd_finds_the_minimum_of_a_quadratic():
    x = Value([3.0, -4.0])
    optimizer = SGD([x], lr=0.1)
    for _ in range(200):
        optimizer.zero_grad()
        ((x - np.array([1.0, 2.0])) ** 2).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(x.data, [1.0, 2.0], atol=1e-12)


@pytest.mark.parametrize("parameters, lr, message", [
    ([], 0.1, "no parameters"),
    ([Value(1.0)], 0.0, "lr must be > 0"),
    ([Value(1.0)], -1.0, "lr must be > 0"),
    ([Value(1.0) * 2], 0.1, "leaf"),
], ids=["none", "zero-lr", "negative-lr", "non-leaf"])
def test_bad_arguments_are_refused(parameters, lr, message):
    with pytest.raises(ValueError, match=message):
        SGD(parameters, lr=lr)

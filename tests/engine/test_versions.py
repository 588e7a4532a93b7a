"""Stale data: a node whose input changed after it was recorded refuses to backpropagate.

PyTorch's version counter: every change of a Value's data (rebinding `.data`, which
optimizers do, or `increment_version()` after an in-place change) bumps its version,
and backward compares it with the node's creation for every input of a node that
saved data for backward.
"""

import numpy as np
import pytest

from tinygrad_div import BackwardError, DataError, Value, grad
from tinygrad_div.optim import SGD


def test_rebinding_data_after_the_forward_pass_is_refused_naming_the_op_and_input():
    """The issue's example: this silently gave [200, 4]."""
    x = Value([1.0, 2.0])
    y = (x * x).sum()
    x.data = np.array([100.0, 2.0])
    with pytest.raises(BackwardError, match=r"Mul: input 0 \(shape \(2,\)\) was changed"):
        y.backward()


def test_an_in_place_change_announced_with_increment_version_is_refused():
    x = Value([1.0, 2.0])
    y = (x * 3.0).exp().sum()
    x.data[0] = 100.0
    x.increment_version()
    with pytest.raises(BackwardError, match="Mul: input 0"):
        y.backward()


def test_the_second_input_is_named_too_and_grad_checks_as_well():
    a, b = Value(2.0), Value(3.0)
    y = a * b
    b.data = 4.0
    with pytest.raises(BackwardError, match="Mul: input 1"):
        grad(y, [a])
    with pytest.raises(BackwardError, match="Mul: input 1"):
        grad(y, [a], create_graph=True)


def test_a_changed_constant_input_is_refused_too():
    """The gradient of w in w·c depends on c even though c takes no gradient."""
    w, c = Value([1.0, 2.0]), Value([3.0, 4.0], requires_grad=False)
    y = (w * c).sum()
    c.data = np.array([0.0, 0.0])
    with pytest.raises(BackwardError, match="Mul: input 1"):
        y.backward()


def test_ops_that_saved_nothing_do_not_care():
    x = Value([1.0, 2.0])
    y = (x + 1.0).sum()
    x.data = np.array([5.0, 6.0])
    y.backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_a_forward_pass_after_the_change_backpropagates():
    x = Value(3.0)
    (x * x).backward()
    x.data = 5.0
    x.zero_grad()
    (x * x).backward()
    assert x.grad == 10.0


def test_training_with_an_optimizer_runs_a_fresh_graph_each_step():
    w = Value([1.0, -1.0])
    optimizer = SGD([w], lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        ((w * w).sum()).backward()
        optimizer.step()
    np.testing.assert_allclose(w.data, np.array([1.0, -1.0]) * 0.8**3, rtol=1e-15)


def test_an_optimizer_step_between_forward_and_backward_is_refused():
    w = Value([1.0, 2.0])
    loss = (w * w).sum()
    w.grad = np.array([1.0, 1.0])
    SGD([w], lr=0.1).step()
    with pytest.raises(BackwardError, match="Mul: input 0"):
        loss.backward()


def test_version_grows_with_every_change():
    x = Value([1.0])
    assert x.version == 0
    x.data = np.array([2.0])
    first = x.version
    x.increment_version()
    assert 0 < first < x.version


def test_data_of_another_dtype_is_converted_to_float64():
    x = Value([1.0, 2.0])
    x.data = np.array([1, 2], dtype=np.float32)
    assert x.data.dtype == np.float64
    y = x * x
    assert y.data.dtype == np.float64
    x.data = 3  # a Python int becomes a float, as in Value(3)
    assert type(x.data) is float


def test_data_that_is_not_real_numbers_is_refused_in_one_line():
    x = Value([1.0, 2.0])
    with pytest.raises(DataError, match="real numbers"):
        x.data = np.array([1 + 2j, 3])
    with pytest.raises(DataError, match="numeric"):
        x.data = "abc"
    assert x.data.tolist() == [1.0, 2.0] and x.version == 0


def test_an_index_array_changed_after_the_forward_pass_does_not_move_the_gradient():
    x = Value([1.0, 2.0, 3.0])
    index = np.array([0, 0, 2])
    listed = [1, 1]
    y = x[index].sum() + x[listed].sum()
    index[:] = 1
    listed[0] = 0
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0, 1.0]

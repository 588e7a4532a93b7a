"""concatenate and stack: numpy's values, each input's gradient sliced back out."""

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import ShapeError, Value


def test_concatenate_routes_each_slice_of_the_gradient_back():
    a, b = Value(np.ones((2, 2))), Value(np.ones((1, 2)))
    y = td.concatenate([a, b], axis=0)
    assert y.shape == (3, 2)
    (y * np.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(a.grad, [[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(b.grad, [[4.0, 5.0]])


def test_concatenate_along_the_last_axis_with_constants():
    a = Value(np.ones((2, 1)))
    y = np.concatenate([np.zeros((2, 2)), a], axis=-1)
    assert isinstance(y, Value) and y.shape == (2, 3)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, [[1.0], [1.0]])


def test_stack_adds_an_axis_and_takes_scalars():
    a, b = Value(1.0), Value(2.0)
    y = td.stack([a, b])
    assert y.data.tolist() == [1.0, 2.0]
    (y * np.array([3.0, 4.0])).sum().backward()
    assert (a.grad, b.grad) == (3.0, 4.0)
    c, d = Value(np.zeros(3)), Value(np.ones(3))
    y = td.stack((c, d), axis=1)
    assert y.shape == (3, 2)
    (y * np.array([1.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(d.grad, [2.0, 2.0, 2.0])


def test_the_same_value_twice_gets_both_gradients():
    a = Value(np.array([1.0, 2.0]))
    td.concatenate([a, a]).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])


def test_bad_joins_are_one_line_errors():
    with pytest.raises(ShapeError, match="Concatenate"):
        td.concatenate([Value(np.ones((2, 2))), Value(np.ones((2, 3)))], axis=0)
    with pytest.raises(ShapeError, match="Stack"):
        td.stack([Value(np.ones(2)), Value(np.ones(3))])
    with pytest.raises(ValueError, match="scalars .* cannot be concatenated"):
        td.concatenate([Value(1.0), Value(2.0)])
    with pytest.raises(TypeError, match="concatenate takes a list or tuple of Values, got Value"):
        td.concatenate(Value(np.ones(2)))
    with pytest.raises(ValueError, match="at least one"):
        td.stack([])

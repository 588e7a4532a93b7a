"""squeeze, expand_dims/unsqueeze, flatten, and integer-array and boolean-mask indexing."""

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import Value, grad


def test_squeeze_expand_dims_and_flatten_give_numpys_shapes_and_gradients_back():
    data = np.arange(6.0).reshape(1, 2, 1, 3)
    x = Value(data)
    assert x.squeeze().shape == (2, 3) and x.squeeze(axis=2).shape == (1, 2, 3)
    assert np.squeeze(x, axis=(0, 2)).shape == (2, 3)
    assert x.expand_dims(0).shape == (1, 1, 2, 1, 3) and td.unsqueeze(x, -1).shape == (1, 2, 1, 3, 1)
    assert np.expand_dims(x, (0, 1)).shape == (1, 1, 1, 2, 1, 3)
    assert x.flatten().shape == (6,) and x.flatten(1).shape == (1, 6) and x.flatten(1, 2).shape == (1, 2, 3)
    assert td.flatten(Value(2.0)).shape == (1,)
    for y in (x.squeeze(), x.unsqueeze(1), x.flatten(2)):
        x.grad = None
        (y * y).sum().backward()
        np.testing.assert_array_equal(x.grad, 2 * data)


def test_bad_axes_are_one_line_errors():
    from tinygrad_div import ShapeError

    with pytest.raises((ShapeError, ValueError), match="Squeeze"):
        Value(np.ones((2, 3))).squeeze(axis=0)
    with pytest.raises(ValueError, match="start axis 2 comes after end axis 0"):
        Value(np.ones((2, 3, 4))).flatten(2, 0)


def test_integer_array_indexing_accumulates_repeated_indices_like_add_at():
    x = Value(np.array([10.0, 20.0, 30.0]))
    y = x[np.array([0, 0, 2, 0])]
    np.testing.assert_array_equal(y.data, [10.0, 10.0, 30.0, 10.0])
    (y * np.array([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 0.0, 3.0])
    x = Value(np.array([1.0, 2.0]))
    x[[1, 1]].sum().backward()  # a list index, as numpy reads it
    np.testing.assert_array_equal(x.grad, [0.0, 2.0])


def test_picking_one_label_per_row_as_cross_entropy_does():
    logits = Value(np.arange(6.0).reshape(3, 2))
    labels = np.array([1, 0, 1])
    picked = logits[np.arange(3), labels]
    np.testing.assert_array_equal(picked.data, [1.0, 2.0, 5.0])
    picked.sum().backward()
    np.testing.assert_array_equal(logits.grad, np.eye(2)[labels])


def test_boolean_mask_indexing():
    x = Value(np.array([-1.0, 2.0, -3.0, 4.0]))
    y = x[x > 0]
    np.testing.assert_array_equal(y.data, [2.0, 4.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 4.0, 0.0, 8.0])
    m = Value(np.arange(4.0).reshape(2, 2))
    m[np.array([[True, False], [False, True]])].sum().backward()
    np.testing.assert_array_equal(m.grad, np.eye(2))


def test_changing_the_index_arrays_after_the_forward_pass_does_not_move_the_gradient():
    """The gradient goes where the forward pass read, whatever the caller later does to their index."""
    x = Value(np.array([1.0, 2.0, 3.0]))
    index, mask = np.array([0, 2]), np.array([True, False, False])
    y, z = x[index], x[mask]
    index[:] = 1
    mask[:] = [False, True, True]
    (y.sum() + z.sum()).backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])


def test_second_derivative_through_repeated_indices():
    x = Value(np.array([1.0, 2.0]))
    y = (x[np.array([0, 0, 1])] ** 3.0).sum()  # x0 counted twice: d²/dx0² = 2·6x0
    (g,) = grad(y, [x], create_graph=True)
    (h,) = grad(g.sum(), [x])
    np.testing.assert_array_equal(h, [12.0, 12.0])


def test_bad_indices_are_one_line_index_errors():
    x = Value(np.ones(3))
    with pytest.raises(IndexError, match=r"index .*5.* into a Value of shape \(3,\)"):
        x[np.array([0, 5])]
    with pytest.raises(IndexError, match="integer"):
        x[Value(np.array([0.0, 1.0]))]  # float data is no index
    with pytest.raises(IndexError, match="scalar Value cannot be indexed"):
        Value(1.0)[0]


def test_label_picking_passes_first_and_second_order_checks():
    from tinygrad_div import gradcheck, gradgradcheck

    labels = np.array([1, 0, 1, 1])
    pick = lambda x: (x[np.arange(4), labels] ** 2.0)  # noqa: E731
    data = np.random.default_rng(0).uniform(0.5, 2.0, (4, 2))
    assert gradcheck(pick, [data]) and gradgradcheck(pick, [data])

"""Comparisons are masks, never recorded; == stays identity so Values remain dict keys."""

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import Value


def test_comparisons_give_numpy_bool_masks_for_arrays_and_bools_for_scalars():
    x = Value(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x < 2.0, [True, False, False])
    np.testing.assert_array_equal(x <= 2.0, [True, True, False])
    np.testing.assert_array_equal(x > Value(np.array([0.0, 2.0, 4.0])), [True, False, False])
    np.testing.assert_array_equal(x >= np.array([1.0, 3.0, 3.0]), [True, False, True])
    assert (x < 2.0).dtype == bool
    assert (Value(1.0) < 2.0) is True and (Value(1.0) >= 2) is False
    assert (2.0 < Value(3.0)) is True  # reflected


def test_comparisons_are_not_recorded_and_have_no_gradient():
    x = Value(np.array([1.0, -1.0]))
    mask = x > 0
    assert not isinstance(mask, Value)
    (x * mask).sum().backward()  # a mask is a constant
    np.testing.assert_array_equal(x.grad, [1.0, 0.0])


def test_eq_and_ne_are_elementwise_methods():
    x = Value(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x.eq(np.array([1.0, 0.0])), [True, False])
    np.testing.assert_array_equal(x.ne(2.0), [True, False])
    assert Value(2.0).eq(2.0) is True and Value(2.0).ne(Value(2.0)) is False
    np.testing.assert_array_equal(np.equal(x, 1.0), [True, False])


def test_double_equals_is_identity_so_values_stay_hashable_dict_keys():
    a, b = Value(2.0), Value(2.0)
    assert a == a and a != b and not (a == b)
    assert len({a, b}) == 2 and {a: 1, b: 2}[b] == 2
    nodes = [Value(np.zeros(3)), Value(np.zeros(3))]
    assert nodes.index(nodes[1]) == 1 and nodes[1] in nodes  # == on arrays would raise here


def test_numpy_comparison_ufuncs_on_values_give_masks():
    x = Value(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(np.ones(2) < x, [False, True])
    np.testing.assert_array_equal(np.greater_equal(x, 2.0), [False, True])


def test_comparing_with_a_non_number_is_a_one_line_type_error():
    with pytest.raises(TypeError, match="'<' is not supported between a Value and str"):
        Value(1.0) < "a"  # noqa: B015
    with pytest.raises(TypeError, match="'>=' is not supported between a Value and NoneType"):
        Value(np.ones(2)) >= None  # noqa: B015


def test_comparing_shapes_that_do_not_broadcast_names_both_shapes():
    with pytest.raises(ValueError, match=r"'<' on shapes \(2,\) and \(3,\)"):
        Value(np.ones(2)) < np.ones(3)  # noqa: B015


def test_argmax_and_argmin_are_integer_indices_first_of_ties():
    x = Value(np.array([[1.0, 5.0, 5.0], [0.0, -2.0, 7.0]]))
    np.testing.assert_array_equal(x.argmax(axis=1), [1, 2])
    np.testing.assert_array_equal(td.argmin(x, axis=0), [1, 1, 0])
    assert x.argmax() == 5 and np.argmax(x) == 5 and np.argmin(x) == 4
    assert x.argmax(axis=1).dtype.kind == "i"
    assert x.argmax(axis=1, keepdims=True).shape == (2, 1)


def test_argmax_of_nothing_is_a_one_line_error():
    with pytest.raises(ValueError, match=r"argmax: .*empty.*shape \(0,\)"):
        Value(np.zeros(0)).argmax()

"""softmax, log_softmax and logsumexp: the closed forms, stable for every float64, without warnings."""

import warnings

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import Value

EXTREMES = np.array([[0.0, -1000.0, 1000.0], [1000.0, 999.0, -1000.0], [-745.0, -746.0, -1000.0]])


def naive_softmax(a, axis=-1):
    e = np.exp(a)
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0])
def test_agree_with_the_textbook_formulas_on_moderate_inputs(axis):
    a = np.random.default_rng(0).normal(size=(3, 4)) * 3
    np.testing.assert_allclose(td.softmax(Value(a), axis).data, naive_softmax(a, axis), rtol=1e-14)
    np.testing.assert_allclose(Value(a).log_softmax(axis).data, np.log(naive_softmax(a, axis)), rtol=1e-13)
    np.testing.assert_allclose(td.logsumexp(Value(a), axis).data, np.log(np.exp(a).sum(axis)), rtol=1e-14)
    assert Value(a).logsumexp().data == pytest.approx(np.log(np.exp(a).sum()), rel=1e-14)


@pytest.mark.parametrize("method", [Value.softmax, Value.log_softmax, Value.logsumexp])
def test_finite_without_warnings_at_the_extremes(method):
    x = Value(EXTREMES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = method(x, axis=-1)
        y.sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))


@pytest.mark.parametrize("method", [Value.softmax, Value.log_softmax, Value.logsumexp])
def test_no_warnings_at_the_largest_floats(method):
    x = Value(np.array([1e308, -1e308, 0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = method(x)
        y.sum().backward()
    assert not np.any(np.isnan(y.data)) and np.all(np.isfinite(x.grad))


def test_logsumexp_at_the_extremes_is_the_maximum_plus_the_rest():
    y = Value(EXTREMES).logsumexp(axis=1).data
    assert y[0] == 1000.0 and y[1] == pytest.approx(1000.0 + np.log1p(np.exp(-1.0)), rel=1e-15)
    assert y[2] == pytest.approx(-745.0 + np.log1p(np.exp(-1.0)), rel=1e-15)


def test_log_softmax_is_exact_where_softmax_underflows():
    y = Value(np.array([0.0, -1000.0])).log_softmax()
    assert y.data.tolist() == [0.0, -1000.0]  # softmax gives [1, 0] and ln 0 = -inf
    assert Value(np.array([0.0, -1000.0])).softmax().data.tolist() == [1.0, 0.0]


def test_gradients_are_softmax_shaped():
    a = np.array([1.0, 2.0, 3.0])
    s = naive_softmax(a)
    x = Value(a)
    x.logsumexp().backward()
    np.testing.assert_allclose(x.grad, s, rtol=1e-15)
    x = Value(a)
    (x.log_softmax() * np.array([1.0, 0.0, 0.0])).sum().backward()  # d(-NLL of class 0)
    np.testing.assert_allclose(x.grad, np.array([1.0, 0.0, 0.0]) - s, rtol=1e-14, atol=1e-16)
    x = Value(a)
    x.softmax()[0].backward()
    np.testing.assert_allclose(x.grad, s[0] * (np.eye(3)[0] - s), rtol=1e-14)


def test_rows_of_minus_infinity_and_infinity():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Value(np.array([-np.inf, -np.inf])).logsumexp().data == -np.inf
    assert Value(np.array([np.inf, 0.0])).logsumexp().data == np.inf


def test_keepdims_and_scalars():
    x = Value(np.ones((2, 3)))
    assert x.logsumexp(axis=1, keepdims=True).shape == (2, 1)
    assert x.logsumexp(axis=(0, 1)).shape == ()
    assert Value(5.0).softmax().data == 1.0 and Value(5.0).log_softmax().data == 0.0
    assert Value(5.0).logsumexp().data == 5.0

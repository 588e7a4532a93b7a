"""sqrt, sin, cos, log1p, expm1: numpy's values (scalars too, bit for bit), analytic derivatives."""

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import Value

CASES = [  # method, numpy function, derivative
    (Value.sqrt, np.sqrt, lambda a: 0.5 / np.sqrt(a)),
    (Value.sin, np.sin, np.cos),
    (Value.cos, np.cos, lambda a: -np.sin(a)),
    (Value.log1p, np.log1p, lambda a: 1.0 / (1.0 + a)),
    (Value.expm1, np.expm1, np.exp),
]


@pytest.mark.parametrize("method, reference, derivative", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_values_and_gradients_match_the_closed_forms(method, reference, derivative):
    data = np.array([0.01, 0.5, 1.0, 2.5])
    x = Value(data)
    y = method(x)
    np.testing.assert_array_equal(y.data, reference(data))
    y.sum().backward()
    np.testing.assert_allclose(x.grad, derivative(data), rtol=1e-15)
    for a in data:  # scalars take numpy's bits too, not math's
        s = Value(float(a))
        out = method(s)
        out.backward()
        assert type(out.data) is float and out.data == reference(a) and s.grad == x.grad[list(data).index(a)]


@pytest.mark.parametrize("name", ["sqrt", "sin", "cos", "log1p", "expm1"])
def test_reachable_as_function_and_through_numpy(name):
    x = Value(np.array([0.25, 1.0]))
    a, b = getattr(td, name)(x), getattr(np, name)(x)
    assert isinstance(b, Value) and type(b.grad_fn) is type(a.grad_fn)
    np.testing.assert_array_equal(a.data, b.data)


def test_log1p_and_expm1_stay_exact_for_tiny_inputs():
    assert Value(1e-20).log1p().data == 1e-20 and Value(1e-20).expm1().data == 1e-20


def test_sqrt_edges_follow_numpy():
    with np.errstate(all="ignore"):
        assert np.isnan(Value(-1.0).sqrt().data)
        x = Value(0.0)
        x.sqrt().backward()
    assert x.grad == np.inf
    assert np.signbit(Value(-0.0).sqrt().data)

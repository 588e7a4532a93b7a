"""The ops as top-level functions and through numpy's protocol: the same ops as the methods."""

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import Value

FUNCTIONS = [
    "where", "maximum", "minimum", "clip", "amax", "amin", "argmax", "argmin",
    "sqrt", "sin", "cos", "log1p", "expm1", "softmax", "log_softmax", "logsumexp",
    "concatenate", "stack", "squeeze", "expand_dims", "unsqueeze", "flatten",
]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_listed_in_the_public_api(name):
    assert name in td.__all__ and callable(getattr(td, name))


def test_functions_and_methods_record_the_same_op():
    x = Value(np.array([[0.5, -1.0], [2.0, 0.25]]))
    pairs = [
        (td.softmax(x), x.softmax()), (td.log_softmax(x, 0), x.log_softmax(0)),
        (td.logsumexp(x, 1, True), x.logsumexp(1, True)), (td.clip(x, 0.0, 1.0), x.clip(0.0, 1.0)),
        (td.amax(x, 0), x.max(0)), (td.amin(x), x.min()), (td.maximum(x, 0.0), x.maximum(0.0)),
        (td.minimum(x, 0.0), x.minimum(0.0)), (td.squeeze(x[:1]), x[:1].squeeze()), (td.flatten(x), x.flatten()),
    ]
    for a, b in pairs:
        assert type(a.grad_fn) is type(b.grad_fn)
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("call, reference", [
    (lambda v: np.max(v, axis=1), lambda d: np.max(d, axis=1)),
    (lambda v: np.amin(v, axis=0, keepdims=True), lambda d: np.amin(d, axis=0, keepdims=True)),
    (lambda v: np.clip(v, -0.5, 0.5), lambda d: np.clip(d, -0.5, 0.5)),
    (lambda v: np.where(v > 0, v, 2.0 * v), lambda d: np.where(d > 0, d, 2.0 * d)),
    (lambda v: np.minimum(v, 0.1), lambda d: np.minimum(d, 0.1)),
    (lambda v: np.stack([v, v], axis=-1), lambda d: np.stack([d, d], axis=-1)),
    (lambda v: np.concatenate([v, v]), lambda d: np.concatenate([d, d])),
])
def test_numpy_functions_on_values_are_recorded_ops(call, reference):
    data = np.array([[0.5, -1.0], [2.0, 0.25]])
    x = Value(data)
    y = call(x)
    assert isinstance(y, Value) and y.requires_grad
    np.testing.assert_array_equal(y.data, reference(data))
    y.sum().backward()
    assert x.grad.shape == data.shape


def test_numpy_functions_refuse_arguments_they_would_ignore():
    with pytest.raises(TypeError, match="initial"):
        np.max(Value(np.ones(2)), initial=3.0)


@pytest.mark.parametrize("name, args, axis", [
    ("amax", (), 1), ("amin", (), 0), ("argmax", (), 1), ("argmin", (), 0), ("softmax", (), 0),
    ("log_softmax", (), 0), ("logsumexp", (), 1), ("squeeze", (), None), ("expand_dims", (), 2),
    ("concatenate", None, 1), ("stack", None, 1),
])
def test_each_function_takes_dim_for_axis(name, args, axis):
    data = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]])
    first = [Value(data), Value(data)] if args is None else Value(data)
    fn = getattr(td, name)
    if axis is None:
        first, axis = Value(data[:, :1]), 1
    by_axis, by_dim = fn(first, axis=axis), fn(first, dim=axis)
    np.testing.assert_array_equal(getattr(by_dim, "data", by_dim), getattr(by_axis, "data", by_axis))
    with pytest.raises(TypeError, match=rf"^{name}\(\) got both axis= and dim="):
        fn(first, axis=axis, dim=axis)


def test_stack_and_concatenate_default_to_the_first_axis():
    parts = [Value(np.ones(2)), Value(np.zeros(2))]
    assert td.stack(parts).shape == (2, 2) and td.concatenate(parts).shape == (4,)
    with pytest.raises(TypeError, match="got both axis= and dim="):
        td.stack(parts, axis=0, dim=0)

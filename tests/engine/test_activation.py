"""leaky_relu and gelu (engine/ops/activation.py): the formulas written out, the edges as PyTorch, torch itself."""

import math

import numpy as np
import pytest

import tinygrad_div.nn.functional as F
from tinygrad_div import Value, grad

X = np.array([-3.0, -0.5, -0.0, 0.0, 1e-8, 0.7, 2.0, 9.0])


def value_and_grad(f, x):
    v = Value(x)
    y = f(v)
    return y.data, grad(y, [v], np.ones_like(x))[0]


def test_leaky_relu_is_the_slope_below_zero_and_at_zero():
    y, g = value_and_grad(lambda v: F.leaky_relu(v, 0.1), X)
    np.testing.assert_array_equal(y, np.where(X > 0, X, 0.1 * X))
    np.testing.assert_array_equal(g, np.where(X > 0, 1.0, 0.1))  # 0.1 at 0 as well (PyTorch's choice)


def test_gelu_is_x_times_the_normal_cdf():
    phi = np.array([0.5 * (1 + math.erf(x / math.sqrt(2))) for x in X])
    density = np.exp(-X * X / 2) / math.sqrt(2 * math.pi)
    y, g = value_and_grad(F.gelu, X)
    np.testing.assert_allclose(y, X * phi, rtol=1e-15, atol=0)
    np.testing.assert_allclose(g, phi + X * density, rtol=1e-15, atol=1e-300)


def test_gelu_tanh_form():
    c, k = math.sqrt(2 / math.pi), 0.044715
    t = np.tanh(c * (X + k * X**3))
    y, g = value_and_grad(lambda v: F.gelu(v, approximate="tanh"), X)
    np.testing.assert_allclose(y, 0.5 * X * (1 + t), rtol=1e-14, atol=0)
    np.testing.assert_allclose(g, 0.5 * (1 + t) + 0.5 * X * (1 - t * t) * c * (1 + 3 * k * X * X), rtol=1e-14)


def test_gelus_second_derivative_is_recorded():
    x = Value(X)
    (g,) = grad(F.gelu(x).sum(), [x], create_graph=True)
    (h,) = grad(g.sum(), [x])
    np.testing.assert_allclose(h, np.exp(-X * X / 2) / math.sqrt(2 * math.pi) * (2 - X * X), rtol=1e-13, atol=1e-300)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"^gelu: approximate must be 'none' or 'tanh', got 'erf'$"):
        F.gelu(Value(X), approximate="erf")
    with pytest.raises(TypeError, match=r"^leaky_relu: negative_slope must be a number, got str$"):
        F.leaky_relu(Value(X), "0.1")


@pytest.mark.parametrize("name", ["leaky_relu", "gelu", "gelu_tanh"])
def test_agrees_with_torch(name):
    torch = pytest.importorskip("torch")
    x = np.concatenate([np.linspace(-9, 9, 721), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    ours, theirs = {"leaky_relu": (lambda v: F.leaky_relu(v, 0.2), lambda t: torch.nn.functional.leaky_relu(t, 0.2)),
                    "gelu": (F.gelu, torch.nn.functional.gelu),
                    "gelu_tanh": (lambda v: F.gelu(v, approximate="tanh"),
                                  lambda t: torch.nn.functional.gelu(t, approximate="tanh"))}[name]
    with np.errstate(invalid="ignore"):
        y, g = value_and_grad(ours, x)
    t = torch.tensor(x, requires_grad=True)
    ty = theirs(t)
    ty.backward(torch.ones_like(t))
    scale = np.maximum(np.abs(np.nan_to_num(x, posinf=1.0, neginf=1.0)), 1.0)  # the tanh form cancels near -7
    for ours_, theirs_ in ((y, ty.detach().numpy()), (g, t.grad.numpy())):
        assert np.array_equal(np.isnan(ours_), np.isnan(theirs_))
        finite = np.isfinite(theirs_)
        assert np.array_equal(ours_[~finite & ~np.isnan(theirs_)], theirs_[~finite & ~np.isnan(theirs_)])
        assert np.all(np.abs(ours_[finite] - theirs_[finite]) <= 1e-14 * scale[finite])

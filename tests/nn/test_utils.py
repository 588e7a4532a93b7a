"""clip_grad_norm_ and clip_grad_value_: torch's formulas written out, and torch itself."""

import math

import numpy as np
import pytest

from tinygrad_div import Value
from tinygrad_div.nn import MLP
from tinygrad_div.nn.utils import clip_grad_norm_, clip_grad_value_

GRADS = [np.array([[3.0, -4.0], [1.0, 2.0]]), -2.5, np.array([0.5, -7.0, 1.5])]


def parameters():
    """Three parameters with GRADS, and a frozen one without a gradient."""
    params = [Value(np.zeros(np.shape(g))) for g in GRADS] + [Value(np.ones(2), requires_grad=False)]
    for p, g in zip(params, GRADS):
        p.grad = g
    return params


def written_out_norm(p):
    flat = np.concatenate([np.ravel(g) for g in GRADS])
    return np.max(np.abs(flat)) if p == math.inf else np.sum(np.abs(flat) ** p) ** (1 / p)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_scales_by_max_norm_over_the_total(norm_type):
    params = parameters()
    total = clip_grad_norm_(params, max_norm=2.0, norm_type=norm_type)
    assert type(total) is float and total == pytest.approx(written_out_norm(norm_type), rel=1e-14)
    coefficient = 2.0 / (total + 1e-6)
    for p, g in zip(params, GRADS):
        np.testing.assert_array_equal(p.grad, np.multiply(g, coefficient))
    assert type(params[1].grad) is float and params[3].grad is None


def test_gradients_under_max_norm_are_left_as_they_are():
    params = parameters()
    shared = params[0].grad
    assert clip_grad_norm_(params, max_norm=100.0) == pytest.approx(written_out_norm(2), rel=1e-14)
    assert params[0].grad is shared and params[1].grad == -2.5
    clip_grad_norm_(params, max_norm=1.0)
    np.testing.assert_array_equal(shared, GRADS[0])  # a new array: the old one (maybe shared) is untouched


def test_a_non_finite_norm_scales_as_torch_or_raises():
    p = Value(np.ones(2))
    p.grad = np.array([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="the total norm of order 2.0 of the gradients is inf") as info:
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert "\n" not in str(info.value) and p.grad[1] == 1.0
    assert clip_grad_norm_(p, 1.0) == math.inf  # c = 1/inf = 0
    assert np.isnan(p.grad[0]) and p.grad[1] == 0.0
    p.grad = np.array([np.nan, 1.0])
    assert math.isnan(clip_grad_norm_(p, 1.0)) and np.isnan(p.grad).all()


def test_no_gradients_give_a_zero_norm():
    net = MLP([2, 3, 1], seed=0)
    assert clip_grad_norm_(net.parameters(), 1.0) == 0.0


def test_clip_grad_value_limits_every_entry():
    params = parameters()
    assert clip_grad_value_(params, 2.0) is None
    for p, g in zip(params, GRADS):
        np.testing.assert_array_equal(p.grad, np.minimum(np.maximum(g, -2.0), 2.0))
    assert type(params[1].grad) is float and params[3].grad is None


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clipping_matches_torch(norm_type):
    torch = pytest.importorskip("torch")
    ours = parameters()[:3]
    theirs = [torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True) for g in GRADS]
    for t, g in zip(theirs, GRADS):
        t.grad = torch.tensor(g, dtype=torch.float64)
    total = clip_grad_norm_(ours, 2.0, norm_type)
    assert total == pytest.approx(float(torch.nn.utils.clip_grad_norm_(theirs, 2.0, norm_type)), rel=1e-14)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-14)
    clip_grad_value_(ours, 0.3)
    torch.nn.utils.clip_grad_value_(theirs, 0.3)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


@pytest.mark.parametrize("call, error, message", [
    (lambda p: clip_grad_norm_(p, -1.0), ValueError, "clip_grad_norm_: max_norm must be finite and >= 0, got -1.0"),
    (lambda p: clip_grad_norm_(p, "1"), TypeError, "clip_grad_norm_: max_norm must be a number, got str"),
    (lambda p: clip_grad_norm_(p, 1.0, norm_type=0), ValueError, "norm_type must be > 0 \\(or inf\\)"),
    (lambda p: clip_grad_norm_(p, 1.0, norm_type=float("nan")), ValueError, "norm_type must be >= 0 or inf"),
    (lambda p: clip_grad_norm_(MLP([2, 1]), 1.0), TypeError, r"pass module.parameters\(\)"),
    (lambda p: clip_grad_value_([1.0], 1.0), TypeError, "clip_grad_value_ takes parameters \\(Values\\), got float"),
    (lambda p: clip_grad_value_(p, float("inf")), ValueError, "clip_value must be finite and >= 0"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_bad_arguments_get_a_one_line_error(call, error, message):
    with pytest.raises(error, match=message) as info:
        call(parameters())
    assert "\n" not in str(info.value)

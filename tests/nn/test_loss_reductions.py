"""nll_loss, l1_loss, smooth_l1_loss, huber_loss, label smoothing, and reduction= on every loss: torch's
formulas written out, finite differences, and torch itself (float64) where installed."""

import numpy as np
import pytest

from tinygrad_div import Value, gradcheck
from tinygrad_div.nn import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)

rng = np.random.default_rng(3)
PREDICTION = rng.normal(size=(4, 3)) * 1.5  # differences on both sides of every threshold, none on one
TARGET = rng.normal(size=(4, 3))
LABELS = np.array([2, 0, 1, 2])
BINARY = rng.uniform(size=(4, 3))


def log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def smooth_l1(d, beta):
    return np.where(np.abs(d) < beta, 0.5 * d**2 / beta, np.abs(d) - 0.5 * beta)


def huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))


D = PREDICTION - TARGET
ROWS = np.arange(4)
#: name -> (our loss of (prediction, reduction), the unreduced loss written out, torch's call on (input, reduction))
CASES = {
    "mse": (lambda p, r: mse_loss(p, TARGET, reduction=r), D**2,
            lambda F, t, x, r: F.mse_loss(x, t(TARGET), reduction=r)),
    "l1": (lambda p, r: l1_loss(p, TARGET, reduction=r), np.abs(D),
           lambda F, t, x, r: F.l1_loss(x, t(TARGET), reduction=r)),
    "smooth_l1": (lambda p, r: smooth_l1_loss(p, TARGET, reduction=r, beta=0.7), smooth_l1(D, 0.7),
                  lambda F, t, x, r: F.smooth_l1_loss(x, t(TARGET), reduction=r, beta=0.7)),
    "smooth_l1_beta0": (lambda p, r: smooth_l1_loss(p, TARGET, reduction=r, beta=0.0), np.abs(D),
                        lambda F, t, x, r: F.smooth_l1_loss(x, t(TARGET), reduction=r, beta=0.0)),
    "huber": (lambda p, r: huber_loss(p, TARGET, reduction=r, delta=1.3), huber(D, 1.3),
              lambda F, t, x, r: F.huber_loss(x, t(TARGET), reduction=r, delta=1.3)),
    "nll": (lambda p, r: nll_loss(p, LABELS, reduction=r), -PREDICTION[ROWS, LABELS],
            lambda F, t, x, r: F.nll_loss(x, t(LABELS), reduction=r)),
    "cross_entropy": (lambda p, r: cross_entropy(p, LABELS, reduction=r), -log_softmax(PREDICTION)[ROWS, LABELS],
                      lambda F, t, x, r: F.cross_entropy(x, t(LABELS), reduction=r)),
    "bce": (lambda p, r: binary_cross_entropy_with_logits(p, BINARY, reduction=r),
            BINARY * np.logaddexp(0, -PREDICTION) + (1 - BINARY) * np.logaddexp(0, PREDICTION),
            lambda F, t, x, r: F.binary_cross_entropy_with_logits(x, t(BINARY), reduction=r)),
}


@pytest.mark.parametrize("case", CASES)
def test_each_reduction_of_each_loss_follows_the_formula(case):
    loss, unreduced, _ = CASES[case]
    np.testing.assert_allclose(loss(Value(PREDICTION), "none").data, unreduced, rtol=1e-14, atol=1e-15)
    assert loss(Value(PREDICTION), "sum").item() == pytest.approx(unreduced.sum(), rel=1e-14)
    assert loss(Value(PREDICTION), "mean").item() == pytest.approx(unreduced.mean(), rel=1e-14)


@pytest.mark.parametrize("case", ["l1", "smooth_l1", "huber", "nll"])
def test_the_new_losses_have_exact_gradients(case):
    loss = CASES[case][0]
    gradcheck(lambda p: loss(p, "sum"), [PREDICTION])
    upstream = rng.normal(size=loss(Value(PREDICTION), "none").shape)
    gradcheck(lambda p: (loss(p, "none") * upstream).sum(), [PREDICTION])


def test_label_smoothing_mixes_in_the_mean_over_classes():
    """torch's formula: (1 − ε)·nll + ε/C · (−Σ_c log p_c), each reduced."""
    eps, lp = 0.2, log_softmax(PREDICTION)
    per_sample = (1 - eps) * -lp[ROWS, LABELS] + eps / 3 * -lp.sum(axis=1)
    for reduction, expected in [("mean", per_sample.mean()), ("sum", per_sample.sum()), ("none", per_sample)]:
        found = cross_entropy(Value(PREDICTION), LABELS, reduction=reduction, label_smoothing=eps).data
        np.testing.assert_allclose(found, expected, rtol=1e-14)
    one = cross_entropy(Value(PREDICTION[0]), LABELS[0], label_smoothing=eps)
    assert one.item() == pytest.approx(per_sample[0], rel=1e-14)
    gradcheck(lambda p: cross_entropy(p, LABELS, label_smoothing=eps), [PREDICTION])


@pytest.mark.parametrize("case", CASES)
def test_each_loss_matches_torch(case):
    torch = pytest.importorskip("torch")
    loss, _, torch_loss = CASES[case]
    for reduction in ("mean", "sum", "none"):
        ours, theirs = Value(PREDICTION), torch.tensor(PREDICTION, requires_grad=True)
        value = loss(ours, reduction)
        expected = torch_loss(torch.nn.functional, torch.from_numpy, theirs, reduction)
        np.testing.assert_allclose(value.data, expected.detach().numpy(), rtol=1e-13, atol=1e-15)
        upstream = rng.normal(size=value.shape) if value.shape else 1.0
        value.backward(upstream)
        expected.backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_label_smoothing_matches_torch():
    torch = pytest.importorskip("torch")
    for reduction in ("mean", "sum", "none"):
        expected = torch.nn.functional.cross_entropy(torch.from_numpy(PREDICTION), torch.from_numpy(LABELS),
                                                     reduction=reduction, label_smoothing=0.3)
        found = cross_entropy(Value(PREDICTION), LABELS, reduction=reduction, label_smoothing=0.3)
        np.testing.assert_allclose(found.data, expected.numpy(), rtol=1e-14)


@pytest.mark.parametrize("call, error, message", [
    (lambda: mse_loss(Value(PREDICTION), TARGET, reduction="avg"), ValueError,
     "mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    (lambda: binary_cross_entropy_with_logits(Value(PREDICTION), BINARY, reduction=None), ValueError,
     "binary_cross_entropy_with_logits: reduction must be"),
    (lambda: cross_entropy(Value(PREDICTION), LABELS, reduction="max"), ValueError, "cross_entropy: reduction"),
    (lambda: smooth_l1_loss(Value(PREDICTION), TARGET, beta=-1.0), ValueError,
     "smooth_l1_loss: beta must be finite and >= 0, got -1.0"),
    (lambda: huber_loss(Value(PREDICTION), TARGET, delta=0.0), ValueError, "huber_loss: delta must be finite and > 0"),
    (lambda: huber_loss(Value(PREDICTION), TARGET, delta="1"), TypeError, "huber_loss: delta must be a number"),
    (lambda: l1_loss(Value(PREDICTION), TARGET[:, :1]), Exception, r"l1_loss: prediction of shape \(4, 3\)"),
    (lambda: cross_entropy(Value(PREDICTION), LABELS, label_smoothing=1.5), ValueError,
     r"label_smoothing must be a number in \[0, 1\], got 1.5"),
    (lambda: nll_loss(Value(PREDICTION), LABELS + 1), ValueError, r"nll_loss: labels must be in \[0, 3\)"),
    (lambda: nll_loss(Value(PREDICTION), LABELS[:2]), Exception, r"nll_loss: log_probs of shape \(4, 3\) need"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_bad_arguments_get_a_one_line_error(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)

"""Losses against their closed forms (and PyTorch's where installed), finite differences, and bad inputs."""

import warnings
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_div import ShapeError, Value, gradcheck, gradgradcheck
from tinygrad_div.nn.functional import softplus
from tinygrad_div.nn.losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss

finite = st.floats(-30, 30)


def log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 4)), elements=finite), st.data())
def test_cross_entropy_is_the_mean_negative_log_softmax_at_the_label(logits, data):
    labels = np.array(data.draw(st.lists(st.integers(0, logits.shape[1] - 1), min_size=len(logits),
                                         max_size=len(logits))))
    z = Value(logits)
    loss = cross_entropy(z, labels)
    expected = -np.mean(log_softmax(logits)[np.arange(len(labels)), labels])
    assert loss.item() == pytest.approx(expected, rel=1e-12, abs=1e-12)
    loss.backward()
    probabilities = np.exp(log_softmax(logits))
    one_hot = np.eye(logits.shape[1])[labels]
    np.testing.assert_allclose(z.grad, (probabilities - one_hot) / len(labels), rtol=1e-10, atol=1e-14)


def test_cross_entropy_gradients_to_second_order():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(4, 3)), np.array([0, 2, 2, 1])
    assert gradcheck(lambda z: cross_entropy(z, labels), [logits])
    assert gradgradcheck(lambda z: cross_entropy(z, labels), [logits])


def test_cross_entropy_is_exact_where_the_softmax_underflows():
    z = Value(np.array([[1000.0, 0.0, -1000.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = cross_entropy(z, np.array([2]))
        loss.backward()
    assert loss.item() == 2000.0  # −log softmax = logsumexp − z = 1000 − (−1000); softmax itself is 0 there
    np.testing.assert_array_equal(z.grad, [[1.0, 0.0, -1.0]])


def test_cross_entropy_of_one_sample_takes_a_scalar_label():
    z = np.array([0.5, -1.0, 2.0])
    assert cross_entropy(Value(z), 2).item() == pytest.approx(-log_softmax(z)[2], rel=1e-15)


def test_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(6, 5)) * 3, rng.integers(0, 5, 6)
    z, t = Value(logits), torch.tensor(logits, requires_grad=True)
    ours, theirs = cross_entropy(z, labels), torch.nn.functional.cross_entropy(t, torch.from_numpy(labels))
    ours.backward()
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-14)
    np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("labels, error, message", [
    (np.array([0.0, 1.0]), TypeError, "labels must be integers"),
    (np.array([0, 3]), ValueError, r"labels must be in \[0, 3\) for 3 classes, got 3"),
    (np.array([-1, 0]), ValueError, "got -1"),
    (np.array([0, 1, 2]), ShapeError, r"need labels of shape \(2,\), got \(3,\)"),
    (Value([0.0, 1.0]), TypeError, "got a Value"),
], ids=["floats", "too-large", "negative", "shape", "value"])
def test_cross_entropy_refuses_labels_that_do_not_fit_in_one_line(labels, error, message):
    with pytest.raises(error, match=message) as info:
        cross_entropy(Value(np.zeros((2, 3))), labels)
    assert "\n" not in str(info.value)


def test_cross_entropy_needs_logits_of_one_or_two_axes():
    with pytest.raises(ShapeError, match=r"\(N, C\) or \(C,\)"):
        cross_entropy(Value(1.0), 0)


@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-800, 800)), st.data())
def test_bce_with_logits_is_the_mean_of_softplus_minus_logit_times_target(x, data):
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(0, 1)))
    z = Value(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = binary_cross_entropy_with_logits(z, y)
        loss.backward()
    expected = np.mean(np.logaddexp(0, x) - x * y)
    assert loss.item() == pytest.approx(expected, rel=1e-12, abs=1e-12)
    sigma = np.exp(-np.logaddexp(0, -x))
    # σ − y cancels where σ ≈ y: both sides then carry a few ulps of the terms (≤ 1), not of the difference
    np.testing.assert_allclose(z.grad, (sigma - y) / len(x), rtol=1e-12, atol=4 * np.finfo(float).eps / len(x))


def test_bce_with_logits_has_the_right_slope_at_zero_and_matches_torch():
    z = Value(np.array([0.0, 0.0]))
    binary_cross_entropy_with_logits(z, np.array([1.0, 0.0])).backward()
    np.testing.assert_array_equal(z.grad, [-0.25, 0.25])  # (σ(0) − y) / 2
    torch = pytest.importorskip("torch")
    # torch is exact at these points; the last two are confident and correct (loss 9.4e-14 and 3.7e-44)
    x, y = np.array([-40.0, -3.0, 0.0, 2.5, 40.0, 30.0, 100.0]), np.array([1.0, 0.0, 0.5, 1.0, 0.0, 1.0, 1.0])
    for i in range(len(x)):
        t = torch.tensor(x[i:i + 1], requires_grad=True)
        theirs = torch.nn.functional.binary_cross_entropy_with_logits(t, torch.from_numpy(y[i:i + 1]))
        theirs.backward()
        z = Value(x[i:i + 1])
        ours = binary_cross_entropy_with_logits(z, y[i:i + 1])
        ours.backward()
        assert ours.item() == pytest.approx(theirs.item(), rel=1e-15), x[i]
        if i < 5:  # torch's gradient σ(x) − y cancels at the last two (0 at x = 100); ours does not
            np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-12)


def _exact_bce(x: float, y: float) -> tuple[float, float]:
    """y·log(1 + e⁻ˣ) + (1 − y)·log(1 + eˣ) and its derivative σ(x) − y, in 400-digit decimals."""
    with localcontext() as ctx:
        ctx.prec = 400
        dx, dy = Decimal(x), Decimal(y)
        loss = dy * (1 + (-dx).exp()).ln() + (1 - dy) * (1 + dx.exp()).ln()
        return float(loss), float(1 / (1 + (-dx).exp()) - dy)


@pytest.mark.parametrize("x", [30.0, 100.0, 700.0, 37.5, 2.0, 0.0])
@pytest.mark.parametrize("side", [1.0, -1.0])
@pytest.mark.parametrize("y", [1.0, 0.0, 0.25])
def test_bce_with_logits_is_exact_on_both_sides(x, side, y):
    # a confident, correct prediction (x = 30, y = 1, or x = -30, y = 0) costs log1p(e⁻³⁰) = 9.357622968839737e-14,
    # which softplus(x) − x·y rounds to 9.237e-14 (and to 0 from x = 37); the wrong side costs about |x|
    x = side * x
    z = Value(np.array([x]))
    loss = binary_cross_entropy_with_logits(z, np.array([y]))
    loss.backward()
    want_loss, want_grad = _exact_bce(x, y)
    assert loss.item() == pytest.approx(want_loss, rel=2.3e-16, abs=0)  # one rounding
    assert z.grad[0] == pytest.approx(want_grad, rel=4.5e-16, abs=0)  # two


def test_bce_with_logits_of_a_confident_correct_prediction():
    z = Value(np.array([30.0, 100.0, -30.0]))
    loss = binary_cross_entropy_with_logits(z, np.array([1.0, 1.0, 0.0]))
    assert loss.item() == (2 * np.log1p(np.exp(-30.0)) + 3.720075976020836e-44) / 3


def test_bce_with_logits_gradients_to_second_order():
    x, y = np.array([-2.0, 0.3, 1.5]), np.array([0.0, 1.0, 0.25])
    assert gradcheck(lambda z: binary_cross_entropy_with_logits(z, y), [x])
    assert gradgradcheck(lambda z: binary_cross_entropy_with_logits(z, y), [x])


def test_bce_with_logits_refuses_targets_of_another_shape():
    with pytest.raises(ShapeError, match=r"\(3,\).*\(3, 1\)"):
        binary_cross_entropy_with_logits(Value(np.zeros(3)), np.zeros((3, 1)))


def test_softplus_is_log_one_plus_exp_without_overflow():
    x = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = softplus(Value(x)).data
    np.testing.assert_allclose(y, [0.0, np.log1p(np.exp(-20.0)), np.log(2.0), 20.0 + np.log1p(np.exp(-20.0)), 1000.0],
                               rtol=1e-15)
    assert type(softplus(Value(0.5)).data) is float


def test_mse_loss_takes_arrays_as_predictions_too():
    assert mse_loss(np.array([1.0, 3.0]), np.array([1.0, 1.0])).item() == 2.0

"""Losses: a Value graph from a prediction and a target, as torch.nn.functional's, reduced as `reduction`
says: "mean" (the default) over every element, "sum", or "none" (the elementwise losses, unreduced).

    loss = cross_entropy(net(x), labels)                       # logits (N, C), integer labels (N,)
    loss = binary_cross_entropy_with_logits(net(x), targets)   # logits and targets in [0, 1], same shape
    loss = mse_loss(prediction, target, reduction="sum")
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.ops.functional import where
from tinygrad_div.engine.value import Value
from tinygrad_div.nn.functional import softplus

REDUCTIONS = ("mean", "sum", "none")


def mse_loss(prediction: Value, target: Any, *, reduction: str = "mean") -> Value:
    """Squared error, (prediction − target)², for a target of the prediction's shape (or a number).

    The notes' error is E = ½·cost² per sample; the mean drops the ½ (and averages a
    batch), which only rescales the gradient, i.e. the learning rate.
    """
    prediction = _pair("mse_loss", prediction, target, reduction)
    return _reduce((prediction - target) ** 2, reduction)


def l1_loss(prediction: Value, target: Any, *, reduction: str = "mean") -> Value:
    """Absolute error, |prediction − target| (its gradient at 0 is 0, as torch's)."""
    prediction = _pair("l1_loss", prediction, target, reduction)
    return _reduce((prediction - target).abs(), reduction)


def smooth_l1_loss(prediction: Value, target: Any, *, reduction: str = "mean", beta: float = 1.0) -> Value:
    """torch's smooth L1, for d = prediction − target:  ½d²/β where |d| < β, else |d| − ½β;  β = 0 is l1_loss."""
    beta = _threshold("smooth_l1_loss", "beta", beta, zero_ok=True)
    prediction = _pair("smooth_l1_loss", prediction, target, reduction)
    d = prediction - target
    if beta == 0.0:  # torch's own special case (the quadratic piece would divide by 0)
        return _reduce(d.abs(), reduction)
    size = d.abs()
    return _reduce(where(size < beta, 0.5 * d * d / beta, size - 0.5 * beta), reduction)


def huber_loss(prediction: Value, target: Any, *, reduction: str = "mean", delta: float = 1.0) -> Value:
    """torch's Huber loss, for d = prediction − target:  ½d² where |d| < δ, else δ(|d| − ½δ)  (δ·smooth_l1 at β = δ)."""
    delta = _threshold("huber_loss", "delta", delta, zero_ok=False)
    prediction = _pair("huber_loss", prediction, target, reduction)
    d = prediction - target
    size = d.abs()
    return _reduce(where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta)), reduction)


def nll_loss(log_probs: Value, labels: Any, *, reduction: str = "mean") -> Value:
    """Negative log-likelihood −log_probs[label]: log-probabilities (N, C) and integer labels (N,) in [0, C),
    or one sample's (C,) and an integer label, as `torch.nn.functional.nll_loss` (no weights)."""
    log_probs = _classes("nll_loss", log_probs, reduction)
    labels = _labels("nll_loss", labels, log_probs.shape)
    if log_probs.ndim == 1:
        return -log_probs[int(labels)]
    return _reduce(-log_probs[np.arange(len(labels)), labels], reduction)


def cross_entropy(logits: Value, labels: Any, *, reduction: str = "mean", label_smoothing: float = 0.0) -> Value:
    """−log softmax(logits)[label]: logits (N, C) and integer labels (N,) in [0, C), or one sample's logits
    (C,) and an integer label, as `torch.nn.functional.cross_entropy`.

    Computed through log-softmax (logits minus their log-sum-exp), so it is exact where
    the softmax itself would underflow to 0: a confident wrong answer costs its full
    logit gap, never log(0). With label smoothing ε, torch's formula for C classes:
    (1 − ε)·nll + (ε/C)·(−Σ_c log p_c), each term reduced as `reduction` says.
    """
    logits = _classes("cross_entropy", logits, reduction)
    labels = _labels("cross_entropy", labels, logits.shape)
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float, np.floating, np.integer)) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    log_probs = logits.log_softmax(axis=-1)
    if logits.ndim == 1:
        nll = -log_probs[int(labels)]
    else:
        nll = _reduce(-log_probs[np.arange(len(labels)), labels], reduction)
    if not label_smoothing:
        return nll
    smooth = -log_probs.sum(axis=-1)
    if logits.ndim == 2:
        smooth = _reduce(smooth, reduction)
    return (1.0 - label_smoothing) * nll + smooth * (float(label_smoothing) / logits.shape[-1])


def binary_cross_entropy_with_logits(logits: Value, targets: Any, *, reduction: str = "mean") -> Value:
    """−[y·log σ(x) + (1 − y)·log(1 − σ(x))] = mean(y·softplus(−x) + (1 − y)·softplus(x)),
    for logits x and targets y in [0, 1].

    Each term is a softplus, log(1 + e^±x), which is exact for any logit, and for
    targets in [0, 1] the two terms are never of opposite sign: nothing cancels. A
    confident, correct prediction costs its true, tiny loss (x = 30, y = 1:
    log1p(e⁻³⁰) = 9.357622968839737e-14), where softplus(x) − x·y rounds it to 9.237e-14.
    The gradient, −y·σ(−x) + (1 − y)·σ(x) = σ(x) − y, is exact on both sides the same way.
    """
    logits = _as_value(logits, "binary_cross_entropy_with_logits")
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target_shape = np.shape(targets.data if isinstance(targets, Value) else targets)
    if target_shape != logits.shape:
        raise ShapeError(f"binary_cross_entropy_with_logits: logits of shape {logits.shape} and targets of shape "
                         f"{target_shape} differ")
    if not isinstance(targets, (Value, np.ndarray, float, int)):
        targets = np.asarray(targets, dtype=np.float64)  # a list: 1 − y needs an array
    return _reduce(softplus(-logits) * targets + softplus(logits) * (1.0 - targets), reduction)


def _as_value(x: Any, loss: str) -> Value:
    if isinstance(x, Value):
        return x
    try:
        return Value(x, requires_grad=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{loss}: the prediction must be a Value or an array of numbers ({exc})") from None


def _labels(loss: str, labels: Any, logits_shape: tuple[int, ...]) -> np.ndarray:
    """`labels` as an integer array that fits the logits, or a one-line error."""
    if isinstance(labels, Value):
        raise TypeError(f"{loss}: labels must be integers (class indices), got a Value of floats")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{loss}: labels must be integers (class indices), got dtype {labels.dtype}")
    expected = logits_shape[:-1]
    if labels.shape != expected:
        what = "logits" if loss == "cross_entropy" else "log_probs"
        raise ShapeError(f"{loss}: {what} of shape {logits_shape} need labels of shape {expected}, "
                         f"got {labels.shape}")
    classes = logits_shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)].flat[0]
        raise ValueError(f"{loss}: labels must be in [0, {classes}) for {classes} classes, got {bad}")
    return labels



def _reduce(loss: Value, reduction: str) -> Value:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _check_reduction(loss: str, reduction: Any) -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{loss}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _pair(loss: str, prediction: Any, target: Any, reduction: str) -> Value:
    """The prediction as a Value, checked against a target of its shape (or a number) and the reduction."""
    prediction = _as_value(prediction, loss)
    _check_reduction(loss, reduction)
    target_shape = np.shape(target.data if isinstance(target, Value) else target)
    if target_shape not in ((), prediction.shape):
        # e.g. (n, 1) against (n,) would broadcast to (n, n): every prediction against every target
        raise ShapeError(f"{loss}: prediction of shape {prediction.shape} and target of shape {target_shape} "
                         "differ; broadcasting them would compare every prediction with every target")
    return prediction


def _classes(loss: str, scores: Any, reduction: str) -> Value:
    scores = _as_value(scores, loss)
    _check_reduction(loss, reduction)
    if scores.ndim not in (1, 2):
        what = "logits" if loss == "cross_entropy" else "log_probs"
        raise ShapeError(f"{loss}: {what} must be (N, C) or (C,), got shape {scores.shape}")
    return scores


def _threshold(loss: str, name: str, value: Any, zero_ok: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{loss}: {name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not (value >= 0.0 if zero_ok else value > 0.0) or value == float("inf"):
        raise ValueError(f"{loss}: {name} must be finite and {'>= 0' if zero_ok else '> 0'}, got {value}")
    return value

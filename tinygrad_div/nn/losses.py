"""Losses: a Value graph from a prediction and a target, reduced to one number by the mean (PyTorch's default).

    loss = cross_entropy(net(x), labels)                       # logits (N, C), integer labels (N,)
    loss = binary_cross_entropy_with_logits(net(x), targets)   # logits and targets in [0, 1], same shape
    loss = mse_loss(prediction, target)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.value import Value
from tinygrad_div.nn.functional import softplus


def mse_loss(prediction: Value, target: Any) -> Value:
    """Mean squared error, mean((prediction − target)²), for a target of the prediction's shape (or a number).

    The notes' error is E = ½·cost² per sample; the mean drops the ½ (and averages a
    batch), which only rescales the gradient, i.e. the learning rate.
    """
    prediction = _as_value(prediction, "mse_loss")
    target_shape = np.shape(target.data if isinstance(target, Value) else target)
    if target_shape not in ((), prediction.shape):
        # e.g. (n, 1) against (n,) would broadcast to (n, n): every prediction against every target
        raise ShapeError(f"mse_loss: prediction of shape {prediction.shape} and target of shape {target_shape} "
                         "differ; broadcasting them would compare every prediction with every target")
    return ((prediction - target) ** 2).mean()


def cross_entropy(logits: Value, labels: Any) -> Value:
    """mean over samples of −log softmax(logits)[label]: logits (N, C) and integer labels (N,) in [0, C),
    or one sample's logits (C,) and an integer label, as `torch.nn.functional.cross_entropy`.

    Computed through log-softmax (logits minus their log-sum-exp), so it is exact where
    the softmax itself would underflow to 0: a confident wrong answer costs its full
    logit gap, never log(0).
    """
    logits = _as_value(logits, "cross_entropy")
    if logits.ndim not in (1, 2):
        raise ShapeError(f"cross_entropy: logits must be (N, C) or (C,), got shape {logits.shape}")
    labels = _labels(labels, logits.shape)
    log_probs = logits.log_softmax(axis=-1)
    if logits.ndim == 1:
        return -log_probs[int(labels)]
    return -log_probs[np.arange(len(labels)), labels].mean()


def binary_cross_entropy_with_logits(logits: Value, targets: Any) -> Value:
    """mean of −[y·log σ(x) + (1 − y)·log(1 − σ(x))] = mean(y·softplus(−x) + (1 − y)·softplus(x)),
    for logits x and targets y in [0, 1].

    Each term is a softplus, log(1 + e^±x), which is exact for any logit, and for
    targets in [0, 1] the two terms are never of opposite sign: nothing cancels. A
    confident, correct prediction costs its true, tiny loss (x = 30, y = 1:
    log1p(e⁻³⁰) = 9.357622968840175e-14), where softplus(x) − x·y would round it away.
    The gradient, −y·σ(−x) + (1 − y)·σ(x) = σ(x) − y, is exact on both sides the same way.
    """
    logits = _as_value(logits, "binary_cross_entropy_with_logits")
    target_shape = np.shape(targets.data if isinstance(targets, Value) else targets)
    if target_shape != logits.shape:
        raise ShapeError(f"binary_cross_entropy_with_logits: logits of shape {logits.shape} and targets of shape "
                         f"{target_shape} differ")
    if not isinstance(targets, (Value, np.ndarray, float, int)):
        targets = np.asarray(targets, dtype=np.float64)  # a list: 1 − y needs an array
    return (softplus(-logits) * targets + softplus(logits) * (1.0 - targets)).mean()


def _as_value(x: Any, loss: str) -> Value:
    if isinstance(x, Value):
        return x
    try:
        return Value(x, requires_grad=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{loss}: the prediction must be a Value or an array of numbers ({exc})") from None


def _labels(labels: Any, logits_shape: tuple[int, ...]) -> np.ndarray:
    """`labels` as an integer array that fits the logits, or a one-line error."""
    if isinstance(labels, Value):
        raise TypeError("cross_entropy: labels must be integers (class indices), got a Value of floats")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integers (class indices), got dtype {labels.dtype}")
    expected = logits_shape[:-1]
    if labels.shape != expected:
        raise ShapeError(f"cross_entropy: logits of shape {logits_shape} need labels of shape {expected}, "
                         f"got {labels.shape}")
    classes = logits_shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)].flat[0]
        raise ValueError(f"cross_entropy: labels must be in [0, {classes}) for {classes} classes, got {bad}")
    return labels


"""Losses: a Value graph from a prediction and a target, reduced to one number by the mean."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.value import Value


def mse_loss(prediction: Value, target: Any) -> Value:
    """Mean squared error, mean((prediction − target)²), for a target of the prediction's shape (or a number).

    The notes' error is E = ½·cost² per sample; the mean drops the ½ (and averages a
    batch), which only rescales the gradient, i.e. the learning rate.
    """
    target_shape = np.shape(target.data if isinstance(target, Value) else target)
    if target_shape not in ((), prediction.shape):
        # e.g. (n, 1) against (n,) would broadcast to (n, n): every prediction against every target
        raise ShapeError(f"mse_loss: prediction of shape {prediction.shape} and target of shape {target_shape} "
                         "differ; broadcasting them would compare every prediction with every target")
    return ((prediction - target) ** 2).mean()

"""Argument checks shared by the optimizers and schedulers: one line each, naming the owner and the argument."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


def real(owner: str, what: str, value: Any) -> float:
    """`value` as a finite float, or a one-line TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {what} must be a number, got {type(value).__name__} {short(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {what} must be finite, got {value}")
    return value


def learning_rate(owner: str, lr: Any) -> float:
    """`lr` as a finite float > 0, or a one-line TypeError/ValueError."""
    lr = real(owner, "lr", lr)
    if not lr > 0:
        raise ValueError(f"{owner}: lr must be > 0, got {lr}")
    return lr


def non_negative(owner: str, what: str, value: Any) -> float:
    value = real(owner, what, value)
    if value < 0:
        raise ValueError(f"{owner}: {what} must be >= 0, got {value}")
    return value


def positive_int(owner: str, what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {what} must be an integer, got {type(value).__name__} {short(value)}")
    if value <= 0:
        raise ValueError(f"{owner}: {what} must be > 0, got {value}")
    return int(value)


def flag(owner: str, what: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {what} must be True or False, got {type(value).__name__} {short(value)}")
    return bool(value)


def betas(owner: str, value: Any) -> tuple[float, float]:
    """A pair of coefficients in [0, 1)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or len(pair := tuple(value)) != 2:
        raise TypeError(f"{owner}: betas must be a pair (beta1, beta2), got {short(value)}")
    pair = tuple(real(owner, f"betas[{i}]", b) for i, b in enumerate(pair))
    for i, b in enumerate(pair):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"{owner}: betas[{i}] must be in [0, 1), got {b}")
    return pair


def short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."

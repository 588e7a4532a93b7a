"""Gradient clipping, as torch.nn.utils: `clip_grad_norm_` and `clip_grad_value_`.

    loss.backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)   # the norm before clipping
    optimizer.step()

Both act on the `.grad` of every parameter that has one (the rest are skipped) and
assign new arrays, never writing into the old ones (the engine may hand one gradient
array to several leaves). A gradient that is a Value (after `create_graph=True`) is
clipped as its data.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_div.engine.value import Data, Value, to_data

#: added to the total norm before dividing, as torch does (no division by zero for zero gradients)
EPS = 1e-6


def clip_grad_norm_(parameters: Value | Iterable[Value], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scale the gradients together so that their total norm is at most `max_norm`; return the total norm.

    With ‖·‖ the p-norm (p = `norm_type`, inf for the largest magnitude), torch's formula:
        total = ‖(‖g₁‖, ‖g₂‖, …)‖,   c = max_norm / (total + 1e-6),   gᵢ ← gᵢ·c   if c < 1
    (torch multiplies by min(c, 1) always; by 1 it changes no bit). A non-finite total
    scales as torch does (by 0 for inf, so inf entries become NaN; NaN for NaN), or, with
    `error_if_nonfinite=True`, raises RuntimeError and changes nothing.
    """
    grads = _gradients("clip_grad_norm_", parameters)
    max_norm = _non_negative("clip_grad_norm_", "max_norm", max_norm)
    norm_type = _non_negative("clip_grad_norm_", "norm_type", norm_type, infinite=True)
    if norm_type == 0:
        raise ValueError("clip_grad_norm_: norm_type must be > 0 (or inf), got 0.0")
    if not grads:
        return 0.0
    total = _norm(np.array([_norm(g, norm_type) for _, g in grads]), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, "
                           "so it cannot be clipped (error_if_nonfinite=False scales by it anyway)")
    coefficient = max_norm / (total + EPS)
    if not coefficient >= 1.0:  # NaN included, as torch's min(c, 1)
        with np.errstate(invalid="ignore"):  # inf · 0
            for p, g in grads:
                p.grad = to_data(g * coefficient)
    return total


def clip_grad_value_(parameters: Value | Iterable[Value], clip_value: float) -> None:
    """Limit every gradient entry to [−clip_value, clip_value] (torch's clamp; NaN stays NaN)."""
    grads = _gradients("clip_grad_value_", parameters)
    clip_value = _non_negative("clip_grad_value_", "clip_value", clip_value)
    for p, g in grads:
        p.grad = to_data(np.clip(g, -clip_value, clip_value))


def _norm(g: Data, p: float) -> float:
    magnitudes = np.abs(g)
    if p == math.inf:
        return float(np.max(magnitudes, initial=0.0))
    if p == 2.0:
        return float(np.sqrt(np.sum(magnitudes * magnitudes)))
    return float(np.sum(magnitudes**p) ** (1.0 / p))


def _gradients(owner: str, parameters: Any) -> list[tuple[Value, Data]]:
    """(parameter, its gradient's data) for every parameter that has a gradient."""
    if isinstance(parameters, Value):
        parameters = [parameters]
    elif not isinstance(parameters, Iterable) or hasattr(parameters, "named_parameters"):
        hint = " (pass module.parameters())" if hasattr(parameters, "named_parameters") else ""
        raise TypeError(f"{owner} takes parameters (an iterable of Values), got {type(parameters).__name__}{hint}")
    found = []
    for p in parameters:
        if not isinstance(p, Value):
            raise TypeError(f"{owner} takes parameters (Values), got {type(p).__name__} in the list")
        if p.grad is not None:
            found.append((p, p.grad.data if isinstance(p.grad, Value) else p.grad))
    return found


def _non_negative(owner: str, what: str, value: Any, infinite: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {what} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not value >= 0 or (value == math.inf and not infinite):
        raise ValueError(f"{owner}: {what} must be {'>= 0 or inf' if infinite else 'finite and >= 0'}, got {value}")
    return value


__all__ = ["clip_grad_norm_", "clip_grad_value_"]

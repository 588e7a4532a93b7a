"""The ops as plain functions, numpy-style: `td.where(cond, a, b)`, `td.maximum(a, b)`, `td.softmax(v)`.

Each accepts Values, numbers and arrays alike (anything but a Value is a constant)
and takes `dim=` wherever it takes `axis=` (torch's name; both at once: TypeError),
and records exactly one op (`clip`, `unsqueeze` and `flatten` are spellings of one).
The same ops are Value methods (`v.clip(0, 1)`) and run under numpy's own names
(`np.maximum(v, 0)`, see numpy_protocol).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_div.engine.ops.compare import argmax, argmin
from tinygrad_div.engine.ops.elementwise import Cos, Expm1, Log1p, Sin, Sqrt
from tinygrad_div.engine.ops.join import Concatenate, Stack
from tinygrad_div.engine.ops.normalize import LogSoftmax, LogSumExp, Softmax
from tinygrad_div.engine.ops.select import Clip, Max, Maximum, Min, Minimum, Where
from tinygrad_div.engine.ops.shape import ExpandDims, Flatten, Squeeze
from tinygrad_div.engine.value import FIRST_AXIS, LAST_AXIS, Value, dim_or_axis, required_axis

Axis = int | tuple[int, ...] | None

__all__ = [
    "where", "maximum", "minimum", "clip", "amax", "amin", "argmax", "argmin",
    "sqrt", "sin", "cos", "log1p", "expm1", "softmax", "log_softmax", "logsumexp",
    "concatenate", "stack", "squeeze", "expand_dims", "unsqueeze", "flatten",
]


def where(cond: Any, a: Any, b: Any) -> Value:
    """a where `cond` (a mask: `v > 0`, a bool array or bool) else b, elementwise with broadcasting."""
    return Where.apply(cond, a, b)


def maximum(a: Any, b: Any) -> Value:
    """The elementwise larger of a and b; at a tie each gets half the gradient (as torch.maximum)."""
    return Maximum.apply(a, b)


def minimum(a: Any, b: Any) -> Value:
    """The elementwise smaller of a and b; at a tie each gets half the gradient (as torch.minimum)."""
    return Minimum.apply(a, b)


def clip(a: Any, lo: Any = None, hi: Any = None) -> Value:
    """a limited to [lo, hi] (None: unlimited on that side), as np.clip and torch.clamp."""
    return Clip.apply(a, -np.inf if lo is None else lo, np.inf if hi is None else hi)


def amax(a: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Value:
    """The maximum over `axis` (all when None); tied maxima share the gradient evenly (torch.amax)."""
    if dim is not None:
        axis = dim_or_axis("amax", axis, dim)
    return Max.apply(a, axis=axis, keepdims=keepdims)


def amin(a: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Value:
    """The minimum over `axis` (all when None); tied minima share the gradient evenly (torch.amin)."""
    if dim is not None:
        axis = dim_or_axis("amin", axis, dim)
    return Min.apply(a, axis=axis, keepdims=keepdims)


def sqrt(a: Any) -> Value:
    return Sqrt.apply(a)


def sin(a: Any) -> Value:
    return Sin.apply(a)


def cos(a: Any) -> Value:
    return Cos.apply(a)


def log1p(a: Any) -> Value:
    return Log1p.apply(a)


def expm1(a: Any) -> Value:
    return Expm1.apply(a)


def softmax(a: Any, axis: Axis = LAST_AXIS, *, dim: Axis = None) -> Value:
    if dim is not None or axis is LAST_AXIS:
        axis = dim_or_axis("softmax", axis, dim)
    return Softmax.apply(a, axis=axis)


def log_softmax(a: Any, axis: Axis = LAST_AXIS, *, dim: Axis = None) -> Value:
    if dim is not None or axis is LAST_AXIS:
        axis = dim_or_axis("log_softmax", axis, dim)
    return LogSoftmax.apply(a, axis=axis)


def logsumexp(a: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Value:
    if dim is not None:
        axis = dim_or_axis("logsumexp", axis, dim)
    return LogSumExp.apply(a, axis=axis, keepdims=keepdims)


def concatenate(values: Sequence[Any], axis: int = FIRST_AXIS, *, dim: int | None = None) -> Value:
    """The values joined along an existing `axis` (np.concatenate, torch.cat)."""
    if dim is not None or axis is FIRST_AXIS:
        axis = dim_or_axis("concatenate", axis, dim)
    return Concatenate.apply(*_sequence(values, "concatenate"), axis=axis)


def stack(values: Sequence[Any], axis: int = FIRST_AXIS, *, dim: int | None = None) -> Value:
    """The values, all of one shape, joined along a new `axis` (np.stack, torch.stack)."""
    if dim is not None or axis is FIRST_AXIS:
        axis = dim_or_axis("stack", axis, dim)
    return Stack.apply(*_sequence(values, "stack"), axis=axis)


def squeeze(a: Any, axis: Axis = None, *, dim: Axis = None) -> Value:
    if dim is not None:
        axis = dim_or_axis("squeeze", axis, dim)
    return Squeeze.apply(a, axis=axis)


def expand_dims(a: Any, axis: int | tuple[int, ...] | None = None, *, dim: int | tuple[int, ...] | None = None
                ) -> Value:
    if dim is not None or axis is None:
        axis = required_axis("expand_dims", axis, dim)
    return ExpandDims.apply(a, axis=axis)


def unsqueeze(a: Any, dim: int) -> Value:
    """torch's name for expand_dims."""
    return ExpandDims.apply(a, axis=dim)


def flatten(a: Any, start: int = 0, end: int = -1) -> Value:
    """Axes start..end (inclusive) merged into one, as torch.flatten; all of them by default."""
    return Flatten.apply(a, start=start, end=end)


def _sequence(values: Any, name: str) -> list:
    if isinstance(values, (Value, np.ndarray)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} takes a list or tuple of Values, got {type(values).__name__}")
    return list(values)


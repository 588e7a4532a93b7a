"""Comparisons and arg-reductions: they answer questions about data and are never recorded.

`v < w` is a boolean mask (a numpy bool array, or a Python bool for scalars), not a
Value: a comparison is piecewise constant, its derivative is zero wherever it exists,
so recording it would only cost time. Masks are what `where`, indexing and
`GetItem` take. `argmax`/`argmin` likewise return integer indices (numpy's intp).

`==` on Values is *not* elementwise: Values are graph nodes, hashed and compared by
identity, because the engine keys dicts and sets by them (pending gradients,
`grad()`'s inputs) and Python's `in`, `list.index` and `list.remove` call `==`. An
elementwise `==` would make those raise (an ambiguous truth value) or, for scalars,
confuse two different nodes holding equal numbers. Use `v.eq(w)` / `v.ne(w)` (or
`np.equal(v, w)`) for the elementwise mask, as one uses `torch.eq`.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from tinygrad_div.engine.mode import state
from tinygrad_div.engine.value import Value, dim_or_axis, to_data

#: symbol, Python operator (for two floats), numpy ufunc (anything else)
COMPARISONS = {
    "lt": ("<", operator.lt, np.less),
    "le": ("<=", operator.le, np.less_equal),
    "gt": (">", operator.gt, np.greater),
    "ge": (">=", operator.ge, np.greater_equal),
    "eq": ("==", operator.eq, np.equal),
    "ne": ("!=", operator.ne, np.not_equal),
}


def _operand(x: Any, symbol: str) -> Any:
    if isinstance(x, Value):
        return x.data
    if type(x) is float or (type(x) is np.ndarray and x.dtype.kind in "biuf"):
        return x
    try:
        return to_data(x)
    except TypeError:
        raise TypeError(f"'{symbol}' is not supported between a Value and {type(x).__name__} {x!r:.40}") from None


def compare(name: str, a: Any, b: Any) -> bool | np.ndarray:
    """The mask `a <name> b` of the data behind a and b (Values, numbers or arrays)."""
    symbol, scalar_op, ufunc = COMPARISONS[name]
    if state.tracer is not None:  # tinygrad_div.compile: a mask must be a line of the program, not data
        return state.tracer.compare(symbol, a, b, _compare(symbol, scalar_op, ufunc, a, b))
    return _compare(symbol, scalar_op, ufunc, a, b)


def _compare(symbol: str, scalar_op: Any, ufunc: Any, a: Any, b: Any) -> bool | np.ndarray:
    a, b = _operand(a, symbol), _operand(b, symbol)
    if type(a) is float and type(b) is float:
        return scalar_op(a, b)
    try:
        out = ufunc(a, b)
    except ValueError as exc:
        raise ValueError(f"'{symbol}' on shapes {np.shape(a)} and {np.shape(b)}: {exc}") from None
    return bool(out) if type(out) is np.bool_ else out


def _arg(fn: Any, name: str, a: Any, axis: int | None, keepdims: bool) -> Any:
    data = a.data if isinstance(a, Value) else to_data(a)
    try:
        return fn(data, axis=axis, keepdims=keepdims)
    except ValueError as exc:  # an empty array or a bad axis
        raise ValueError(f"{name}: {exc} (input of shape {np.shape(data)})") from None


def argmax(a: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Any:
    """Indices of the largest elements along `axis` (the flat index for None), as numpy: first of ties."""
    if dim is not None:
        axis = dim_or_axis("argmax", axis, dim)
    return _arg(np.argmax, "argmax", a, axis, keepdims)


def argmin(a: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Any:
    """Indices of the smallest elements along `axis` (the flat index for None), as numpy: first of ties."""
    if dim is not None:
        axis = dim_or_axis("argmin", axis, dim)
    return _arg(np.argmin, "argmin", a, axis, keepdims)

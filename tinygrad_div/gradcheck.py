"""`gradcheck` and `gradgradcheck`: analytic gradients against central finite differences.

    gradcheck(lambda x, y: (x * y).sigmoid(), [np.array([0.5, -1.0]), 2.0])

Small problems get their full Jacobian compared entry by entry; larger ones a few
random projections of it. A failure raises `GradcheckError` whose message names the
input, the element, both values and their difference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_div.engine.autograd import grad
from tinygrad_div.engine.value import Value

#: Up to this many output elements (and input elements per input) the Jacobian is compared in full.
FULL_JACOBIAN_SIZE = 64
#: Gradient entries smaller than this are left out of the reported relative error.
RELATIVE_FLOOR = 1e-6


class GradcheckError(AssertionError):
    """An analytic gradient that disagrees with finite differences (or a broken zero-gradient rule)."""


@dataclass
class GradientErrors:
    """The largest disagreement seen between analytic and numeric gradient entries."""

    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    entries: int = 0

    def add(self, analytic: float, numeric: float) -> None:
        error = abs(analytic - numeric)
        scale = max(abs(analytic), abs(numeric))
        self.max_abs_error = max(self.max_abs_error, error)
        if scale > RELATIVE_FLOOR:  # below it a relative error only measures rounding noise
            self.max_rel_error = max(self.max_rel_error, error / scale)
        self.entries += 1


def gradcheck(
    fn: Callable[..., Value],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check `fn`'s gradients with respect to every input; True, or raise `GradcheckError`.

    `inputs` are Python floats, float64 arrays or Values; `fn` takes one Value per
    input and returns a Value, or a tuple of them (each output is checked; other items,
    such as integer indices, are passed over, as torch does). Integer and boolean inputs (labels, indices, masks) are
    handed to `fn` as they are, never perturbed and never differentiated. Also checks
    that a zero upstream gradient gives zero.
    """
    compare_gradients(fn, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
    return True


def compare_gradients(
    fn: Callable[..., Value],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> GradientErrors:
    """`gradcheck`, returning the largest errors it saw instead of True (over every output)."""
    outputs = _outputs(fn, inputs)
    if outputs is not None:
        found = [compare_gradients(one, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed) for one in outputs]
        return GradientErrors(max(e.max_abs_error for e in found), max(e.max_rel_error for e in found),
                              sum(e.entries for e in found))
    datas = _float64_inputs(inputs)
    rng = np.random.default_rng(seed)
    xs = _values(datas)
    y = _call(fn, xs)
    out_shape = y.shape
    out_size = int(np.prod(out_shape))
    if out_size <= FULL_JACOBIAN_SIZE:
        seeds = [np.eye(out_size)[j].reshape(out_shape) for j in range(out_size)]
    else:
        seeds = [rng.standard_normal(out_shape) for _ in range(3)]
    errors = GradientErrors()
    for j, upstream in enumerate(seeds):
        analytic = _analytic(y, xs, upstream)
        for i, data in enumerate(datas):
            if is_constant(data):
                continue
            for index in _elements_to_check(np.shape(data), rng):
                numeric = _numeric(fn, datas, i, index, upstream, eps)
                value = float(np.asarray(analytic[i])[index])
                if not np.isclose(value, numeric, rtol=rtol, atol=atol):
                    where = f" (output element {_unravel(j, out_shape)})" if out_size > 1 else ""
                    if out_size > FULL_JACOBIAN_SIZE:
                        where = f" (random projection {j} of the output)"
                    raise GradcheckError(
                        f"{_name(fn)}: gradient of input {i} at element {index}{where}: "
                        f"analytic {value:.10g}, numeric {numeric:.10g}, difference {value - numeric:.3g}"
                    )
                errors.add(value, numeric)
    _check_zero_upstream(fn, y, xs)
    return errors


def gradgradcheck(
    fn: Callable[..., Value],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    projections: int = 2,
) -> bool:
    """Check second derivatives: gradcheck of random projections of `fn`'s gradient (built with create_graph).

    Projection k differentiates Σᵢ <wᵢ, d<u, fn>/dxᵢ>, with an upstream gradient u and a
    weight wᵢ per float input drawn, in that order, from numpy's `default_rng(seed)`.
    For a `fn` that returns a tuple, each output's are checked so.
    """
    outputs = _outputs(fn, inputs)
    if outputs is not None:
        for one in outputs:
            gradgradcheck(one, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, projections=projections)
        return True
    datas = _float64_inputs(inputs)
    rng = np.random.default_rng(seed)
    out_shape = _call(fn, _values(datas)).shape
    for _ in range(projections):
        upstream = rng.standard_normal(out_shape) if out_shape else float(rng.standard_normal())
        weights = [rng.standard_normal(np.shape(d)) if np.shape(d) else float(rng.standard_normal())
                   for d in datas if not is_constant(d)]

        def projected_gradient(*xs: Value, upstream=upstream, weights=weights) -> Value:
            variables = [x for x in xs if isinstance(x, Value)]
            grads = grad(_call(fn, xs), variables, upstream, create_graph=True, allow_unused=True)
            total = Value(0.0, requires_grad=False)
            for g, w in zip(grads, weights):
                if g is not None:
                    total = total + (g * w).sum()
            return total

        projected_gradient.__name__ = f"gradient of {_name(fn)}"
        gradcheck(projected_gradient, datas, eps=eps, atol=atol, rtol=rtol, seed=seed)
    return True


def _float64_inputs(inputs: Sequence[Any]) -> list:
    if isinstance(inputs, (Value, np.ndarray, float)):
        inputs = [inputs]
    datas = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            datas.append(x.data)
        elif type(x) is float or type(x) is np.float64:
            datas.append(float(x))
        elif isinstance(x, np.ndarray) and x.dtype == np.float64:
            datas.append(float(x) if x.ndim == 0 else x.copy())
        elif is_constant(x):
            datas.append(x)
        else:
            kind = f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
            raise TypeError(f"gradcheck needs float64 inputs (finite differences lose precision otherwise) "
                            f"or integer/boolean constants; input {i} is {kind}")
    if datas and all(is_constant(d) for d in datas):
        raise TypeError("gradcheck needs at least one float64 input to differentiate; all are integer/boolean")
    return datas


def is_constant(data: Any) -> bool:
    """Integer and boolean data (labels, indices, masks): passed through, never perturbed or differentiated."""
    if isinstance(data, np.ndarray):
        return data.dtype.kind in "biu"
    return isinstance(data, (bool, np.bool_, np.integer))


def _values(datas: list) -> list:
    """A fresh Value per float input; constants stay as they are."""
    return [d if is_constant(d) else Value(d) for d in datas]


def _call(fn: Callable[..., Value], xs: Sequence[Value]) -> Value:
    y = fn(*xs)
    if not isinstance(y, Value):
        raise TypeError(f"{_name(fn)} must return a Value (or a tuple of Values), it returned {type(y).__name__}")
    return y


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Callable[..., Value]] | None:
    """For a `fn` that returns a tuple (or list): one function per Value in it, named by its position; else None."""
    y = fn(*_values(_float64_inputs(inputs)))
    if not isinstance(y, (tuple, list)):
        return None
    positions = [k for k, item in enumerate(y) if isinstance(item, Value)]
    if not positions:
        raise TypeError(f"{_name(fn)} returned a {type(y).__name__} with no Value in it: nothing to check")
    return [_output(fn, k) for k in positions]


def _output(fn: Callable[..., Any], k: int) -> Callable[..., Value]:
    def output(*xs: Any) -> Value:
        return fn(*xs)[k]

    output.__name__ = f"{_name(fn)} (output {k})"
    return output


def _name(fn: Callable) -> str:
    return getattr(fn, "__name__", repr(fn))


def _analytic(y: Value, xs: list, upstream: Any) -> list:
    """d<upstream, y>/dx for every input (None for a constant one)."""
    variables = [x for x in xs if isinstance(x, Value)]
    if not y.requires_grad:  # fn ignores its inputs: every gradient is zero
        found = [None] * len(variables)
    else:
        found = list(grad(y, variables, upstream, retain_graph=True, allow_unused=True))
    grads = iter(found)
    return [
        (None if not isinstance(x, Value) else np.zeros(x.shape) if (g := next(grads)) is None else g) for x in xs
    ]


def _elements_to_check(shape: tuple, rng: np.random.Generator) -> list[tuple]:
    size = int(np.prod(shape))
    if size <= FULL_JACOBIAN_SIZE:
        flat = range(size)
    else:
        flat = sorted(rng.choice(size, FULL_JACOBIAN_SIZE, replace=False))
    return [_unravel(f, shape) for f in flat]


def _unravel(flat_index: int, shape: tuple) -> tuple[int, ...]:
    return tuple(int(k) for k in np.unravel_index(flat_index, shape))


def _numeric(fn: Callable, datas: list, i: int, index: tuple, upstream: Any, eps: float) -> float:
    """Central difference of <upstream, fn(...)> in direction of element `index` of input i."""

    def evaluate(shift: float) -> float:
        shifted = list(datas)
        if index:
            moved = np.array(datas[i], dtype=np.float64)
            moved[index] += shift
        else:
            moved = datas[i] + shift
        shifted[i] = moved
        out = _call(fn, _values(shifted)).data
        return float(np.sum(np.asarray(out) * upstream))

    return (evaluate(eps) - evaluate(-eps)) / (2.0 * eps)


def _check_zero_upstream(fn: Callable, y: Value, xs: list[Value]) -> None:
    zero = np.zeros(y.shape) if y.shape else 0.0
    for i, g in enumerate(_analytic(y, xs, zero)):
        if g is not None and np.any(np.asarray(g) != 0.0):
            raise GradcheckError(f"{_name(fn)}: a zero upstream gradient gave a nonzero gradient for input {i}")

"""Gradient-check an op in one line: `check_op(MyOp)`, plus the hypothesis strategies behind it.

    from tinygrad_div import Function
    from tinygrad_div.testing import check_op

    class Softplus(Function):
        '''y = ln(1 + e^x);  dy/dx = σ(x)'''
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.logaddexp(0.0, x)
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad / (1.0 + np.exp(-x))

    check_op(Softplus)   # raises GradcheckError, with the shrunk failing input, if backward is wrong

Inputs are drawn from what the op declares (`Function.domain`, `.shapes`,
`.example_params`): float64 scalars and arrays of mutually broadcastable shapes
(or matmul-compatible ones), kept away from kinks and poles. The project's own test
suite runs exactly this on every registered op. Needs hypothesis (the `dev` extra).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, configuration, given, reject, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_div.engine.function import Function, input_count
from tinygrad_div.gradcheck import GradcheckError, GradientErrors, compare_gradients, gradgradcheck

#: The magnitude range inputs are drawn from; "nonzero" and "positive" stay >= LOW away from 0.
LOW, HIGH = 0.1, 2.0

MATMUL_SIGNATURE = "(m?,n),(n,p?)->(m?,p?)"


def floats_in(domain: str) -> st.SearchStrategy[float]:
    """Float64 scalars in a named domain: "real", "positive" or "nonzero"."""
    if domain == "real":
        return st.floats(-HIGH, HIGH)
    if domain == "positive":
        return st.floats(LOW, HIGH)
    if domain == "nonzero":
        return st.floats(LOW, HIGH) | st.floats(-HIGH, -LOW)
    raise ValueError(f"unknown domain {domain!r}: use 'real', 'positive' or 'nonzero'")


def data_in(domain: str, shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    """Engine-format data of this shape: a Python float for (), else a float64 array."""
    if shape == ():
        return floats_in(domain)
    return hnp.arrays(np.float64, shape, elements=floats_in(domain))


def input_shapes(op: type[Function], count: int) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Shapes for the op's inputs: mutually broadcastable, or matmul-compatible (1-D and stacked too)."""
    if op.shapes == "matmul":
        return hnp.mutually_broadcastable_shapes(signature=MATMUL_SIGNATURE, max_dims=3, max_side=3).map(
            lambda shapes: shapes.input_shapes
        )
    if op.shapes != "broadcast":
        raise ValueError(f"{op.__name__}.shapes must be 'broadcast' or 'matmul', not {op.shapes!r}")
    return hnp.mutually_broadcastable_shapes(num_shapes=count, max_dims=3, max_side=3).map(
        lambda shapes: shapes.input_shapes
    )


@st.composite
def op_inputs(draw: st.DrawFn, op: type[Function]) -> tuple[list[Any], dict[str, Any]]:
    """One gradient-check case for `op`: its input data and keyword parameters."""
    count = input_count(op)
    shapes = draw(input_shapes(op, count))
    domains = op.domain if isinstance(op.domain, tuple) else (op.domain,) * count
    if len(domains) != count:
        raise ValueError(f"{op.__name__}.domain names {len(domains)} inputs, forward takes {count}")
    candidates = op.example_params(*shapes)
    if not candidates:  # nothing sensible for these shapes (indexing a scalar, say): draw again
        reject()
    params = draw(st.sampled_from(candidates))
    datas = [draw(data_in(domain, shape)) for domain, shape in zip(domains, shapes)]
    return datas, params


@dataclass
class OpReport:
    """What `check_op` tried and the largest gradient errors it saw."""

    name: str
    examples: int = 0
    first_order: GradientErrors = field(default_factory=GradientErrors)
    second_order_checked: bool = False


class OpCheckError(GradcheckError):
    """An op failed its gradient check; the message carries the (shrunk) failing input."""


def check_op(
    op: type[Function],
    *,
    examples: int = 30,
    second_order: bool | None = None,
    derandomize: bool | None = True,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> OpReport:
    """Gradient-check `op` (and its second derivative) on `examples` hypothesis-drawn inputs.

    Raises `OpCheckError` naming the op, the shrunk failing input and the bad element.
    Reproducible by default; `derandomize=None` follows the active hypothesis profile.
    """
    if second_order is None:
        second_order = op.twice_differentiable
    report = OpReport(op.__name__, second_order_checked=second_order)
    failing: list[str] = []

    @settings(
        max_examples=examples, deadline=None, database=None,
        derandomize=settings.default.derandomize if derandomize is None else derandomize,
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
    )
    @given(op_inputs(op))
    def run(case: tuple[list[Any], dict[str, Any]]) -> None:
        datas, params = case

        def applied(*xs: Any) -> Any:
            return op.apply(*xs, **params)

        applied.__name__ = op.__name__
        try:
            errors = compare_gradients(applied, datas, atol=atol, rtol=rtol)
            if second_order:
                gradgradcheck(applied, datas, atol=atol, rtol=rtol)
        except Exception as exc:
            failing[:] = [f"{describe_case(datas, params)}: {exc}"]
            raise
        report.examples += 1
        first = report.first_order
        first.max_abs_error = max(first.max_abs_error, errors.max_abs_error)
        first.max_rel_error = max(first.max_rel_error, errors.max_rel_error)
        first.entries += errors.entries

    try:
        with hypothesis_storage_in_a_temporary_directory():
            run()
    except Exception as exc:
        detail = failing[-1] if failing else f"{type(exc).__name__}: {exc}"
        raise OpCheckError(f"{op.__name__} failed its gradient check on {detail}") from exc
    return report


@contextmanager
def hypothesis_storage_in_a_temporary_directory() -> Iterator[None]:
    """Point hypothesis's storage (its example database and constants cache, by default ./.hypothesis)
    at a temporary directory, so that checking an op leaves no folder in the user's working directory."""
    previous = getattr(configuration, "__hypothesis_home_directory", None)
    with tempfile.TemporaryDirectory(prefix="tinygrad_div_check_") as folder:
        configuration.set_hypothesis_home_dir(folder)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(previous)


def describe_case(datas: list[Any], params: dict[str, Any]) -> str:
    """A compact, copy-pasteable description of one case."""
    shown = ", ".join(np.array2string(np.asarray(d), precision=17, separator=", ") for d in datas)
    extra = "".join(f", {k}={v!r}" for k, v in params.items())
    return f"inputs ({shown}){extra}"

"""Gradient-check an op in one line: `check_op(MyOp)`.

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

    check_op(Softplus)   # raises OpCheckError, with the shrunk failing input, if backward is wrong

Inputs are drawn by `tinygrad_div.testing.strategies.op_inputs`, from what the op
declares (`Function.domain`, `.shapes`, `.example_params`): float64 scalars and arrays
of mutually broadcastable shapes (or matmul-compatible ones), kept away from kinks and
poles. The same op gets the same inputs wherever check_op runs (a script, pytest, the
`check` command). The project's own test suite runs exactly this on every registered
op. Needs hypothesis (the `dev` extra).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_div.engine.function import Function
from tinygrad_div.gradcheck import GradientErrors, compare_gradients, gradgradcheck
from tinygrad_div.testing.errors import OpCheckError, OpHookError, hypothesis_missing
from tinygrad_div.testing.locate import joined_outputs
from tinygrad_div.testing.strategies import (
    HIGH,
    LOW,
    call_hook,
    draws_independent_of_loaded_modules,
    inputs_count,
    op_inputs,
    parse_shapes,
)

try:
    from hypothesis import HealthCheck, configuration, given, settings
except ModuleNotFoundError as exc:
    raise hypothesis_missing("tinygrad_div.testing.check_op", exc) from None


@dataclass
class OpReport:
    """What `check_op` tried and the largest gradient errors it saw."""

    name: str
    examples: int = 0
    first_order: GradientErrors = field(default_factory=GradientErrors)
    second_order_checked: bool = False
    #: what the `paths` checker returned (None when no paths were checked)
    paths: Any = None


def check_op(
    op: type[Function],
    *,
    examples: int = 30,
    second_order: bool | None = None,
    derandomize: bool | None = True,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    paths: Callable[[type[Function]], Any] | None = None,
) -> OpReport:
    """Gradient-check `op` (and its second derivative) on `examples` hypothesis-drawn inputs.

    After the drawn cases come the op's fixed ones (`fixed_cases`: every example
    parameter at full shapes), so a rule that is only right for one element fails
    however few examples are drawn. Raises `OpCheckError` naming the op, the stage
    ("gradient check" or "second-derivative check"), the shrunk failing input and the
    bad element; `OpHookError` when one of the op's own hooks fails. Reproducible by
    default; `derandomize=None` follows the active hypothesis profile.

    `paths`: a checker of the op's other paths, called as `paths(op)` after the
    derivatives pass, returning a report whose `.ok` is False on a disagreement (the
    cross-path registry's `check_paths`: compiled step bit for bit, ONNX; it sits in a
    layer above this one, so it is passed in; the `check` command passes it). A
    report that is not ok raises `OpCheckError` with the report as its message.
    """
    if second_order is None:
        second_order = op.twice_differentiable
    report = OpReport(op.__name__, second_order_checked=second_order)
    failing: list[str] = []

    def check_case(datas: list[Any], params: dict[str, Any]) -> None:
        def applied(*xs: Any) -> Any:
            return joined_outputs(op.apply(*xs, **params))

        applied.__name__ = op.__name__
        stage = "gradient check"
        try:
            errors = compare_gradients(applied, datas, atol=atol, rtol=rtol)
            if second_order:
                stage = "second-derivative check"
                gradgradcheck(applied, datas, atol=atol, rtol=rtol)
        except Exception as exc:
            failing[:] = [f"{op.__name__} failed its {stage} on {describe_case(datas, params)}: {exc}"]
            raise
        first = report.first_order
        first.max_abs_error = max(first.max_abs_error, errors.max_abs_error)
        first.max_rel_error = max(first.max_rel_error, errors.max_rel_error)
        first.entries += errors.entries

    @settings(
        max_examples=examples, deadline=None, database=None,
        derandomize=settings.default.derandomize if derandomize is None else derandomize,
        suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
    )
    @given(op_inputs(op))
    def run(case: tuple[list[Any], dict[str, Any]]) -> None:
        check_case(*case)
        report.examples += 1

    try:
        with hypothesis_storage_in_a_temporary_directory(), draws_independent_of_loaded_modules():
            run()
        for case in fixed_cases(op):  # after the drawn ones: a bug they find is shrunk to a small input
            check_case(*case)
    except OpHookError:
        raise
    except Exception as exc:
        detail = failing[-1] if failing else f"{op.__name__} failed its gradient check: {type(exc).__name__}: {exc}"
        raise OpCheckError(detail) from exc
    if paths is not None:
        report.paths = paths(op)
        if not getattr(report.paths, "ok", False):
            raise OpCheckError(f"{op.__name__} failed its check of the other paths: {report.paths}")
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


def fixed_cases(op: type[Function]) -> list[tuple[list[Any], dict[str, Any]]]:
    """Deterministic cases at full shapes, one per example parameter: (2, 3) for broadcasting
    inputs, (2, 3) @ (3, 2) for matmul, sizes 2, 3, 2... for named dimensions. None for an op
    that draws its own inputs."""
    if getattr(op, "draw_inputs", None) is not None:
        return []
    count = inputs_count(op)
    parsed = parse_shapes(op)
    if parsed is not None:
        names = sorted({d for dims in parsed for d in dims if not d.isdigit()})
        size = {name: 2 + i % 2 for i, name in enumerate(names)}
        shapes = [tuple(int(d) if d.isdigit() else size[d] for d in dims) for dims in parsed]
    elif op.shapes == "matmul":
        shapes = [(2, 3), (3, 2)]
    else:
        shapes = [(2, 3, *(2,) * (op.min_ndim - 2))] * count
    domains = op.domain if isinstance(op.domain, tuple) else (op.domain,) * count
    rng = np.random.default_rng(0)
    datas = []
    for domain, shape in zip(domains, shapes):
        if domain == "bool":
            datas.append(rng.random(shape) < 0.5)
        elif domain == "distinct":
            datas.append(None)
        else:
            values = rng.uniform(LOW if domain != "real" else -HIGH, HIGH, shape)
            datas.append(values * rng.choice([-1.0, 1.0], shape) if domain == "nonzero" else values)
    apart = [i for i, domain in enumerate(domains) if domain == "distinct"]
    if apart:
        total = sum(int(np.prod(shapes[i])) for i in apart)
        grid = -0.9 * HIGH + rng.permutation(2 * total) * (0.9 * HIGH / total)
        start = 0
        for i in apart:
            size = int(np.prod(shapes[i]))
            datas[i] = grid[start:start + size].reshape(shapes[i])
            start += size
    candidates = call_hook(op, "example_params", *shapes)
    return [(list(datas), params) for params in candidates]


def describe_case(datas: list[Any], params: dict[str, Any]) -> str:
    """A compact, copy-pasteable description of one case."""
    shown = ", ".join(np.array2string(np.asarray(d), precision=17, separator=", ") for d in datas)
    extra = "".join(f", {k}={v!r}" for k, v in params.items())
    return f"inputs ({shown}){extra}"

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

import inspect
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, configuration, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.extra import numpy as hnp

from tinygrad_div.engine.function import Function, input_count
from tinygrad_div.engine.ops.functional import concatenate, flatten
from tinygrad_div.engine.value import Value
from tinygrad_div.gradcheck import GradcheckError, GradientErrors, compare_gradients, gradgradcheck

#: The magnitude range inputs are drawn from; "nonzero" and "positive" stay >= LOW away from 0.
LOW, HIGH = 0.1, 2.0

MATMUL_SIGNATURE = "(m?,n),(n,p?)->(m?,p?)"
#: Domains drawn one input at a time; "distinct" inputs are drawn together (see distinct_data).
DOMAINS = ("real", "positive", "nonzero", "distinct", "bool")
#: The hooks check_op calls on an op: their exceptions are reported as theirs.
HOOKS = ("draw_inputs", "example_params")


def floats_in(domain: str) -> st.SearchStrategy[float]:
    """Float64 scalars in a named domain: "real", "positive" or "nonzero"."""
    if domain == "real":
        return st.floats(-HIGH, HIGH)
    if domain == "positive":
        return st.floats(LOW, HIGH)
    if domain == "nonzero":
        return st.floats(LOW, HIGH) | st.floats(-HIGH, -LOW)
    raise ValueError(f"unknown domain {domain!r}: use one of {', '.join(map(repr, DOMAINS))}")


def data_in(domain: str, shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    """Engine-format data of this shape: a Python float for (), else a float64 array ("bool": masks)."""
    if domain == "bool":
        return st.booleans() if shape == () else hnp.arrays(np.bool_, shape)
    if shape == ():
        return floats_in(domain)
    return hnp.arrays(np.float64, shape, elements=floats_in(domain))


@st.composite
def distinct_data(draw: st.DrawFn, shapes: list[tuple[int, ...]]) -> list[Any]:
    """Data for several inputs whose elements, all of them together, are pairwise at least a grid step apart.

    This keeps finite differences off kinks where two elements meet: max(a, b) at
    a = b, or a tie inside a max over an axis. The values lie on a grid in
    [-0.9·HIGH, 0.9·HIGH] with at least twice as many points as elements, shifted by
    one drawn offset.
    """
    sizes = [int(np.prod(shape)) for shape in shapes]
    total = sum(sizes)
    slots = max(2 * total, 8)
    step = 1.8 * HIGH / slots
    picks = draw(st.lists(st.integers(0, slots - 1), min_size=total, max_size=total, unique=True))
    offset = draw(st.floats(0.0, 0.25))
    values = -0.9 * HIGH + (np.array(picks, dtype=np.float64) + offset) * step
    datas, start = [], 0
    for shape, size in zip(shapes, sizes):
        chunk = values[start:start + size]
        start += size
        datas.append(float(chunk[0]) if shape == () else chunk.reshape(shape))
    return datas


def parse_shapes(op: type[Function]) -> tuple[tuple[str, ...], ...] | None:
    """`op.shapes` as per-input dimension lists when it is a tuple of specs ("N,C", "N", ""), else None."""
    shapes = op.shapes
    if not isinstance(shapes, tuple):
        return None
    if not all(isinstance(spec, str) for spec in shapes):
        raise ValueError(f"{op.__name__}.shapes must be a tuple of strings such as ('N,C', 'N'), got {shapes!r}")
    parsed = tuple(tuple(d.strip() for d in spec.split(",")) if spec.strip() else () for spec in shapes)
    for dims in parsed:
        for d in dims:
            if not (d.isidentifier() or d.isdigit()):
                raise ValueError(f"{op.__name__}.shapes: {d!r} is not a dimension (a name such as N, or a number)")
    return parsed


def input_shapes(op: type[Function], count: int) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Shapes for the op's inputs, as `op.shapes` says.

    "broadcast": mutually broadcastable shapes of at least `op.min_ndim` axes;
    "matmul": matmul-compatible ones (1-D and stacked too); a tuple of specs such as
    ("N,C", "N"): one per input, where a name is a size from 1 to 3 shared by every
    input that uses it and a number is that size ("" is a scalar).
    """
    parsed = parse_shapes(op)
    if parsed is not None:
        names = sorted({d for dims in parsed for d in dims if not d.isdigit()})
        sizes = st.fixed_dictionaries({name: st.integers(1, 3) for name in names})
        return sizes.map(lambda size: tuple(
            tuple(int(d) if d.isdigit() else size[d] for d in dims) for dims in parsed))
    if op.shapes == "matmul":
        return hnp.mutually_broadcastable_shapes(signature=MATMUL_SIGNATURE, max_dims=3, max_side=3).map(
            lambda shapes: shapes.input_shapes
        )
    if op.shapes != "broadcast":
        raise ValueError(f"{op.__name__}.shapes must be 'broadcast', 'matmul' or a tuple of specs such as "
                         f"('N,C', 'N'), not {op.shapes!r}")
    min_ndim = op.min_ndim
    return hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=min_ndim, max_dims=max(3, min_ndim), max_side=3
    ).map(lambda shapes: shapes.input_shapes)


def inputs_count(op: type[Function]) -> int:
    """How many inputs check_op draws: one per shape spec when `shapes` lists them, else forward's."""
    parsed = parse_shapes(op)
    count = input_count(op)
    if parsed is not None:
        takes_any = any(p.kind == inspect.Parameter.VAR_POSITIONAL
                        for p in inspect.signature(op.forward).parameters.values())
        if len(parsed) != count and not takes_any:
            raise ValueError(f"{op.__name__}.shapes describes {len(parsed)} inputs, forward takes {count}")
        return len(parsed)
    return count


def call_hook(op: type[Function], name: str, *args: Any) -> Any:
    """`op.<name>(*args)`, its exception reported as that hook's (hypothesis's own control flow passes)."""
    try:
        return getattr(op, name)(*args)
    except HypothesisException:
        raise
    except Exception as exc:
        raise OpHookError(f"{op.__name__}.{name} raised {type(exc).__name__}: {exc}") from exc


@st.composite
def op_inputs(draw: st.DrawFn, op: type[Function]) -> tuple[list[Any], dict[str, Any]]:
    """One gradient-check case for `op`: its input data and keyword parameters.

    An op with a `draw_inputs(draw)` hook makes them itself; otherwise shapes come from
    `op.shapes`, data from `op.domain` and parameters from `op.example_params(*shapes)`.
    """
    if getattr(op, "draw_inputs", None) is not None:
        case = call_hook(op, "draw_inputs", draw)
        if not (isinstance(case, tuple) and len(case) == 2 and isinstance(case[0], (list, tuple))
                and isinstance(case[1], dict)):
            raise OpHookError(f"{op.__name__}.draw_inputs must return (inputs, params): a list of input data "
                              f"and a dict of keyword parameters, got {type(case).__name__}")
        return list(case[0]), case[1]
    count = inputs_count(op)
    shapes = draw(input_shapes(op, count))
    domains = op.domain if isinstance(op.domain, tuple) else (op.domain,) * count
    if len(domains) != count:
        raise ValueError(f"{op.__name__}.domain names {len(domains)} inputs, forward takes {count}")
    for domain in domains:
        if domain not in DOMAINS:
            raise ValueError(f"{op.__name__}.domain: unknown domain {domain!r}: use one of "
                             f"{', '.join(map(repr, DOMAINS))}")
    candidates = call_hook(op, "example_params", *shapes)
    if not isinstance(candidates, (list, tuple)) or not all(isinstance(c, dict) for c in candidates):
        raise OpHookError(f"{op.__name__}.example_params must return a list of dicts of keyword parameters "
                          f"(e.g. [{{}}, {{'axis': 0}}]), got {candidates!r:.80}")
    if not candidates:  # nothing sensible for these shapes (indexing a scalar, say): draw again
        reject()
    params = draw(st.sampled_from(candidates))
    datas = [None if domain == "distinct" else draw(data_in(domain, shape)) for domain, shape in zip(domains, shapes)]
    apart = [i for i, domain in enumerate(domains) if domain == "distinct"]
    if apart:
        for i, data in zip(apart, draw(distinct_data([shapes[i] for i in apart]))):
            datas[i] = data
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


class OpHookError(OpCheckError):
    """One of the op's own hooks (`draw_inputs`, `example_params`) raised, or returned something unusable.

    Its message names the hook; the hook's own exception is its `__cause__`, so the
    traceback still shows the user's line.
    """


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

    After the drawn cases come the op's fixed ones (`fixed_cases`: every example
    parameter at full shapes), so a rule that is only right for one element fails
    however few examples are drawn. Raises `OpCheckError` naming the op, the stage
    ("gradient check" or "second-derivative check"), the shrunk failing input and the
    bad element; `OpHookError` when one of the op's own hooks fails. Reproducible by
    default; `derandomize=None` follows the active hypothesis profile.
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
    return report


@contextmanager
def draws_independent_of_loaded_modules() -> Iterator[None]:
    """Draw check_op's inputs from the op's strategies and the seed alone.

    Hypothesis (6.131 and later) also draws, now and then, constants it collects from every
    module of the user's own code imported so far. So the same seed drew other inputs once
    another module was imported: `check --module my_ops.py` (which imports the file) and
    `check_op` in a session (which imported other things) disagreed on the same op, and a
    page's printed errors changed with the order the tests ran in. While an op is checked,
    that pool is empty; hypothesis's fixed pool of edge values (0, -0.0, ±inf, ...) stays.
    """
    from hypothesis.internal.conjecture import providers  # private: guarded, a no-op where it differs

    get_local, cache = getattr(providers, "_get_local_constants", None), getattr(providers, "CONSTANTS_CACHE", None)
    if get_local is None or cache is None or not hasattr(providers, "Constants"):
        yield
        return
    providers._get_local_constants = providers.Constants
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = get_local
        cache.cache.clear()


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


def joined_outputs(out: Any) -> Any:
    """An op's output as one Value: several outputs flattened and concatenated (their integer and
    constant ones left out), so that one Jacobian covers every output's gradient."""
    if type(out) is not tuple:
        return out
    parts = [flatten(o) for o in out if isinstance(o, Value) and o.requires_grad]
    return concatenate(parts) if parts else out[0]


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

"""Hypothesis strategies for tinygrad_div: data by domain, shapes, an op's inputs, random programs of ops.

    from hypothesis import given
    from tinygrad_div.testing import strategies as tds

    @given(tds.arrays("positive", (2, 3)))           # float64 data in [0.1, 2]
    def test_log_is_finite(x): ...

    @given(tds.programs(include=[MyOp]))              # MyOp among 5 to 30 built-in ops
    def test_my_op_in_any_graph(program):
        gradcheck(program, program.inputs)

These are the strategies `check_op` draws with, shipped so that your own tests draw
the same way. Needs hypothesis (`pip install "tinygrad_div[dev]"`).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_div.engine.function import Function, input_count, registered_ops
from tinygrad_div.engine.mode import no_grad
from tinygrad_div.engine.ops.arithmetic import Add
from tinygrad_div.engine.ops.elementwise import Tanh
from tinygrad_div.engine.ops.reduce import Sum
from tinygrad_div.engine.value import Value
from tinygrad_div.testing.errors import OpHookError, hypothesis_missing

try:
    from hypothesis import reject
    from hypothesis import strategies as st
    from hypothesis.errors import HypothesisException
    from hypothesis.extra import numpy as hnp
    from hypothesis.internal.conjecture import providers as _providers
except ModuleNotFoundError as exc:  # one clear line instead of a traceback through this module
    raise hypothesis_missing("tinygrad_div.testing.strategies", exc) from None

#: The magnitude range inputs are drawn from; "nonzero" and "positive" stay >= LOW away from 0.
LOW, HIGH = 0.1, 2.0
MATMUL_SIGNATURE = "(m?,n),(n,p?)->(m?,p?)"
#: Domains drawn one input at a time; "distinct" inputs are drawn together (see distinct_data).
DOMAINS = ("real", "positive", "nonzero", "distinct", "bool")
#: Values where float arithmetic and gradient rules go wrong first (see edge_values).
EDGES = (0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.2250738585072014e-308,
         1.7976931348623157e308, -1.7976931348623157e308, 709.79, -745.2, 37.0, -37.0, 1e-8, 1e8)


# -- data ----------------------------------------------------------------------------------------
def floats_in(domain: str) -> st.SearchStrategy[float]:
    """Float64 scalars in a named domain: "real" [-2, 2], "positive" [0.1, 2] or "nonzero" ±[0.1, 2]."""
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
    if domain == "distinct":
        return distinct_data([shape]).map(lambda datas: datas[0])
    if shape == ():
        return floats_in(domain)
    return hnp.arrays(np.float64, shape, elements=floats_in(domain))


#: The public name: float64 arrays (and floats for shape ()) by domain.
arrays = data_in


def edge_values(shape: tuple[int, ...] = (), *, finite: bool = False) -> st.SearchStrategy[Any]:
    """Data whose elements are edge values (0, -0.0, ±inf, nan, subnormals, the largest floats, exp's
    overflow points, ±37 where σ saturates), mixed with ordinary ones; `finite=True` leaves out inf and nan."""
    edges = [e for e in EDGES if not finite or np.isfinite(e)]
    element = st.sampled_from(edges) | st.floats(-HIGH, HIGH)
    if shape == ():
        return element
    return hnp.arrays(np.float64, shape, elements=element)


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


# -- shapes --------------------------------------------------------------------------------------
def broadcastable_shapes(count: int, *, min_ndim: int = 0, max_ndim: int = 3,
                         max_side: int = 3) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """`count` shape tuples that broadcast together, each with min_ndim to max_ndim axes."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=min_ndim, max_dims=max(max_ndim, min_ndim), max_side=max_side
    ).map(lambda shapes: shapes.input_shapes)


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
    return broadcastable_shapes(count, min_ndim=op.min_ndim)


# -- an op's inputs, as check_op draws them -------------------------------------------------------
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


def domains_of(op: type[Function], count: int) -> tuple[str, ...]:
    """One domain name per input, checked."""
    domains = op.domain if isinstance(op.domain, tuple) else (op.domain,) * count
    if len(domains) != count:
        raise ValueError(f"{op.__name__}.domain names {len(domains)} inputs, forward takes {count}")
    for domain in domains:
        if domain not in DOMAINS:
            raise ValueError(f"{op.__name__}.domain: unknown domain {domain!r}: use one of "
                             f"{', '.join(map(repr, DOMAINS))}")
    return domains


def call_hook(op: type[Function], name: str, *args: Any) -> Any:
    """`op.<name>(*args)`, its exception reported as that hook's (hypothesis's own control flow passes)."""
    try:
        return getattr(op, name)(*args)
    except HypothesisException:
        raise
    except Exception as exc:
        raise OpHookError(f"{op.__name__}.{name} raised {type(exc).__name__}: {exc}") from exc


def example_params(op: type[Function], shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    """`op.example_params(*shapes)`, checked: a list of dicts of keyword parameters."""
    candidates = call_hook(op, "example_params", *shapes)
    if not isinstance(candidates, (list, tuple)) or not all(isinstance(c, dict) for c in candidates):
        raise OpHookError(f"{op.__name__}.example_params must return a list of dicts of keyword parameters "
                          f"(e.g. [{{}}, {{'axis': 0}}]), got {candidates!r:.80}")
    return list(candidates)


@st.composite
def op_inputs(draw: st.DrawFn, op: type[Function]) -> tuple[list[Any], dict[str, Any]]:
    """One gradient-check case for `op`: its input data and keyword parameters (what check_op draws).

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
    domains = domains_of(op, count)
    candidates = example_params(op, shapes)
    if not candidates:  # nothing sensible for these shapes (indexing a scalar, say): draw again
        reject()
    params = draw(st.sampled_from(candidates))
    datas = [None if domain == "distinct" else draw(data_in(domain, shape)) for domain, shape in zip(domains, shapes)]
    apart = [i for i, domain in enumerate(domains) if domain == "distinct"]
    if apart:
        for i, data in zip(apart, draw(distinct_data([shapes[i] for i in apart]))):
            datas[i] = data
    return datas, params


@contextmanager
def draws_independent_of_loaded_modules() -> Iterator[None]:
    """Hypothesis (6.131 on) also draws numbers that appear as constants in the source of every local
    module loaded, so the same strategy drew different inputs in a script and in the `check` command
    (which loads other modules). Inside this context it draws from its own constants only."""
    provider = getattr(_providers, "HypothesisProvider", None)
    cache = getattr(_providers, "CONSTANTS_CACHE", None)
    if provider is None or "_local_constants" not in vars(provider) or not hasattr(_providers, "Constants"):
        yield  # a hypothesis without local constants: nothing to do
        return
    previous = vars(provider)["_local_constants"]
    empty = _providers.Constants()
    provider._local_constants = property(lambda self: empty)
    cache.cache.clear()
    try:
        yield
    finally:
        provider._local_constants = previous
        cache.cache.clear()


# -- random programs -------------------------------------------------------------------------------
#: Domains a program can feed from any intermediate value (through an adapter for positive/nonzero).
PROGRAM_DOMAINS = ("real", "positive", "nonzero")
#: Intermediate values past this magnitude are squashed with tanh, so no op overflows.
PROGRAM_BOUND = 10.0


@dataclass
class Step:
    """One op of a program: `args` are pool indices (ints) or constants (floats)."""

    op: type[Function]
    args: tuple
    params: dict = field(default_factory=dict)


@dataclass
class Program:
    """A random straight-line program of ops: `program(*values)` runs it on Values and returns a scalar.

    `inputs` are the data it was drawn for; `steps` the ops, each reading the program's
    inputs and earlier results by index. `str(program)` reads as code.
    """

    inputs: list[Any]
    steps: list[Step]

    def __call__(self, *values: Any) -> Value:
        pool = list(values)
        for step in self.steps:
            args = [pool[a] if type(a) is int else a for a in step.args]
            pool.append(step.op.apply(*args, **step.params))
        return pool[-1]

    @property
    def ops(self) -> list[type[Function]]:
        return [step.op for step in self.steps]

    def __str__(self) -> str:
        names = [f"x{i}" for i in range(len(self.inputs))]
        lines = [f"def program({', '.join(names)}):"]
        for step in self.steps:
            args = [names[a] if type(a) is int else repr(a) for a in step.args]
            args += [f"{k}={v!r}" for k, v in step.params.items()]
            names.append(f"v{len(names) - len(self.inputs)}")
            lines.append(f"    {names[-1]} = {step.op.__name__}.apply({', '.join(args)})")
        lines.append(f"    return {names[-1]}")
        return "\n".join(lines)

    __name__ = "program"


def program_ops(prefix: str = "tinygrad_div.engine.ops") -> list[type[Function]]:
    """The registered ops a random program can use: elementwise or shape ops (`shapes="broadcast"`)
    without their own draw_inputs, whose inputs take real, positive or nonzero data. Kinked ops
    ("distinct" domains) and masks are left out: their finite differences are unreliable at ties."""
    found = []
    for op in registered_ops(prefix):
        try:
            count = inputs_count(op)
            usable = (op.shapes == "broadcast" and getattr(op, "draw_inputs", None) is None and count >= 1
                      and all(d in PROGRAM_DOMAINS for d in domains_of(op, count)))
        except ValueError:
            usable = False
        if usable:
            found.append(op)
    return found


@st.composite
def programs(draw: st.DrawFn, ops: Sequence[type[Function]] | None = None, *,
             include: Sequence[type[Function]] = (), min_ops: int = 5, max_ops: int = 30,
             inputs: int | None = None) -> Program:
    """A random program of `min_ops` to `max_ops` ops over `ops` (default: `program_ops()`), each op in
    `include` at least once, on 1 to 3 drawn inputs of one drawn shape; its result is a scalar.

    Each op takes the latest result as its first input and earlier values (or the inputs)
    as the others, so every op lies on the path to the result. Inputs of a "positive" or
    "nonzero" domain go through 1.5 + tanh(v) (in [0.5, 2.5]); results past ±10 through
    tanh; a non-scalar result is summed at the end. These adapters are ops of the program too.
    """
    pool_ops = list(program_ops() if ops is None else ops) + [op for op in include if op not in (ops or ())]
    for op in pool_ops:
        if op.shapes != "broadcast" or getattr(op, "draw_inputs", None) is not None:
            raise ValueError(f"{op.__name__}: random programs use ops with shapes='broadcast' and no draw_inputs")
    min_ndim = max([op.min_ndim for op in pool_ops] + [0])
    shape = draw(hnp.array_shapes(min_dims=max(min_ndim, 0), max_dims=max(min_ndim, 2), min_side=1, max_side=3)
                 if min_ndim or draw(st.booleans()) else st.just(()))
    count = draw(st.integers(1, 3)) if inputs is None else inputs
    datas = [draw(data_in("real", shape)) for _ in range(count)]
    target = draw(st.integers(min_ops, max_ops))
    pending = list(include)
    builder = _Builder(datas)
    for _ in range(8 * max_ops):
        if builder.size + len(pending) + 1 >= target:
            break
        forced = pending and (builder.size + len(pending) + 3 >= target or draw(st.booleans()))
        op = pending[0] if forced else draw(st.sampled_from(pool_ops))
        if builder.try_step(draw, op) and forced:
            pending.pop(0)
    if pending:
        reject()  # the included op never fitted this program's shapes: draw another
    builder.finish()
    if not min_ops <= builder.size <= max_ops:
        reject()
    return Program(datas, builder.steps)


class _Builder:
    """Grows a program step by step on the drawn data, keeping every value finite and bounded."""

    def __init__(self, datas: list[Any]) -> None:
        self.pool: list[Value] = [Value(d, requires_grad=False) for d in datas]
        self.steps: list[Step] = []

    @property
    def size(self) -> int:
        return len(self.steps)

    def add(self, op: type[Function], args: tuple, params: dict | None = None) -> bool:
        values = [self.pool[a] if type(a) is int else a for a in args]
        with no_grad(), np.errstate(all="ignore"):
            try:
                out = op.apply(*values, **(params or {}))
            except (ValueError, TypeError, IndexError, RuntimeError):  # these inputs do not suit the op
                return False
        if not isinstance(out, Value) or out.size == 0 or out.size > 64 or not np.all(np.isfinite(out.data)):
            return False
        self.pool.append(out)
        self.steps.append(Step(op, args, dict(params or {})))
        return True

    def adapted(self, index: int, domain: str) -> int:
        """Pool index of the value to feed an input of this domain: positive and nonzero ones via 1.5 + tanh."""
        if domain == "real":
            return index
        self.add(Tanh, (index,))
        self.add(Add, (len(self.pool) - 1, 1.5))
        return len(self.pool) - 1

    def try_step(self, draw: st.DrawFn, op: type[Function]) -> bool:
        latest = len(self.pool) - 1
        count = inputs_count(op)
        domains = domains_of(op, count)
        first = self.pool[latest]
        if first.ndim < op.min_ndim:
            return False
        others = [draw(st.sampled_from([k for k, v in enumerate(self.pool) if _broadcasts(v.shape, first.shape)]))
                  for _ in range(count - 1)]
        shapes = [self.pool[k].shape for k in [latest, *others]]
        candidates = example_params(op, shapes)
        if not candidates:
            return False
        params = draw(st.sampled_from(candidates))
        mark = len(self.steps), len(self.pool)
        args = tuple(self.adapted(k, d) for k, d in zip([latest, *others], domains))
        if not self.add(op, args, params):
            del self.steps[mark[0]:], self.pool[mark[1]:]
            return False
        if np.max(np.abs(self.pool[-1].data)) > PROGRAM_BOUND:
            self.add(Tanh, (len(self.pool) - 1,))
        return True

    def finish(self) -> None:
        if self.pool[-1].shape != ():
            self.add(Sum, (len(self.pool) - 1,))


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(a, b) == b
    except ValueError:
        return False

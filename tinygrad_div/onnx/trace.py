"""Run a model once on Values and read back the graph it recorded, in topological order.

The engine records a node for every op one of whose inputs requires grad, so the
example inputs are wrapped as Values that require grad: every op that depends on
them is recorded. Anything else (ops on constants, ops under `no_grad()`) was
computed once and reaches the graph as a leaf holding its data: constant folding
comes with the engine. A leaf Value that requires grad and is not an input is a
parameter.

For a symbolic batch dimension the model runs three times, at batch sizes n, n + 1
and 2n + 1, and the graphs must have the same nodes in the same order; a dimension
that differs between them is `Dim(scale, offset)`, the size scale·batch + offset
(checked on the third run), or `Dim(None)` when it is not such a line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_div.anomaly import AnomalyError, detect_anomaly, format_site
from tinygrad_div.engine.function import Function
from tinygrad_div.engine.mode import Tracer, enable_grad, state
from tinygrad_div.engine.value import Value, to_data
from tinygrad_div.onnx.errors import ExportError


@dataclass(frozen=True)
class Dim:
    """A dimension that follows the batch size: scale·batch + offset."""

    scale: int | None  # None: a size that is no such line (ceil(batch/2) from x[::2], say)
    offset: int = 0

    def __str__(self) -> str:
        if self.scale is None:
            return "?"
        text = "batch" if self.scale == 1 else f"{self.scale}*batch"
        return text + (f"{self.offset:+d}" if self.offset else "")


@dataclass
class Ref:
    """One tensor of the graph: a leaf ("input", "parameter", "constant"), a node's output ("node"), or a
    comparison's mask ("compare", `name` its symbol, `parents` its two operands)."""

    kind: str
    data: Any  # what the model computed here (float or float64 array), from the first run
    name: str = ""
    ctx: Function | None = None  # the node, for kind "node"
    parents: list[int] = field(default_factory=list)  # indices of the node's inputs in Trace.refs
    dims: tuple = ()  # the shape, ints and Dims
    params: dict = field(default_factory=dict)  # the node's keyword parameters (axis=..., shape=...)

    @property
    def op(self) -> type[Function]:
        return type(self.ctx)


@dataclass
class Trace:
    refs: list[Ref]
    inputs: list[int]
    outputs: list[int]
    recorder: Recorder | None = None  # what the engine told while the model ran


class Recorder(Tracer):
    """What the engine tells while the model runs (`state.tracer`): each op's keyword parameters, and each
    comparison's mask with its operands, so that a mask computed from the inputs becomes ONNX ops, not data."""

    def __init__(self) -> None:
        self.params: dict[int, dict] = {}  # id(node) -> its keyword parameters
        self.masks: dict[int, tuple[str, Any, Any]] = {}  # id(mask) -> (comparison, a, b)
        self.keep: list[Any] = []  # everything indexed by id stays alive, so no id is reused

    def record(self, op: type, inputs: tuple, params: dict, out: Value) -> None:
        if out._ctx is not None:
            self.params[id(out._ctx)] = params
            self.keep.append(out._ctx)

    def compare(self, symbol: str, a: Any, b: Any, out: Any) -> Any:
        out = np.asarray(out)  # a scalar's answer too, as a 0-d mask that can be found again by identity
        self.masks[id(out)] = (symbol, a, b)
        self.keep.append(out)
        return out

    def refuse(self, what: str) -> None:
        """Data read out of a Value (float(v), ...) is the model's own business: a number that changes with
        the inputs is refused later, as a constant that differs between runs."""


def run(model: Any, examples: list[np.ndarray]) -> tuple[list[Value], list[Value], Recorder]:
    """The model's outputs on Values that require grad (one list; a single output becomes a list of one)."""
    inputs = [Value(x, requires_grad=True) for x in examples]
    recorder, previous = Recorder(), state.tracer
    state.tracer = recorder
    try:
        with enable_grad(), detect_anomaly():  # the mode records each node's creation line, for errors
            result = model(*inputs)
    except AnomalyError as exc:
        raise ExportError(f"the example inputs give a NaN or Inf, export needs finite ones: {exc}") from None
    finally:
        state.tracer = previous
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    for i, out in enumerate(outputs):
        if not isinstance(out, Value):
            raise ExportError(f"the model's output {i} is a {type(out).__name__}, not a Value")
    return inputs, outputs, recorder


def walk(inputs: list[Value], outputs: list[Value], recorder: Recorder, names: dict[int, str]) -> Trace:
    """The graph from `outputs` back to the leaves, each tensor after the ones it is computed from.

    A comparison's mask is a tensor of the graph too ("compare", computed from its operands). Every output
    must depend on an input, and a mask that does must not index (x[x > 0]): its selection count would
    change with the data, so it is refused here, before any other check can suggest a remedy.
    """
    input_index = {id(v): i for i, v in enumerate(inputs)}
    refs: list[Ref] = []
    index: dict[int, int] = {}
    live: set[int] = set()  # the refs that depend on an input
    keep = []  # the objects indexed by id stay alive, so no id is reused during the walk
    stack: list[tuple[Any, bool]] = [(out, False) for out in reversed(outputs)] + [(v, False) for v in inputs]
    while stack:
        x, expanded = stack.pop()
        if id(x) in index:
            continue
        ctx = x._ctx if isinstance(x, Value) and id(x) not in input_index else None
        mask = recorder.masks.get(id(x)) if ctx is None else None
        parents = ctx.parents if ctx is not None else mask[1:] if mask is not None else None
        if parents is not None and not expanded:
            stack.append((x, True))
            stack.extend((p, False) for p in reversed(parents) if id(p) not in index)
            continue
        if ctx is not None:
            ref = Ref("node", x.data, ctx=ctx, parents=[index[id(p)] for p in parents],
                      params=recorder.params.get(id(ctx), {}))
            _refuse_live_mask_index(ref, recorder, index, live)
        elif mask is not None:
            ref = Ref("compare", x, name=mask[0], parents=[index[id(p)] for p in parents])
        elif id(x) in input_index:
            ref = Ref("input", x.data)
        elif isinstance(x, Value) and x.requires_grad:
            ref = Ref("parameter", x.data, name=names.get(id(x), ""))
        elif isinstance(x, Value):
            ref = Ref("constant", x.data)
        else:
            raw = np.asarray(x)
            ref = Ref("constant", raw if raw.dtype == bool else to_data(x))  # masks stay masks
        if ref.kind == "input" or any(p in live for p in ref.parents):
            live.add(len(refs))
        keep.append(x)
        index[id(x)] = len(refs)
        refs.append(ref)
    for k, out in enumerate(outputs):
        if index[id(out)] not in live:
            raise ExportError(f"output {k} does not depend on the inputs (detached, or computed under no_grad()?): "
                              "it would be a constant of the model; compute it from the inputs with Value ops")
    return Trace(refs, [index[id(v)] for v in inputs], [index[id(v)] for v in outputs], recorder)


def _refuse_live_mask_index(ref: Ref, recorder: Recorder, index: dict[int, int], live: set[int]) -> None:
    entries = ref.params.get("index")  # as given: the node keeps its own normalized copy
    for entry in entries if isinstance(entries, tuple) else (entries,):
        mask = recorder.masks.get(id(entry))
        if mask is not None and any(index.get(id(p)) in live for p in mask[1:]):
            raise ExportError(f"{ref.op.__name__}: x[mask] with a mask computed from the inputs selects a number "
                              f"of elements that changes with the data, which an ONNX graph cannot hold "
                              f"({created_at(ref)}); use where(mask, x, 0) or a sum of x * mask instead")


def shape(data: Any) -> tuple[int, ...]:
    return np.shape(data)


#: The remedy for a graph that follows the batch size in a way ONNX cannot compute: a model for one batch size,
#: which `export` checks like any other (a second run on other data must record the same graph and constants).
FIXED_BATCH = "export with dynamic_batch=False for a model of exactly the example's shapes"


def symbolic_dims(traces: list[Trace], sizes: list[int]) -> None:
    """Give every tensor of `traces[0]` its dims, from the runs at the batch sizes `sizes`."""
    first = traces[0]
    for other in traces[1:]:
        if len(other.refs) != len(first.refs):
            raise ExportError(f"the model records a different graph for another batch size; {FIXED_BATCH}")
    for k, a in enumerate(first.refs):
        refs = [t.refs[k] for t in traces]
        for other in traces[1:]:
            b = other.refs[k]
            if not _same_node(a, b):
                where = f" ({a.op.__name__}: {created_at(a)})" if a.kind == "node" else ""
                raise ExportError(f"the model records a different graph for another batch size{where}; "
                                  f"{FIXED_BATCH}")
            if a.kind == "node" and not _same_index(a.ctx, b.ctx):
                raise ExportError(f"{a.op.__name__}: the index depends on the batch size ({created_at(a)}); "
                                  f"{FIXED_BATCH}")
        shapes = [shape(r.data) for r in refs]
        if len({len(s) for s in shapes}) != 1:
            raise ExportError(f"a tensor's rank depends on the batch size ({shapes[0]} vs {shapes[1]}); {FIXED_BATCH}")
        if a.kind in ("constant", "parameter") and len(set(shapes)) != 1:
            what = "a constant" if a.kind == "constant" else f"parameter {a.name}".strip()
            raise ExportError(f"{what} of shape {shapes[0]} depends on the batch size (made from the inputs' "
                              f"shape?); {FIXED_BATCH}")
        a.dims = tuple(_dim(column, sizes) for column in zip(*shapes))


def _same_node(a: Ref, b: Ref) -> bool:
    """Whether two runs recorded the same tensor here: kind, inputs, and op or comparison."""
    return a.kind == b.kind and a.parents == b.parents and (a.kind != "node" or a.op is b.op) and (
        a.kind != "compare" or a.name == b.name)


def same_constants(traces: list[Trace]) -> None:
    """Refuse a graph or constants that differ between runs on different data: control flow on the data, or
    a number computed from the inputs under no_grad() (or with numpy on a mask), would be frozen in the graph."""
    first = traces[0]
    for other in traces[1:]:
        if len(other.refs) != len(first.refs) or not all(map(_same_node, first.refs, other.refs)):
            raise ExportError("the model records a different graph for other input values (control flow on "
                              "the data?); it cannot export")
        for k, (a, b) in enumerate(zip(first.refs, other.refs)):
            if a.kind != "constant" or np.shape(a.data) != np.shape(b.data):
                continue
            if not np.array_equal(a.data, b.data, equal_nan=np.asarray(a.data).dtype.kind == "f"):
                user = next((r for r in first.refs if k in r.parents), None)
                where = f" into {user.op.__name__} ({created_at(user)})" if user is not None else ""
                raise ExportError(f"a constant{where} changes with the input values: a number computed from the "
                                  "inputs under no_grad(), or a mask combined with numpy (&, |, ~, astype), cannot "
                                  "export; compute it with Value ops (comparisons and where export)")


def _dim(sizes_seen: tuple[int, ...], batch_sizes: list[int]) -> int | Dim:
    """A fixed size, or scale·batch + offset fitted to the runs (None scale when no such line fits)."""
    if len(set(sizes_seen)) == 1:
        return sizes_seen[0]
    (d1, d2, *rest), (n1, n2, *more) = sizes_seen, batch_sizes
    scale = (d2 - d1) // (n2 - n1)
    dim = Dim(scale, d1 - scale * n1)
    if (d2 - d1) % (n2 - n1) or any(d != scale * n + dim.offset for d, n in zip(rest, more)):
        return Dim(None)
    return dim


def _same_index(first: Function, second: Function) -> bool:
    """Whether two runs' nodes index alike (an index array over the batch axis would not)."""
    i, j = getattr(first, "index", None), getattr(second, "index", None)
    i, j = (i if isinstance(i, tuple) else (i,)), (j if isinstance(j, tuple) else (j,))
    return len(i) == len(j) and all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) or isinstance(y, np.ndarray) else x == y
        for x, y in zip(i, j))


def static_dims(trace: Trace) -> None:
    for ref in trace.refs:
        ref.dims = shape(ref.data)


def created_at(ref: Ref) -> str:
    """Where the user's code created this node ("created at file:line: code")."""
    return f"created at {format_site(getattr(ref.ctx, 'creation_site', None))}"

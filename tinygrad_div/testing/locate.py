"""`locate_wrong_gradient(fn, inputs)`: which recorded op's backward disagrees with its own forward.

    from tinygrad_div.testing import locate_wrong_gradient

    report = locate_wrong_gradient(lambda x, w: model(x, w).sum(), [x, w])
    print(report)          # the whole gradient's verdict, then each culprit: op, line, input, element, values

`gradcheck` says whether a whole function's gradient is right. This says where it
goes wrong: it runs `fn` once while recording every node (its op, keyword
parameters, the data it saw and the line of user code that created it), then checks
each node on its own, its backward rule against central differences of the same
op's forward on the values that node saw. A node whose rule is wrong is named even
when it is a user `Function` among hundreds of built-in ops. When every node is
right and the whole gradient is still wrong, the report says so and names what
can cause that: an input changed after it was used (found and named when it
happens here), or a computation outside the graph.

Nothing here touches the engine's hot path: recording uses the engine's two
existing hooks (the observer of `engine.mode.state.anomaly`, which anomaly mode
uses for creation sites, and the tracer of `state.tracer`, which `td.compile` uses
for parameters), installed only while `fn` runs here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_div.anomaly import format_site, user_site
from tinygrad_div.engine.autograd import grad, topological_order
from tinygrad_div.engine.errors import BackwardError
from tinygrad_div.engine.function import Output
from tinygrad_div.engine.mode import no_grad, state
from tinygrad_div.engine.ops.functional import concatenate, flatten
from tinygrad_div.engine.value import Value
from tinygrad_div.gradcheck import GradcheckError, compare_gradients, is_constant

#: Up to this many output elements a node's Jacobian is checked row by row; past it, random projections.
FULL_ROWS = 16
#: Up to this many elements of an input are each checked; past it, a random sample of this many.
CHECKED_ELEMENTS = 32
#: A node is blamed only if its rule disagrees with finite differences at both steps
#: (rounding and truncation errors differ between them; a wrong rule's error does not).
STEPS = (1e-6, 1e-4)

LIKELY_CAUSES = (
    "an input whose data changed after an op used it (a stale input: rebinding .data or writing into it "
    "between the forward pass and backward), a gradient changed by hand (.grad edited, or a hook of your "
    "own between backward and the check), or an op missing from the graph (part of the result computed on "
    ".data, through numpy on raw arrays, under no_grad() or after detach(), so no node records it)"
)


@dataclass
class Culprit:
    """One recorded node whose backward rule disagrees with finite differences of its own forward."""

    op: str
    site: str  # "file:line: code" of the user code that created the node
    node: int  # the node's place in creation order among the nodes checked (0: the first op fn ran)
    input: int  # which input of the op (0-based)
    element: tuple[int, ...]
    analytic: float
    numeric: float
    output: str = ""  # which output element or projection was differentiated

    def __str__(self) -> str:
        element = f" at element {self.element}" if self.element else ""
        return (f"{self.op} (op #{self.node}, created at {self.site}): gradient of input {self.input}{element}"
                f"{self.output}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g}")


@dataclass
class Location:
    """What `locate_wrong_gradient` found. `str()` is the readable report."""

    name: str
    total_error: str | None  # the whole function's gradcheck failure, None when its gradient is right
    culprits: list[Culprit] = field(default_factory=list)
    nodes_checked: int = 0
    unchecked: list[str] = field(default_factory=list)  # nodes that could not be checked, and why
    stale: list[str] = field(default_factory=list)  # inputs that changed after an op used them

    @property
    def ok(self) -> bool:
        """True when the whole gradient and every node's own rule are right."""
        return self.total_error is None and not self.culprits and not self.stale

    def __str__(self) -> str:
        lines = [f"{self.name}: the whole gradient is " + ("right" if self.total_error is None else
                                                            f"wrong: {self.total_error}")]
        lines.append(f"checked the backward rule of {self.nodes_checked} recorded op(s) against finite differences "
                     "of their own forward, on the values each one saw")
        for culprit in self.culprits:
            lines.append(f"  WRONG: {culprit}")
        for stale in self.stale:
            lines.append(f"  STALE INPUT: {stale}")
        for note in self.unchecked:
            lines.append(f"  not checked: {note}")
        if self.total_error is not None and not self.culprits:
            cause = "; it is: " + "; ".join(self.stale) if self.stale else f"; likely causes: {LIKELY_CAUSES}"
            lines.append("every op's own backward rule is right, yet the whole gradient is wrong" + cause)
        elif not self.culprits and not self.stale:
            lines.append("no op's backward rule disagrees with its forward")
        return "\n".join(lines)


def locate_wrong_gradient(
    fn: Callable[..., Value],
    inputs: Sequence[Any],
    *,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> Location:
    """Check `fn`'s whole gradient (as `gradcheck` does) and then every op it records on its own.

    `fn` and `inputs` are as for `gradcheck`. Returns a `Location`: `total_error`
    (None when the whole gradient is right), `culprits` (each node whose backward
    rule disagrees with central differences of its own forward: op, creation site,
    input, element, analytic and numeric values), `stale` (inputs whose data changed
    after an op used them) and `unchecked` (nodes that could not be checked).
    """
    name = getattr(fn, "__name__", repr(fn))
    try:
        compare_gradients(fn, inputs, atol=atol, rtol=rtol, seed=seed)
        total_error = None
    except GradcheckError as exc:
        total_error = str(exc).removeprefix(f"{name}: ")
    except BackwardError as exc:  # the engine refused to backpropagate (a stale input, say): the gradient is wrong
        total_error = f"backward() refused: {exc}"
    nodes, output = _record(fn, inputs)
    location = Location(name, total_error)
    rng = np.random.default_rng(seed)
    behind = topological_order([output]) if isinstance(output, Value) else []
    recorded = {id(n.ctx): n for n in nodes}
    number = 0
    for ctx in dict.fromkeys(_node_of(v) for v in reversed(behind)):  # oldest first, each node once
        node = recorded.get(id(ctx))
        if node is None:
            location.unchecked.append(f"{type(ctx).__name__}: an op with several outputs (its keyword parameters "
                                      "are not recorded)")
            continue
        location.stale += node.stale()
        location.nodes_checked += 1
        culprit = _check_node(node, number, rng, atol, rtol)
        number += 1
        if culprit is not None:
            location.culprits.append(culprit)
    return location


# -- recording: every node fn creates, with what it saw ---------------------------------------
@dataclass
class _Node:
    op: type
    ctx: Any
    inputs: tuple  # as given to apply: Values or raw data
    seen: tuple  # a copy of each input's data, taken when the op ran
    params: dict
    site: str

    def stale(self) -> list[str]:
        """Inputs whose data is no longer what this op saw."""
        found = []
        for i, (x, seen) in enumerate(zip(self.inputs, self.seen)):
            if isinstance(x, Value) and not np.array_equal(np.asarray(x._data), np.asarray(seen), equal_nan=True):
                found.append(f"input {i} of {self.op.__name__} (created at {self.site}) changed after the op "
                             "used it: backward computes with the new data")
        return found


class _Recorder:
    """Installed as the engine's observer and tracer while fn runs: it records, and refuses nothing."""

    def __init__(self) -> None:
        self.nodes: list[_Node] = []
        self.sites: dict[int, str] = {}  # id(node) -> where user code created it
        self.keep: list[Any] = []  # keeps every recorded node alive, so that ids stay unique

    # the anomaly observer's interface
    def check_forward(self, op: type, ctx: Any, datas: Sequence[Any], out: Any) -> None:
        self.sites[id(ctx)] = format_site(user_site())  # every op's node, recorded or not
        self.keep.append(ctx)

    def check_backward(self, ctx: Any, grads: Sequence[Any], upstream: Any) -> None:
        pass

    # the tracer's interface
    def record(self, op: type, inputs: tuple, params: dict, v: Value) -> None:
        ctx = v._ctx
        if ctx is None:
            return
        seen = ctx.input_data or tuple(getattr(x, "_data", x) for x in inputs)
        self.nodes.append(_Node(op, ctx, inputs, tuple(_copy(d) for d in seen), dict(params),
                                self.sites.get(id(ctx), "<unknown line>")))

    def refuse(self, what: str) -> None:
        pass

    def compare(self, symbol: str, a: Any, b: Any, result: Any) -> Any:
        return result


def _record(fn: Callable[..., Value], inputs: Sequence[Any]) -> tuple[list[_Node], Any]:
    """Run fn once on fresh Values of `inputs`, recording every node it creates."""
    if state.tracer is not None:
        raise RuntimeError("locate_wrong_gradient cannot run while td.compile traces a step")
    datas = [x.data if isinstance(x, Value) else x for x in (inputs if isinstance(inputs, (list, tuple)) else
                                                               [inputs])]
    xs = [d if is_constant(d) else Value(d) for d in datas]
    recorder = _Recorder()
    previous = state.anomaly
    state.anomaly, state.tracer = recorder, recorder
    try:
        output = fn(*xs)
    finally:
        state.anomaly, state.tracer = previous, None
    return recorder.nodes, output


def _node_of(v: Value) -> Any:
    ctx = v._ctx
    return ctx.node if type(ctx) is Output else ctx


def _copy(data: Any) -> Any:
    return data.copy() if isinstance(data, np.ndarray) else data


# -- checking one node ------------------------------------------------------------------------
def _check_node(node: _Node, number: int, rng: np.random.Generator, atol: float, rtol: float) -> Culprit | None:
    """The node's first disagreement between its backward rule and finite differences, or None."""
    wrt = [i for i, x in enumerate(node.inputs) if isinstance(x, Value) and x.requires_grad
           and not is_constant(node.seen[i])]

    def local(*variables: Any) -> Any:
        args = list(node.seen)
        for i, v in zip(wrt, variables):
            args[i] = v
        return joined_outputs(node.op.apply(*args, **node.params))

    points = [_as_float(node.seen[i]) for i in wrt]
    with _quiet():
        out = local(*[Value(p) for p in points])
    if not isinstance(out, Value) or not out.requires_grad:
        return None
    shape = out.shape
    size = int(np.prod(shape))
    rows = ([(np.eye(size)[j].reshape(shape), f" (output element {_unravel(j, shape)})") for j in range(size)]
            if size <= FULL_ROWS else
            [(rng.standard_normal(shape), f" (random projection {j} of the output)") for j in range(2)])
    for upstream, where in rows:
        variables = [Value(p) for p in points]
        with _quiet():
            grads = grad(local(*variables), variables, upstream if shape else float(upstream),
                         allow_unused=True)
        for k, i in enumerate(wrt):
            analytic = np.zeros(np.shape(points[k])) if grads[k] is None else np.asarray(grads[k], dtype=float)
            for element in _elements(np.shape(points[k]), rng):
                value = float(analytic[element])
                numerics = [_numeric(local, points, k, element, upstream, eps) for eps in STEPS]
                if all(not np.isclose(value, n, rtol=rtol, atol=atol) for n in numerics):
                    return Culprit(node.op.__name__, node.site, number, i, element, value, numerics[0],
                                   where if size > 1 else "")
    return None


def joined_outputs(out: Any) -> Any:
    """An op's output as one Value: several outputs flattened and concatenated (their integer and
    constant ones left out), so that one Jacobian covers every output's gradient."""
    if type(out) is not tuple:
        return out
    parts = [flatten(o) for o in out if isinstance(o, Value) and o.requires_grad]
    return concatenate(parts) if parts else out[0]


def _numeric(local: Callable, points: list, k: int, element: tuple, upstream: Any, eps: float) -> float:
    def at(shift: float) -> float:
        moved = list(points)
        if element:
            moved[k] = np.array(points[k], dtype=np.float64)
            moved[k][element] += shift
        else:
            moved[k] = points[k] + shift
        with no_grad(), _quiet():
            out = local(*moved)
        return float(np.sum(np.asarray(getattr(out, "data", out)) * upstream))

    return (at(eps) - at(-eps)) / (2.0 * eps)


def _elements(shape: tuple, rng: np.random.Generator) -> list[tuple[int, ...]]:
    size = int(np.prod(shape))
    flat = range(size) if size <= CHECKED_ELEMENTS else sorted(rng.choice(size, CHECKED_ELEMENTS, replace=False))
    return [_unravel(f, shape) for f in flat]


def _unravel(flat: int, shape: tuple) -> tuple[int, ...]:
    return tuple(int(k) for k in np.unravel_index(flat, shape))


def _as_float(data: Any) -> Any:
    return float(data) if np.ndim(data) == 0 else np.array(data, dtype=np.float64)


def _quiet() -> Any:
    return np.errstate(all="ignore")

"""Backpropagation: walk the recorded graph from the outputs back to the leaves.

    _run             the loop: pop the newest node, run its backward rule, pass the gradients on
    _call_backward   the one place an op's backward rule is called
    _IntoGrad        where backward() puts gradients: the `.grad` of leaves (and of retain_grad() nodes)
    _Capture         where grad() puts them: a dict it returns, `.grad` untouched

Order: every node carries the sequence number of its creation, and an op is always
created after its inputs, so visiting the reachable nodes newest-first is a
topological order: a heap on that number, no recursion (a chain of a million ops is
fine), no visited set, no separate sorting pass.

Memory: the gradient flowing into a node is dropped as soon as that node has
passed it on, and (unless `retain_graph`) what each node saved for backward is
freed as soon as it has been used.
"""

from __future__ import annotations

from collections.abc import Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from tinygrad_div.engine.errors import BackwardError, ShapeError
from tinygrad_div.engine.function import Output
from tinygrad_div.engine.mode import state
from tinygrad_div.engine.ops.shape import reducible, sum_to, sum_to_shape
from tinygrad_div.engine.value import Value, new_value, shape_of, to_data

_ndarray = np.ndarray


def backward(root: Value, grad: Any = None, *, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into the `.grad` of every leaf that requires grad."""
    seed = _seed(root, grad, create_graph)
    _run((root,), (seed,), _INTO_GRAD, retain_graph or create_graph, create_graph)


def grad(
    outputs: Value | Sequence[Value],
    inputs: Value | Sequence[Value],
    grad_outputs: Any = None,
    *,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """d(outputs)/d(inputs), returned rather than accumulated into `.grad` (like `torch.autograd.grad`).

    With `create_graph=True` the gradients are Values recorded on a graph of their
    own, so they can be differentiated again.
    """
    outputs = [outputs] if isinstance(outputs, Value) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Value) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Value, np.ndarray, float, int)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad() got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for x in inputs:
        if not isinstance(x, Value) or not x.requires_grad:
            raise ValueError("grad() inputs must be Values that require grad")
    seeds = [_seed(out, g, create_graph) for out, g in zip(outputs, grad_outputs)]
    sink = _Capture(inputs, _leading_to(inputs, outputs))
    keep = create_graph if retain_graph is None else retain_graph
    _run(outputs, seeds, sink, keep, create_graph)
    missing = [i for i, x in enumerate(inputs) if sink.grads[x] is None]
    if missing and not allow_unused:
        raise ValueError(f"grad(): input {missing[0]} is not used to compute the outputs (pass allow_unused=True)")
    return tuple(_owned(sink.grads[x]) for x in inputs)


def _leading_to(inputs: list[Value], outputs: list[Value]) -> set[Value]:
    """The nodes behind `outputs` with an input among their own inputs: all that grad() must run."""
    reach = set(inputs)  # the inputs and every node that depends on one
    leading = set()
    for v in reversed(topological_order(outputs)):  # oldest first: a node's inputs are decided before it
        if any(p in reach for p in v._ctx.parents if isinstance(p, Value)):
            leading.add(v)
            reach.add(v)
    return leading


def _owned(g: Any) -> Any:
    """A gradient the caller may modify: pass-through rules (Add's, a seed) can hand on shared arrays."""
    return g.copy() if type(g) is _ndarray else g


def _seed(root: Value, grad: Any, create_graph: bool) -> Any:
    if not isinstance(root, Value):
        raise TypeError(f"backward needs a Value, got {type(root).__name__}")
    if not root.requires_grad:
        raise BackwardError("backward() on a Value that does not require grad (a constant, or made under no_grad)")
    if grad is None:
        if type(root._data) is float:
            seed: Any = 1.0
        elif root._data.size == 1:  # one element of any shape, (1, 1) say: seeded with 1 as torch does
            seed = np.ones(root._data.shape)
        else:
            raise ValueError(
                f"backward() without a gradient needs a one-element output, this one has shape {root.shape}: "
                "pass grad=... of that shape, or reduce it first (e.g. .sum())"
            )
    elif create_graph and isinstance(grad, Value):
        seed = grad
    else:
        seed = to_data(grad)
    if type(seed) is not type(root._data) or (type(seed) is _ndarray and seed.shape != root._data.shape):
        seed_shape = seed.shape if isinstance(seed, Value) else shape_of(seed)
        if seed_shape != root.shape:
            raise ShapeError(f"backward(): gradient of shape {seed_shape} for an output of shape {root.shape}")
    if create_graph and not isinstance(seed, Value):
        seed = new_value(seed, False, None)
    return seed


def topological_order(roots: Sequence[Value]) -> list[Value]:
    """The non-leaf Values behind `roots`, each before the inputs of its op (newest first)."""
    seen = set()
    stack = []
    for root in roots:
        if root._ctx is not None and root not in seen:
            seen.add(root)
            stack.append(root)
    found = []
    while stack:
        v = stack.pop()
        ctx = v._ctx
        found.append((ctx.sequence, v))
        for p in ctx.parents:
            if isinstance(p, Value) and p._ctx is not None and p not in seen:
                seen.add(p)
                stack.append(p)
    found.sort(reverse=True)  # sequence numbers are unique, so Values are never compared
    return [v for _, v in found]


def _run(roots: Sequence[Value], seeds: Sequence[Any], sink: _IntoGrad | _Capture, retain_graph: bool,
         create_graph: bool) -> None:
    """Propagate `seeds` (one per root, already checked) back through the graph into `sink`.

    Order: a max-heap on the nodes' creation sequence. An op is always created after
    its inputs, so when a node is popped every reachable consumer (created later) has
    already passed its gradient on: the node's gradient is complete. `pending` doubles
    as the set of nodes reached. Leaves are never queued: their gradients go straight
    to the sink, which adds them up.
    """
    pending: dict[Value, Any] = {}  # the gradient flowing into each node reached, until it is passed on
    heap: list = []  # the nodes reached, as (-sequence, node): the newest pops first
    previous = state.grad_enabled, state.backward_node
    state.grad_enabled = create_graph  # a plain backward records nothing; create_graph records the gradients' graph
    changed = state.data_changed  # nodes recorded after the latest change of any data need no version check
    try:
        ctx, parents, grads = None, roots, seeds  # the seeds enter as if passed on by a node above the roots
        while True:
            for p, pg in zip(parents, grads):
                if pg is None or not isinstance(p, Value) or not p.requires_grad:
                    continue  # no gradient, or an input that takes none (a constant)
                data = p._data
                kind = type(pg)
                if kind is not type(data) or (kind is _ndarray and pg.shape != data.shape):
                    pg = fit_gradient(pg, data, ctx, p)  # broadcast in forward: summed back here
                if p._ctx is None:
                    sink.leaf(p, pg)
                elif p in pending:
                    pending[p] = pending[p] + pg
                else:
                    pending[p] = pg
                    heappush(heap, (-p._ctx.sequence, p))
            if not heap:
                return
            v = heappop(heap)[1]
            ctx = v._ctx
            g = pending.pop(v)
            if type(ctx) is Output:  # one of several outputs: the op's backward runs once, for all of them
                ctx, g, reached = _gather_outputs(ctx.node, v, g, pending, heap, sink)
            else:
                reached = sink.reached(v, g)
            if reached:
                if ctx.sequence < changed:
                    _check_versions(ctx)
                parents, grads = ctx.parents, _call_backward(ctx, g, v, retain_graph, create_graph)
            else:
                parents = grads = ()  # pruned by grad(): no input it asks about lies behind this node
    finally:
        state.grad_enabled, state.backward_node = previous


def _gather_outputs(node: Any, v: Value, g: Any, pending: dict, heap: list, sink: Any) -> tuple:
    """The gradients of every output of `node` (v's is g), as the tuple its backward takes.

    The outputs' sequence numbers are consecutive and newer than any node they depend on,
    so once the newest reached output pops, the others reached are next on the heap.
    An output nobody used gets zeros of its shape, as PyTorch hands to backward.
    """
    grads = [None] * len(node.outputs)
    grads[v._ctx.index] = g
    reached = sink.reached(v, g)
    while heap and type(heap[0][1]._ctx) is Output and heap[0][1]._ctx.node is node:
        sibling = heappop(heap)[1]
        grads[sibling._ctx.index] = sibling_grad = pending.pop(sibling)
        reached = sink.reached(sibling, sibling_grad) or reached
    for k, shape in enumerate(node.output_shapes):
        if grads[k] is None and shape is not None:
            grads[k] = 0.0 if shape == () else np.zeros(shape)
    return node, tuple(grads), reached


def _check_versions(ctx: Any) -> None:
    """Refuse a node whose input's data changed after it was recorded (PyTorch's version counter check).

    Only nodes that saved something for backward are checked (Add's rule, say, needs no
    data), and each input that is a Value: its `version` is the engine clock at its
    latest change, the node's `sequence` the clock when it was recorded.
    """
    if not ctx.saved_tensors:
        return
    for index, p in enumerate(ctx.parents):
        if isinstance(p, Value) and p.version > ctx.sequence:
            raise BackwardError(
                f"{type(ctx).__name__}: input {index} (shape {p.shape}) was changed after the op used it "
                "(its .data was replaced or modified in place); run the forward pass again after changing it"
            )


def _call_backward(ctx: Any, g: Any, v: Value, retain_graph: bool, create_graph: bool) -> tuple:
    """Run node `ctx`'s backward rule on `g`, the gradient of its output `v`: one gradient per input.

    The one place a rule is called: plain (on raw data; what forward saved is freed
    after, unless `retain_graph`) or, with `create_graph`, on Values so that its ops
    are recorded; then the arity check and the anomaly observer. While the rule runs,
    `state.backward_node` names the node (anomaly mode reports it).
    """
    if ctx.saved_tensors is None:
        raise BackwardError(
            f"{type(ctx).__name__}: this graph was already used by a backward pass that freed it; "
            "pass retain_graph=True to the first backward to go through it twice"
        )
    state.backward_node = ctx
    many = type(g) is tuple  # a node with several outputs: one gradient per output
    if create_graph:
        graph_ctx = _GraphContext(ctx, type(ctx).saved_values(ctx, ctx.parents, v))
        grads = ctx.backward(graph_ctx, *g) if many else ctx.backward(graph_ctx, g)
    else:
        grads = ctx.backward(ctx, *g) if many else ctx.backward(ctx, g)
        if not retain_graph:
            ctx.saved_tensors = None
    if type(grads) is not tuple:
        grads = tuple(grads) if type(grads) is list else (grads,)
    if len(grads) != len(ctx.parents):
        raise BackwardError(
            f"{type(ctx).__name__}.backward returned {len(grads)} gradients for {len(ctx.parents)} inputs"
        )
    if state.anomaly is not None:
        state.anomaly.check_backward(ctx, grads, _first_nonfinite(g) if many else g)
    return grads


def _first_nonfinite(grads: tuple) -> Any:
    """One upstream gradient standing for several: a non-finite one if any (anomaly mode)."""
    return next((x for x in grads if not np.all(np.isfinite(getattr(x, "data", x)))), 0.0)


class _IntoGrad:
    """backward()'s sink: gradients accumulate into the `.grad` of leaves and of retain_grad() nodes."""

    __slots__ = ()

    def reached(self, v: Value, g: Any) -> bool:
        """`v`'s gradient is complete: keep it if `v` retains grad. True: `v`'s backward must run."""
        if v._retains_grad:
            v.grad = _owned(g) if v.grad is None else v.grad + g
        return True

    def leaf(self, p: Value, g: Any) -> None:
        """One gradient for leaf `p` (of several, maybe): added straight into `.grad`, in arrival order."""
        if p.grad is None:
            p.grad = g.copy() if type(g) is _ndarray else g  # see _owned (inline: this runs per leaf)
        else:
            p.grad = p.grad + g


_INTO_GRAD = _IntoGrad()  # it holds nothing: one serves every backward()


class _Capture:
    """grad()'s sink: the gradients of the requested Values, kept in `grads`; no `.grad` changes."""

    __slots__ = ("grads", "only")

    def __init__(self, inputs: Sequence[Value], only: set[Value]) -> None:
        self.grads: dict[Value, Any] = dict.fromkeys(inputs)  # None until a gradient arrives
        self.only = only  # the nodes whose backward leads to an input: the rest is neither run nor freed

    def reached(self, v: Value, g: Any) -> bool:
        if v in self.grads:
            self.grads[v] = g
        return v in self.only

    def leaf(self, p: Value, g: Any) -> None:
        if p in self.grads:
            previous = self.grads[p]
            self.grads[p] = g if previous is None else previous + g


def fit_gradient(g: Any, data: Any, ctx: Any, parent: Value) -> Any:
    """Bring a gradient to its input's shape: summed over the axes forward's broadcasting added or stretched."""
    target = shape_of(data)
    if ctx is not None:  # ctx None: a seed, whose shape _seed checked (only its type differs)
        gradient_needs_sum(g, target, type(ctx).__name__, _index(ctx, parent))
    if isinstance(g, Value):
        return g if g.shape == target else sum_to(g, target)
    g = sum_to_shape(np.asarray(g, dtype=np.float64), target)  # also a 0-d array or an int made float
    return float(g) if target == () else g


def gradient_needs_sum(g: Any, target: tuple, op: str, index: int) -> bool:
    """The gradient shape contract, decided here for every path (eager, create_graph, compiled).

    A backward rule's gradient for an input of shape `target` has that shape (False:
    nothing to sum) or one that broadcasting `target` in forward gives (True: summed
    down over the added or stretched axes). Anything else, a scalar for an array
    input included, is a BackwardError naming the op, the input and both shapes, as
    PyTorch's "returned an invalid gradient at index": expanding a gradient up is
    never right.
    """
    if isinstance(g, Value):
        shape = g.shape
    elif isinstance(g, (float, int, np.ndarray, np.number)) and not isinstance(g, (bool, np.bool_)):
        shape = np.shape(g)
    else:
        raise BackwardError(
            f"{op}.backward returned {type(g).__name__} for input {index}: expected an array, a number, a Value or None"
        )
    if shape == target:
        return False
    if reducible(shape, target):
        return True
    raise BackwardError(
        f"{op}.backward returned an invalid gradient at index {index}: got shape {shape} but expected shape "
        f"compatible with {target} (that shape, or one that broadcasting it in forward gives)"
    )


def _index(ctx: Any, parent: Value) -> int:
    # by identity: `parents.index` would compare with ==, which numpy turns into an op on Values
    return next(i for i, p in enumerate(ctx.parents) if p is parent)


class _GraphContext:
    """What `backward` sees while its gradient is being recorded: the op's ctx, with Values saved."""

    def __init__(self, ctx: Any, saved: tuple) -> None:
        self._ctx = ctx
        self.saved_tensors = saved

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

"""Backpropagation: walk the recorded graph from the output back to the leaves.

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

from tinygrad_div import anomaly
from tinygrad_div.engine.errors import BackwardError, ShapeError
from tinygrad_div.engine.mode import state
from tinygrad_div.engine.ops.shape import broadcast_to, expand, reducible, sum_to, sum_to_shape
from tinygrad_div.engine.value import Value, shape_of, to_data

_ndarray = np.ndarray


def backward(root: Value, grad: Any = None, *, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into the `.grad` of every leaf that requires grad."""
    seed = _seed(root, grad, create_graph)
    _run([(root, seed)], retain_graph=retain_graph or create_graph, create_graph=create_graph)


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
    roots = [(out, _seed(out, g, create_graph)) for out, g in zip(outputs, grad_outputs)]
    capture = dict.fromkeys(inputs)
    keep = create_graph if retain_graph is None else retain_graph
    results = _run(
        roots, retain_graph=keep, create_graph=create_graph, capture=capture, only=_leading_to(inputs, outputs)
    )
    missing = [i for i, x in enumerate(inputs) if results.get(x) is None]
    if missing and not allow_unused:
        raise ValueError(f"grad(): input {missing[0]} is not used to compute the outputs (pass allow_unused=True)")
    return tuple(_owned(results.get(x)) for x in inputs)


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
        if type(root.data) is not float:
            raise ValueError(
                f"backward() without a gradient needs a scalar output, this one has shape {root.shape}: "
                "pass grad=... of that shape, or reduce it first (e.g. .sum())"
            )
        seed: Any = 1.0
    elif create_graph and isinstance(grad, Value):
        seed = grad
    else:
        seed = to_data(grad)
    if type(seed) is not type(root.data) or (type(seed) is _ndarray and seed.shape != root.data.shape):
        seed_shape = seed.shape if isinstance(seed, Value) else shape_of(seed)
        if seed_shape != root.shape:
            raise ShapeError(f"backward(): gradient of shape {seed_shape} for an output of shape {root.shape}")
    if create_graph and not isinstance(seed, Value):
        seed = Value._wrap(seed, False)
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


def _run(
    roots: list, *, retain_graph: bool, create_graph: bool, capture: dict | None = None, only: set | None = None
) -> dict:
    """Propagate the seeds to the leaves; return `capture` filled with its Values' gradients.

    `only`, when given, is the set of nodes whose backward runs (what grad() asks about
    leads through them); the rest of the graph is neither walked nor freed.

    Order: a max-heap on the nodes' creation sequence. An op is always created after
    its inputs, so when a node is popped every reachable consumer (created later) has
    already passed its gradient on: topological order without a separate sort or
    visited set, and `pending` doubles as the set of discovered nodes.
    """
    pending: dict[Value, Any] = {}  # gradient flowing into each Value, dropped once consumed
    heap: list = []
    for root, seed in roots:
        _deliver(pending, heap, root, seed)
    check_anomaly = state.anomaly
    previous_mode = state.grad_enabled
    state.grad_enabled = create_graph  # raw backward records nothing; create_graph records the gradient's graph
    try:
        while heap:
            v = heappop(heap)[1]
            g = pending.pop(v)
            if capture is not None:
                if v in capture:
                    capture[v] = g
            elif v._retains_grad:
                v.grad = _owned(g) if v.grad is None else v.grad + g
            if only is not None and v not in only:
                continue
            ctx = v._ctx
            if ctx.saved_tensors is None:
                raise BackwardError(
                    f"{type(ctx).__name__}: this graph was already used by a backward pass that freed it; "
                    "pass retain_graph=True to the first backward to go through it twice"
                )
            if create_graph:
                grads = ctx.backward(_GraphContext(ctx, type(ctx).saved_values(ctx, ctx.parents, v)), g)
            else:
                grads = ctx.backward(ctx, g)
                if not retain_graph:
                    ctx.saved_tensors = None
            parents = ctx.parents
            if type(grads) is not tuple:
                grads = tuple(grads) if type(grads) is list else (grads,)
            if len(grads) != len(parents):
                raise BackwardError(
                    f"{type(ctx).__name__}.backward returned {len(grads)} gradients for {len(parents)} inputs"
                )
            if check_anomaly:
                anomaly.check_backward(ctx, grads, g)
            for p, pg in zip(parents, grads):
                if pg is None or not isinstance(p, Value) or not p.requires_grad:
                    continue
                data = p.data
                if type(pg) is not type(data) or (type(pg) is _ndarray and pg.shape != data.shape):
                    pg = fit_gradient(pg, data, ctx, p)
                if p._ctx is None and capture is None:  # a leaf: accumulate straight into .grad
                    if p.grad is not None:
                        p.grad = p.grad + pg
                    else:  # the leaf's own copy: pass-through rules (Add's) hand on shared arrays
                        p.grad = pg.copy() if type(pg) is _ndarray else pg
                    continue
                previous = pending.get(p)
                if previous is not None:
                    pending[p] = previous + pg
                else:
                    pending[p] = pg
                    if p._ctx is not None:
                        heappush(heap, (-p._ctx.sequence, p))
    finally:
        state.grad_enabled = previous_mode
    if capture is None:
        for leaf, g in pending.items():  # only a root that is itself a leaf ends up here
            leaf.grad = _owned(g) if leaf.grad is None else leaf.grad + g
        return {}
    for x in capture:
        if capture[x] is None and x in pending:
            capture[x] = pending[x]
    return capture


def _deliver(pending: dict, heap: list, v: Value, g: Any) -> None:
    previous = pending.get(v)
    if previous is not None:
        pending[v] = previous + g
        return
    pending[v] = g
    if v._ctx is not None:
        heappush(heap, (-v._ctx.sequence, v))


def fit_gradient(g: Any, data: Any, ctx: Any, parent: Value) -> Any:
    """Bring a gradient to its input's shape: sum over broadcast axes, or expand a scalar."""
    target = shape_of(data)
    # by identity: `parents.index` would compare with ==, which numpy turns into an op on Values
    index = next(i for i, p in enumerate(ctx.parents) if p is parent)
    if isinstance(g, Value):
        if g.shape == target:
            return g
        if reducible(g.shape, target):
            return sum_to(g, target)
        if g.shape == ():
            return broadcast_to(g, target)
    elif not isinstance(g, (float, int, np.ndarray, np.number)) or isinstance(g, (bool, np.bool_)):
        raise BackwardError(
            f"{type(ctx).__name__}.backward returned {type(g).__name__} for input {index}: "
            "expected an array, a number, a Value or None"
        )
    else:
        gshape = np.shape(g)
        if gshape == target or reducible(gshape, target):
            g = sum_to_shape(np.asarray(g, dtype=np.float64), target)
            return float(g) if target == () else g
        if gshape == ():
            return expand(g, target)
    raise BackwardError(
        f"{type(ctx).__name__}.backward returned a gradient of shape {np.shape(getattr(g, 'data', g))} "
        f"for input {index} of shape {target}"
    )


class _GraphContext:
    """What `backward` sees while its gradient is being recorded: the op's ctx, with Values saved."""

    def __init__(self, ctx: Any, saved: tuple) -> None:
        self._ctx = ctx
        self.saved_tensors = saved

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

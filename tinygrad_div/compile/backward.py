# ruff: noqa: UP031  (templates hold str.format fields like {0}; %-formatting fills in the rest)
"""The chain rule as program lines: autograd's backward pass, walked once at trace time.

The walk is `engine.autograd._run` step for step, so the program adds the same
gradients in the same order as `loss.backward()`: nodes newest first; each node's
incoming gradient complete before its rule runs; each input's gradient fitted to
its shape the way `fit_gradient` fits it (the engine's `gradient_needs_sum` decides:
summed down, or refused, never expanded); contributions summed in arrival order;
a leaf's `.grad` accumulated as `grad + g`, or set to a copy of the first g when it
was None (decided on each call, from the `.grad` the parameter has then).

Every rule's result is compared with the op's own `backward` on the trace data;
on any difference the op is replayed (its own forward and backward called by the
program), which is exact by construction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_div.compile.builder import Builder
from tinygrad_div.compile.errors import TraceError
from tinygrad_div.compile.lower import Node, rules
from tinygrad_div.compile.runtime import same_bits
from tinygrad_div.engine.autograd import gradient_needs_sum
from tinygrad_div.engine.errors import BackwardError
from tinygrad_div.engine.value import Value, shape_of


def chain_rule(b: Builder, tracer: Any, nodes: list[Node], loss: int) -> dict[int, int]:
    """Lines for every parameter's gradient of `loss`; {parameter slot: slot of its new .grad}."""
    b.loss_name = b.program.slots[loss].name
    pending = {loss: b.const(1.0)}
    contributions: dict[int, list[int]] = {}
    for node in reversed(nodes):
        if not node.recorded or node.out not in pending:
            continue
        g = pending.pop(node.out)
        mark = b.mark()
        grads = _node_gradients(b, tracer, node, g)
        for slot, pg in zip(node.ins, grads):  # name each input's gradient after the input
            if pg is not None and pg >= mark[1] and b.program.slots[pg].kind == "tmp":
                b.program.slots[pg].name = b.name(_d(b, slot))
        if len(grads) != len(node.ins):
            raise BackwardError(f"{node.op.__name__}.backward returned {len(grads)} gradients for "
                                f"{len(node.ins)} inputs")
        for slot, need, pg in zip(node.ins, node.needs, grads):
            if pg is None or not need:
                continue
            pg = _fit(b, node, pg, slot)
            if b.program.slots[slot].kind == "param":
                contributions.setdefault(slot, []).append(pg)
            elif slot in pending:
                pending[slot] = b.line("{0} + {1}", (pending[slot], pg), node.op.__name__, _d(b, slot),
                                       note=_note(b, slot, "sum of contributions"))
            else:
                pending[slot] = pg
    return {slot: _accumulate(b, slot, gs) for slot, gs in contributions.items()}


def _note(b: Builder, slot: int, how: str) -> str:
    return f"d{b.loss_name}/d{b.program.slots[slot].name}: {how}"


def _d(b: Builder, slot: int) -> str:
    """The name of a gradient slot: d<loss>_d<what>, e.g. dE_dnet1."""
    return f"d{b.loss_name}_d{b.program.slots[slot].name}"


def _node_gradients(b: Builder, tracer: Any, node: Node, g: int) -> tuple:
    """The node's gradient lines, by its rule when that matches the op's own backward, else replayed."""
    eager = _eager_backward(node, b.value(g))
    rule = rules(node.op)[1] if "ctx" not in node.saved else None
    if rule is not None:
        mark = b.mark()
        try:
            grads = rule(b, node, g)
        except Exception:  # noqa: BLE001  (a rule that does not apply: replay)
            grads = None
        if grads is not None and _matches(b, node, grads, eager):
            _annotate(b, node, mark[0])
            return grads
        b.rollback(mark)
    mark = b.mark()
    ctx = node.saved.get("ctx")
    if ctx is None:  # the forward ran as lines: run it again as the op itself, for its ctx
        tracer.replay(node, None)
        ctx = node.saved["ctx"]
    try:
        values = b._evaluate("replay_backward({0}, {1})", (ctx, g))
    except Exception as exc:
        raise TraceError(
            f"{node.where}: {node.op.__name__}.backward cannot run from what its forward saved "
            f"({type(exc).__name__}: {exc}); a compiled program needs backward to use only ctx.saved_tensors "
            "and what forward stored on ctx"
        ) from None
    grads = b.line("replay_backward({0}, {1})", (ctx, g), node.op.__name__, "d_" + node.op.__name__.lower(),
                   outs=len(values), pure=False) if len(values) > 1 else (
        b.line("replay_backward({0}, {1})[0]", (ctx, g), node.op.__name__, "d_" + node.op.__name__.lower()),)
    grads = tuple(None if values[i] is None else s for i, s in enumerate(grads))
    if eager is not None and not _matches(b, node, grads, eager):
        raise TraceError(f"{node.where}: {node.op.__name__}.backward replayed gives other results than eager's; "
                         "it must compute only from what its forward saved")
    _annotate(b, node, mark[0])
    return grads


def _eager_backward(node: Node, g: Any) -> tuple | None:
    """The op's own raw backward on the trace's node (eager's answer), or None if it cannot run again."""
    try:
        grads = node.ctx.backward(node.ctx, g)
    except Exception:  # noqa: BLE001  (a backward that frees what it saved: no reference answer)
        return None
    return tuple(grads) if type(grads) in (tuple, list) else (grads,)


def _matches(b: Builder, node: Node, grads: tuple, eager: tuple | None) -> bool:
    if eager is None:
        return True
    if len(grads) != len(eager):
        return False
    for slot, need, want in zip(grads, node.needs, eager):
        if not need:
            continue
        got = None if slot is None else b.value(slot)
        if (got is None) != (want is None):
            return False
        if got is not None and not same_bits(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)):
            return False
        if got is not None and np.shape(got) != np.shape(want):
            return False
    return True


def _annotate(b: Builder, node: Node, first_line: int) -> None:
    targets = [b.program.slots[s].name for s, need in zip(node.ins, node.needs) if need]
    for line in b.program.lines[first_line:]:
        if not line.note:
            line.note = ", ".join(f"d{b.loss_name}/d{t}" for t in targets)


def _fit(b: Builder, node: Node, pg: int, slot: int) -> int:
    """`fit_gradient`'s raw branch: the engine's shape contract decides; a broadcast gradient is summed down."""
    g, data = b.value(pg), b.value(slot)
    if type(g) is type(data) and (type(g) is not np.ndarray or g.shape == data.shape):
        return pg
    if isinstance(g, Value):
        raise BackwardError(f"{node.op.__name__}.backward returned a Value: expected an array, a number or None")
    target = shape_of(data)
    gradient_needs_sum(g, target, node.op.__name__, node.ins.index(slot))
    return b.line("sum_to({0}, %r)" % (target,), (pg,), "fit", _d(b, slot),
                  note=_note(b, slot, "summed over broadcast axes"))


def _accumulate(b: Builder, param: int, contributions: list[int]) -> int:
    """The parameter's new .grad: eager's `p.grad = p.grad + g` per contribution, a copy for the first."""
    slots = b.program.slots
    old = b.program.slot("grad", b.name(slots[param].name + "_grad"), slots[param].source.grad, slots[param].source)
    name = "grad_" + slots[param].name
    first = contributions[0]
    template = ("{0} if {1} is None else {1} + {0}" if b.scalar(first)
                else "{0}.copy() if {1} is None else {1} + {0}")
    acc = b.line(template, (first, old), "accumulate", name, note=f"{slots[param].name}.grad += d{b.loss_name}/d"
                 f"{slots[param].name}", pure=False)
    for pg in contributions[1:]:
        acc = b.line("{0} + {1}", (acc, pg), "accumulate", name, note=f"{slots[param].name}.grad += another path")
    return acc

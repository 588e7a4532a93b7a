# ruff: noqa: UP031  (templates hold str.format fields like {0}; %-formatting fills in the rest)
"""Tracing: run the step once on the real data and record every op as program lines.

The engine tells the active tracer of every op it applies (`Function.apply` ->
`record`). The tracer numbers each Value it meets: the step's arguments, leaf Values
it reads (parameters, with their `.data` read fresh on every call), raw numbers and
arrays (constants of the program), and the outputs of ops. Each op becomes lines
through its rule in `lower` (checked against eager's own output, bit for bit), or is
replayed. While tracing, whatever would turn traced data into a Python value
(`float(v)`, `v.item()`, `bool(v)`, `np.asarray(v)`) raises TraceError: the program
would silently keep the trace's value on every later call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_div.compile.builder import Builder
from tinygrad_div.compile.errors import TraceError, user_line
from tinygrad_div.compile.lower import Node, rules
from tinygrad_div.compile.runtime import needs, same_bits
from tinygrad_div.engine import mode
from tinygrad_div.engine.mode import state
from tinygrad_div.engine.value import Value, new_value, to_data


class Tracer(mode.Tracer):
    """The engine's tracer (`engine.mode.Tracer`) while td.compile traces a step."""

    def __init__(self, builder: Builder, names: dict[int, str]) -> None:
        self.b = builder
        self.names = names  # id(Value) -> readable name, from the step's closure (see naming)
        self.slot_of: dict[int, int] = {}
        self.keep: list[Value] = []  # keeps every seen Value alive, so ids stay unique
        self.nodes: list[Node] = []
        self.params: list[Value] = []
        self.renamed: set[int] = set()  # slots the step named itself (see `named`)
        self.masks: dict[int, int] = {}  # id(mask array) -> its slot: comparisons' answers (see `compare`)
        self.keep_raw: list = []  # keeps the masks alive, so ids stay unique

    # -- called by the engine -------------------------------------------------------------
    def record(self, op: type, inputs: tuple, params: dict, out: Value) -> None:
        state.tracer = None  # the rules below compute on raw data; nothing of theirs is recorded
        try:
            ins = tuple(self._input(x) for x in inputs)
            node = Node(op, ins, dict(params), -1, tuple(isinstance(x, Value) and x.requires_grad for x in inputs),
                        out._ctx is not None, out._ctx, user_line())
            node.out = self._lower(node, out.data)
            if type(out.data) is np.ndarray and self._masked(inputs, params):
                self.b.guard(node.out, node.where)  # its shape may follow the mask's data: checked per call
            self.nodes.append(node)
            self.slot_of[id(out)] = node.out
            self.keep.append(out)
        finally:
            state.tracer = self

    def _masked(self, inputs: tuple, params: dict) -> bool:
        """Whether a mask the program computes (or a bool argument) feeds the op: its shape may follow the data."""
        def mask(x: Any) -> bool:
            return type(x) is np.ndarray and x.dtype.kind == "b" and id(x) in self.masks
        return any(mask(x) for x in inputs) or any(
            mask(v) or type(v) is tuple and any(mask(u) for u in v) for v in params.values())

    def compare(self, symbol: str, a: Any, b: Any, out: Any) -> Any:
        """A comparison's mask as a program line (ops take masks as raw arrays: found again by identity)."""
        if not isinstance(out, np.ndarray):
            self.refuse(f"a comparison ('{symbol}') of scalar Values (its answer, a bool, is data)")
        state.tracer = None
        try:
            ins = (self._input(a), self._input(b))
            slot = self.b.line("{0} %s {1}" % symbol, ins, "compare", "mask")
            if not np.array_equal(self.b.value(slot), out):
                raise TraceError(f"{user_line()}: a comparison gave another mask when compiled")
            self.masks[id(out)] = slot
            self.keep_raw.append(out)
        finally:
            state.tracer = self
        return out

    def rename(self, v: Value, name: str) -> None:
        slot = self.slot_of.get(id(v))
        if slot is not None:
            self.b.program.slots[slot].name = self.b.name(name)
            self.renamed.add(slot)

    def refuse(self, what: str) -> None:
        state.tracer = None  # the error's own formatting must not trip the guards again
        raise TraceError(
            f"{user_line()}: {what} while tracing a compiled step would bake this call's value into the "
            "program; keep the computation in Value ops, or call the step uncompiled"
        )

    # -- slots ------------------------------------------------------------------------------
    def argument(self, name: str, data: Any, position: int) -> Any:
        """What fn gets for an argument: a Value for float data; integer arrays (labels) as they are."""
        slot = self.b.program.slot("arg", self.b.name(name), data, position)
        if type(data) is not float and not isinstance(data, np.ndarray):
            return data  # a static int or bool (part of the signature): a constant wherever the step uses it
        if type(data) is np.ndarray and data.dtype.kind in "iub":
            self.masks[id(data)] = slot  # found again by identity, like a comparison's mask
            self.keep_raw.append(data)
            return data
        v = new_value(data, False, None)
        self.slot_of[id(v)] = slot
        self.keep.append(v)
        return v

    def _input(self, x: Any) -> int:
        if type(x) is np.ndarray and id(x) in self.masks:
            return self.masks[id(x)]
        if not isinstance(x, Value):
            return self.b.const(to_data(x, copy=True))  # a number or array the step captured: frozen
        slot = self.slot_of.get(id(x))
        if slot is not None:
            return slot
        if x._ctx is not None:
            raise TraceError(
                f"{user_line()}: the step uses a Value made outside the trace (by {type(x._ctx).__name__}): computed "
                "before the step was called, or an output of an op with several outputs (not compiled yet); "
                "compute it inside the step, or pass its data as an argument"
            )
        slot = self.b.program.slot("param", self.b.name(self.names.get(id(x), "p")), x.data, x)
        if x.requires_grad:
            self.params.append(x)
        self.slot_of[id(x)] = slot
        self.keep.append(x)
        return slot

    # -- forward lines --------------------------------------------------------------------------
    def _lower(self, node: Node, eager: Any) -> int:
        rule = rules(node.op)[0]
        if rule is not None:
            mark = self.b.mark()
            try:
                out = rule(self.b, node)
            except Exception:  # noqa: BLE001  (a rule that does not apply here: replay instead)
                out = None
            if out is not None and same_bits(self.b.value(out), eager) and type(self.b.value(out)) is type(eager):
                return out
            self.b.rollback(mark)
            node.saved.clear()
        return self.replay(node, eager)

    def replay(self, node: Node, eager: Any | None) -> int:
        """Lines that call the op's own forward (its ctx kept for its own backward)."""
        b, op = self.b, node.op
        op_name = b.name(op.__name__)
        b.namespace[op_name] = op
        flags = b.name("inputs_" + op.__name__.lower())
        b.namespace[flags] = needs(*node.needs)
        ins = list(node.ins)
        args = ["{%d}" % i for i in range(len(node.ins))] + [f"{k}={self._param(k, v, ins)}"
                                                              for k, v in node.params.items()]
        template = f"replay_forward({op_name}, {flags}, {', '.join(args)})"
        out, ctx = b.line(template, ins, op.__name__, op.__name__.lower(), outs=2, pure=False)
        b.program.slots[ctx].name = b.name(f"{op.__name__.lower()}_ctx")  # the node its backward line reads
        if eager is not None and not (same_bits(b.value(out), eager) and type(b.value(out)) is type(eager)):
            raise TraceError(f"{node.where}: {op.__name__}.forward gave different results on the same data; "
                             "a compiled program needs a deterministic forward")
        node.saved["ctx"] = ctx
        return out

    def _param(self, key: str, value: Any, ins: list[int]) -> str:
        """A keyword parameter as source: a literal, a slot (an integer argument, a mask), or a constant."""
        if type(value) is np.ndarray and id(value) in self.masks:
            ins.append(self.masks[id(value)])
            return "{%d}" % (len(ins) - 1)
        if type(value) is tuple and any(type(v) is np.ndarray and id(v) in self.masks for v in value):
            return "(" + "".join(self._param(key, v, ins) + ", " for v in value) + ")"
        if value is None or type(value) in (int, bool, str) or (
                type(value) is tuple and all(type(v) is int for v in value)):
            return repr(value)
        name = self.b.name(key)
        self.b.namespace[name] = value
        return name


def named(v: Value, name: str) -> Value:
    """v, and while tracing: call its slot `name` in the generated source (a no-op in eager code)."""
    tracer = state.tracer
    if tracer is not None and isinstance(v, Value):
        tracer.rename(v, name)
    return v


def run_traced(tracer: Tracer, fn: Callable, args: list[Value]) -> Any:
    """fn(*args) with the tracer listening; the guards in Value refuse what would bake data in."""
    if state.tracer is not None:
        raise TraceError("a compiled step called while another is being traced; compile the outer step only")
    state.tracer = tracer
    try:
        return fn(*args)
    finally:
        state.tracer = None

"""A second trace on other data: whatever differs between the two was baked in from the data.

Guards in Value catch `float(v)`, `v.item()`, `bool(v)` and `np.asarray(v)`. What they
cannot see: numpy on `v.data`, a comparison's mask (comparisons answer with data, not
Values), an `if` on such a mask, a backward that reads data it did not save. All of
these make the recorded program depend on the numbers it was traced with. So the
step is traced three times more with every argument and parameter scaled by a random factor in
±[0.5, 2] (signs flip), and the two records must agree: the same ops on the same
inputs with the same constants. The first difference is reported with its line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_div.compile.builder import Builder
from tinygrad_div.compile.errors import TraceError
from tinygrad_div.compile.tracer import Tracer, run_traced


def check_independent(fn: Callable, names: list[str], datas: list, first: Tracer, tries: int = 3) -> None:
    """Trace `tries` more times on other data; raise TraceError at the first op that differs."""
    rng = np.random.default_rng(20261130)
    for _ in range(tries):
        _retrace(fn, names, datas, first, rng)


def _retrace(fn: Callable, names: list[str], datas: list, first: Tracer, rng: np.random.Generator) -> None:

    def perturb(d: Any) -> Any:
        if type(d) is np.ndarray and d.dtype.kind in "iub":  # labels: the same values, shuffled
            return rng.permutation(d.ravel()).reshape(d.shape)
        if type(d) is not float and not isinstance(d, np.ndarray):  # a static int or bool: part of the signature
            return d
        shape = np.shape(d)
        factor = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        return float(d * factor) if type(d) is float else d * factor

    read = [v for v in first.keep if v._ctx is None and first.b.program.slots[first.slot_of[id(v)]].kind == "param"]
    originals = [v.data for v in read]
    second = Tracer(Builder(), {})
    try:
        for v in read:
            v.data = perturb(v.data)
        args = [second.argument(n, perturb(d), i) for i, (n, d) in enumerate(zip(names, datas))]
        with np.errstate(all="ignore"):
            run_traced(second, fn, args)
    except TraceError:
        raise
    except Exception:  # noqa: BLE001  (the step fails on the other data: no second opinion, nothing baked seen)
        return
    finally:
        for v, d in zip(read, originals):
            v.data = d
    _compare(_describe(first), _describe(second), first)


def _describe(tracer: Tracer) -> list[tuple]:
    """Each op as (op, params, inputs), inputs named by what they are rather than by slot number."""
    slots = tracer.b.program.slots
    made_by = {node.out: i for i, node in enumerate(tracer.nodes)}
    masks = {slot: i for i, slot in enumerate(tracer.masks.values())}
    described = []
    for node in tracer.nodes:
        ins = []
        for s in node.ins:
            slot = slots[s]
            if s in made_by:
                ins.append(("op", made_by[s]))
            elif s in masks:
                ins.append(("mask", masks[s]))
            elif slot.kind == "arg":
                ins.append(("arg", slot.source))
            elif slot.kind == "param":
                ins.append(("param", id(slot.source)))
            else:
                ins.append(("const", np.shape(slot.value), np.asarray(slot.value, dtype=np.float64).tobytes()))
        described.append((node.op, _params(tracer, node.params), tuple(ins)))
    return described


def _params(tracer: Tracer, params: dict) -> str:
    """The parameters' repr, an array that is a slot (labels, a mask) by its slot rather than its values."""
    def show(v: Any) -> Any:
        if type(v) is np.ndarray and id(v) in tracer.masks:
            return ("slot", tracer.b.program.slots[tracer.masks[id(v)]].source)
        return tuple(show(x) for x in v) if type(v) is tuple else v
    return repr({k: show(v) for k, v in params.items()})


def _compare(a: list[tuple], b: list[tuple], first: Tracer) -> None:
    for i, (x, y) in enumerate(zip(a, b)):
        if x == y:
            continue
        node = first.nodes[i]
        what = "a constant computed from the data (numpy on .data, or a comparison's mask?)"
        if x[0] is not y[0] or x[1] != y[1] or [k[0] for k in x[2]] != [k[0] for k in y[2]]:
            what = "a different op: the step's control flow depends on the data"
        raise TraceError(f"{node.where}: traced again on other data, {node.op.__name__} gets {what}; a compiled "
                         "program would repeat this call's values. Keep the computation in Value ops")
    if len(a) != len(b):
        where = first.nodes[min(len(a), len(b)) - 1].where if a and b else "?"
        raise TraceError(f"{where}: traced again on other data, the step applies {len(b)} ops instead of {len(a)}: "
                         "its control flow depends on the data")


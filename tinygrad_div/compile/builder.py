# ruff: noqa: UP031  (templates hold str.format fields like {0}; %-formatting fills in the rest)
"""Appending lines to a Program while evaluating them on the trace's data.

A line's template is compiled once into a small lambda in the program's namespace
and run on its inputs' trace-time values right away: each new slot knows its value
(so the next rule knows shapes and types), and that value was computed by the same
text the emitted program will run.
"""

from __future__ import annotations

import builtins
import keyword
import re
from typing import Any

import numpy as np

from tinygrad_div.compile.ir import Line, Program
from tinygrad_div.compile.runtime import NAMESPACE

_IDENT = re.compile(r"[^0-9a-zA-Z_]")
#: names a slot must not shadow: Python's keywords and builtins (templates call abs, float, ...)
_TAKEN = set(keyword.kwlist) | set(dir(builtins))


class Builder:
    def __init__(self) -> None:
        self.program = Program()
        self.namespace: dict[str, Any] = dict(NAMESPACE)
        self._lambdas: dict[tuple[str, int], Any] = {}
        self._names: dict[str, int] = {}
        self._issued: set[str] = set()
        self.loss_name = "loss"

    # -- names --------------------------------------------------------------------------
    def name(self, hint: str) -> str:
        """A fresh identifier from `hint` ("W1", "sigmoid", "d_net1" ...)."""
        base = _IDENT.sub("_", hint).strip("_") or "t"
        if base[0].isdigit():
            base = "v" + base
        if base in _TAKEN:
            base += "_"
        n = self._names.get(base, 0)
        name = base
        while name in self._issued or name in self.namespace:  # "add_1" may be a base name, or add's second
            n += 1
            name = f"{base}_{n}"
        self._names[base] = n
        self._issued.add(name)
        return name

    # -- slots --------------------------------------------------------------------------
    def value(self, slot: int) -> Any:
        return self.program.slots[slot].value

    def const(self, value: Any) -> int:
        return self.program.slot("const", self.name("const"), value)

    def line(self, template: str, ins: tuple[int, ...] | list[int], op: str, hint: str, *,
             note: str = "", outs: int = 1, pure: bool = True) -> Any:
        """Append `template(*ins)` and evaluate it; the new slot (or a tuple of `outs` slots)."""
        ins = tuple(ins)
        result = self._evaluate(template, ins)
        values = result if outs > 1 else (result,)
        slots = tuple(self.program.slot("tmp", self.name(hint), v) for v in values)
        self.program.lines.append(Line(slots, template, ins, op, note, pure))
        return slots if outs > 1 else slots[0]

    def _evaluate(self, template: str, ins: tuple[int, ...]) -> Any:
        key = (template, len(ins))
        fn = self._lambdas.get(key)
        if fn is None:
            names = [f"x{i}" for i in range(len(ins))]
            fn = eval(f"lambda {', '.join(names)}: {template.format(*names)}", self.namespace)  # noqa: S307
            self._lambdas[key] = fn
        return fn(*(self.value(i) for i in ins))

    def guard(self, slot: int, where: str) -> None:
        """A check, on every call, that `slot` has the shape it has now (a mask's selection count).

        Not evaluated now (it holds now by construction); the program raises Retrace
        where it fails, before anything is written, and the caller traces again.
        """
        shape = self.shape(slot)
        where = where.replace("{", "{{").replace("}", "}}")
        template = "if {0}.shape != %r: guard({0}, %r, %r)" % (shape, shape, where)
        self.program.lines.append(Line((), template, (slot,), "guard", f"shape {shape}, as traced (a mask's "
                                       "selection count): else traced again", pure=False))

    def mark(self) -> tuple[int, int]:
        return len(self.program.lines), len(self.program.slots)

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget the lines and slots added since `mark` (a rule whose bits did not match eager)."""
        del self.program.lines[mark[0]:]
        del self.program.slots[mark[1]:]

    def shape(self, slot: int) -> tuple[int, ...]:
        return np.shape(self.value(slot))

    def scalar(self, slot: int) -> bool:
        return not isinstance(self.value(slot), np.ndarray)

"""The flat program a traced step becomes: numbered slots and the lines that fill them.

Like Autodidax's jaxpr, a program is a list of applications on numbered slots, in
an order where every slot is written before it is read. Each `Line` is one Python
expression (a template with `{0}`, `{1}`, ... for its inputs), so the evaluator
used while tracing and the emitted source are the same text: what the trace
computed is what the compiled program computes.

Slot kinds:
    arg      an argument of the step (read from the call)
    param    a leaf Value's `.data`, read fresh on every call
    grad     a parameter's `.grad` before the call (None or data)
    const    data fixed at trace time: a literal, or a raw array the step captured
    tmp      written by a line
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Slot:
    kind: str  # arg | param | grad | const | tmp
    name: str  # a readable Python identifier, unique in the program
    value: Any  # the value it held while tracing (shape and type decide the code)
    source: Any = None  # for param/grad: the Value read; for arg: its position


@dataclass
class Line:
    """outs = template(*ins): one op of the forward pass or one step of the chain rule."""

    outs: tuple[int, ...]
    template: str  # e.g. "{0} * {1}" or "np.exp({0})"
    ins: tuple[int, ...]
    op: str  # the op it comes from, e.g. "Mul"
    note: str = ""  # "forward", or whose gradient it is: "dloss/dW1 via Mul"
    pure: bool = True  # False: never merged with an equal line (it makes a distinct object)


@dataclass
class Program:
    slots: list[Slot] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    #: slot of the loss; per parameter the slot of its new .grad (None: untouched)
    loss: int = -1
    grads: list[tuple[Any, int]] = field(default_factory=list)

    def slot(self, kind: str, name: str, value: Any, source: Any = None) -> int:
        self.slots.append(Slot(kind, name, value, source))
        return len(self.slots) - 1

    def is_scalar(self, index: int) -> bool:
        return not isinstance(self.slots[index].value, np.ndarray)

    def shape(self, index: int) -> tuple[int, ...]:
        return np.shape(self.slots[index].value)

    def of_kind(self, kind: str) -> list[int]:
        return [i for i, s in enumerate(self.slots) if s.kind == kind]

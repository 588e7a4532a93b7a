"""Rewrites that make the program shorter and keep every bit of every result.

- constant folding: a line whose inputs are all constants is computed once, now
  (by the same text, on the same values: the same bits);
- no-op views: a reshape or sum-to whose output has its input's type and shape is
  its input (numpy returns a view of the same data);
- common subexpressions: two pure lines with the same text on the same slots are one;
- dead code: lines no result depends on are dropped.

Nothing algebraic: `x + 0.0` is not `x` (-0.0 + 0.0 is +0.0), `x * 1.0` stays, and a
broadcast to an equal shape stays (it makes a fresh C-ordered array, and a later
reduction's summation order follows memory layout).
"""

from __future__ import annotations

import numpy as np

from tinygrad_div.compile.ir import Line, Program

_VIEWS = ("{0}.reshape(", "sum_to({0}, ")


def simplify(program: Program) -> Program:
    replace: dict[int, int] = {}
    seen: dict[tuple, tuple[int, ...]] = {}
    lines: list[Line] = []
    for line in program.lines:
        line.ins = tuple(replace.get(i, i) for i in line.ins)
        slots = program.slots
        if line.pure and all(slots[i].kind == "const" for i in line.ins):
            for o in line.outs:
                slots[o].kind = "const"  # its trace-time value is what the line computes
            continue
        if line.pure and len(line.outs) == 1 and line.template.startswith(_VIEWS):
            before, after = slots[line.ins[0]].value, slots[line.outs[0]].value
            if type(before) is type(after) and np.shape(before) == np.shape(after):
                replace[line.outs[0]] = line.ins[0]
                continue
        if line.pure:
            key = (line.template, line.ins)
            if key in seen:
                replace.update(zip(line.outs, seen[key]))
                continue
            seen[key] = line.outs
        lines.append(line)
    program.loss = replace.get(program.loss, program.loss)
    program.grads = [(p, replace.get(s, s)) for p, s in program.grads]
    program.lines = _live(program, lines)
    _own_without_copies(program)
    return program


def _own_without_copies(program: Program) -> None:
    """Drop the `.copy()` of a parameter's first gradient where nothing else can hold that array.

    Eager copies a leaf's first gradient because pass-through rules (Add's) hand one array
    to several places. In a program, what escapes is each `.grad`; a gradient array that
    shares no memory with another escaping gradient, an input or a constant is already
    the parameter's own.
    """
    slots = program.slots
    firsts = [line for line in program.lines if line.op == "accumulate" and ".copy()" in line.template]
    visible = [s.value for s in slots if s.kind in ("arg", "param", "grad", "const")]
    visible += [slots[s].value for _, s in program.grads]
    for line in firsts:
        mine = slots[line.ins[0]].value
        others = [v for v in visible if v is not slots[line.outs[0]].value]
        others += [slots[f.ins[0]].value for f in firsts if f is not line]
        if isinstance(mine, np.ndarray) and not any(
                isinstance(v, np.ndarray) and np.shares_memory(mine, v) for v in others):
            line.template = line.template.replace(".copy()", "")


def _live(program: Program, lines: list[Line]) -> list[Line]:
    needed = {program.loss, *(s for _, s in program.grads)}
    kept = []
    for line in reversed(lines):
        if not line.outs or any(o in needed for o in line.outs):  # (a guard has no outputs: always kept)
            kept.append(line)
            needed.update(line.ins)
    return kept[::-1]

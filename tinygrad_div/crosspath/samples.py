"""The cross-path registry's inputs: derived from what an op declares, plus edge values.

An op's base cases are check_op's fixed cases (`testing.fixed_cases`: every example
parameter at full shapes, values drawn from the op's `domain`), or a few derandomized
draws of its own `draw_inputs`, plus whatever its `extra_cases()` hook adds. Each base
case is one *group*: the base itself (finite, inside the domain: what a compiled step
is traced on and an ONNX model exported from) and variants of the same shapes:

- every float input filled with the edge values (0, -0.0, ±inf, nan, tiny, huge, and
  the points where sigmoid, softplus and exp lose precision or overflow), shifted so
  that every value meets every position and different values meet across inputs;
- ties: every float input the same pattern, so max(a, b) at a = b, clip at a = lo = hi;
- a small grid (-1, -0.0, 0, 1, 2) drawn at random: ties inside reductions, values
  exactly at kinks and clip bounds, a < lo = hi;
- masks (bool inputs and bool arrays in the parameters) all True, all False (an empty
  selection) and negated: the selected count changes between calls of one signature;
  integer index arrays all 0 (duplicate indices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_div.engine.function import Function

#: the edge values every float input is filled with (in turn, at every position)
EDGES = (0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -2.0, 3.0, 1e-300, -1e300,
         40.0, -40.0, 710.0, -745.5, 800.0, -15.0, 1e-8, 37.5)
#: a small grid drawn from at random: ties, kinks at 0, clip bounds met exactly
GRID = (-1.0, -0.0, 0.0, 1.0, 2.0)
GRID_DRAWS = 4
#: how many cases an op with its own `draw_inputs` contributes
DRAWN = 3


@dataclass
class Case:
    """One input of an op: its data (floats, float64 arrays, masks, labels) and keyword parameters."""

    inputs: list
    params: dict
    label: str = "base"
    #: the float inputs passed as constants (raw data: no gradient; a compiled step's captured numbers)
    constants: tuple[int, ...] = ()


@dataclass
class Group:
    """A base case and its variants: the same shapes and parameter structure throughout."""

    base: Case
    variants: list[Case] = field(default_factory=list)

    @property
    def cases(self) -> list[Case]:
        return [self.base, *self.variants]


def is_float(x: Any) -> bool:
    return type(x) is float or (isinstance(x, np.ndarray) and x.dtype == np.float64)


def is_index(x: Any) -> bool:
    """An integer or bool array: a label, an index, a mask (a constant, never differentiated)."""
    return isinstance(x, np.ndarray) and x.dtype.kind in "biu"


def groups(op: type[Function]) -> list[Group]:
    """Every group the registry runs `op` on: its base cases, each with its edge variants."""
    return [Group(base, variants(base)) for base in base_cases(op)]


def base_cases(op: type[Function]) -> list[Case]:
    from tinygrad_div.testing import fixed_cases  # noqa: PLC0415  (needs hypothesis: only when cases are made)

    if getattr(op, "draw_inputs", None) is not None:
        found = _drawn_cases(op)
    else:
        found = [Case([_copy(d) for d in inputs], params) for inputs, params in fixed_cases(op)]
    extra = getattr(op, "extra_cases", None)
    if extra is not None:
        found += [Case(list(inputs), dict(params), "extra") for inputs, params in extra()]
    return found


def _drawn_cases(op: type[Function]) -> list[Case]:
    from hypothesis import HealthCheck, given, settings  # noqa: PLC0415

    from tinygrad_div.testing import hypothesis_storage_in_a_temporary_directory, op_inputs  # noqa: PLC0415

    found: list[Case] = []

    @settings(max_examples=DRAWN, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(op_inputs(op))
    def collect(case: tuple) -> None:
        found.append(Case([_copy(d) for d in case[0]], dict(case[1])))

    with hypothesis_storage_in_a_temporary_directory():
        collect()
    return found[:DRAWN]


def _copy(x: Any) -> Any:
    return x.copy() if isinstance(x, np.ndarray) else x


def variants(base: Case) -> list[Case]:
    """The edge variants of a base case: the same shapes, the floats and masks changed."""
    floats = [i for i, x in enumerate(base.inputs) if is_float(x)]
    out: list[Case] = []
    size = max([int(np.size(base.inputs[i])) for i in floats] + [1])
    for shift in range(0, len(EDGES), size):
        out.append(_with_floats(base, lambda i, n, k, s=shift: EDGES[(k + 7 * i + s) % len(EDGES)], f"edges+{shift}"))
    if len(floats) > 1:
        out.append(_with_floats(base, lambda i, n, k: EDGES[(3 * k) % len(EDGES)], "ties"))
    rng = np.random.default_rng(0)
    for draw in range(GRID_DRAWS):
        picks = rng.integers(len(GRID), size=(len(base.inputs), size))
        out.append(_with_floats(base, lambda i, n, k, p=picks: GRID[p[i, k % size]], f"grid{draw}"))
    for name, change in (("all True", np.ones_like), ("all False, indices 0", np.zeros_like),
                         ("negated", np.logical_not)):
        changed = _with_masks(base, change)
        if changed is not None:
            out.append(Case(changed.inputs, changed.params, f"masks {name}"))
    return out


def _with_floats(base: Case, value: Any, label: str) -> Case:
    inputs = []
    for i, x in enumerate(base.inputs):
        if type(x) is float:
            x = float(value(i, 1, 0))
        elif is_float(x):
            x = np.array([value(i, x.size, k) for k in range(x.size)], dtype=np.float64).reshape(x.shape)
        inputs.append(x)
    return Case(inputs, base.params, label)


def _with_masks(base: Case, change: Any) -> Case | None:
    """The case with every bool array changed (and integer indices all 0), or None if it has none."""
    found = []

    def swap(x: Any) -> Any:
        if isinstance(x, np.ndarray) and x.dtype == bool:
            found.append(x)
            return change(x).astype(bool)
        if isinstance(x, np.ndarray) and x.dtype.kind in "iu" and change is np.zeros_like:
            found.append(x)
            return np.zeros_like(x)
        if type(x) is tuple:
            return tuple(swap(v) for v in x)
        return x

    inputs = [swap(x) for x in base.inputs]
    params = {k: swap(v) for k, v in base.params.items()}
    return Case(inputs, params) if found else None


def describe(case: Case) -> str:
    """A short, copy-pasteable description of a case (inputs, then parameters)."""
    def show(x: Any) -> str:
        if isinstance(x, np.ndarray):
            return np.array2string(x, precision=17, separator=", ", threshold=40).replace("\n", "")
        return repr(x)
    text = ", ".join(show(x) for x in case.inputs)
    extra = "".join(f", {k}={show(v)}" for k, v in case.params.items())
    return f"({text}{extra}) [{case.label}]"


#: the numbers a step captures as constants (x ** 2.0, x * 0.5, ...): where compiled rules specialise
CONSTANTS = (2.0, 0.0, 0.5, -1.0, np.nan)


def compile_groups(op: type[Function], groups_: list[Group]) -> list[Group]:
    """More groups for the paths that specialise on how an input arrives (td.compile, create_graph):
    every input a Python float (scalar rules), and each float input in turn a captured constant."""
    found = []
    first = groups_[0].base if groups_ else None
    if first is not None and first.inputs and all(is_float(x) for x in first.inputs):
        count = len(first.inputs)
        base = Case([float(np.ravel(x)[0]) for x in first.inputs], first.params, "scalars")
        scalar = [Case([EDGES[(k + 7 * i) % len(EDGES)] for i in range(count)], first.params, f"scalar edges {k}")
                  for k in range(len(EDGES))]
        scalar += [Case([value] * count, first.params, f"scalar ties {value}") for value in GRID]
        found.append(Group(base, scalar))
    if op.shapes == "broadcast":
        for group in groups_[:1]:
            floats = [i for i, x in enumerate(group.base.inputs) if is_float(x)]
            for i in floats if len(floats) > 1 else []:
                for value in CONSTANTS:
                    def fixed(case: Case, i: int = i, value: float = value) -> Case:
                        inputs = [value if k == i else x for k, x in enumerate(case.inputs)]
                        return Case(inputs, case.params, f"{case.label}, input {i} the constant {value}", (i,))
                    found.append(Group(fixed(group.base), [fixed(c) for c in group.variants if c.label[:5] == "edges"]))
    return found

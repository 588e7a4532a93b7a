"""Readable names for the Values a step reads: from its closure, its globals, and objects they hold.

`model.layers[0].weight`, captured by a step, becomes `model_layers0_weight`; a list
`params` captured by a step gives `params0`, `params1`, ... Only the function's own
closure cells and the globals its code names are read (no frames).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinygrad_div.engine.value import Value


def names_of(fn: Callable, extra: dict[str, Value] | None = None) -> dict[int, str]:
    found: dict[int, str] = {}
    for name, v in (extra or {}).items():
        found[id(v)] = name
    seen: set[int] = set()

    def visit(name: str, obj: Any, depth: int) -> None:
        if isinstance(obj, Value):
            found.setdefault(id(obj), name)
            return
        if depth > 3 or id(obj) in seen or isinstance(obj, (str, bytes, int, float, type)) or callable(obj) and (
                not hasattr(obj, "__dict__") or isinstance(obj, type(visit))):
            return
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)):
            for i, x in enumerate(obj[:1000]):
                visit(f"{name}{i}", x, depth + 1)
        elif isinstance(obj, dict):
            for k, x in list(obj.items())[:1000]:
                if isinstance(k, str):
                    visit(f"{name}_{k}", x, depth + 1)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            for k, x in vars(obj).items():
                visit(f"{name}_{k}", x, depth + 1)

    code = getattr(fn, "__code__", None)
    if code is None:
        return found
    if getattr(fn, "__self__", None) is not None:
        visit("self", fn.__self__, 0)
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            visit(name, cell.cell_contents, 0)
        except ValueError:  # an empty cell
            continue
    for name in code.co_names:
        if name in fn.__globals__:
            visit(name, fn.__globals__[name], 0)
    return found

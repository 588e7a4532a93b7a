"""Readable names for the Values a step reads: from its closure, its globals, and objects they hold.

`model.layers[0].weight`, captured by a step, becomes `model_layers0_weight`; a list
`params` captured by a step gives `params0`, `params1`, ... Only the function's own
closure cells and the globals its code names are read (no frames).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_div.engine.value import Value


def names_of(fn: Callable, extra: dict[str, Value] | None = None) -> dict[int, str]:
    """id(Value) -> a readable name, for the Values fn's closure and globals reach."""
    found: dict[int, str] = {id(v): name for name, v in (extra or {}).items()}
    for name, obj, _ in _reachable(fn):
        if isinstance(obj, Value):
            found.setdefault(id(obj), name)
    return found


def arrays_of(fn: Callable) -> list[np.ndarray]:
    """The writeable numpy arrays fn's closure and globals reach (outside modules): state an op may
    update in place, such as batch_norm's running statistics."""
    return [obj for _, obj, in_module in _reachable(fn)
            if type(obj) is np.ndarray and obj.flags.writeable and not in_module]


def _reachable(fn: Callable) -> list[tuple[str, Any, bool]]:
    """(name, object, inside a module) for each Value and ndarray reachable in a few steps."""
    found: list[tuple[str, Any, bool]] = []
    seen: set[int] = set()

    def visit(name: str, obj: Any, depth: int, in_module: bool) -> None:
        if isinstance(obj, (Value, np.ndarray)):
            found.append((name, obj, in_module))
            return
        if depth > 3 or id(obj) in seen or isinstance(obj, (str, bytes, int, float, type)) or callable(obj) and (
                not hasattr(obj, "__dict__") or isinstance(obj, type(visit))):
            return
        seen.add(id(obj))
        in_module = in_module or isinstance(obj, types.ModuleType)
        if isinstance(obj, (list, tuple)):
            for i, x in enumerate(obj[:1000]):
                visit(f"{name}{i}", x, depth + 1, in_module)
        elif isinstance(obj, dict):
            for k, x in list(obj.items())[:1000]:
                if isinstance(k, str):
                    visit(f"{name}_{k}", x, depth + 1, in_module)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            for k, x in vars(obj).items():
                visit(f"{name}_{k}", x, depth + 1, in_module)

    code = getattr(fn, "__code__", None)
    if code is None:
        return found
    if getattr(fn, "__self__", None) is not None:
        visit("self", fn.__self__, 0, False)
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            visit(name, cell.cell_contents, 0, False)
        except ValueError:  # an empty cell
            continue
    for name in code.co_names:
        if name in fn.__globals__:
            visit(name, fn.__globals__[name], 0, False)
    return found

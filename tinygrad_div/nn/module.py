"""`Module`: PyTorch's `nn.Module` contract on Values: parameters found by walking attributes, state_dicts.

    class Net(Module):
        def __init__(self):
            self.hidden = Linear(2, 16)
            self.out = Linear(16, 1)

        def forward(self, x):
            return self.out(self.hidden(x).relu())

    net = Net()
    net.state_dict()        # {"hidden.weight": array (16, 2), "hidden.bias": ..., "out.weight": ..., "out.bias": ...}

A module's parameters are the `Value` attributes it holds, then, recursively, those
of the modules it holds (directly or in a list or tuple), in the order they were
assigned, named by their dotted path, as in PyTorch. No registration call and no
`super().__init__()` are needed: the attributes are read when asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from tinygrad_div.engine.value import Value, to_data


class StateDictError(ValueError):
    """A state_dict (or a saved file) that does not fit the module: names, dtypes or shapes differ. One line."""


class Module:
    """Base class of every layer and network: `forward` computes, the rest is found from the attributes."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- the tree of modules and parameters ------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The modules this one holds directly, by attribute name (`name.i` for the i-th of a list)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named `prefix`) and every module below it, depth first."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def _own_parameters(self) -> Iterator[tuple[str, Value]]:
        for name, value in vars(self).items():
            if isinstance(value, Value):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """Every parameter by dotted name ("0.weight", "out.bias"); a Value held twice is listed once."""
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, p in module._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self) -> list[Value]:
        """Every parameter, in `named_parameters` order (the order optimizers and saved files use)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (`.grad = None`, as PyTorch's default set_to_none=True)."""
        for p in self.parameters():
            p.grad = None

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Each parameter's data as a float64 array (a copy), by dotted name."""
        return {name: np.array(p.data, dtype=np.float64) for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy `state`'s arrays into the parameters; names must match exactly and shapes agree.

        Everything is checked before anything is copied, so a refused state_dict leaves
        the module as it was.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict takes a mapping of names to arrays, got {type(state).__name__}")
        params = dict(self.named_parameters())
        missing, unexpected = sorted(set(params) - set(state)), sorted(set(state) - set(params))
        if missing or unexpected:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unexpected {', '.join(unexpected)}"] if unexpected else [])
            raise StateDictError(f"state_dict does not fit {type(self).__name__}: {'; '.join(parts)}")
        new = {}
        for name, p in params.items():
            array = np.asarray(state[name])
            if array.dtype.kind not in "biuf":
                raise StateDictError(f"state_dict['{name}'] must hold real numbers, got dtype {array.dtype}")
            if array.shape != p.shape:
                raise StateDictError(f"state_dict['{name}'] has shape {array.shape}, the parameter has {p.shape}")
            new[name] = to_data(array, copy=True)
        for name, p in params.items():
            p.data = new[name]

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): {child!r}".replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""

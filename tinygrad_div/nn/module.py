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

Buffers are state that is not trained but saved: numpy arrays named with
`register_buffer` (BatchNorm's `running_mean`, `running_var`, `num_batches_tracked`).
They are in `state_dict()` after the module's own parameters, as in PyTorch, and never
in `parameters()`. `training` (True until `eval()`) is what Dropout and BatchNorm read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygrad_div.engine.value import Value, to_data


class StateDictError(ValueError):
    """A state_dict (or a saved file) that does not fit the module: names, dtypes or shapes differ. One line."""


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped: the module's names the state lacked, and the reverse."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and network: `forward` computes, the rest is found from the attributes."""

    #: True in training mode (the default), False after `eval()`: read by Dropout and BatchNorm.
    training: bool = True

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

    def modules(self) -> Iterator[Module]:
        """This module and every module below it, depth first."""
        for _, module in self.named_modules():
            yield module

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set `requires_grad` on every parameter (False freezes them); returns the module, as PyTorch."""
        if type(requires_grad) is not bool:
            raise TypeError(f"requires_grad_ takes True or False, got {type(requires_grad).__name__} "
                            f"{requires_grad!r}")
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    # -- training and evaluation -----------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set `training` on this module and every module below it (Dropout drops, BatchNorm uses the batch)."""
        if type(mode) is not bool:
            raise TypeError(f"train takes True or False, got {type(mode).__name__} {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """`train(False)`: Dropout passes its input through, BatchNorm uses its running statistics."""
        return self.train(False)

    # -- buffers ---------------------------------------------------------------------------
    def register_buffer(self, name: str, array: Any) -> None:
        """Hold `array` (a numpy array) as attribute `name`, saved in `state_dict()` but never trained."""
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"a buffer's name must be an identifier, got {name!r}")
        names = vars(self).setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, np.asarray(array))

    def _own_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for name in vars(self).get("_buffer_names", ()):
            yield name, getattr(self, name)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """Every buffer by dotted name ("0.running_mean"), module by module."""
        for module_name, module in self.named_modules(prefix):
            for name, array in module._own_buffers():
                yield (f"{module_name}.{name}" if module_name else name), array

    def buffers(self) -> list[np.ndarray]:
        return [array for _, array in self.named_buffers()]

    # -- state -----------------------------------------------------------------------------
    def _state_slots(self) -> dict[str, tuple[Module, str, Value | None]]:
        """name -> (module, attribute, the parameter or None for a buffer), in PyTorch's state_dict order:
        each module's own parameters, then its buffers, then its children's."""
        slots: dict[str, tuple[Module, str, Value | None]] = {}
        seen: set[int] = set()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, p in module._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    slots[prefix + name] = (module, name, p)
            for name, _ in module._own_buffers():
                slots[prefix + name] = (module, name, None)
        return slots

    def state_dict(self) -> dict[str, np.ndarray]:
        """Each parameter's data as a float64 array and each buffer as a copy of its array, by dotted name."""
        return {name: np.array(p.data, dtype=np.float64) if p is not None else np.array(getattr(module, attr))
                for name, (module, attr, p) in self._state_slots().items()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy `state`'s arrays into the parameters and buffers; shapes must agree.

        strict=True (the default): the names must match exactly. strict=False loads the
        names both have and returns the others as (missing_keys, unexpected_keys), as
        PyTorch. Everything is checked before anything is copied, so a refused
        state_dict leaves the module as it was.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict takes a mapping of names to arrays, got {type(state).__name__}")
        if type(strict) is not bool:
            raise TypeError(f"load_state_dict's strict must be True or False, got {strict!r}")
        slots = self._state_slots()
        missing, unexpected = [n for n in slots if n not in state], [n for n in state if n not in slots]
        if strict and (missing or unexpected):
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unexpected {', '.join(map(str, unexpected))}"] if unexpected else [])
            raise StateDictError(f"state_dict does not fit {type(self).__name__}: {'; '.join(parts)}")
        new = {}
        for name, (module, attr, p) in slots.items():
            if name not in state:
                continue
            array = np.asarray(state[name])
            if array.dtype.kind not in "biuf":
                raise StateDictError(f"state_dict['{name}'] must hold real numbers, got dtype {array.dtype}")
            current = p.shape if p is not None else np.shape(getattr(module, attr))
            if array.shape != current:
                what = "the parameter" if p is not None else "the buffer"
                raise StateDictError(f"state_dict['{name}'] has shape {array.shape}, {what} has {current}")
            if p is not None:
                new[name] = to_data(array, copy=True)
            else:
                new[name] = np.array(array, dtype=getattr(module, attr).dtype)
        for name, value in new.items():
            module, attr, p = slots[name]
            if p is not None:
                p.data = value
            else:  # in place, as PyTorch's copy_: whatever holds the array (a compiled step) sees the new values
                current = getattr(module, attr)
                if isinstance(current, np.ndarray) and current.flags.writeable:
                    current[...] = value
                else:
                    setattr(module, attr, value)
        return IncompatibleKeys(missing, unexpected)

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): {child!r}".replace("\n", "\n  ") for name, child in children]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""


class ModuleList(Module):
    """A list of modules, named "0", "1", ... in state_dicts, as `torch.nn.ModuleList` (no forward of its own)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        self._modules = []
        self.extend(modules)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for i, module in enumerate(self._modules):
            yield str(i), module

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__}")
        self._modules.append(module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) or not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList takes an iterable of Modules, got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, i: int) -> Module:
        return self._modules[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)

"""`Optimizer`: PyTorch's optimizer contract: parameter groups, a step over the parameters that have a
gradient, and a `state_dict` laid out as torch lays it out.

    opt = SGD([{"params": body.parameters()}, {"params": head.parameters(), "lr": 0.01}], lr=0.1)
    opt.param_groups[1]["lr"]          # 0.01; every other option from the defaults
    checkpoint = opt.state_dict()      # {"state": {0: {...}, ...}, "param_groups": [{..., "params": [0, 1]}, ...]}
    opt.load_state_dict(checkpoint)    # into a new optimizer over a new model: training resumes bit for bit

Updates are numpy on `.data`, not Value arithmetic: they are never recorded, the
parameters stay leaves, and they cost no op application. Each step assigns a new
array rather than updating in place, because a graph kept by `retain_graph` still
holds the old one. `.grad` is only read. A parameter without a gradient (a frozen
one, `requires_grad=False`, or one the loss did not reach) is left alone and its
state does not advance, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from tinygrad_div.engine.errors import DataError
from tinygrad_div.engine.value import Data, Value, to_data
from tinygrad_div.nn.module import StateDictError
from tinygrad_div.optim.checks import learning_rate, non_negative, short

#: A group option that is not a hyperparameter: the lr a scheduler started from (torch's name).
INITIAL_LR = "initial_lr"


class Optimizer:
    """Base class: `param_groups` (dicts of "params" and options), per-parameter `state`, `step()`."""

    #: the options every parameter group carries, in the order torch lists them
    hyperparameters: tuple[str, ...] = ("lr",)
    #: the buffers `step` keeps per parameter: name -> "parameter" (the parameter's shape) or "count"
    state_kinds: dict[str, str] = {}

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        groups = _as_groups(name, params)
        #: the options a group takes when it does not give its own
        self.defaults: dict[str, Any] = self._checked(defaults, name)
        self.param_groups: list[dict[str, Any]] = []
        #: per-parameter buffers (momentum, moments, step count), keyed by the parameter (torch's layout)
        self.state: dict[Value, dict[str, Any]] = {}
        for group in groups:
            self.add_param_group(group)
        if not any(group["params"] for group in self.param_groups):
            raise ValueError(f"{name} got no parameters to optimize")

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group: {"params": parameters, and any option to differ from the defaults}."""
        name = type(self).__name__
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError(f"{name}: a parameter group is a dict with a 'params' entry, got {short(group)}")
        unknown = [k for k in group if k != "params" and k != INITIAL_LR and k not in self.hyperparameters]
        if unknown:
            raise ValueError(f"{name}: unknown option {unknown[0]!r} in a parameter group "
                             f"(options: {', '.join(self.hyperparameters)})")
        params = _parameter_list(name, group["params"])
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if id(p) in seen:
                raise ValueError(f"{name} got the same parameter twice: {short(p)}")
            seen.add(id(p))
        options = self._checked({**self.defaults, **{k: v for k, v in group.items() if k != "params"}}, name)
        self.param_groups.append({"params": params, **options})

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (`.grad = None`, PyTorch's default)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, by the optimizer's rule and its group's options."""
        state = self.state
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if isinstance(grad, Value):  # after backward(create_graph=True); its graph is not needed here
                    grad = grad.data
                buffers = state.get(p)
                if buffers is None:
                    buffers = state[p] = {}
                # to_data keeps the engine's representation: a Python float for scalars, a float64 array otherwise
                p.data = to_data(self._update(p._data, grad, buffers, group))

    def _update(self, theta: Data, grad: Data, state: dict[str, Any], group: dict[str, Any]) -> Data:
        raise NotImplementedError

    def _check_options(self, options: dict[str, Any], owner: str) -> None:
        """Check and normalise the options other than lr, in place (each optimizer its own)."""

    def _checked(self, options: Mapping[str, Any], owner: str, loading: bool = False) -> dict[str, Any]:
        checked = dict(options)
        # a schedule may have brought lr to 0 by the time a checkpoint is taken
        checked["lr"] = non_negative(owner, "lr", options["lr"]) if loading else learning_rate(owner, options["lr"])
        if INITIAL_LR in checked:
            checked[INITIAL_LR] = non_negative(owner, INITIAL_LR, checked[INITIAL_LR])
        self._check_options(checked, owner)
        return checked

    # -- checkpoints ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: buffers}, "param_groups": [options + "params": indices]}: PyTorch's layout.

        Parameters are numbered in order through the groups; "state" lists those with
        buffers. Arrays are copies, so the checkpoint does not change as training goes on.
        """
        groups, state, index = [], {}, 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            for p in group["params"]:
                if self.state.get(p):
                    state[index] = {k: _copy(v) for k, v in self.state[p].items()}
                index += 1
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take options and buffers from `state_dict()` of an optimizer of this kind over parameters of the same
        shapes, group by group. Nothing changes unless all of it fits (else a one-line `StateDictError`)."""
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            raise StateDictError(f"{name}.load_state_dict takes a dict of 'state' and 'param_groups' "
                                 f"(from state_dict()), got {short(state_dict)}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != len(self.param_groups):
            count = len(saved_groups) if isinstance(saved_groups, (list, tuple)) else short(saved_groups)
            raise StateDictError(f"{name}: the state_dict has {count} parameter groups, this optimizer "
                                 f"{len(self.param_groups)}")
        by_index: dict[Any, Value] = {}
        groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            by_index.update(self._matched_indices(saved, group, i))
            options = {k: v for k, v in saved.items() if k != "params"}
            missing = [k for k in self.hyperparameters if k not in options]
            unknown = [k for k in options if k != INITIAL_LR and k not in self.hyperparameters]
            if missing or unknown:
                which = f"lacks {missing[0]!r}" if missing else f"has an unknown option {unknown[0]!r}"
                raise StateDictError(f"{name}: param_groups[{i}] of the state_dict {which}")
            groups.append({"params": group["params"], **self._checked(options, f"{name} param_groups[{i}]", True)})
        if not isinstance(saved_state, Mapping):
            raise StateDictError(f"{name}: the state_dict's 'state' must be a dict, got {short(saved_state)}")
        state = {}
        for k, buffers in saved_state.items():
            if k not in by_index:
                raise StateDictError(f"{name}: the state_dict has state for parameter {k!r}, which no group lists")
            if not isinstance(buffers, Mapping):
                raise StateDictError(f"{name}: state[{k!r}] must be a dict of buffers, got {short(buffers)}")
            state[by_index[k]] = {b: self._loaded(f"{name}: state[{k!r}][{b!r}]", b, v, by_index[k])
                                  for b, v in buffers.items()}
        self.param_groups = groups
        self.state = state

    def _matched_indices(self, saved: Any, group: dict[str, Any], i: int) -> dict[Any, Value]:
        name = type(self).__name__
        if not isinstance(saved, Mapping) or not isinstance(saved.get("params"), (list, tuple)):
            raise StateDictError(f"{name}: param_groups[{i}] of the state_dict must be a dict with a 'params' "
                                 f"list, got {short(saved)}")
        if len(saved["params"]) != len(group["params"]):
            raise StateDictError(f"{name}: param_groups[{i}] holds {len(saved['params'])} parameters in the "
                                 f"state_dict, {len(group['params'])} here")
        return dict(zip(saved["params"], group["params"]))

    def _loaded(self, where: str, key: str, value: Any, p: Value) -> Any:
        kind = self.state_kinds.get(key)
        if kind is None:
            raise StateDictError(f"{where} is not a buffer {type(self).__name__} keeps "
                                 f"(it keeps {', '.join(self.state_kinds) or 'none'})")
        try:
            data = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise StateDictError(f"{where} must be numbers ({exc})") from None
        if kind == "count":
            if data.shape != () or data.dtype.kind not in "iuf" or not data >= 0 or data != np.floor(data):
                raise StateDictError(f"{where} must be a count (an integer >= 0), got {short(value)}")
            return int(data)
        if data.shape != p.shape:
            raise StateDictError(f"{where} has shape {data.shape}, its parameter {p.shape}")
        try:
            return to_data(data, copy=True)
        except DataError as exc:
            raise StateDictError(f"{where}: {exc}") from None


def _as_groups(name: str, params: Any) -> list[Any]:
    if isinstance(params, Value) or not isinstance(params, Iterable) or hasattr(params, "named_parameters"):
        hint = " (pass module.parameters())" if hasattr(params, "named_parameters") else ""
        raise TypeError(f"{name} takes an iterable of parameters, got {type(params).__name__}{hint}")
    items = list(params)
    if not items:
        raise ValueError(f"{name} got no parameters to optimize")
    if all(isinstance(item, Mapping) for item in items):
        return items
    if any(isinstance(item, Mapping) for item in items):
        raise TypeError(f"{name} takes parameters or parameter groups (dicts), not a mix of both")
    return [{"params": items}]


def _parameter_list(name: str, params: Any) -> list[Value]:
    if isinstance(params, Value):
        params = [params]
    elif isinstance(params, (set, frozenset)) or not isinstance(params, Iterable):
        raise TypeError(f"{name}: a group's params must be a list of Values (in a fixed order), "
                        f"got {type(params).__name__}")
    params = list(params)
    for p in params:
        if not isinstance(p, Value) or not p.is_leaf:
            raise ValueError(f"{name} optimizes leaf Values (made by the user, not by an op), got {short(p)}")
    return params


def _copy(data: Any) -> Any:
    return data.copy() if isinstance(data, np.ndarray) else data

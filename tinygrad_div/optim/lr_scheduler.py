"""Learning-rate schedules, torch.optim.lr_scheduler's: `StepLR`, `ExponentialLR`, `CosineAnnealingLR`, `LambdaLR`.

    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    for epoch in range(epochs):
        for xb, yb in loader:
            ...; optimizer.step()
        scheduler.step()                  # once per epoch, after the optimizer's steps

A scheduler sets every parameter group's "lr". It starts from the group's
"initial_lr" (set to its "lr" when first scheduled, as torch does), and each
formula is torch's own recursive ("chainable") form, the same floating-point
operations in the same order, so the learning rates match torch's to the bit.
Construction counts as step 0 (the lr is left as it is); `step()` moves to the
next epoch. Not provided: torch's `last_epoch=` argument and `step(epoch)`;
resume with `load_state_dict`.
"""

from __future__ import annotations

import math
import numbers
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tinygrad_div.nn.module import StateDictError
from tinygrad_div.optim.checks import non_negative, positive_int, short
from tinygrad_div.optim.optimizer import INITIAL_LR, Optimizer

#: the progress every scheduler saves, by torch's names (its options are saved beside them)
PROGRESS = ("base_lrs", "last_epoch", "_step_count", "_last_lr")
#: torch's own bookkeeping flags: accepted in a state_dict from torch and not needed here
TORCH_FLAGS = ("_is_initial", "_get_lr_called_within_step")


class LRScheduler:
    """Base class: `step()` advances `last_epoch` and sets each group's lr to `get_lr()`."""

    #: the scheduler's own options, saved in state_dict under these names
    options: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = _checked_optimizer(type(self).__name__, optimizer)
        for group in optimizer.param_groups:
            group.setdefault(INITIAL_LR, group["lr"])
        self.base_lrs: list[float] = [group[INITIAL_LR] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._step_count = 0
        self._is_initial = True
        self.step()  # epoch 0
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rate of every group at epoch `last_epoch`."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step()` (or the construction) set."""
        return list(self._last_lr)

    def step(self) -> None:
        """Move to the next epoch: call once per epoch, after that epoch's `optimizer.step()` calls."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The options and progress, by torch's names (`step_size`, `base_lrs`, `last_epoch`, ...)."""
        state = {name: getattr(self, name) for name in self.options}
        state.update({name: _copy(getattr(self, name)) for name in PROGRESS})
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take options and progress from `state_dict()`; one-line `StateDictError` if it does not fit."""
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise StateDictError(f"{name}.load_state_dict takes a dict (from state_dict()), got {short(state_dict)}")
        expected = (*self.options, *PROGRESS)
        missing = [k for k in expected if k not in state_dict]
        unknown = [k for k in state_dict if k not in expected and k not in TORCH_FLAGS]
        if missing or unknown:
            which = f"lacks {missing[0]!r}" if missing else f"has an unknown entry {unknown[0]!r}"
            raise StateDictError(f"{name}: the state_dict {which}")
        groups = len(self.optimizer.param_groups)
        for key in ("base_lrs", "_last_lr"):
            if not isinstance(state_dict[key], Sequence) or len(state_dict[key]) != groups:
                raise StateDictError(f"{name}: the state_dict's {key} must list {groups} learning rates, "
                                     f"got {short(state_dict[key])}")
        for key in ("last_epoch", "_step_count"):
            if isinstance(state_dict[key], bool) or not isinstance(state_dict[key], numbers.Integral):
                raise StateDictError(f"{name}: the state_dict's {key} must be an integer, got {short(state_dict[key])}")
        for key in self.options:
            setattr(self, key, state_dict[key])
        self._check_options()
        self.base_lrs = [non_negative(name, "base_lrs", lr) for lr in state_dict["base_lrs"]]
        self._last_lr = [non_negative(name, "_last_lr", lr) for lr in state_dict["_last_lr"]]
        self.last_epoch, self._step_count = int(state_dict["last_epoch"]), int(state_dict["_step_count"])

    def _check_options(self) -> None:
        """Check and normalise the scheduler's own options (each scheduler its own)."""

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """lr ← lr·γ at every epoch that is a multiple of `step_size`: lr_e = lr₀·γ^⌊e / step_size⌋."""

    options = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size, self.gamma = step_size, gamma
        self._check_options()
        super().__init__(optimizer)

    def _check_options(self) -> None:
        self.step_size = positive_int("StepLR", "step_size", self.step_size)
        self.gamma = non_negative("StepLR", "gamma", self.gamma)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class ExponentialLR(LRScheduler):
    """lr ← lr·γ at every epoch: lr_e = lr₀·γ^e."""

    options = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = gamma
        self._check_options()
        super().__init__(optimizer)

    def _check_options(self) -> None:
        self.gamma = non_negative("ExponentialLR", "gamma", self.gamma)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from lr₀ down to `eta_min` over `T_max` epochs (then back up, and so on), in torch's
    recursive form, which follows lr_e = η_min + (lr₀ − η_min)(1 + cos(πe/T_max))/2 when nothing else moves lr:

        lr_e = (1 + cos(πe/T)) / (1 + cos(π(e−1)/T)) · (lr_{e−1} − η_min) + η_min
        lr_e = lr_{e−1} + (lr₀ − η_min)(1 − cos(π/T))/2        where (e − 1 − T) is a multiple of 2T
    """

    options = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803 (torch's name)
        self.T_max, self.eta_min = T_max, eta_min
        self._check_options()
        super().__init__(optimizer)

    def _check_options(self) -> None:
        self.T_max = positive_int("CosineAnnealingLR", "T_max", self.T_max)
        self.eta_min = non_negative("CosineAnnealingLR", "eta_min", self.eta_min)

    def get_lr(self) -> list[float]:
        e, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._lrs()
        if (e - 1 - t_max) % (2 * t_max) == 0:
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._lrs())]
        return [(1 + math.cos(math.pi * e / t_max)) / (1 + math.cos(math.pi * (e - 1) / t_max)) * (lr - eta_min)
                + eta_min for lr in self._lrs()]


class LambdaLR(LRScheduler):
    """lr_e = lr₀ · lr_lambda(e): one function of the epoch for every group, or a list of one per group.

    state_dict saves a function as None and a callable object by its attributes (as torch does).
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]]
                 ) -> None:
        groups = len(_checked_optimizer("LambdaLR", optimizer).param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups:
            raise ValueError(f"LambdaLR: {len(lambdas)} lr_lambdas for {groups} parameter groups")
        for f in lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got {short(f)}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base_lr * self._factor(f) for f, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def _factor(self, f: Callable[[int], float]) -> float:
        factor = f(self.last_epoch)
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            raise TypeError(f"LambdaLR: lr_lambda({self.last_epoch}) returned {type(factor).__name__} "
                            f"{short(factor)}, not a number")
        return non_negative("LambdaLR", f"lr_lambda({self.last_epoch})", factor)

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(vars(f)) for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        if not isinstance(state_dict, Mapping) or "lr_lambdas" not in state_dict:
            raise StateDictError(f"LambdaLR.load_state_dict takes a dict with 'lr_lambdas' (from state_dict()), "
                                 f"got {short(state_dict)}")
        saved = state_dict["lr_lambdas"]
        if not isinstance(saved, Sequence) or len(saved) != len(self.lr_lambdas):
            raise StateDictError(f"LambdaLR: the state_dict's lr_lambdas must list {len(self.lr_lambdas)} entries")
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "lr_lambdas"})
        for f, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                vars(f).update(attributes)


def _checked_optimizer(owner: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner} schedules an optimizer (SGD, Adam, ...), got {type(optimizer).__name__}")
    return optimizer


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR"]

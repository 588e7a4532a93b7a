"""Optimizers, each following PyTorch's documented update rule: `SGD` (with momentum, weight decay,
Nesterov), `Adam` and `AdamW`.

    opt = Adam(net.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()

Updates are numpy on `.data`, not Value arithmetic: they are never recorded, the
parameters stay leaves, and they cost no op application. Each step assigns a new
array rather than updating in place, because a graph kept by `retain_graph` still
holds the old one. `.grad` is only read. A parameter without a gradient is left
alone and its state does not advance (as in PyTorch).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_div.engine.value import Data, Value, to_data


class Optimizer:
    """The parameters to update, checked once: leaf Values that require grad, each listed once."""

    def __init__(self, params: Iterable[Value]) -> None:
        name = type(self).__name__
        if isinstance(params, Value) or not isinstance(params, Iterable) or hasattr(params, "named_parameters"):
            hint = " (pass module.parameters())" if hasattr(params, "named_parameters") else ""
            raise TypeError(f"{name} takes an iterable of parameters, got {type(params).__name__}{hint}")
        self.parameters: list[Value] = list(params)
        if not self.parameters:
            raise ValueError(f"{name} got no parameters to optimize")
        seen: set[int] = set()
        for p in self.parameters:
            if not isinstance(p, Value) or not p.is_leaf or not p.requires_grad:
                raise ValueError(f"{name} optimizes leaf Values that require grad, got {_short(p)}")
            if id(p) in seen:
                raise ValueError(f"{name} got the same parameter twice: {_short(p)}")
            seen.add(id(p))
        #: per-parameter buffers (momentum, moments), by position in `parameters`
        self.state: list[dict[str, Any]] = [{} for _ in self.parameters]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (`.grad = None`, PyTorch's default)."""
        for p in self.parameters:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, by the optimizer's rule."""
        for p, state in zip(self.parameters, self.state):
            grad = p.grad
            if grad is None:
                continue
            if isinstance(grad, Value):  # after backward(create_graph=True); its graph is not needed here
                grad = grad.data
            # to_data keeps the engine's representation: a Python float for scalars, a float64 array otherwise
            p.data = to_data(self._update(p.data, grad, state))

    def _update(self, theta: Data, grad: Data, state: dict[str, Any]) -> Data:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, torch.optim.SGD's rule (dampening 0):

        g ← ∇θ + λθ                    (weight_decay λ)
        b ← g at the first step, then b ← μb + g      (momentum μ)
        g ← g + μb if nesterov, else b
        θ ← θ − γg                     (lr γ)

    With the defaults this is the notes' rule, w ← w − rate · dE/dw, computed as
    `θ − γ·∇θ` and nothing else, so the division run keeps its last bit.
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(params)
        self.lr = learning_rate("SGD", lr)
        self.momentum = _non_negative("SGD", "momentum", momentum)
        self.weight_decay = _non_negative("SGD", "weight_decay", weight_decay)
        self.nesterov = _flag("SGD", "nesterov", nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")

    def _update(self, theta: Data, grad: Data, state: dict[str, Any]) -> Data:
        if self.weight_decay:
            grad = grad + self.weight_decay * theta
        if self.momentum:
            buffer = state.get("momentum_buffer")
            buffer = _copy(grad) if buffer is None else self.momentum * buffer + grad
            state["momentum_buffer"] = buffer
            grad = grad + self.momentum * buffer if self.nesterov else buffer
        return theta - self.lr * grad


class Adam(Optimizer):
    """Adam, torch.optim.Adam's rule (amsgrad off), with t the parameter's step count from 1:

        g ← ∇θ + λθ                    (weight_decay λ, an L2 penalty folded into the gradient)
        m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²      (m, v start at 0)
        m̂ ← m / (1 − β₁ᵗ),  v̂ ← v / (1 − β₂ᵗ)
        θ ← θ − γ m̂ / (√v̂ + ε)
    """

    decoupled = False

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params)
        name = type(self).__name__
        self.lr = learning_rate(name, lr)
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable) or len(betas := tuple(betas)) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = tuple(_real(name, f"betas[{i}]", b) for i, b in enumerate(betas))
        for i, b in enumerate(self.betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name}: betas[{i}] must be in [0, 1), got {b}")
        self.eps = _non_negative(name, "eps", eps)
        self.weight_decay = _non_negative(name, "weight_decay", weight_decay)

    def _update(self, theta: Data, grad: Data, state: dict[str, Any]) -> Data:
        beta1, beta2 = self.betas
        if self.weight_decay:
            if self.decoupled:
                theta = theta - self.lr * self.weight_decay * theta
            else:
                grad = grad + self.weight_decay * theta
        t = state["step"] = state.get("step", 0) + 1
        m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * grad
        v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return theta - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay, torch.optim.AdamW's rule: first θ ← θ − γλθ, then Adam's step
    on the plain gradient (λ never enters the moments). PyTorch's default λ = 0.01 is kept."""

    decoupled = True

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


# -- argument checks: one line each, naming the optimizer and the argument --------------------
def _real(owner: str, what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {what} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {what} must be finite, got {value}")
    return value


def learning_rate(owner: str, lr: Any) -> float:
    """`lr` as a finite float > 0, or a one-line TypeError/ValueError."""
    lr = _real(owner, "lr", lr)
    if not lr > 0:
        raise ValueError(f"{owner}: lr must be > 0, got {lr}")
    return lr


def _non_negative(owner: str, what: str, value: Any) -> float:
    value = _real(owner, what, value)
    if value < 0:
        raise ValueError(f"{owner}: {what} must be >= 0, got {value}")
    return value


def _flag(owner: str, what: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {what} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _copy(data: Data) -> Data:
    return data if type(data) is float else data.copy()


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."

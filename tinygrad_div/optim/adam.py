"""`Adam` and `AdamW`: torch.optim.Adam's rule, with the weight decay folded into the gradient (Adam)
or decoupled from it (AdamW)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_div.engine.value import Data, Value
from tinygrad_div.optim.checks import betas, non_negative
from tinygrad_div.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam, torch.optim.Adam's rule (amsgrad off), with t the parameter's step count from 1:

        g ← ∇θ + λθ                    (weight_decay λ, an L2 penalty folded into the gradient)
        m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²      (m, v start at 0)
        m̂ ← m / (1 − β₁ᵗ),  v̂ ← v / (1 − β₂ᵗ)
        θ ← θ − γ m̂ / (√v̂ + ε)

    State per parameter, by torch's names: "step" (t, an int here where torch keeps a
    tensor), "exp_avg" (m) and "exp_avg_sq" (v).
    """

    decoupled = False
    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    state_kinds = {"step": "count", "exp_avg": "parameter", "exp_avg_sq": "parameter"}

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _check_options(self, options: dict[str, Any], owner: str) -> None:
        options["betas"] = betas(owner, options["betas"])
        options["eps"] = non_negative(owner, "eps", options["eps"])
        options["weight_decay"] = non_negative(owner, "weight_decay", options["weight_decay"])

    def _update(self, theta: Data, grad: Data, state: dict[str, Any], group: dict[str, Any]) -> Data:
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        if weight_decay:
            if self.decoupled:
                theta = theta - lr * weight_decay * theta
            else:
                grad = grad + weight_decay * theta
        t = state["step"] = state.get("step", 0) + 1
        m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * grad
        v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + group["eps"])


class AdamW(Adam):
    """Adam with decoupled weight decay, torch.optim.AdamW's rule: first θ ← θ − γλθ, then Adam's step
    on the plain gradient (λ never enters the moments). PyTorch's default λ = 0.01 is kept."""

    decoupled = True

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

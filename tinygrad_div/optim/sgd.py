"""`SGD`: stochastic gradient descent with momentum, weight decay and Nesterov, torch.optim.SGD's rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tinygrad_div.engine.value import Data, Value
from tinygrad_div.optim.checks import flag, non_negative
from tinygrad_div.optim.optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, torch.optim.SGD's rule (dampening 0), per parameter group:

        g ← ∇θ + λθ                    (weight_decay λ)
        b ← g at the first step, then b ← μb + g      (momentum μ; state "momentum_buffer")
        g ← g + μb if nesterov, else b
        θ ← θ − γg                     (lr γ)

    With the defaults this is the notes' rule, w ← w − rate · dE/dw, computed as
    `θ − γ·∇θ` and nothing else, so the division run keeps its last bit.
    """

    hyperparameters = ("lr", "momentum", "weight_decay", "nesterov")
    state_kinds = {"momentum_buffer": "parameter"}

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov))

    def _check_options(self, options: dict[str, Any], owner: str) -> None:
        options["momentum"] = non_negative(owner, "momentum", options["momentum"])
        options["weight_decay"] = non_negative(owner, "weight_decay", options["weight_decay"])
        options["nesterov"] = flag(owner, "nesterov", options["nesterov"])
        if options["nesterov"] and options["momentum"] == 0:
            raise ValueError(f"{owner}: nesterov=True needs a momentum > 0")

    def _update(self, theta: Data, grad: Data, state: dict[str, Any], group: dict[str, Any]) -> Data:
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        if weight_decay:
            grad = grad + weight_decay * theta
        if momentum:
            buffer = state.get("momentum_buffer")
            buffer = (grad if type(grad) is float else grad.copy()) if buffer is None else momentum * buffer + grad
            state["momentum_buffer"] = buffer
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        return theta - group["lr"] * grad

"""Optimizers: plain stochastic gradient descent, the notes' update rule w ← w − rate · dE/dw."""

from __future__ import annotations

from collections.abc import Iterable

from tinygrad_div.mode import no_grad
from tinygrad_div.value import Value


class SGD:
    """`step()` moves every parameter against its gradient; `zero_grad()` clears the gradients.

        opt = SGD(net.parameters(), lr=1.0)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, parameters: Iterable[Value], lr: float) -> None:
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("SGD got no parameters to optimize")
        for p in self.parameters:
            if not isinstance(p, Value) or not p.is_leaf or not p.requires_grad:
                raise ValueError(f"SGD optimizes leaf Values that require grad, got {p!r}")
        if not lr > 0:
            raise ValueError(f"the learning rate must be > 0, got {lr}")
        self.lr = float(lr)

    def step(self) -> None:
        """p ← p − lr · p.grad for every parameter that has a gradient (the others stay put)."""
        # The update is Value arithmetic, so it must not be recorded: under no_grad the
        # parameters stay leaves, even when their gradients are Values themselves
        # (after backward(create_graph=True)). Assigning a new array rather than
        # subtracting in place keeps any graph kept by retain_graph intact.
        with no_grad():
            for p in self.parameters:
                if p.grad is not None:
                    p.data = (p - self.lr * p.grad).data

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.grad = None

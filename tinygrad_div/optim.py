"""Optimizers: plain stochastic gradient descent, the notes' update rule w ← w − rate · dE/dw."""

from __future__ import annotations

from collections.abc import Iterable

from tinygrad_div.engine.value import Value, to_data


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
        """p ← p − lr · p.grad for every parameter that has a gradient (the others stay put).

        The update is numpy on `.data`, not Value arithmetic: it is never recorded, the
        parameters stay leaves, and it costs no op application. Each step assigns a new
        array rather than subtracting in place: a graph kept by `retain_graph` still
        holds the old one. `.grad` is only read.
        """
        for p in self.parameters:
            grad = p.grad
            if grad is None:
                continue
            if isinstance(grad, Value):  # after backward(create_graph=True); its graph is not needed here
                grad = grad.data
            # to_data keeps the engine's representation: a Python float for scalars, a float64 array otherwise
            p.data = to_data(p.data - self.lr * grad)

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.grad = None

"""Adding an op of your own: softplus, y = ln(1 + e^x), a smooth ReLU.

    python -m tinygrad_div check --module examples/softplus.py     # gradient-check it
    python examples/softplus.py softplus.svg                        # draw a neuron that uses it

An op is one `Function` subclass: forward on raw data, backward returning the
gradient of each input. Defining the class registers it, which is how the `check`
command finds it.
"""

from __future__ import annotations

import sys

import numpy as np

from tinygrad_div import Function, Value
from tinygrad_div.files import output_problem
from tinygrad_div.viz import GraphvizNotFoundError, draw, retain_all_grads, to_dot


class Softplus(Function):
    """y = ln(1 + e^x);  dy/dx = σ(x) = (1 + tanh(x/2)) / 2"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)  # ln(e^0 + e^x), without overflow for large x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # σ written with tanh: it never overflows, and np.tanh also runs on Values,
        # so this rule can itself be differentiated (second derivatives, create_graph=True).
        return grad * (1.0 + np.tanh(x / 2.0)) / 2.0


def softplus(x: Value) -> Value:
    """ln(1 + e^x), elementwise."""
    return Softplus.apply(x)


def neuron() -> tuple[Value, dict[str, Value]]:
    """y = softplus(w·x + b) for one input, after backward: the graph drawn in the README."""
    x = Value(np.array([0.5, -1.0, 2.0]), requires_grad=False)
    w = Value(np.array([0.3, -0.2, 0.1]))
    b = Value(0.1)
    y = softplus(x @ w + b)
    retain_all_grads(y)  # keep every intermediate gradient, so the drawing shows them all
    y.backward()
    return y, {"x": x, "w": w, "b": b, "y": y}


if __name__ == "__main__":
    y, labels = neuron()
    print(f"y = {y.data:.6f}, dy/dw = {labels['w'].grad}, dy/db = {labels['b'].grad:.6f}")
    if len(sys.argv) > 1:
        try:  # a bad path or a missing Graphviz: one line on stderr, exit 2, never a traceback
            if problem := output_problem(sys.argv[1]):
                raise ValueError(problem)
            print(f"wrote {draw(y, sys.argv[1], labels=labels)}")
        except (GraphvizNotFoundError, ValueError, RuntimeError, OSError) as exc:
            print(f"softplus.py: error: {exc}", file=sys.stderr)
            sys.exit(2)
    else:
        print(to_dot(y, labels=labels))

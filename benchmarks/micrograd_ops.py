"""The sigmoid micrograd 0.1.0 lacks, added the way micrograd adds its own ops.

micrograd's `Value` has +, *, ** and relu only. Users who need a sigmoid write one
more node type in the library's own style: compute the float forward, and attach a
`_backward` closure that adds the local derivative times `out.grad` to the input.
"""

from __future__ import annotations

import math
from typing import Any


def sigmoid(v: Any) -> Any:
    """σ(v) as one micrograd node; dσ/dv = σ(1 - σ)."""
    from micrograd.engine import Value

    s = 1.0 / (1.0 + math.exp(-v.data))
    out = Value(s, (v,), "sigmoid")

    def _backward() -> None:
        v.grad += s * (1.0 - s) * out.grad

    out._backward = _backward
    return out

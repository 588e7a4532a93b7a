"""A trained divider as an ONNX model that divides: inputs (a, b), output the quotient a/b.

The graph holds everything `Divider.quotients` does, so a serving system needs nothing
of ours: for log inputs the ln of a and b, the features (a, b) side by side, the
network up to its last layer's net, and the decoding q = e^net.

    python -m tinygrad_div export model.npz model.onnx
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from tinygrad_div.division.divider import Divider
from tinygrad_div.engine.ops.functional import stack
from tinygrad_div.engine.value import Value
from tinygrad_div.onnx import export

#: The graph's names: two inputs of shape (batch,) and one output of shape (batch,).
INPUT_NAMES, OUTPUT_NAMES = ("a", "b"), ("quotient",)


def quotient_graph(divider: Divider):
    """q(a, b) on Values: what `divider.quotients(a, b)` computes, recorded as one graph."""

    def quotient(a: Value, b: Value) -> Value:
        if divider.inputs == "log":
            a, b = a.log(), b.log()
        features = stack([a, b], axis=-1)  # the rows (a, b), as data.features makes them
        return divider.model.net(features)[:, 0].exp()

    return quotient


def export_divider(divider: Divider, path: str | os.PathLike, *, dtype: str = "float64") -> Any:
    """Write the divider as an ONNX model (a, b) -> quotient, batch size symbolic; returns the ModelProto."""
    example = np.array([1.0, 2.0])
    return export(quotient_graph(divider), (example, example), path, input_names=INPUT_NAMES,
                  output_names=OUTPUT_NAMES, dtype=dtype)

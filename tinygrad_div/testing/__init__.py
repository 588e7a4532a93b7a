"""Tools for testing gradients: find the wrong op, check an op in one line, draw inputs and programs.

    locate_wrong_gradient(fn, inputs)   which recorded op's backward disagrees with its own forward (locate.py)
    check_op(MyOp)                      an op's derivatives on drawn inputs, and its other paths (check.py)
    strategies                          the hypothesis strategies check_op draws with, and random programs

`locate_wrong_gradient` needs only numpy. `check_op` and `strategies` need hypothesis
(the `dev` extra); their names are imported on first use, so that without hypothesis
this package still imports and only they raise, in one line, saying what to install.
"""

from __future__ import annotations

import importlib
from typing import Any

from tinygrad_div.testing.errors import OpCheckError, OpHookError
from tinygrad_div.testing.locate import Culprit, Location, joined_outputs, locate_wrong_gradient

#: names that need hypothesis, and the module of this package that defines each
_LAZY = {
    "check_op": "check", "OpReport": "check", "fixed_cases": "check", "describe_case": "check",
    "hypothesis_storage_in_a_temporary_directory": "check",
    **{name: "strategies" for name in (
        "LOW", "HIGH", "DOMAINS", "MATMUL_SIGNATURE", "floats_in", "data_in", "arrays", "edge_values",
        "distinct_data", "broadcastable_shapes", "parse_shapes", "input_shapes", "inputs_count", "op_inputs",
        "call_hook", "programs", "Program", "program_ops")},
}

__all__ = ["locate_wrong_gradient", "Location", "Culprit", "joined_outputs", "OpCheckError", "OpHookError",
           "strategies", *_LAZY]


def __getattr__(name: str) -> Any:
    """`check_op`, `strategies` and the strategy names, imported when first asked for."""
    if name == "strategies":
        return importlib.import_module("tinygrad_div.testing.strategies")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tinygrad_div.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"tinygrad_div.testing.{module}"), name)

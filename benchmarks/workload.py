"""What a workload module provides, and the registry of all workloads.

A workload is one computation (same math, seed, initial weights and data for every
framework). Each framework contributes a *setup*: given the problem, it builds its
parameters and data in its own format (untimed) and returns a zero-argument *run*
that performs the timed work and returns the final weights (or gradients) as numpy
arrays, so that every framework's answer can be compared with the floor's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: the timed part of one framework's run: returns the final weights as float64 arrays
Run = Callable[[], list]
#: untimed preparation of one run from the problem (parameters, data in the framework's format)
Setup = Callable[[Any], Run]

#: frameworks in table order; floors are hand-written with manual derivatives
FRAMEWORKS = ("tinygrad_div", "tinygrad_div-compiled", "jax", "torch", "mygrad", "autograd", "micrograd",
              "floor-numpy", "floor-python")
#: the module each framework needs (a framework whose module is missing is skipped)
FRAMEWORK_MODULES = {
    "tinygrad_div": "tinygrad_div", "tinygrad_div-compiled": "tinygrad_div", "jax": "jax", "torch": "torch",
    "mygrad": "mygrad",
    "autograd": "autograd", "micrograd": "micrograd", "floor-numpy": "numpy", "floor-python": "numpy",
}
#: the workload modules, in table order
WORKLOAD_MODULES = {
    "W1": "benchmarks.w1_sgd",
    "W2": "benchmarks.w2_batched",
    "W3": "benchmarks.w3_chain",
    "W4": "benchmarks.w4_one_op",
    "W5": "benchmarks.w5_scalar_mlp",
    "W6": "benchmarks.w6_digits",
    "W7": "benchmarks.w7_cnn",
}


@dataclass(frozen=True)
class Case:
    """One row group of the table: a workload at one size, timed for `rounds` paired rounds."""

    workload: str
    label: str
    params: dict
    rounds: int
    warmup: bool = True
    #: frameworks not run for this case, with the reason shown in the status column
    skip: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Workload:
    """A computation written once per framework, plus how to size, count and check it."""

    name: str
    title: str
    #: what one unit of work is (the table reports seconds per unit, in µs)
    unit: str
    #: the floors every framework is paired with; the first is the reference for the weights
    floors: tuple[str, ...]
    make_problem: Callable[..., Any]
    #: units of work in one run of a problem (steps, links, samples, ops)
    units: Callable[[Any], int]
    setups: Mapping[str, Setup]
    #: the table's rows: full-size cases, and tiny ones for `--quick`
    cases: Callable[[bool], list[Case]]
    #: largest acceptable |framework weight - floor weight|
    tolerance: float = 1e-8
    #: frameworks that cannot run this workload at all, with the reason
    unsupported: Mapping[str, str] = field(default_factory=dict)


def load(name: str) -> Workload:
    """The workload called `name` ("W1" ... "W6"); its module is imported on demand."""
    try:
        module = WORKLOAD_MODULES[name]
    except KeyError:
        raise ValueError(f"unknown workload {name!r}; choose from {', '.join(WORKLOAD_MODULES)}") from None
    return importlib.import_module(module).WORKLOAD

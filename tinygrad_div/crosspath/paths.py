"""The engine's own paths and td.compile, run on a group of cases and held to eager array, bit for bit.

    eager scalar   element by element as Python floats, against the same element as a one-element array
    create_graph   grad(..., create_graph=True): first-order gradients as eager's; the second order runs
    compile        td.compile traced on the group's base case, then called on every variant: forward
                   output and every gradient as eager's, nan for nan

Every path computes the loss (op(inputs) · c).mean() with a fixed cotangent c, so the
gradient reaching the op is c / n; c is a parameter too, and its gradient is the op's
output / n, which is how a compiled step, which returns only its loss, shows its forward
output. The mean (not a sum) divides by the output's size, which a mask's selection
count changes: what a compiled step must not bake in.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_div.compile import compile as compile_step
from tinygrad_div.crosspath.report import Report, Result
from tinygrad_div.crosspath.samples import Case, Group, is_float, is_index
from tinygrad_div.engine.autograd import grad
from tinygrad_div.engine.function import Function
from tinygrad_div.engine.value import Value
from tinygrad_div.testing import joined_outputs

#: how many elements of each case the eager scalar path takes one at a time
SCALAR_POSITIONS = 24


class Step:
    """loss = (op(inputs) · c).mean(), the float inputs and c as parameters, masks and labels as arguments."""

    def __init__(self, op: type[Function], case: Case) -> None:
        self.op = op
        self.structure = case
        #: the float inputs that are parameters (require grad); the others are constants of the step
        self.at = [i for i, x in enumerate(case.inputs) if is_float(x) and i not in case.constants]
        self.leaves = [Value(case.inputs[i]) for i in self.at]
        self.cot = Value(1.0)
        self.output: Any = None

    def load(self, case: Case, output_shape: tuple) -> list:
        """Set the parameters to the case's floats (and c to fit the output); its masks and labels, in order."""
        for i, leaf in zip(self.at, self.leaves):
            leaf.data = case.inputs[i]
            leaf.grad = None
        self.cot.data = cotangent(output_shape)
        self.cot.grad = None
        return indices(case)

    def __call__(self, *given: Any) -> Value:
        given_ = iter(given)
        leaves = dict(zip(self.at, self.leaves))
        inputs = [leaves[i] if i in leaves else x if is_float(x) else walk(x, lambda _: next(given_))
                  for i, x in enumerate(self.structure.inputs)]
        params = {k: walk(v, lambda _: next(given_)) for k, v in self.structure.params.items()}
        y = joined_outputs(self.op.apply(*inputs, **params))
        self.output = y
        return (y * self.cot).mean()

    def function(self) -> Callable:
        """The step as a function of positional parameters only (what td.compile takes)."""
        count = len(indices(self.structure))

        def step(*given: Any) -> Value:
            return self(*given)

        step.__signature__ = inspect.Signature(
            [inspect.Parameter(f"index{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD) for i in range(count)])
        step.__name__ = f"{self.op.__name__.lower()}_step"
        return step


def walk(x: Any, visit: Callable) -> Any:
    """x with every integer or bool array (inside lists, tuples and dicts too) replaced by visit(array)."""
    if is_index(x):
        return visit(x)
    if type(x) in (tuple, list):
        return type(x)(walk(v, visit) for v in x)
    if type(x) is dict:
        return {k: walk(v, visit) for k, v in x.items()}
    return x


def indices(case: Case) -> list:
    """The case's integer and bool arrays (masks, labels, indices), inputs first, in order."""
    found: list = []
    walk([case.inputs, case.params], found.append)
    return found


def cotangent(shape: tuple) -> Any:
    """The gradient handed to the op: fixed, nonzero, exact numbers of both signs and several sizes."""
    if shape == ():
        return 1.0
    return np.resize(np.array([1.0, -1.5, 0.25, 3.0, -0.5, 2.0]), int(np.prod(shape))).reshape(shape)


def output_shape(x: Any) -> tuple:
    return np.shape(x) if isinstance(x, np.ndarray) else ()


def quietly(fn: Callable, *args: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args)


def eager(op: type[Function], case: Case, create_graph: bool = False) -> Result:
    """The reference: the op on Values, then the backward pass of (y · c).mean().

    Its gradients: one per float input that is a parameter, then c's (the output / n)."""
    return quietly(_eager, op, case, create_graph)


def _eager(op: type[Function], case: Case, create_graph: bool) -> Result:
    step = Step(op, case)
    step(*step.load(case, ()))  # the output's shape, for the cotangent
    loss = step(*step.load(case, output_shape(step.output.data)))
    outputs = [step.output.data]
    if not create_graph:
        loss.backward()
        return Result(outputs, [leaf.grad for leaf in step.leaves] + [step.cot.grad])
    grads = grad(loss, [*step.leaves, step.cot], create_graph=True, allow_unused=True)
    if op.twice_differentiable:  # the second order must run (its values: gradgradcheck, test_differential)
        recorded = [g.sum() for g in grads if isinstance(g, Value) and g.requires_grad]
        if recorded:
            grad(sum(recorded[1:], recorded[0]), step.leaves, allow_unused=True)
    return Result(outputs, [None if g is None else g.data for g in grads])


def check_scalar(report: Report, op: type[Function], group: Group, references: list) -> None:
    """Element k of each float input as a Python float, against the same element as a one-element array."""
    for case, ref in zip(group.cases, references):
        if ref is None or not all(is_float(x) for x in case.inputs):
            continue
        size = max(int(np.size(x)) for x in case.inputs)
        for k in range(min(size, SCALAR_POSITIONS)):
            scalars = [float(np.ravel(x)[k % np.size(x)]) for x in case.inputs]
            as_scalar = Case(scalars, case.params, f"{case.label}, element {k} as floats")
            try:
                array = eager(op, Case([np.array([x]) for x in scalars], case.params))
                scalar = eager(op, as_scalar) if np.size(array.outputs[0]) == 1 else None
            except Exception:  # noqa: BLE001  (no scalar form, or parameters that do not fit one element)
                scalar = None
            if scalar is None:
                break
            # the output as one number (a scalar's reshape is a one-element array); c's gradient repeats it
            flat = Result([float(np.ravel(o)[0]) for o in array.outputs],
                          [None if g is None else float(np.ravel(g)[0]) for g in array.grads[:-1]])
            got = Result([o if type(o) is float else float(np.ravel(o)[0]) for o in scalar.outputs],
                         scalar.grads[:-1])
            report.compare("eager scalar", as_scalar, got, flat)


def check_create_graph(report: Report, op: type[Function], group: Group, references: list) -> None:
    for case, ref in zip(group.cases, references):
        if ref is None:
            continue
        try:
            got = eager(op, case, create_graph=True)
        except Exception as exc:  # noqa: BLE001
            report.refuse("create_graph", case, exc)
            continue
        report.compare("create_graph", case, got, ref)


def check_compile(report: Report, op: type[Function], group: Group, references: list) -> None:
    """Traced on the base case, then run on every variant of the same signature."""
    step = Step(op, group.base)
    compiled = compile_step(step.function())
    for case, ref in zip(group.cases, references):
        if ref is None:
            continue
        given = step.load(case, output_shape(ref.outputs[0]))
        try:
            quietly(compiled, *given)
        except Exception as exc:  # noqa: BLE001
            report.refuse("compile", case, exc)
            if case is group.base:
                return  # not compiled at all: the variants would only repeat it
            continue
        report.compare("compile", case, Result([], [leaf.grad for leaf in step.leaves] + [step.cot.grad]), ref)

"""testing.locate_wrong_gradient: the op whose backward is wrong is named, with its line, input and element;
a correct model raises no alarm; a wrong total with every op right is said to be so, with its likely causes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygrad_div import Function, Value
from tinygrad_div.testing import locate_wrong_gradient
from tinygrad_div.testing import strategies as tds
from tinygrad_div.testing.strategies import Program


class Cube(Function, register=False):
    """y = x³; dy/dx = 3x², but the rule says 2x²: the bug to find."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2.0 * x * x


class RightCube(Cube, register=False):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


def model(x, w1, w2, cube=Cube):
    """A two-layer network with a loss: 20+ built-in ops, one custom op in the middle."""
    h = (x @ w1).tanh()
    h = h * 0.5 + h.sigmoid()
    h = cube.apply(h)  # line CUBE_LINE
    h = (h @ w2).exp().log1p()
    z = h.softmax(axis=-1)
    penalty = (w1 * w1).mean() + np.sqrt(w2 * w2 + 1.0).sum()
    return (z * z).sum() + penalty - h.mean()


CUBE_LINE = next(i for i, line in enumerate(open(__file__), 1) if "# line CUBE_LINE" in line)
RNG = np.random.default_rng(0)
INPUTS = [RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)) * 0.5]


def test_a_broken_custom_op_among_twenty_built_in_ops_is_named_with_its_line_input_and_element():
    location = locate_wrong_gradient(model, INPUTS)
    assert location.total_error is not None and location.nodes_checked >= 20
    [culprit] = location.culprits
    assert culprit.op == "Cube" and culprit.input == 0 and len(culprit.element) == 2
    assert culprit.site.startswith(f"{__file__}:{CUBE_LINE}: h = cube.apply(h)")
    assert culprit.numeric == pytest.approx(1.5 * culprit.analytic, rel=1e-6)  # 3x² against 2x²
    text = str(location)
    assert "the whole gradient is wrong" in text and f"WRONG: Cube (op #{culprit.node}, created at" in text


def test_a_correct_model_raises_no_alarm():
    location = locate_wrong_gradient(lambda *xs: model(*xs, cube=RightCube), INPUTS)
    assert location.ok and location.culprits == [] and location.nodes_checked >= 20
    assert "no op's backward rule disagrees with its forward" in str(location)


def test_a_wrong_total_with_every_op_right_says_so_and_names_the_likely_causes():
    def half_outside_the_graph(x):
        return x * Value(x.data)  # the second factor is a constant: an op missing from the graph

    location = locate_wrong_gradient(half_outside_the_graph, [np.array([1.0, 2.0])])
    assert location.total_error is not None and location.culprits == []
    text = str(location)
    assert "every op's own backward rule is right, yet the whole gradient is wrong" in text
    assert "stale input" in text and "missing from the graph" in text


def test_an_input_changed_after_an_op_used_it_is_named():
    def stale(x):
        y = x * x
        x.data = x.data + 1.0  # after Mul saw it: backward refuses, and locate says which input went stale
        return y.sum()

    location = locate_wrong_gradient(stale, [np.array([1.0, 2.0])])
    assert location.total_error is not None and not location.ok
    assert any("input 0 of Mul" in s and "changed after the op used it" in s for s in location.stale)


# -- random programs with one broken rule --------------------------------------------------------
KINDS = ("scaled", "shifted", "dropped", "negated")


def broken(op: type[Function], kind: str, which: int) -> type[Function]:
    """`op` with its backward rule wrong for input `which` in one of four ways."""
    def backward(ctx, *grads):
        out = op.backward(ctx, *grads)
        out = list(out) if isinstance(out, tuple) else [out]
        g = out[which]
        if g is not None:
            out[which] = {"scaled": lambda: g * 1.5, "shifted": lambda: g + 0.5 * np.sign(g) + 0.25,
                          "dropped": lambda: g * 0.0, "negated": lambda: -g}[kind]()
        return tuple(out)

    return type(f"Broken{op.__name__}", (op,), {"backward": staticmethod(backward)}, register=False)


@st.composite
def broken_programs(draw):
    """A random program of 5 to 30 ops, and a copy with one op's rule broken (which op, input and how: drawn)."""
    program = draw(tds.programs(min_ops=5, max_ops=30))
    k = draw(st.integers(0, len(program.steps) - 1))
    step = program.steps[k]
    which = draw(st.integers(0, len(step.args) - 1))
    bad = broken(step.op, draw(st.sampled_from(KINDS)), which)
    steps = [dataclasses.replace(s, op=bad) if j == k else s for j, s in enumerate(program.steps)]
    return program, Program(program.inputs, steps), bad.__name__


def judge(program: Program, bad: Program, culprit: str) -> tuple[bool, bool, bool]:
    """(false alarm on the correct program, the broken rule changed the total, the culprit named alone)."""
    good = locate_wrong_gradient(program, program.inputs)
    false_alarm = not good.ok
    located = locate_wrong_gradient(bad, bad.inputs)
    changed = located.total_error is not None
    named = [c.op for c in located.culprits] == [culprit] * len(located.culprits) and bool(located.culprits)
    return false_alarm, changed, named


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(broken_programs())
def test_in_random_programs_the_broken_rule_is_named_and_correct_programs_raise_no_alarm(case):
    """The full run (docs/debugging.md, measured offline over 2,000 programs) gives the rates; here a few."""
    program, bad, culprit = case
    false_alarm, changed, named = judge(program, bad, culprit)
    assert not false_alarm, str(program)
    if changed:
        assert named, f"{culprit} not named in\n{bad}"

"""The compiler's own safety nets, each made to fire: a rule that disagrees with its op on the trace
data is replaced by a replay; a program that disagrees with eager on its first call is a TraceError;
gradients handed to two parameters never share memory."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_div import BackwardError, Function, Value
from tinygrad_div.compile import TraceError, compile, compiled, lower
from tinygrad_div.compile.runtime import same_bits
from tinygrad_div.engine import ops


def test_a_rule_that_disagrees_with_its_op_is_replaced_by_a_replay(monkeypatch):
    wrong_backward = lambda b, n, g: (g, g)  # noqa: E731  (Mul's gradients as if it were Add)
    monkeypatch.setitem(lower.RULES, ops.Mul, (lower.RULES[ops.Mul][0], wrong_backward))
    w = Value(np.array([2.0, 3.0]))
    step = compile(lambda x: (x * w).sum())
    step(np.array([5.0, 7.0]))
    assert w.grad.tolist() == [5.0, 7.0] and "replay_backward" in step.source
    wrong_forward = lambda b, n: b.line("{0} + {1}", n.ins, "Mul", "mul")  # noqa: E731
    monkeypatch.setitem(lower.RULES, ops.Mul, (wrong_forward, lower.RULES[ops.Mul][1]))
    w.grad = None
    step = compile(lambda x: (x * w).sum())
    assert step(np.array([5.0, 7.0])).data == 31.0 and "replay_forward(Mul," in step.source


@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_a_program_that_differs_from_eager_on_its_first_call_is_a_trace_error(monkeypatch, where):
    """Corrupt one line after every rule was checked: the first call's comparison with eager must see it."""
    real = compiled.simplify

    def corrupting(program):
        real(program)
        line = next(ln for ln in program.lines if ln.op == "Mul" and ("dloss" in ln.note) == (where == "gradient"))
        line.template = line.template.replace("*", "+")
        return program

    monkeypatch.setattr(compiled, "simplify", corrupting)
    w = Value(np.array([2.0, 3.0]))
    with pytest.raises(TraceError, match=f"differs from eager in the {where}"):
        compile(lambda x: (x * w * x).sum())(np.array([5.0, 7.0]))


def test_one_gradient_reaching_two_parameters_is_two_arrays():
    """Add hands one array to both inputs; each .grad must own its memory, as eager's do."""
    a, c = Value(np.ones(3)), Value(np.ones(3))
    step = compile(lambda x: ((a + c) * x).sum())
    for _ in range(2):
        a.grad = c.grad = None
        step(np.array([1.0, 2.0, 3.0]))
        assert same_bits(a.grad, c.grad) and not np.shares_memory(a.grad, c.grad)


def test_a_value_that_does_not_require_grad_gets_no_grad():
    """Add's rule hands its gradient to both inputs; the walk must drop the one for a constant Value."""
    w, c = Value(np.array([1.0, 2.0])), Value(np.array([3.0, 4.0]), requires_grad=False)
    step = compile(lambda x: ((x * w + c) * (c + x)).sum())
    step(np.array([1.0, -1.0]))
    step(np.array([2.0, 0.5]))
    assert c.grad is None and w.grad.tolist() == [1.0 * 4.0 + 2.0 * 5.0, -1.0 * 3.0 + 0.5 * 4.5]


class TwiceTheSum(Function, register=False):
    """y = 2·Σx, whose backward returns Σ(g)·2: a number for an array input."""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * np.sum(x)

    @staticmethod
    def backward(ctx, grad):
        return np.sum(grad) * 2.0


def test_a_gradient_of_the_wrong_shape_is_refused_as_eager_refuses_it():
    """The engine's shape contract (gradient_needs_sum) decides in the compiled chain rule too: never expanded."""
    w = Value(np.ones((2, 3)))
    step = compile(lambda x: TwiceTheSum.apply(w * x))
    with pytest.raises(BackwardError, match=r"^TwiceTheSum.backward returned an invalid gradient at index 0: "
                                            r"got shape \(\) but expected shape compatible with \(2, 3\)"):
        step(np.ones((2, 3)))
    assert w.grad is None


def test_the_first_call_updates_in_place_state_once_as_eager_does():
    """batch_norm updates its running statistics in place; the first call runs the step several
    times (trace, re-traces, eager) but must leave them as one eager step does, bit for bit."""
    import tinygrad_div.nn.functional as F

    def run(compiled):
        w = Value(np.ones(3))
        mean, var, count = np.zeros(3), np.ones(3), np.array(0)

        def step(x):
            return (F.batch_norm(x, mean, var, w, None, training=True, num_batches_tracked=count) ** 2).sum()

        call = compile(step) if compiled else lambda x: step(Value(x, requires_grad=False)).backward()
        for seed in range(3):
            w.grad = None
            call(np.random.default_rng(seed).normal(size=(4, 3)))
        return int(count), mean, var, w.grad

    eager, compiled_ = run(False), run(True)
    assert compiled_[0] == eager[0] == 3
    assert all(same_bits(c, e) for c, e in zip(compiled_[1:], eager[1:]))

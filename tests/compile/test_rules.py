"""The compiled program's ops give eager's bits at the edges: the hand-written rules kept in
compile/lower.py, and ops replayed from their own forward and backward (issue 15, items 2, 3, 12)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_div import Function, Value
from tinygrad_div.compile import compile
from tinygrad_div.compile.runtime import same_bits

EDGES = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, np.inf, -np.inf, np.nan, 1e-310, -1e308, 40.0, -40.0])


def _check(fn, params, *calls):
    """Each call's loss and every parameter's .grad, compiled and eager, to the last bit (nan for nan)."""
    step = compile(fn)
    for args in calls:
        for p in params:
            p.grad = None
        with np.errstate(all="ignore"):
            eager = fn(*(a if isinstance(a, (int, np.ndarray)) and not isinstance(a, float) and
                         np.asarray(a).dtype.kind in "iub" else Value(a, requires_grad=False) for a in args))
            eager.backward()
            expected = [p.grad for p in params]
            for p in params:
                p.grad = None
            loss = step(*args)
        assert same_bits(loss.data, eager.data), (loss.data, eager.data)
        for p, g in zip(params, expected):
            assert same_bits(p.grad, g) and type(p.grad) is type(g), (p.grad, g)
    return step


KEPT = {"relu": "ReLU", "sigmoid": "Sigmoid", "square": "Pow", "cube": "Pow", "add": "Add", "sub": "Sub",
        "mul": "Mul", "mean": "Mean", "matmul": "MatMul", "affine": "Affine", "power0": None}


@pytest.mark.parametrize("op", list(KEPT))
def test_every_kept_rule_gives_eagers_bits_at_every_edge(op):
    """Traced on ordinary numbers, then called on ±0, ±inf, nan, subnormals, huge values: no rule may differ.

    The rule must also be what runs (not silently replaced by a replay at trace time)."""
    from tinygrad_div.nn.functional import linear

    w = Value(np.ones(EDGES.size))
    v = Value(np.full((EDGES.size, 2), 0.5))
    weight, bias = Value(np.full((2, EDGES.size), 0.25)), Value(np.array([0.5, -0.5]))
    body = {
        "relu": lambda x: (x * w).relu().sum(),
        "sigmoid": lambda x: (x * w).sigmoid().sum(),
        "square": lambda x: ((x * w) ** 2).sum(),
        "cube": lambda x: ((x * w) ** 3.0).sum(),
        "add": lambda x: (x + w).sum() * (w + x).mean(),
        "sub": lambda x: (x - w).sum() * (w - x).sum(),
        "mul": lambda x: (x * w * x).sum(),
        "mean": lambda x: (x * w).mean(),
        "matmul": lambda x: ((x * w) @ v).sum(),
        "affine": lambda x: linear((x * w).reshape((1, -1)), weight, bias).sum(),
        "power0": lambda x: ((x * w) ** 0.0).sum(),  # replayed: a zero exponent is Pow.backward's own edge
    }[op]
    rng = np.random.default_rng(0)
    step = _check(body, [w, v, weight, bias], (rng.uniform(0.5, 2.0, EDGES.size),), (EDGES,), (EDGES[::-1].copy(),),
                  (-EDGES,))
    if KEPT[op]:
        assert f"# {KEPT[op]}" in step.source and f"replay_forward({KEPT[op]}," not in step.source
    else:  # a zero exponent is no rule's: forward and backward are Pow's own
        assert "= power(" not in step.source and "replay_forward(Pow," in step.source


def test_relu_backward_passes_nan_as_eager_does():
    """The issue's example 3: at x = inf, w = 0 the product is nan; eager's mask (out != 0) passes it."""
    w = Value(np.array([0.0, 1.0]))
    _check(lambda x: (x * w).relu().sum(), [w], (np.array([1.0, 1.0]),), (np.array([np.inf, 1.0]),))
    s = Value(0.0)
    _check(lambda x: (x * s).relu(), [s], (1.0,), (np.inf,))
    assert s.grad == np.inf
    s = Value(1.0)  # scalars at every edge: -0.0 gives +0.0, nan passes, as eager's forward and mask
    _check(lambda x: (x * s).relu() * (s * x).relu(), [s], (2.0,), *((float(e),) for e in EDGES))


def test_pow_with_an_array_exponent_that_is_zero_on_a_later_call():
    """The issue's example 2: w = [-1.5, 0, 2], e = [0, 0, 3] gives eager's [0, 0, 12], not [-0, nan, 12]."""
    w = Value(np.array([-1.5, 0.0, 2.0]))
    _check(lambda e: (w ** e).sum(), [w], (np.array([1.0, 2.0, 3.0]),), (np.array([0.0, 0.0, 3.0]),))
    assert w.grad.tolist() == [0.0, 0.0, 12.0] and not np.signbit(w.grad[0])


def test_pow_exponent_gradient_at_base_zero_with_a_negative_exponent_is_minus_inf():
    e = Value(np.array([1.0, 2.0, 3.0]))
    fn = lambda x: (x ** e).sum()  # noqa: E731
    step = _check(fn, [e], (np.array([1.0, 2.0, 3.0]),), (np.array([0.0, 2.0, 3.0]),))
    e.data = np.array([-1.0, 2.0, 3.0])
    _check(fn, [e], (np.array([0.0, 2.0, 3.0]),))
    e.grad = None
    step(np.array([0.0, 2.0, 3.0]))
    assert e.grad[0] == -np.inf


def test_pow_traced_at_base_zero_with_a_negative_exponent_compiles():
    """Issue item 12: x ** y at x = 0, y < 0 was a TraceError (its replayed backward saw no needs_input_grad)."""
    x, y = Value(np.array([0.0, 1.0])), Value(np.array([-1.0, 2.0]))
    _check(lambda s: ((x ** y) * s).sum(), [x, y], (1.0,), (2.0,))
    s = Value(0.0)
    _check(lambda b: b ** s, [s], (0.0,), (-0.0,), (2.0,))


def test_a_replayed_backward_sees_the_true_needs_input_grad():
    """A user op whose backward reads ctx.needs_input_grad compiles, and gets eager's flags."""
    seen = []

    class Scale(Function):
        """y = a·b"""

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            seen.append(tuple(ctx.needs_input_grad))
            return (grad * b if ctx.needs_input_grad[0] else None), (grad * a if ctx.needs_input_grad[1] else None)

    w = Value(np.array([1.0, 2.0]))
    _check(lambda x: Scale.apply(w, x).sum(), [w], (np.array([3.0, 4.0]),), (np.array([-1.0, 0.5]),))
    assert set(seen) == {(True, False)}

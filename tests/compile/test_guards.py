"""A compiled program checks what its trace assumed, on every call (issue 15, items 1 and 4).

Shapes that follow the data (a mask's selection count) are guarded: a violated guard
traces another program for the signature, or after MAX_VARIANTS programs raises
TraceError naming the line. Arguments stay what they are: Python ints and bools are
static (part of the signature), int and bool arrays are data, float32 arrays are refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import DataError, Value
from tinygrad_div.compile import TraceError, compile
from tinygrad_div.compile.compiled import MAX_VARIANTS
from tinygrad_div.compile.runtime import same_bits


def _eager(fn, params, *args):
    for p in params:
        p.grad = None
    loss = fn(*args)
    loss.backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = None
    return loss.data, grads


def test_a_mask_used_for_indexing_does_not_bake_the_selection_count():
    """The issue's example 1: traced with one element selected, called with two: eager's 1.5 and [0.5, 0.5]."""
    w = Value(np.array([1.0, 2.0]))
    step = compile(lambda x: (x * w)[x > 0].mean())
    step(np.array([1.0, -1.0]))
    w.grad = None
    assert step(np.array([1.0, 1.0])).data == 1.5
    assert w.grad.tolist() == [0.5, 0.5]


def test_each_selection_count_gets_a_program_and_every_call_matches_eager():
    w = Value(np.array([1.0, 2.0, -3.0]))
    fn = lambda x: ((x * w)[x > 0] ** 2).sum()  # noqa: E731
    step = compile(fn)
    calls = [[1.0, -1.0, 1.0], [1.0, 1.0, 1.0], [-1.0, -1.0, 1.0], [1.0, -1.0, 1.0], [1.0, 1.0, 1.0]]
    for x in map(np.array, calls):
        loss, grads = _eager(fn, [w], Value(x, requires_grad=False))
        assert same_bits(step(x).data, loss) and same_bits(w.grad, grads[0])
        w.grad = None
    (traced,) = step.signatures.values()
    assert len(traced.variants) == 2  # counts 2, 3, 1: three programs, reused when a count comes back
    assert "guard(" in traced.source and "(2,)" in traced.source


def test_a_selection_count_that_keeps_changing_is_a_trace_error_naming_the_line():
    w = Value(np.ones(MAX_VARIANTS + 1))
    step = compile(lambda x: (x * w)[x > 0].sum())
    with pytest.raises(TraceError, match=r"test_guards\.py:\d+: .*keeps changing"):
        for k in range(1, MAX_VARIANTS + 2):
            step(np.where(np.arange(MAX_VARIANTS + 1) < k, 1.0, -1.0))


def test_a_bool_argument_used_as_a_mask_is_guarded_too():
    w = Value(np.array([1.0, 2.0, 3.0]))
    step = compile(lambda m: (w[m] * w[m]).sum())
    step(np.array([True, False, False]))
    w.grad = None
    assert step(np.array([True, True, False])).data == 5.0 and w.grad.tolist() == [2.0, 4.0, 0.0]


def test_a_mask_used_in_where_keeps_one_program():
    w = Value(np.array([1.0, -2.0]))
    step = compile(lambda x: td.where(x * w > 0.0, x * w, 0.0).sum())
    for x in ([1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0]):
        step(np.array(x))
    assert not next(iter(step.signatures.values())).variants


def test_an_int_label_stays_an_int_and_each_value_is_a_signature():
    """The issue's example 4: an unbatched cross-entropy label, passed as a Python int."""
    W = Value(np.arange(12.0).reshape(3, 4) / 10.0)
    fn = lambda x, label: td.nn.cross_entropy(x @ W, label)  # noqa: E731
    step = compile(fn)
    x = np.array([1.0, -1.0, 0.5])
    for label in (2, 0, 2):
        loss, grads = _eager(fn, [W], Value(x, requires_grad=False), label)
        assert same_bits(step(x, label).data, loss) and same_bits(W.grad, grads[0])
        W.grad = None
    assert list(step.signatures) == [((3,), ("int", 2)), ((3,), ("int", 0))]


def test_int_and_bool_arrays_are_data_and_float32_is_refused():
    w = Value(np.array([1.0, 2.0, 3.0]))
    step = compile(lambda i: (w[i] * w[i]).sum())
    assert step(np.array([0, 0])).data == 2.0
    assert step(np.array([2, 1])).data == 13.0
    assert list(step.signatures) == [(("<i8", (2,)),)]
    step = compile(lambda x: (w * x).sum())
    for x in (np.ones(3, dtype=np.float32), np.float32(2.0), np.array(2.0, dtype=np.float16)):
        with pytest.raises(DataError, match=r"argument x: float(32|16) data.*astype\(np.float64\)"):
            step(x)
    assert step(np.float64(2.0)).data == 12.0 and step(np.array(2.0)).data == 12.0

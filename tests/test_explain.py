"""td.explain: a gradient as the notes write it, one chain-rule product per path; the sum printed is
`.grad` bit for bit, and for the notes' network the numbers are derive's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_div as td
from tinygrad_div import Value
from tinygrad_div.compile.runtime import same_bits
from tinygrad_div.division.derivation import SAMPLE, notes_forward, notes_step
from tinygrad_div.testing import strategies as tds


def test_the_notes_network_prints_the_notes_formula_with_numbers():
    loss, names = notes_forward()
    text = str(td.explain(loss, names["w1"], names=names))
    s1, net1, t, x = names["s1"].data[0], names["net1"].data[0], SAMPLE[1], SAMPLE[0]
    d_s1, d_net1 = 2 * (s1 - t), s1 * (1 - s1)
    assert text.startswith("dE/dw1: 1 path from E to w1\n  path 1, through Mean ← Pow ← Sub ← Sigmoid ← Affine\n")
    line = (f"    dE/dw1[0, 0] = dE/ds1 · ds1/dnet1 · dnet1/dw1[0, 0] = {d_s1:.4g} · {d_net1:.4g} · {x[0]:.4g} = "
            f"{d_s1 * d_net1 * x[0]:.4g}\n")
    assert line in text
    assert "backward() adds 1 term into w1.grad, one per edge into w1, newest op first: via net1" in text
    assert net1 == names["net1"].data[0]


@pytest.mark.parametrize("hidden", [(), (3,)])
def test_the_sum_is_grad_bit_for_bit_and_derives_numbers(hidden):
    """The terms, added in backward's order, are `.grad`; the compiled step `derive` prints gets the same bits."""
    loss, names = notes_forward(hidden)
    explained = {name: td.explain(loss, v, names=names) for name, v in names.items() if name[0] in "wb"}
    loss.backward()
    step, model = notes_step(hidden)  # the same weights (seed 0), as td.compile derived the step
    step(*SAMPLE)
    depth = len(model.layers)
    for i, layer in enumerate(model.layers):
        for name, derived in ((f"w{depth - i}", layer.weight), (f"b{depth - i}", layer.bias)):
            text = str(explained[name])
            assert same_bits(explained[name].total, names[name].grad)
            assert same_bits(explained[name].total, derived.grad)
            assert text.split(f"{name}.grad = ")[-1].count(",") == derived.grad.size - 1
            assert all(repr(float(v)) in text.split(f"{name}.grad = ")[-1] for v in derived.grad.ravel())


def test_several_paths_one_line_each_and_the_order_backward_adds_them():
    a = Value(1.5)
    y = a * a * a.exp() + (a * 2.0).sin()
    explanation = td.explain(y, a)
    text = str(explanation)
    assert text.startswith("dy/dx: 4 paths from y to x\n")
    assert "dy/dx = dy/dSin1 · dSin1/dMul3 · dMul3/dx = 1 · " in text
    assert "adds 4 terms into x.grad, one per edge into x, newest op first: via Mul3, Exp1, Mul1, Mul1" in text
    y.backward()
    assert explanation.total == a.grad and text.endswith(f" = {a.grad!r}\n")
    assert [t.path_count for t in explanation.terms] == [1, 1, 1, 1]


def test_paths_that_meet_before_the_leaf_are_one_term():
    x = Value(0.7)
    h = x.sin() + x.cos()  # two paths meet at h
    y = h * h.exp()
    explanation = td.explain(y, x, names={"y": y, "h": h, "x": x})
    text = str(explanation)
    assert "4 paths from y to x" in text
    assert "paths 1 to 2 meet before x; backward adds them where they meet, then multiplies on" in text
    y.backward()
    assert explanation.total == x.grad


def test_too_many_paths_are_grouped_by_the_last_op_before_the_leaf():
    b = Value(0.3)
    z = b
    for _ in range(5):
        z = z * b + z.sin()
    explanation = td.explain(z, b, max_paths=12)
    text = str(explanation)
    assert "63 paths from y to x" in text
    assert "more than 12 paths: grouped by the last op before x, 63 paths folded into 7 line(s)" in text
    assert "term 5, via Sin1 (its input 0): 16 path(s) folded" in text
    z.backward()
    assert explanation.total == b.grad


@settings(max_examples=20)
@given(tds.programs(min_ops=3, max_ops=12), st.data())
def test_in_random_programs_the_sum_is_grad_bit_for_bit(program, data):
    xs = [Value(d) for d in program.inputs]
    y = program(*xs)
    k = data.draw(st.integers(0, len(xs) - 1))
    try:
        explanation = td.explain(y, xs[k], max_paths=8)
    except ValueError as exc:  # an input the result does not depend on
        assert "does not reach" in str(exc) or "does not require grad" in str(exc)
        return
    y.backward()
    assert same_bits(explanation.total, xs[k].grad)


def test_refusals_are_one_line():
    x = Value(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="one-element output"):
        td.explain(x * 2.0, x)
    y = (x * x).sum()
    with pytest.raises(ValueError, match="does not reach"):
        td.explain(y, Value(1.0))
    y.backward()
    with pytest.raises(ValueError, match="backward\\(\\) freed this graph; call explain before backward"):
        td.explain(y, x)
    with pytest.raises(ValueError, match="made by you that requires grad"):
        td.explain(y, x * 2.0)


def test_arrays_along_a_path_are_followed_element_by_element():
    """The notes' dE/dw2 = dE/ds1 · ds1/dnet1 · dnet1/ds2 · ds2/dnet2 · dnet2/dw2, per element of w2."""
    loss, names = notes_forward((2,))
    text = str(td.explain(loss, names["w2"], names=names))
    s1, s2, w1, x = names["s1"].data[0], names["s2"].data, names["w1"].data, SAMPLE[0]
    factors = [2 * (s1 - SAMPLE[1]), s1 * (1 - s1), w1[0, 1], s2[1] * (1 - s2[1]), x[0]]
    line = ("    dE/dw2[1, 0] = dE/ds1 · ds1/dnet1 · dnet1/ds2[1] · ds2[1]/dnet2[1] · dnet2[1]/dw2[1, 0] = "
            + " · ".join(f"{f:.4g}" for f in factors) + f" = {np.prod(factors):.4g}\n")
    assert line in text


def test_chains_that_meet_inside_an_array_are_each_written_and_summed():
    x = Value(np.array([0.5, -1.0, 2.0]))
    w = np.array([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]])
    y = (x @ w.T).tanh().sum()
    text = str(td.explain(y, x))
    assert text.count("    dy/dx[0] = ") == 2 and "    dy/dx[0] along this path = their sum = " in text
    y.backward()
    assert f"= {_written(x.grad)}" in text


def _written(grad):
    return "[" + ", ".join(repr(float(g)) for g in grad) + "]"

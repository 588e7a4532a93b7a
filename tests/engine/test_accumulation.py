"""Gradient bookkeeping: what accumulates, across calls and roots, and what is never shared.

PyTorch's contract: `.grad` of a leaf, and of a non-leaf that called `retain_grad()`,
accumulates across backward calls until zeroed; `grad(outputs, inputs)` sums over its
outputs; the arrays a caller receives are its own. Each test here was written
against a mutant of the engine that the rest of the suite let through (tests/mutate.py).
"""

import numpy as np

from tinygrad_div import Value, grad


def test_a_leaf_used_as_the_root_accumulates_across_backward_calls():
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0
    v = Value([1.0, 2.0])
    v.backward(np.array([3.0, 4.0]))
    v.backward(np.array([3.0, 4.0]))
    assert v.grad.tolist() == [6.0, 8.0]


def test_a_leaf_accumulates_across_two_graphs():
    x = Value(3.0)
    (x * x).backward()
    (x * 5.0).backward()
    assert x.grad == 11.0


def test_a_retained_grad_accumulates_across_backward_calls():
    x = Value(2.0)
    y = (x * x).retain_grad()
    z = y * 3.0
    z.backward(retain_graph=True)
    z.backward()
    assert y.grad == 6.0 and x.grad == 24.0


def test_a_retained_array_grad_accumulates_and_is_its_own_array():
    x = Value([1.0, 2.0])
    y = (x * 2.0).retain_grad()
    seed = np.array([1.0, 1.0])
    y.backward(seed, retain_graph=True)
    y.grad *= 10.0  # the caller's array: changing it changes nothing else
    assert seed.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]
    y.backward(seed)
    assert y.grad.tolist() == [11.0, 11.0] and x.grad.tolist() == [4.0, 4.0]


def test_grad_of_the_same_root_twice_sums():
    x = Value(2.0)
    y = x * x
    assert grad([y, y], x) == (8.0,)


def test_grad_of_two_roots_sums_their_seeds():
    x = Value([1.0, 2.0])
    y, z = x * 3.0, x * x
    (g,) = grad([y, z], [x], [np.array([1.0, 1.0]), np.array([2.0, 0.5])])
    assert g.tolist() == [3.0 + 4.0, 3.0 + 2.0]


def test_grad_of_a_leaf_that_is_also_used_directly():
    x = Value(3.0)
    assert grad(x * x + x, [x]) == (7.0,)


def test_gradients_returned_by_grad_are_the_callers_own():
    x = Value([1.0, 2.0])
    seed = np.array([1.0, 1.0])
    (g,) = grad(x + 0.0, [x], seed)  # Add passes its incoming gradient on unchanged
    g *= 100.0
    assert seed.tolist() == [1.0, 1.0]


def test_leaves_sharing_a_pass_through_gradient_do_not_share_the_array():
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    (a + b + 0.0).backward(np.array([1.0, 1.0]))
    a.grad += 1.0
    assert b.grad.tolist() == [1.0, 1.0]


def test_a_deep_input_of_grad_gets_its_gradient_through_every_level():
    x = Value(2.0)
    y = ((x * 3.0).exp().log() * 2.0).tanh().sum()
    (g,) = grad(y, [x])
    assert abs(g - 6.0 * (1 - np.tanh(12.0) ** 2)) <= 1e-15


def test_second_derivative_of_a_square_at_zero():
    """The recorded rule for b·a^(b-1) must not shift a where only a is 0 (a**2 at 0 has slope 0, curvature 2)."""
    x = Value(0.0)
    (g,) = grad(x**2.0, [x], create_graph=True)
    assert g.data == 0.0
    assert grad(g, [x]) == (2.0,)
    v = Value(np.array([0.0, 1.0]))
    (g,) = grad((v**3.0).sum(), [v], create_graph=True)
    assert g.data.tolist() == [0.0, 3.0]
    assert grad(g.sum(), [v])[0].tolist() == [0.0, 6.0]


def test_hessian_vector_product_through_indexing_with_repeated_indices():
    """f = Σ x[i]³ over i = 0, 1, 1, 2: H = diag(6x·count) = diag(6, 24, 18); H·v for v = (1, 10, 100)."""
    x = Value(np.array([1.0, 2.0, 3.0]))
    f = (x[np.array([0, 1, 1, 2])] ** 3.0).sum()
    (g,) = grad(f, [x], create_graph=True)
    assert g.data.tolist() == [3.0, 24.0, 27.0]
    (hv,) = grad((g * np.array([1.0, 10.0, 100.0])).sum(), [x])
    assert hv.tolist() == [6.0, 240.0, 1800.0]


def test_third_derivative_through_indexing():
    x = Value(np.array([1.0, 2.0]))
    f = (x[np.array([1, 1, 0])] ** 4.0).sum()
    (g,) = grad(f, [x], create_graph=True)
    (h,) = grad((g * np.array([1.0, 1.0])).sum(), [x], create_graph=True)
    (t,) = grad((h * np.array([1.0, 1.0])).sum(), [x])
    assert t.tolist() == [24.0 * 1.0, 2 * 24.0 * 2.0]


def test_dot_product_gradients_are_the_other_vector():
    a, b = Value(np.array([1.0, 2.0, 3.0])), Value(np.array([4.0, 5.0, 6.0]))
    (a @ b).backward()
    assert a.grad.tolist() == [4.0, 5.0, 6.0] and b.grad.tolist() == [1.0, 2.0, 3.0]


def test_a_constant_input_receives_no_gradient():
    c = Value([1.0, 2.0], requires_grad=False)
    x = Value([3.0, 4.0])
    (c * x).sum().backward()
    assert c.grad is None and x.grad.tolist() == [1.0, 2.0]

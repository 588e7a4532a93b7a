"""where, maximum, minimum, clip and the max/min reductions: values as numpy's, gradients as PyTorch's."""

import itertools

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import Value, grad


def test_where_routes_the_gradient_by_the_mask():
    x, y = Value(np.array([1.0, -2.0, 3.0])), Value(np.array([10.0, 20.0, 30.0]))
    out = td.where(x > 0, x, y)
    np.testing.assert_array_equal(out.data, [1.0, 20.0, 3.0])
    (out * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(y.grad, [0.0, 2.0, 0.0])


def test_where_broadcasts_scalars_and_constants():
    x = Value(np.array([-1.0, 2.0]))
    out = td.where(x > 0, x, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [0.0, 2.0])
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])
    s = Value(3.0)
    assert td.where(True, s, 1.0).data == 3.0 and td.where(s < 0, s, -s).data == -3.0
    np.testing.assert_array_equal(np.where(x > 0, 1.0, x).data, [-1.0, 1.0])


@pytest.mark.parametrize("fn, picks_a", [(td.maximum, [1.0, 0.0, 0.5]), (td.minimum, [0.0, 1.0, 0.5])])
def test_maximum_and_minimum_split_the_gradient_evenly_at_ties(fn, picks_a):
    """torch.maximum/minimum give each side half the gradient where a = b."""
    a, b = Value(np.array([3.0, 1.0, 2.0])), Value(np.array([1.0, 3.0, 2.0]))
    fn(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, picks_a)
    np.testing.assert_array_equal(b.grad, 1.0 - np.array(picks_a))


@pytest.mark.parametrize("fn", [td.maximum, td.minimum])
def test_scalars_split_the_gradient_at_a_tie_as_arrays_do(fn):
    """Floats take their own path through the forward pass; the tie convention must not depend on it."""
    a, b = Value(2.0), Value(2.0)
    fn(a, b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)


def test_maximum_of_scalars_and_numpy_maximum():
    a = Value(2.0)
    y = td.maximum(a, 1.0)
    y.backward()
    assert (y.data, a.grad, type(y.data)) == (2.0, 1.0, float)
    assert np.maximum(Value(np.array([-1.0, 1.0])), 0.0).data.tolist() == [0.0, 1.0]


def test_clip_matches_numpy_and_passes_the_gradient_inside_and_at_the_limits():
    data = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    x = Value(data)
    y = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(y.data, np.clip(data, -1.0, 1.0))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])  # at a limit the input keeps it (torch.clamp)
    x = Value(data)
    x.clip(hi=0.5).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(np.clip(Value(data), 0.0, None).data, np.clip(data, 0.0, None))


def test_clip_with_value_limits_gives_them_the_gradient_of_the_clipped_elements():
    x, lo, hi = Value(np.array([-3.0, 0.0, 3.0])), Value(-1.0), Value(1.0)
    td.clip(x, lo, hi).sum().backward()
    assert (lo.grad, hi.grad) == (1.0, 1.0)
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


def test_clip_gradients_match_torch_clamp_on_every_ordering_of_the_three():
    """Every a, lo, hi in {0, 1, 2, nan} (all ties and crossings), as arrays with Value limits, but a < lo = hi."""
    torch = pytest.importorskip("torch")
    grid = np.array(list(itertools.product([0.0, 1.0, 2.0, np.nan], repeat=3)))
    ours = [Value(grid[:, k].copy()) for k in range(3)]
    y = td.clip(*ours)
    y.sum().backward()
    theirs = [torch.tensor(grid[:, k], requires_grad=True) for k in range(3)]
    t = torch.clamp(*theirs)
    t.sum().backward()
    np.testing.assert_array_equal(y.data, t.detach().numpy())
    below_equal_limits = (grid[:, 0] < grid[:, 1]) & (grid[:, 1] == grid[:, 2])  # PyTorch: no gradient at all
    assert below_equal_limits.sum() == 3
    theirs[1].grad[torch.from_numpy(below_equal_limits)] = 1.0  # here lo gets it (docs/conventions.md)
    for mine, its in zip(ours, theirs):
        np.testing.assert_array_equal(mine.grad, its.grad.numpy())


def test_max_and_min_reductions_follow_numpy_axis_rules():
    data = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    x = Value(data)
    for axis in (None, 0, 1, -1, (0, 1)):
        for keepdims in (False, True):
            np.testing.assert_array_equal(x.max(axis, keepdims).data, np.max(data, axis, keepdims=keepdims))
            np.testing.assert_array_equal(td.amin(x, axis, keepdims).data, np.min(data, axis, keepdims=keepdims))
    assert np.max(x, axis=0).data.tolist() == [7.0, 5.0, 3.0]


def test_max_gradient_goes_to_the_maximum_and_ties_share_it_as_torch_amax():
    x = Value(np.array([[1.0, 4.0, 4.0], [2.0, 2.0, 2.0]]))
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=0, atol=0)
    x = Value(np.array([3.0, 1.0, 3.0]))
    x.min().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


def test_second_derivative_of_max_is_zero_but_flows_through():
    x = Value(np.array([1.0, 3.0]))
    (g,) = grad((x.max() * x.max()), [x], create_graph=True)  # d/dx (max x)² = 2·max at the argmax
    np.testing.assert_array_equal(g.data, [0.0, 6.0])
    (h,) = grad(g.sum(), [x])
    np.testing.assert_array_equal(h, [0.0, 2.0])


def test_max_of_an_empty_array_is_numpys_one_line_error():
    with pytest.raises(ValueError, match="zero-size array"):
        Value(np.zeros((0, 2))).max(axis=0)


def test_max_with_nan_is_nan_without_warnings():
    import warnings

    x = Value(np.array([1.0, np.nan]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.max()
        y.backward()
    assert np.isnan(y.data)

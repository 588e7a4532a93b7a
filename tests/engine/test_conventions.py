"""PyTorch's conventions where a derivative is undefined or infinite, one named test each.

Every expected value here was read off PyTorch 2.13 (float64) when the test was written;
PyTorch itself is not needed to run them. docs/conventions.md lists the same table (its
code blocks run in tests/test_readme.py). Each case is checked on a Python float and
on a one-element array (the two code paths of every op).
"""

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_div as td
import tinygrad_div.nn.functional as F
from tinygrad_div import Value, grad

nan, inf = math.nan, math.inf


def same(got, want) -> bool:
    return (math.isnan(got) and math.isnan(want)) or got == want


def derivatives(f, *xs):
    """f's value and gradients at xs, identical on the scalar and the one-element-array paths."""
    results = []
    for wrap in (float, lambda x: np.array([x])):
        inputs = [Value(wrap(x)) for x in xs]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = f(*inputs)
            gs = grad(y.sum(), inputs)
        results.append([float(np.reshape(v, -1)[0]) for v in (y.data, *gs)])
    scalar, array = results
    assert all(same(s, a) for s, a in zip(scalar, array)), f"scalar {scalar} != one-element array {array}"
    return scalar


def check(f, xs, want):
    got = derivatives(f, *xs)
    assert all(same(g, w) for g, w in zip(got, want)), f"got {got}, PyTorch gives {want}"


# -- kinks: the gradient at exactly the kink is 0 ---------------------------------------------
@pytest.mark.parametrize("x", [0.0, -0.0])
def test_relu_gradient_at_zero_is_zero(x):
    check(Value.relu, [x], [0.0, 0.0])


def test_relu_gradient_is_one_just_above_zero_and_zero_below():
    check(Value.relu, [5e-324], [5e-324, 1.0])
    check(Value.relu, [-5e-324], [0.0, 0.0])


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_abs_gradient_at_zero_is_zero(x):
    check(Value.abs, [x], [0.0, 0.0])


def test_abs_gradient_is_the_sign_elsewhere():
    check(Value.abs, [-5e-324], [5e-324, -1.0])
    check(Value.abs, [-inf], [inf, -1.0])


@pytest.mark.parametrize("function", [td.maximum, td.minimum], ids=["maximum", "minimum"])
def test_maximum_and_minimum_split_the_gradient_at_a_tie(function):
    check(function, [1.0, 1.0], [1.0, 0.5, 0.5])
    check(function, [-0.0, 0.0], [0.0, 0.5, 0.5])


def reduced_gradient(method, data, **params):
    x = Value(np.array(data))
    getattr(x, method)(**params).sum().backward()
    return x.grad.tolist()


def test_max_and_min_reductions_share_the_gradient_evenly_among_ties():
    assert reduced_gradient("max", [1.0, 3.0, 3.0]) == [0.0, 0.5, 0.5]  # torch.amax (and max() without dim)
    assert reduced_gradient("min", [2.0, 1.0, 1.0, 1.0]) == [0.0, 1 / 3, 1 / 3, 1 / 3]
    assert reduced_gradient("max", [[1.0, 3.0], [1.0, 2.0]], axis=0) == [[0.5, 1.0], [0.5, 0.0]]


def test_clip_at_its_limits_gives_the_gradient_to_the_input():
    """Gradients (a, lo, hi), as torch.clamp with tensor limits."""
    check(td.clip, [1.0, 1.0, 2.0], [1.0, 1.0, 0.0, 0.0])
    check(td.clip, [2.0, 1.0, 2.0], [2.0, 1.0, 0.0, 0.0])
    check(td.clip, [1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0])


def test_clip_with_crossed_limits_gives_the_upper_one():
    check(td.clip, [1.5, 2.0, 1.0], [1.0, 0.0, 0.0, 1.0])


CLIP_TIES = {  # (a, lo, hi): (y, da, dlo, dhi), read off torch.clamp with float64 tensor limits, but one
    "a < lo < hi": ((0.0, 1.0, 2.0), (1.0, 0.0, 1.0, 0.0)),
    "a = lo < hi": ((1.0, 1.0, 2.0), (1.0, 1.0, 0.0, 0.0)),
    "lo < a = hi": ((2.0, 1.0, 2.0), (2.0, 1.0, 0.0, 0.0)),
    "lo < hi < a": ((3.0, 1.0, 2.0), (2.0, 0.0, 0.0, 1.0)),
    "a < lo = hi": ((0.0, 1.0, 1.0), (1.0, 0.0, 1.0, 0.0)),  # PyTorch: (0, 0, 0), see the next test
    "a = lo = hi": ((1.0, 1.0, 1.0), (1.0, 1.0, 0.0, 0.0)),
    "lo = hi < a": ((2.0, 1.0, 1.0), (1.0, 0.0, 0.0, 1.0)),
    "a < hi < lo": ((0.0, 2.0, 1.0), (1.0, 0.0, 0.0, 1.0)),
    "a = hi < lo": ((1.0, 2.0, 1.0), (1.0, 0.0, 0.0, 1.0)),
    "hi < a < lo": ((1.5, 2.0, 1.0), (1.0, 0.0, 0.0, 1.0)),
    "hi < a = lo": ((2.0, 2.0, 1.0), (1.0, 0.0, 0.0, 1.0)),
    "hi < lo < a": ((3.0, 2.0, 1.0), (1.0, 0.0, 0.0, 1.0)),
    "a = nan": ((nan, 1.0, 2.0), (nan, 0.0, 0.0, 0.0)),
    "lo = nan": ((1.5, nan, 2.0), (nan, 0.0, 0.0, 0.0)),
    "hi = nan": ((1.5, 1.0, nan), (nan, 0.0, 0.0, 0.0)),
    "a = nan, hi < lo": ((nan, 2.0, 1.0), (nan, 0.0, 0.0, 1.0)),
    "lo = nan, hi < a": ((1.0, nan, 0.0), (nan, 0.0, 0.0, 1.0)),
}


@pytest.mark.parametrize("case", CLIP_TIES)
def test_clip_ties_and_crossed_limits_as_torch_clamp(case):
    xs, want = CLIP_TIES[case]
    check(td.clip, list(xs), list(want))


def test_clip_below_equal_limits_gives_the_lower_limit_the_gradient():
    """clip(a, v, v) is v wherever a < v, so dv = 1: one of the tied limits must carry it. PyTorch gives it to
    neither (documented difference); here lo gets it, as for a < lo < hi."""
    check(lambda a, v: td.clip(a, v, v), [0.0, 1.0], [1.0, 0.0, 1.0])
    check(td.clip, [0.0, 1.0, 1.0], [1.0, 0.0, 1.0, 0.0])


def test_maximum_and_minimum_with_a_nan_give_the_gradient_to_the_second_input():
    """PyTorch gives 1 to both here; the ops' weight for the first input is 0 (documented difference)."""
    check(td.maximum, [nan, 1.0], [nan, 0.0, 1.0])
    check(td.minimum, [1.0, nan], [nan, 0.0, 1.0])


def test_max_reduction_over_a_nan_gives_zero_gradients():
    """PyTorch gives nan to every element (0/0 in its tie count); the ops give 0 (documented difference)."""
    with np.errstate(all="ignore"):
        assert reduced_gradient("max", [1.0, nan, 2.0]) == [0.0, 0.0, 0.0]


# -- domain edges of a ** b ---------------------------------------------------------------------
def pow_(a, b):
    return a**b


def test_pow_at_base_zero_has_zero_gradients_for_a_positive_exponent():
    check(pow_, [0.0, 2.0], [0.0, 0.0, 0.0])
    check(pow_, [-0.0, 2.0], [0.0, -0.0, 0.0])


def test_pow_zero_to_the_zero_is_one_with_zero_gradients():
    check(pow_, [0.0, 0.0], [1.0, 0.0, 0.0])
    check(pow_, [-0.0, 0.0], [1.0, 0.0, 0.0])


def test_pow_at_base_zero_with_a_fractional_exponent_has_an_infinite_base_gradient():
    check(pow_, [0.0, 0.5], [0.0, inf, 0.0])


def test_pow_at_base_zero_with_a_negative_exponent_is_infinite():
    check(pow_, [0.0, -1.0], [inf, -inf, -inf])
    check(pow_, [-0.0, -1.0], [-inf, -inf, inf])


def test_pow_with_a_negative_base_has_a_nan_exponent_gradient():
    check(pow_, [-2.0, 2.0], [4.0, -4.0, nan])
    check(pow_, [-2.0, 3.0], [-8.0, 12.0, nan])


def test_pow_of_a_negative_base_to_a_fractional_exponent_is_nan():
    check(pow_, [-2.0, 0.5], [nan, nan, nan])


def test_pow_with_a_zero_exponent_has_zero_base_gradient_even_at_nan():
    check(pow_, [nan, 0.0], [1.0, 0.0, nan])
    check(pow_, [1.0, 0.0], [1.0, 0.0, 0.0])
    for data in (nan, np.array([nan, 0.0])):  # recorded too, for a constant exponent
        x = Value(data)
        (g,) = grad((x**0.0).sum(), [x], create_graph=True)
        assert np.all(g.data == 0.0)


def test_pow_of_one_to_a_nan_exponent():
    check(pow_, [1.0, nan], [1.0, nan, 0.0])


def test_pow_with_a_constant_zero_exponent_array_has_zero_gradient_at_base_zero():
    """The issue's bug 2: this was [nan, 0]."""
    x = Value([0.0, 1.0])
    (x ** np.zeros(2)).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_pow_exponent_gradient_at_base_zero_for_arrays():
    """The issue's bug 1: b.grad was [nan, 0] (a helper read an ndarray's .data, its memoryview)."""
    a, b = Value([0.0, 1.0]), Value([2.0, 2.0])
    (a**b).sum().backward()
    assert a.grad.tolist() == [0.0, 2.0] and b.grad.tolist() == [0.0, 0.0]


def test_square_root_as_a_power_at_zero():
    check(lambda a: a**0.5, [0.0], [0.0, inf])
    # PyTorch gives -inf here: it computes a^(-0.5) as 1/sqrt(a); numpy's IEEE pow gives +inf (documented)
    check(lambda a: a**0.5, [-0.0], [-0.0, inf])


def test_sqrt_at_zero_has_an_infinite_gradient_with_the_sign_of_the_zero():
    check(td.sqrt, [0.0], [0.0, inf])
    check(td.sqrt, [-0.0], [-0.0, -inf])


def test_sqrt_of_a_negative_number_is_nan():
    check(td.sqrt, [-1.0], [nan, nan])
    check(td.sqrt, [inf], [inf, 0.0])


def test_log1p_at_minus_one_and_below():
    check(td.log1p, [-1.0], [-inf, inf])
    check(td.log1p, [-2.0], [nan, -1.0])


# -- nan and infinities -------------------------------------------------------------------------
def test_relu_passes_nan_and_its_gradient_through():
    check(Value.relu, [nan], [nan, 1.0])


def test_abs_gradient_at_nan_is_zero():
    """The issue's bug 3: arrays gave nan, scalars 0."""
    check(Value.abs, [nan], [nan, 0.0])


@pytest.mark.parametrize("method", [Value.exp, Value.log, Value.sigmoid, Value.tanh])
def test_smooth_functions_give_nan_gradients_at_nan(method):
    check(method, [nan], [nan, nan])


def test_linear_functions_keep_their_constant_gradient_at_nan():
    check(Value.__neg__, [nan], [nan, -1.0])
    check(lambda a, b: a + b, [nan, 1.0], [nan, 1.0, 1.0])
    check(lambda a, b: a - b, [1.0, nan], [nan, 1.0, -1.0])


def test_smooth_functions_at_infinities():
    check(Value.tanh, [inf], [1.0, 0.0])
    check(td.expm1, [-inf], [-1.0, 0.0])
    check(td.sin, [inf], [nan, nan])
    check(Value.sigmoid, [-inf], [0.0, 0.0])
    check(Value.exp, [-inf], [0.0, 0.0])
    check(Value.log, [0.0], [-inf, inf])
    check(Value.log, [-1.0], [nan, -1.0])


def test_division_by_zero():
    check(lambda a, b: a / b, [1.0, 0.0], [inf, inf, -inf])
    check(lambda a, b: a / b, [0.0, 0.0], [nan, inf, nan])


def test_infinity_times_zero():
    check(lambda a, b: a * b, [inf, 0.0], [nan, 0.0, inf])


def test_max_pool_ties_share_the_gradient_evenly():
    """As `max` does; PyTorch's max_pool2d gives [1, 0, 0, 0] (all to the first): the documented difference."""
    x = Value(np.array([[[[1.0, 1.0], [0.0, 1.0]]]]))
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[1 / 3, 1 / 3], [0.0, 1 / 3]]]])


def test_max_pool_pads_with_minus_infinity():
    x = Value(np.array([[[[-1.0, -2.0], [-3.0, -4.0]]]]))
    y = F.max_pool2d(x, 2, stride=1, padding=1)
    y.sum().backward()
    assert y.data.tolist() == [[[[-1.0, -1.0, -2.0], [-1.0, -1.0, -2.0], [-3.0, -3.0, -4.0]]]]
    assert x.grad.tolist() == [[[[4.0, 2.0], [2.0, 1.0]]]]


def test_leaky_relu_gradient_at_zero_is_the_slope():
    check(lambda a: F.leaky_relu(a, 0.2), [0.0], [0.0, 0.2])
    check(lambda a: F.leaky_relu(a, 0.2), [-0.0], [-0.0, 0.2])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_at_infinities(approximate):
    check(lambda a: F.gelu(a, approximate), [-inf], [nan, nan])
    check(lambda a: F.gelu(a, approximate), [inf], [inf, nan])
    check(lambda a: F.gelu(a, approximate), [nan], [nan, nan])


# -- the documentation ------------------------------------------------------------------------
DOC = Path(__file__).resolve().parents[2] / "docs" / "conventions.md"


def test_every_test_here_is_listed_on_the_conventions_page():
    listed = set(re.findall(r"`(test_\w+)`", DOC.read_text()))
    this = "test_every_test_here_is_listed_on_the_conventions_page"
    here = {name for name in globals() if name.startswith("test_") and name != this}
    assert here - listed == set(), "add these tests to the table in docs/conventions.md"
    assert listed - here - {"test_scalar_and_one_element_array_agree_bitwise_at_the_edges"} == set()

"""nn.functional.linear (the Affine op, also in the registry suite): y = x @ Wᵀ + b, 1-D and stacked inputs, layout."""

import numpy as np
import pytest

from tinygrad_div import ShapeError, Value, gradcheck, gradgradcheck
from tinygrad_div.nn.functional import Affine, linear
from tinygrad_div.testing import check_op

RNG = np.random.default_rng(0)
SHAPES = [((3,), (2, 3)), ((4, 3), (2, 3)), ((2, 4, 3), (5, 3)), ((1, 1), (1, 1)), ((6, 2), (1, 2))]


@pytest.mark.parametrize("x_shape, w_shape", SHAPES, ids=str)
def test_linear_is_x_times_weight_transposed_plus_bias(x_shape, w_shape):
    x, w, b = RNG.normal(size=x_shape), RNG.normal(size=w_shape), RNG.normal(size=w_shape[0])
    np.testing.assert_allclose(linear(x, Value(w), Value(b)).data, x @ w.T + b, rtol=1e-14)
    np.testing.assert_allclose(linear(x, Value(w)).data, x @ w.T, rtol=1e-14)


@pytest.mark.parametrize("x_shape, w_shape", SHAPES, ids=str)
def test_gradients_match_finite_differences_to_second_order(x_shape, w_shape):
    x, w, b = RNG.normal(size=x_shape), RNG.normal(size=w_shape), RNG.normal(size=w_shape[0])
    f = lambda x, w, b: Affine.apply(x, w, b)
    assert gradcheck(f, [x, w, b])
    assert gradgradcheck(f, [x, w, b])
    assert gradcheck(lambda x, w: (linear(x, w) ** 2).sum(), [x, w])


def test_check_op_checks_it_and_catches_a_wrong_backward():
    assert check_op(Affine, examples=15).examples == 15

    class WrongAffine(Affine, register=False):
        @staticmethod
        def backward(ctx, grad):
            grad_x, grad_w, grad_b = Affine.backward(ctx, grad)
            return grad_x, grad_w * 1.01, grad_b  # 1% off in the weight's gradient

    with pytest.raises(Exception, match="WrongAffine"):
        check_op(WrongAffine, examples=15)


def test_it_computes_bit_for_bit_what_x_at_the_transposed_weight_computed():
    """BLAS rounds by memory layout; the product is taken with a C-contiguous Wᵀ, as the notes' layer stored it."""
    for n_in, n_out, batch in [(2, 8, 1), (8, 1, 32), (16, 8, 7), (3, 3, 100), (64, 128, 64)]:
        w_old = RNG.normal(size=(n_in, n_out))  # the notes' (n_in, n_out) layout
        x, g = RNG.normal(size=(batch, n_in)), RNG.normal(size=(batch, n_out))
        w = Value(np.ascontiguousarray(w_old.T))
        xv = Value(x)
        y = linear(xv, w)
        np.testing.assert_array_equal(y.data, x @ w_old)
        y.backward(g)
        np.testing.assert_array_equal(xv.grad, g @ w_old.T)
        np.testing.assert_array_equal(w.grad, (x.T @ g).T)


def test_an_input_that_does_not_fit_the_weight_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"\(4,\).*\(2, 3\)"):
        linear(np.ones(4), Value(np.ones((2, 3))))
    with pytest.raises(ShapeError, match="weight"):
        linear(1.0, Value(np.ones((2, 3))))

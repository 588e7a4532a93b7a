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


# -- layer_norm, dropout, embedding (compositions of recorded ops) -------------------------------------
def test_layer_norm_normalises_the_last_axes_and_is_twice_differentiable():
    import tinygrad_div.nn.functional as F
    x, w, b = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    y = F.layer_norm(Value(x), (3, 4), Value(w), Value(b), eps=1e-5)
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y.data, (x - mean) / np.sqrt(var + 1e-5) * w + b, rtol=1e-13, atol=1e-14)
    f = lambda x, w, b: F.layer_norm(x, 4, w, b)
    assert gradgradcheck(f, [x, w[0], b[0]])
    with pytest.raises(ShapeError, match=r"^layer_norm: normalized_shape \(3,\) does not match the last axes of"):
        F.layer_norm(Value(x), 3)


def test_layer_norm_agrees_with_torch():
    torch = pytest.importorskip("torch")
    import tinygrad_div.nn.functional as F
    x, w, b = RNG.normal(size=(5, 6)), RNG.normal(size=6), RNG.normal(size=6)
    ours, theirs = [Value(a) for a in (x, w, b)], [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    y, ty = F.layer_norm(ours[0], 6, *ours[1:]), torch.nn.functional.layer_norm(theirs[0], (6,), *theirs[1:])
    seed = RNG.normal(size=y.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    from tinygrad_div import grad
    for g, t in zip(grad(y, ours, seed), torch.autograd.grad(ty, theirs, torch.tensor(seed))):
        np.testing.assert_allclose(g, t.numpy(), rtol=1e-12, atol=1e-14)


def test_dropout_zeroes_with_probability_p_and_scales_the_rest():
    import tinygrad_div.nn.functional as F
    x = Value(np.ones(20000))
    y = F.dropout(x, 0.25, generator=np.random.default_rng(0))
    kept = y.data != 0
    assert set(np.unique(y.data)) == {0.0, 1 / 0.75} and abs(kept.mean() - 0.75) < 0.01
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, kept / 0.75)  # the gradient takes the same mask and scale
    again = F.dropout(x, 0.25, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(again.data, y.data)  # the same generator state, the same mask
    assert F.dropout(x, 0.25, training=False) is x and F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).data.any()


@pytest.mark.parametrize("p", [1.5, -0.1, "0.5"])
def test_dropout_refuses_a_probability_outside_0_1(p):
    import tinygrad_div.nn.functional as F
    with pytest.raises(ValueError, match=r"^dropout probability has to be between 0 and 1, but got"):
        F.dropout(Value(np.ones(3)), p)


def test_embedding_picks_rows_and_adds_the_gradients_of_repeated_indices():
    import tinygrad_div.nn.functional as F
    weight = Value(RNG.normal(size=(5, 3)))
    indices = np.array([[0, 2], [2, 4]])
    y = F.embedding(indices, weight)
    assert y.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.data, weight.data[indices])
    y.sum().backward()
    np.testing.assert_array_equal(weight.grad[:, 0], [1.0, 0.0, 2.0, 0.0, 1.0])
    with pytest.raises(IndexError, match=r"^embedding: index 5 is out of range for 5 embeddings$"):
        F.embedding(np.array([5]), weight)
    with pytest.raises(TypeError, match=r"^embedding: indices must be integers, got float64$"):
        F.embedding(np.array([1.0]), weight)


def test_dropout_in_a_compiled_step_is_refused_by_name():
    """The program would keep the trace's mask on every call: a TraceError, not a silently frozen mask."""
    import tinygrad_div as td
    import tinygrad_div.nn.functional as F
    w = Value(np.ones(4))

    @td.compile
    def step(x):
        return F.dropout(x * w, 0.5).sum()

    with pytest.raises(td.TraceError, match=r"dropout's random mask while tracing a compiled step"):
        step(np.ones(4))

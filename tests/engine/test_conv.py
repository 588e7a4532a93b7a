"""conv1d/conv2d (the Conv op, engine/ops/conv.py) against the formula written out, bad input, and torch.

Gradients (first and second order) are checked for every registered op by test_ops and
test_differential; here: values, the layout, the bias and groups, and the one-line errors.
"""

import numpy as np
import pytest

import tinygrad_div.nn.functional as F
from tinygrad_div import ShapeError, Value, grad


def by_formula(x, w, b, stride, padding, dilation, groups):
    """y[n, o, i, j] = b[o] + Σ_{c, u, v} x_pad[n, g·Cg + c, i·s + u·d, j·s + v·d] · w[o, c, u, v], one at a time."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, h, wd = xp.shape
    o, cg, kh, kw = w.shape
    ho, wo = (h - dh * (kh - 1) - 1) // sh + 1, (wd - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    for idx in np.ndindex(*out.shape):
        m, q, i, j = idx
        g = q // (o // groups)
        out[idx] = b[q] + sum(xp[m, g * cg + c, i * sh + u * dh, j * sw + v * dw] * w[q, c, u, v]
                              for c in range(cg) for u in range(kh) for v in range(kw))
    return out


def test_a_single_window_is_the_sum_of_products():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    y = F.conv2d(Value(x), Value(w))
    # top-left window [[0, 1], [3, 4]]: 0·1 + 1·2 + 3·3 + 4·4 = 27 (cross-correlation: the kernel is not flipped)
    assert y.data.tolist() == [[[[27.0, 37.0], [57.0, 67.0]]]]


@pytest.mark.parametrize("stride, padding, dilation, groups", [
    ((1, 1), (0, 0), (1, 1), 1), ((2, 1), (1, 2), (1, 2), 1), ((1, 2), (1, 0), (2, 1), 2), ((3, 3), (2, 2), (1, 1), 4)])
def test_conv2d_matches_the_formula(stride, padding, dilation, groups):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 4, 6, 7)), rng.normal(size=(4, 4 // groups, 3, 2)), rng.normal(size=4)
    y = F.conv2d(Value(x), Value(w), Value(b), stride, padding, dilation, groups)
    np.testing.assert_allclose(y.data, by_formula(x, w, b, stride, padding, dilation, groups), rtol=1e-13, atol=1e-13)


def test_conv1d_is_conv2d_over_a_height_of_one():
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 3, 9)), rng.normal(size=(5, 3, 3)), rng.normal(size=5)
    y = F.conv1d(Value(x), Value(w), Value(b), stride=2, padding=1, dilation=2)
    expected = by_formula(x[:, :, None], w[:, :, None], b, (1, 2), (0, 1), (1, 2), 1)[:, :, 0]
    np.testing.assert_allclose(y.data, expected, rtol=1e-13, atol=1e-13)


def test_unbatched_input_and_no_bias():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(3, 5, 5)), rng.normal(size=(2, 3, 3, 3))
    y = F.conv2d(Value(x), Value(w), padding="same")
    assert y.shape == (2, 5, 5)
    np.testing.assert_allclose(y.data, by_formula(x[None], w, np.zeros(2), (1, 1), (1, 1), (1, 1), 1)[0], atol=1e-13)


def test_gradients_are_the_transposed_windows():
    """dL/db sums the output gradient; dL/dx of a 1x1 kernel is the weight times it, channel by channel."""
    rng = np.random.default_rng(3)
    x, w, b = Value(rng.normal(size=(2, 3, 4, 4))), Value(rng.normal(size=(2, 3, 1, 1))), Value(np.zeros(2))
    seed = rng.normal(size=(2, 2, 4, 4))
    gx, gw, gb = grad(F.conv2d(x, w, b), [x, w, b], seed)
    np.testing.assert_allclose(gb, seed.sum(axis=(0, 2, 3)), rtol=1e-14)
    np.testing.assert_allclose(gx, np.einsum("nohw,oc->nchw", seed, w.data[:, :, 0, 0]), rtol=1e-13)
    np.testing.assert_allclose(gw[:, :, 0, 0], np.einsum("nohw,nchw->oc", seed, x.data), rtol=1e-13)


@pytest.mark.parametrize("call, message", [
    (lambda x, w: F.conv2d(x, np.ones((4, 1, 3, 3))), r"^conv2d: input has 3 channels, weight expects 1$"),
    (lambda x, w: F.conv2d(x, w, groups=2), r"^conv2d: input has 3 channels, weight expects 6$"),
    (lambda x, w: F.conv2d(np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3)), groups=2),
     r"^conv2d: out_channels 3 is not divisible by groups 2$"),
    (lambda x, w: F.conv2d(x, np.ones((2, 3, 7, 7))), r"^conv2d: kernel size 7 x 7 \(dilated\) is larger than the "
                                                      r"padded input 5 x 5$"),
    (lambda x, w: F.conv2d(x, w, dilation=3), r"^conv2d: kernel size 7 x 7 \(dilated\) is larger"),
    (lambda x, w: F.conv2d(x, w, stride=0), r"^conv2d: stride must be >= 1, got 0$"),
    (lambda x, w: F.conv2d(x, w, padding=-1), r"^conv2d: padding must be >= 0, got -1$"),
    (lambda x, w: F.conv2d(x, w, padding=(1, 1, 1)), r"^conv2d: padding must be an int or a tuple of 2 ints"),
    (lambda x, w: F.conv2d(x, w, stride=1.5), r"^conv2d: stride must be an int or a tuple of 2 ints, got 1.5$"),
    (lambda x, w: F.conv2d(x, w, padding="full"), r"^conv2d: padding must be an int, a tuple, 'valid' or 'same'"),
    (lambda x, w: F.conv2d(x, w, stride=2, padding="same"), r"^conv2d: padding='same' needs stride 1"),
    (lambda x, w: F.conv2d(x, w, bias=np.ones(3)), r"^conv2d: bias must have shape \(4,\), got \(3,\)$"),
    (lambda x, w: F.conv2d(x, np.ones((4, 3, 3))), r"^conv2d: weight must be 4-D"),
    (lambda x, w: F.conv2d(np.ones(5), w), r"^conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got 1-D$"),
    (lambda x, w: F.conv1d(x, w), r"^conv1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input, got 4-D$"),
])
def test_bad_input_is_a_one_line_error(call, message):
    x, w = Value(np.ones((2, 3, 5, 5))), Value(np.ones((4, 3, 3, 3)))
    with pytest.raises((ShapeError, ValueError, TypeError), match=message):
        call(x, w)


def test_agrees_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for conv, spatial, params in [(F.conv2d, (6, 7), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
                                  (F.conv1d, (9,), dict(stride=2, padding=1, dilation=2, groups=1))]:
        x, b = rng.normal(size=(2, 4, *spatial)), rng.normal(size=6)
        w = rng.normal(size=(6, 4 // params["groups"], *(3,) * len(spatial)))
        ours = [Value(a) for a in (x, w, b)]
        y = conv(*ours, **params)
        seed = rng.normal(size=y.shape)
        grads = grad(y, ours, seed)
        theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        torch_conv = torch.nn.functional.conv2d if conv is F.conv2d else torch.nn.functional.conv1d
        ty = torch_conv(*theirs, **params)
        ty.backward(torch.tensor(seed))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-13)
        for g, t in zip(grads, theirs):
            np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12, atol=1e-13)

"""max_pool2d and avg_pool2d (MaxPool, AvgPool in engine/ops/pool.py): values, the tie rule, padding, errors, torch."""

import numpy as np
import pytest

import tinygrad_div.nn.functional as F
from tinygrad_div import ShapeError, Value, grad


def test_max_pool_takes_each_windows_maximum():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    assert F.max_pool2d(Value(x), 2).data.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]


def test_overlapping_windows_add_up():
    x = Value(np.array([[[[0.0, 9.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]))
    F.max_pool2d(x, 2, stride=1).sum().backward()  # the 9 is the maximum of both top windows
    assert x.grad[0, 0, 0, 1] == 2.0 and x.grad.sum() == 4.0


def test_avg_pool_counts_padded_zeros():
    x = -np.ones((1, 1, 2, 2))
    corner = F.avg_pool2d(Value(x), 2, stride=1, padding=1).data[0, 0, 0, 0]
    assert corner == -0.25  # one input and three padded zeros, divided by 4 (count_include_pad=True)


def test_avg_pool_spreads_the_gradient_evenly():
    x = Value(np.ones((1, 2, 4, 4)))
    y = F.avg_pool2d(x, 2)
    assert y.data.tolist() == np.ones((1, 2, 2, 2)).tolist()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((1, 2, 4, 4), 0.25))


def test_unbatched_input():
    assert F.max_pool2d(Value(np.ones((3, 4, 4))), 2).shape == (3, 2, 2)


@pytest.mark.parametrize("call, message", [
    (lambda x: F.max_pool2d(x, 2, padding=2), r"^max_pool2d: padding should be at most half of the effective kernel "
                                              r"size, got padding=2, kernel_size=2 and dilation=1$"),
    (lambda x: F.avg_pool2d(x, 6), r"^avg_pool2d: kernel size 6 x 6 \(dilated\) is larger than the padded input "
                                   r"5 x 5$"),
    (lambda x: F.max_pool2d(x, 0), r"^max_pool2d: kernel_size must be >= 1, got 0$"),
    (lambda x: F.avg_pool2d(x, 2, stride=(1, 0)), r"^avg_pool2d: stride must be >= 1, got \(1, 0\)$"),
    (lambda x: F.max_pool2d(x[0, 0], 2), r"^max_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, "
                                         r"got 2-D$"),
])
def test_bad_input_is_a_one_line_error(call, message):
    with pytest.raises((ShapeError, ValueError), match=message):
        call(Value(np.ones((1, 1, 5, 5))))


def test_agrees_with_torch_and_differs_only_at_ties_as_documented():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 7, 6))
    for ours, theirs, params in [(F.max_pool2d, tf.max_pool2d, dict(kernel_size=3, stride=2, padding=1, dilation=1)),
                                 (F.max_pool2d, tf.max_pool2d, dict(kernel_size=(2, 3), stride=1, padding=(1, 0))),
                                 (F.avg_pool2d, tf.avg_pool2d, dict(kernel_size=3, stride=(2, 1), padding=1))]:
        v, t = Value(x), torch.tensor(x, requires_grad=True)
        y, ty = ours(v, **params), theirs(t, **params)
        seed = rng.normal(size=y.shape)
        (g,) = grad(y, [v], seed)
        ty.backward(torch.tensor(seed))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-13, atol=1e-15)
    tied = np.array([[[[2.0, 2.0], [0.0, 1.0]]]])
    v, t = Value(tied), torch.tensor(tied, requires_grad=True)
    F.max_pool2d(v, 2).sum().backward()
    tf.max_pool2d(t, 2).sum().backward()
    assert v.grad.tolist() == [[[[0.5, 0.5], [0.0, 0.0]]]]
    assert t.grad.numpy().tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]  # PyTorch: all to the first

"""Conv1d, Conv2d, MaxPool2d, AvgPool2d: PyTorch's layout and default init, the formulas written out, and torch."""

import math

import numpy as np
import pytest

from tinygrad_div import ShapeError
from tinygrad_div.nn import AvgPool2d, Conv1d, Conv2d, MaxPool2d


def conv2d_by_loops(x, w, b, stride, padding):
    """y[n, o, i, j] = b[o] + Σ_c,u,v w[o, c, u, v] · x_padded[n, c, i·s + u, j·s + v], one output at a time."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    out = np.zeros((n, o, (h - kh) // stride + 1, (wd - kw) // stride + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("ncuv,ocuv->no", window, w) + b
    return out


def pool_by_loops(x, k, reduce):
    n, c, h, w = x.shape
    return np.array([[[[reduce(x[a, b, i:i + k, j:j + k]) for j in range(0, w - k + 1, k)]
                       for i in range(0, h - k + 1, k)] for b in range(c)] for a in range(n)])


def test_conv2d_is_the_cross_correlation_written_out_with_pytorchs_layout():
    layer = Conv2d(3, 4, kernel_size=3, stride=2, padding=1, rng=np.random.default_rng(0))
    assert layer.weight.shape == (4, 3, 3, 3) and layer.bias.shape == (4,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    x = np.random.default_rng(1).normal(size=(2, 3, 7, 6))
    expected = conv2d_by_loops(x, layer.weight.data, layer.bias.data, 2, 1)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12, atol=1e-14)
    assert layer(x[0]).shape == expected.shape[1:]  # one unbatched image


def test_conv1d_is_conv2d_on_a_row():
    layer = Conv1d(2, 3, kernel_size=2, padding=1, bias=False, rng=np.random.default_rng(0))
    assert layer.bias is None and layer.weight.shape == (3, 2, 2)
    x = np.random.default_rng(1).normal(size=(2, 2, 5))
    expected = conv2d_by_loops(x[:, :, None, :], layer.weight.data[:, :, None, :], 0.0, 1, 0)
    padded = conv2d_by_loops(np.pad(x, ((0, 0), (0, 0), (1, 1)))[:, :, None, :], layer.weight.data[:, :, None, :], 0.0,
                             1, 0)
    assert expected.shape[-1] == 4
    np.testing.assert_allclose(layer(x).data, padded[:, :, 0, :], rtol=1e-12, atol=1e-14)


def test_the_default_init_is_pytorchs_uniform_one_over_root_fan_in():
    rng = np.random.default_rng(3)
    layer = Conv2d(4, 6, kernel_size=(3, 2), groups=2, rng=np.random.default_rng(3))
    fan_in = 2 * 3 * 2  # in / groups · kh · kw
    expected_weight = rng.uniform(-1, 1, (6, 2, 3, 2)) / math.sqrt(fan_in)
    np.testing.assert_allclose(layer.weight.data, expected_weight, rtol=0, atol=1e-15)
    assert np.abs(layer.bias.data).max() <= 1 / math.sqrt(fan_in)


def test_pools_take_the_max_and_the_mean_of_each_window():
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 4))
    np.testing.assert_array_equal(MaxPool2d(2)(x).data, pool_by_loops(x, 2, np.max))
    np.testing.assert_allclose(AvgPool2d(2)(x).data, pool_by_loops(x, 2, np.mean), rtol=1e-14)
    assert MaxPool2d(3, stride=1, padding=1)(x).shape == x.shape


@pytest.mark.parametrize("make, error, message", [
    (lambda: Conv2d(0, 4, 3), ValueError, "Conv2d's in_channels must be >= 1, got 0"),
    (lambda: Conv2d(3, 4, (3, 3, 3)), TypeError, "Conv2d's kernel_size must be an int or a tuple of 2"),
    (lambda: Conv2d(3, 4, 3, groups=2), ValueError, r"in_channels \(3\) and out_channels \(4\) must both be divisible"),
    (lambda: Conv1d(1, 1, 2, bias="yes"), TypeError, "Conv1d's bias must be True or False"),
    (lambda: Conv2d(1, 1, 2, rng=7), TypeError, "Conv2d's rng must be a numpy Generator"),
    (lambda: Conv2d(1, 4, 3)(np.zeros((1, 3, 5, 5))), ShapeError, "3 channels"),
])
def test_bad_arguments_are_one_line(make, error, message):
    with pytest.raises(error, match=message) as info:
        make()
    assert "\n" not in str(info.value)


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(2, 3, 9, 8))
    for ours, theirs in [
        (Conv2d(3, 4, 3, stride=2, padding=1, dilation=1), torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)),
        (Conv2d(3, 6, (2, 3), padding=(1, 0), dilation=2, groups=3),
         torch.nn.Conv2d(3, 6, (2, 3), padding=(1, 0), dilation=2, groups=3)),
        (MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1)),
        (AvgPool2d(2), torch.nn.AvgPool2d(2)),
    ]:
        theirs = theirs.double()
        assert list(ours.state_dict()) == list(theirs.state_dict())
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
        np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12,
                                   atol=1e-14)
    ours, theirs = Conv1d(3, 2, 3, stride=2), torch.nn.Conv1d(3, 2, 3, stride=2).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    row = x[:, :, 0, :]  # (N, C, L)
    np.testing.assert_allclose(ours(row).data, theirs(torch.from_numpy(row)).detach().numpy(), rtol=1e-12)

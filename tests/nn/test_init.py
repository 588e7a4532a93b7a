"""nn.init: PyTorch's fan rules, gains and bounds, written out; and against torch.nn.init where installed."""

import math

import numpy as np
import pytest

from tinygrad_div import Value
from tinygrad_div.nn import init


@pytest.mark.parametrize("shape, expected", [((3, 5), (5, 3)), ((4, 2, 3, 3), (18, 36)), ((6, 2, 5), (10, 30))])
def test_fans_are_in_and_out_channels_times_the_receptive_field(shape, expected):
    assert init.fans(shape) == expected


def test_gains_are_pytorchs():
    assert init.calculate_gain("relu") == math.sqrt(2) and init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    assert init.calculate_gain("conv2d") == init.calculate_gain("sigmoid") == 1.0


def draw(shape, fill, **kwargs):
    w = Value(np.zeros(shape))
    assert fill(w, generator=np.random.default_rng(0), **kwargs) is w  # in place, returned
    return w.data


def test_the_random_fills_draw_the_formulas_bounds_in_c_order():
    rng = lambda: np.random.default_rng(0)  # noqa: E731
    shape = (4, 3, 2, 2)
    fan_in, fan_out = 12, 16
    same = lambda a, b: np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)  # noqa: E731  (bounds round apart)
    same(draw(shape, init.kaiming_uniform_, a=math.sqrt(5)),  # Linear's and Conv's default: ±1/√fan_in
         rng().uniform(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), shape))
    same(draw(shape, init.kaiming_uniform_, mode="fan_out", nonlinearity="relu"),
         rng().uniform(-math.sqrt(6 / fan_out), math.sqrt(6 / fan_out), shape))
    same(draw(shape, init.kaiming_normal_, nonlinearity="relu"), rng().normal(0, math.sqrt(2 / fan_in), shape))
    bound = 2 * math.sqrt(6 / 28)
    same(draw(shape, init.xavier_uniform_, gain=2.0), rng().uniform(-bound, bound, shape))
    same(draw(shape, init.xavier_normal_), rng().normal(0, math.sqrt(2 / 28), shape))
    np.testing.assert_array_equal(draw((3,), init.normal_, mean=1.0, std=0.5), rng().normal(1.0, 0.5, 3))


def test_constant_fills():
    w = Value(np.ones((2, 3)))
    assert init.zeros_(w) is w and not w.data.any()
    assert init.ones_(w).data.tolist() == [[1.0] * 3] * 2
    assert init.constant_(Value(0.0), 2.5).data == 2.5


@pytest.mark.parametrize("call, error, message", [
    (lambda: init.xavier_uniform_(Value(np.zeros(3))), ValueError, r"2 or more axes, got shape \(3,\)"),
    (lambda: init.kaiming_normal_(Value(np.zeros((2, 2))), mode="fan"), ValueError, "mode must be 'fan_in'"),
    (lambda: init.calculate_gain("swish"), ValueError, "unknown nonlinearity 'swish'"),
    (lambda: init.normal_(np.zeros(3)), TypeError, "fills a Value"),
    (lambda: init.normal_(Value(np.zeros(3)), generator=0), TypeError, "normal_'s generator must be a numpy"),
])
def test_bad_arguments_are_one_line(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_against_torch_nn_init():
    torch = pytest.importorskip("torch")
    for shape in [(5, 3), (4, 2, 3, 3), (6, 2, 5)]:
        assert init.fans(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for name, param in [("relu", None), ("tanh", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)
    # the distributions: torch's extreme draws reach our bound, its spread our std
    shape = (64, 32, 3, 3)
    t = torch.nn.init.kaiming_uniform_(torch.empty(shape, dtype=torch.float64), a=math.sqrt(5)).numpy()
    ours = draw(shape, init.kaiming_uniform_, a=math.sqrt(5))
    assert np.abs(t).max() <= 1 / math.sqrt(288) and np.abs(t).max() == pytest.approx(np.abs(ours).max(), rel=1e-3)
    t = torch.nn.init.xavier_normal_(torch.empty(shape, dtype=torch.float64)).numpy()
    assert t.std() == pytest.approx(draw(shape, init.xavier_normal_).std(), rel=2e-2)

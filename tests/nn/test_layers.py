"""nn: the sigmoid layer, the MLP built from it, and the squared-error loss, all as Value graphs."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_div import ShapeError, Value, gradcheck
from tinygrad_div.nn import MLP, Layer, mse_loss


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_a_layer_computes_sigmoid_of_input_times_weight_plus_bias():
    layer = Layer.from_arrays([[0.5, -1.0], [2.0, 0.25]], [0.1, -0.2])
    x = np.array([1.5, -0.5])
    expected = sigmoid(x @ np.array([[0.5, -1.0], [2.0, 0.25]]) + np.array([0.1, -0.2]))
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-15)


def test_a_layer_takes_one_sample_or_a_batch():
    layer = Layer(3, 2, rng=np.random.default_rng(0))
    batch = np.random.default_rng(1).normal(size=(5, 3))
    assert layer(batch[0]).shape == (2,)
    assert layer(batch).shape == (5, 2)
    np.testing.assert_allclose(layer(batch).data[3], layer(batch[3]).data, rtol=1e-15)


@given(n_in=st.integers(1, 50), n_out=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_initial_weights_lie_within_one_over_root_fan_in(n_in, n_out, seed):
    layer = Layer(n_in, n_out, rng=np.random.default_rng(seed))
    assert layer.weight.shape == (n_in, n_out) and layer.bias.shape == (n_out,)
    for p in layer.parameters():
        assert np.all(np.abs(p.data) <= 1 / np.sqrt(n_in))


def test_the_seed_decides_the_initial_weights():
    same = [MLP([2, 4, 1], seed=5).parameters() for _ in range(2)]
    other = MLP([2, 4, 1], seed=6).parameters()
    for a, b, c in zip(*same, other):
        np.testing.assert_array_equal(a.data, b.data)
        assert not np.array_equal(a.data, c.data)


def test_mlp_parameters_are_every_weight_and_bias_input_layer_first():
    net = MLP([2, 3, 4, 1], seed=0)
    shapes = [p.shape for p in net.parameters()]
    assert shapes == [(2, 3), (3,), (3, 4), (4,), (4, 1), (1,)]
    assert all(p.is_leaf and p.requires_grad for p in net.parameters())
    assert net.sizes == [2, 3, 4, 1]


def test_the_notes_network_is_one_layer_with_two_inputs_and_one_output():
    net = MLP([2, 1], seed=0)
    assert len(net.layers) == 1 and net(np.array([0.3, 0.7])).shape == (1,)


def test_an_mlp_applies_its_layers_in_turn():
    net = MLP([2, 3, 1], seed=0)
    x = np.array([0.2, -0.4])
    hidden = sigmoid(x @ net.layers[0].weight.data + net.layers[0].bias.data)
    out = sigmoid(hidden @ net.layers[1].weight.data + net.layers[1].bias.data)
    np.testing.assert_allclose(net(x).data, out, rtol=1e-15)


@given(sizes=st.lists(st.integers(1, 3), min_size=2, max_size=4), seed=st.integers(0, 1000),
       batch=st.integers(1, 3))
def test_mlp_gradients_match_central_differences(sizes, seed, batch):
    net = MLP(sizes, seed=seed)
    rng = np.random.default_rng(seed)
    x, target = rng.normal(size=(batch, sizes[0])), rng.uniform(size=(batch, sizes[-1]))

    def loss(*params):
        # gradcheck differentiates with respect to the Values it passes in: put them in the layers
        for layer, weight, bias in zip(net.layers, params[::2], params[1::2]):
            layer.weight, layer.bias = weight, bias
        return mse_loss(net(x), target)

    assert gradcheck(loss, [p.data for p in net.parameters()])


@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-5, 5)),
       hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-5, 5)))
def test_mse_loss_is_the_mean_of_squared_differences(prediction, target):
    n = min(len(prediction), len(target))
    prediction, target = prediction[:n], target[:n]
    p = Value(prediction)
    loss = mse_loss(p, target)
    assert loss.item() == pytest.approx(np.mean((prediction - target) ** 2), rel=1e-12, abs=1e-300)
    loss.backward()
    np.testing.assert_allclose(p.grad, 2 * (prediction - target) / n, rtol=1e-12, atol=1e-300)


def test_mse_loss_refuses_targets_that_would_broadcast_against_the_prediction():
    with pytest.raises(ShapeError, match=r"\(5, 1\).*\(5,\)"):
        mse_loss(Value(np.zeros((5, 1))), np.zeros(5))
    assert mse_loss(Value(np.zeros((5, 1))), 1.0).item() == 1.0


def test_a_batch_gradient_is_the_mean_of_the_per_sample_gradients():
    net = MLP([2, 3, 1], seed=1)
    rng = np.random.default_rng(2)
    x, target = rng.normal(size=(4, 2)), rng.uniform(size=(4, 1))
    mse_loss(net(x), target).backward()
    batch = [p.grad.copy() for p in net.parameters()]
    per_sample = []
    for xi, ti in zip(x, target):
        for p in net.parameters():
            p.zero_grad()
        mse_loss(net(xi), ti).backward()
        per_sample.append([p.grad.copy() for p in net.parameters()])
    for i, g in enumerate(batch):
        np.testing.assert_allclose(g, np.mean([s[i] for s in per_sample], axis=0), rtol=1e-12)


def test_shapes_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="at least one input"):
        Layer(0, 1)
    with pytest.raises(ValueError, match="n_in, n_out"):
        Layer.from_arrays(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="layer 0 has 3 outputs"):
        MLP.from_layers([Layer(2, 3), Layer(2, 1)])
    with pytest.raises(ValueError, match="at least an input and an output"):
        MLP([2])

"""nn layers: Linear (weight stored (n_out, n_in) as in PyTorch), the activations, Sequential, MLP."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_div import ShapeError, Value, gradcheck
from tinygrad_div.nn import (
    GELU,
    MLP,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    mse_loss,
)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_a_linear_layer_computes_input_times_weight_transposed_plus_bias():
    weight, bias = np.array([[0.5, 2.0], [-1.0, 0.25]]), np.array([0.1, -0.2])  # (n_out, n_in)
    layer = Linear.from_arrays(weight, bias)
    x = np.array([1.5, -0.5])
    np.testing.assert_allclose(layer(x).data, weight @ x + bias, rtol=1e-15)
    assert (layer.n_in, layer.n_out) == (2, 2)


def test_a_linear_layer_without_bias_has_only_a_weight():
    layer = Linear(3, 2, bias=False, rng=np.random.default_rng(0))
    assert layer.bias is None and [name for name, _ in layer.named_parameters()] == ["weight"]
    x = np.arange(3.0)
    np.testing.assert_allclose(layer(x).data, layer.weight.data @ x, rtol=1e-15)


def test_a_linear_layer_takes_one_sample_or_a_batch():
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    batch = np.random.default_rng(1).normal(size=(5, 3))
    assert layer(batch[0]).shape == (2,)
    assert layer(batch).shape == (5, 2)
    np.testing.assert_allclose(layer(batch).data[3], layer(batch[3]).data, rtol=1e-15)


def test_an_input_of_the_wrong_width_is_a_one_line_shape_error():
    with pytest.raises(ShapeError, match=r"\(4,\).*\(2, 3\)") as info:
        Linear(3, 2)(np.ones(4))
    assert "\n" not in str(info.value)


@given(n_in=st.integers(1, 50), n_out=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_initial_weights_lie_within_one_over_root_fan_in(n_in, n_out, seed):
    layer = Linear(n_in, n_out, rng=np.random.default_rng(seed))
    assert layer.weight.shape == (n_out, n_in) and layer.bias.shape == (n_out,)
    for p in layer.parameters():
        assert np.all(np.abs(p.data) <= 1 / np.sqrt(n_in))


def test_the_seed_decides_the_initial_weights():
    same = [MLP([2, 4, 1], seed=5).parameters() for _ in range(2)]
    other = MLP([2, 4, 1], seed=6).parameters()
    for a, b, c in zip(*same, other):
        np.testing.assert_array_equal(a.data, b.data)
        assert not np.array_equal(a.data, c.data)


def test_the_notes_network_keeps_its_seeded_weights():
    """Weights are drawn in (n_in, n_out) order and stored transposed: the division run's start is unchanged."""
    rng = np.random.default_rng(0)
    drawn = rng.uniform(-1 / np.sqrt(2), 1 / np.sqrt(2), size=(2, 1)), rng.uniform(-1 / np.sqrt(2), 1 / np.sqrt(2), 1)
    net = MLP([2, 1], seed=0)
    np.testing.assert_array_equal(net.layers[0].weight.data, drawn[0].T)
    np.testing.assert_array_equal(net.layers[0].bias.data, drawn[1])


def test_mlp_parameters_are_every_weight_and_bias_input_layer_first():
    net = MLP([2, 3, 4, 1], seed=0)
    shapes = [p.shape for p in net.parameters()]
    assert shapes == [(3, 2), (3,), (4, 3), (4,), (1, 4), (1,)]
    assert all(p.is_leaf and p.requires_grad for p in net.parameters())
    assert net.sizes == [2, 3, 4, 1]


def test_an_mlp_is_named_like_pytorchs_sequential_of_linear_and_activation():
    net = MLP([2, 3, 1], seed=0)
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [type(m) for m in net] == [Linear, Sigmoid, Linear, Sigmoid]
    logits = MLP([4, 8, 8, 3], activation="relu", output=None, seed=0)
    assert [type(m) for m in logits] == [Linear, ReLU, Linear, ReLU, Linear]
    assert [type(m) for m in MLP([1, 2, 1], activation=Tanh, output=None)] == [Linear, Tanh, Linear]


def test_the_notes_network_is_one_layer_with_two_inputs_and_one_output():
    net = MLP([2, 1], seed=0)
    assert len(net.layers) == 1 and net(np.array([0.3, 0.7])).shape == (1,)


def test_net_is_the_last_layers_weighted_sum_before_the_output_activation():
    net = MLP([2, 3, 1], seed=0)
    x = np.array([0.2, -0.4])
    np.testing.assert_array_equal(net(x).data, net.net(x).sigmoid().data)
    logits = MLP([2, 3, 2], output=None, seed=0)
    np.testing.assert_array_equal(logits.net(x).data, logits(x).data)


def test_activation_modules_apply_their_function():
    x = Value(np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(Sigmoid()(x).data, x.sigmoid().data)
    np.testing.assert_array_equal(Tanh()(x).data, np.tanh(x.data))
    np.testing.assert_array_equal(ReLU()(x).data, [0.0, 0.0, 3.0])


def test_sequential_applies_its_modules_in_turn_and_names_them_by_position():
    seq = Sequential(Linear(2, 4), ReLU(), Linear(4, 1))
    x = np.array([0.5, -1.0])
    expected = seq[2](seq[0](x).relu())
    np.testing.assert_array_equal(seq(x).data, expected.data)
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"] and len(seq) == 3


def test_an_mlp_applies_its_layers_in_turn():
    net = MLP([2, 3, 1], seed=0)
    x = np.array([0.2, -0.4])
    first, second = net.layers
    hidden = sigmoid(first.weight.data @ x + first.bias.data)
    out = sigmoid(second.weight.data @ hidden + second.bias.data)
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
    with pytest.raises(ValueError, match="n_in must be >= 1"):
        Linear(0, 1)
    with pytest.raises(ValueError, match=r"bias must be \(n_out,\)"):
        Linear.from_arrays(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="layer 0 has 3 outputs"):
        MLP.from_linears([Linear(2, 3), Linear(2, 1)])
    with pytest.raises(ValueError, match="at least an input and an output"):
        MLP([2])


@pytest.mark.parametrize("make, error, message", [
    (lambda: MLP(["2", 1]), TypeError, "each MLP size must be an integer, got str '2'"),
    (lambda: MLP([2.0, 1]), TypeError, "each MLP size must be an integer, got float 2.0"),
    (lambda: MLP([2, True]), TypeError, "each MLP size must be an integer, got bool True"),
    (lambda: MLP([2, -1]), ValueError, "each MLP size must be >= 1, got -1"),
    (lambda: MLP(3), TypeError, "MLP sizes must be a list of integers"),
    (lambda: MLP([2, 1], activation="gelu"), ValueError, "MLP activation must be one of sigmoid, tanh, relu"),
    (lambda: MLP([2, 1], output=np.tanh), TypeError, "MLP output must be a name"),
    (lambda: MLP([2, 1], seed="0"), TypeError, "MLP's seed must be an integer >= 0"),
    (lambda: Linear(2, "3"), TypeError, "Linear's n_out must be an integer, got str '3'"),
    (lambda: Linear(2, 3, bias="yes"), TypeError, "Linear's bias must be True or False"),
    (lambda: Linear(2, 3, rng=0), TypeError, "Linear's rng must be a numpy Generator"),
    (lambda: Sequential(Linear(2, 3), np.tanh), TypeError, "Sequential takes Modules, got ufunc at position 1"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_bad_arguments_get_a_one_line_error(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value) and "\n" not in str(info.value)


# -- the layers of issue 16: activations, Dropout, Embedding, Identity, Flatten ----------------------------
def test_leaky_relu_and_gelu_are_their_formulas():
    from math import erf
    x = np.linspace(-3, 3, 13)
    np.testing.assert_array_equal(LeakyReLU(0.2)(x).data, np.where(x >= 0, x, 0.2 * x))
    exact = np.array([v * 0.5 * (1 + erf(v / np.sqrt(2))) for v in x])
    np.testing.assert_allclose(GELU()(x).data, exact, rtol=1e-14, atol=1e-16)
    approx = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(GELU("tanh")(x).data, approx, rtol=1e-14, atol=1e-16)
    with pytest.raises(ValueError, match="GELU's approximate must be 'none' or 'tanh', got 'fast'"):
        GELU("fast")


def test_dropout_zeroes_with_probability_p_and_scales_the_rest_in_training_only():
    x = Value(np.ones((200, 50)))
    layer = Dropout(0.3, rng=np.random.default_rng(0))
    y = layer(x).data
    assert set(np.unique(y)) == {0.0, 1 / 0.7} and abs(np.mean(y == 0) - 0.3) < 0.01
    assert not np.array_equal(layer(x).data, y)  # a fresh mask each call
    layer.eval()
    assert layer(x) is x and Dropout(0.0)(x) is x and not Dropout(1.0)(x).data.any()


def test_dropout_masks_repeat_with_the_seed():
    import tinygrad_div as td
    x = Value(np.ones(100))
    first = Dropout(0.5, rng=np.random.default_rng(3))(x).data
    np.testing.assert_array_equal(Dropout(0.5, rng=np.random.default_rng(3))(x).data, first)
    td.manual_seed(1)
    seeded = Dropout(0.5)(x).data
    td.manual_seed(1)
    np.testing.assert_array_equal(Dropout(0.5)(x).data, seeded)


@pytest.mark.parametrize("p, error, message", [
    (1.5, ValueError, r"Dropout's p is a probability and must be in \[0, 1\], got 1.5"),
    (-0.1, ValueError, "must be in"), ("0.5", TypeError, "Dropout's p must be a number, got str"),
])
def test_a_bad_dropout_probability_is_one_line(p, error, message):
    with pytest.raises(error, match=message):
        Dropout(p)


def test_embedding_picks_rows_of_a_normal_weight():
    layer = Embedding(5, 3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(layer.weight.data, np.random.default_rng(0).normal(size=(5, 3)))
    indices = np.array([[4, 0], [1, 1]])
    out = layer(indices)
    np.testing.assert_array_equal(out.data, layer.weight.data[indices])
    out.sum().backward()
    assert layer.weight.grad[:, 0].tolist() == [1.0, 2.0, 0.0, 0.0, 1.0]  # a row picked twice gets both


def test_identity_and_flatten():
    x = Value(np.arange(24.0).reshape(2, 3, 4))
    assert Identity()(x) is x
    assert Flatten()(x).shape == (2, 12) and Flatten(0, 1)(x).shape == (6, 4)
    with pytest.raises(TypeError, match="Flatten's start_dim must be an integer"):
        Flatten(1.0)


def test_the_new_layers_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(4, 6))
    for ours, theirs in [(LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)), (GELU(), torch.nn.GELU()),
                         (GELU("tanh"), torch.nn.GELU("tanh")), (Identity(), torch.nn.Identity())]:
        np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).numpy(), rtol=1e-14, atol=1e-16)
    ours, theirs = Embedding(6, 2), torch.nn.Embedding(6, 2).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    idx = np.array([[0, 5, 2]])
    np.testing.assert_array_equal(ours(idx).data, theirs(torch.from_numpy(idx)).detach().numpy())


@pytest.mark.parametrize("layer", ["ReLU", "Tanh", "Sigmoid"])
def test_activation_layers_take_raw_arrays_as_linear_does(layer):
    from tinygrad_div import nn as tnn

    x = np.array([-1.0, 0.5])
    out = getattr(tnn, layer)()(x)
    assert isinstance(out, Value)
    assert out.data.tolist() == getattr(tnn, layer)()(Value(x)).data.tolist()

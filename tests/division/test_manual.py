"""The notes' formulas, one test each, and the hand-derived chain checked against autograd and finite differences.

Numbering as in the notes: layer 1 is the output layer, layer 2 feeds it, layer 3
feeds layer 2. `in_x` is a layer's input, `net_x` its weighted sum, `s_x` its
sigmoid output.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_div import Value, gradcheck
from tinygrad_div.division import manual
from tinygrad_div.division.data import division_data
from tinygrad_div.nn import MLP, Linear, mse_loss
from tinygrad_div.optim import SGD

reals = st.floats(-3.0, 3.0)
outputs = st.floats(0.01, 0.99)  # a sigmoid's output, away from the ends
EPS = 1e-6


def central_difference(f, x: float, eps: float = EPS) -> float:
    return (f(x + eps) - f(x - eps)) / (2 * eps)


# -- the notes' first model: p = b + w·d, c = p − t -------------------------------------


def test_first_model_predicts_b_plus_w_times_d():
    assert manual.LinearModel(w=2.0, b=0.5).predict(3.0) == 6.5


def test_first_model_cost_is_prediction_minus_truth():
    assert manual.LinearModel(w=2.0, b=0.5).cost(3.0, 10.0) == 6.5 - 10.0


@given(w=reals, b=reals, d=reals, t=reals)
def test_first_model_dc_gives_dE_dw_equal_c_times_d_and_dE_db_equal_c(w, b, d, t):
    model = manual.LinearModel(w, b)
    dE_dw, dE_db = model.gradients(d, t)
    assert dE_dw == pytest.approx(central_difference(lambda w_: manual.LinearModel(w_, b).error(d, t), w), abs=1e-6)
    assert dE_db == pytest.approx(central_difference(lambda b_: manual.LinearModel(w, b_).error(d, t), b), abs=1e-6)


def test_first_model_learns_a_line_one_sample_at_a_time():
    rng = np.random.default_rng(0)
    model = manual.LinearModel()
    for d in rng.uniform(-1, 1, 2000):
        model.train(d, 3.0 * d - 1.0, rate=0.1)
    assert (model.w, model.b) == pytest.approx((3.0, -1.0), abs=1e-9)


# -- the terms --------------------------------------------------------------------------


@given(label=outputs, out=outputs)
def test_cost_is_label_minus_out_and_E_is_half_its_square(label, out):
    assert manual.cost(label, out) == label - out
    assert manual.error(label, out) == 0.5 * (label - out) ** 2


@given(label=outputs, out=outputs)
def test_dE_ds_is_minus_cost(label, out):
    numeric = central_difference(lambda s: manual.error(label, s), out)
    assert manual.dE_ds(label, out) == pytest.approx(numeric, abs=1e-8)
    assert manual.dE_ds(label, out) == -manual.cost(label, out)


@given(label=outputs, out=outputs)
def test_dE_ds_is_positive_exactly_when_the_prediction_is_too_high(label, out):
    """The notes' "THIS MAY BE POSITIVE": dE/ds = out − label, so its sign is the sign of the overshoot."""
    assume(out != label)
    assert (manual.dE_ds(label, out) > 0) == (out > label)


@given(net=st.floats(-10.0, 10.0))
def test_ds_dnet_is_out_times_one_minus_out(net):
    out = manual.sigmoid(net)
    numeric = central_difference(manual.sigmoid, net, eps=1e-4)  # a wider step: σ(net) rounds at ~1e-16
    assert manual.ds_dnet(out) == pytest.approx(numeric, rel=1e-6, abs=1e-11)


@pytest.mark.parametrize("net", [37.0, 40.0, 100.0, 700.0])
def test_ds_dnet_written_with_out_is_zero_from_net_37_while_the_engine_stays_exact(net):
    """In float64 σ(net) rounds to exactly 1 once e^−net < 2^−54 (net ≳ 36.7), so out·(1 − out) = 0."""
    true_derivative = math.exp(-net) / (1 + math.exp(-net)) ** 2
    assert manual.ds_dnet(manual.sigmoid(net)) == 0.0
    x = Value(net)
    x.sigmoid().backward()
    assert x.grad == pytest.approx(true_derivative, rel=1e-14, abs=0)


def test_ds_dnet_written_with_out_loses_digits_on_the_way_to_37_while_the_engine_does_not():
    """1 − out carries an absolute rounding error of ~1e-16, so its relative error grows like 1e-16·e^net."""
    nets = np.linspace(20.0, 36.5, 34)
    true = np.exp(-nets) / (1 + np.exp(-nets)) ** 2
    notes = manual.ds_dnet(manual.sigmoid(nets))
    x = Value(nets)
    x.sigmoid().sum().backward()
    assert np.max(np.abs(notes / true - 1)) > 1e-3
    np.testing.assert_allclose(x.grad, true, rtol=1e-14)


@given(in_=reals, w=reals, b=reals)
def test_dnet_dw_is_the_input_and_dnet_db_is_one(in_, w, b):
    net = lambda w_, b_: in_ * w_ + b_
    assert manual.dnet_dw(in_) == pytest.approx(central_difference(lambda w_: net(w_, b), w), abs=1e-8)
    assert manual.DNET_DB == pytest.approx(central_difference(lambda b_: net(w, b_), b), abs=1e-8)


@given(in_=reals, w=reals, b=reals)
def test_dnet_ds_of_the_layer_below_is_the_weight(in_, w, b):
    """The notes' dnet/ds = w_x: a layer's net moves with its input (the lower layer's s) at the rate w."""
    assert manual.dnet_din(w) == pytest.approx(central_difference(lambda s: s * w + b, in_), abs=1e-8)


# -- the notes' chains, written out as products for a net of one neuron per layer ---------


def _three_layer_chain(w, b, d, label):
    """Every factor of the notes' chains for layers 3 → 2 → 1 (data d in, s1 out)."""
    s3 = manual.sigmoid(w[3] * d + b[3])
    s2 = manual.sigmoid(w[2] * s3 + b[2])
    s1 = manual.sigmoid(w[1] * s2 + b[1])
    top = manual.dE_ds(label, s1) * manual.ds_dnet(s1)  # dE/ds1 · ds1/dnet1
    through_2 = top * manual.dnet_din(w[1]) * manual.ds_dnet(s2)  # · dnet1/ds2 · ds2/dnet2
    through_3 = through_2 * manual.dnet_din(w[2]) * manual.ds_dnet(s3)  # · dnet2/ds3 · ds3/dnet3
    return {
        "b1": top * manual.DNET_DB, "w1": top * manual.dnet_dw(s2),
        "b2": through_2 * manual.DNET_DB, "w2": through_2 * manual.dnet_dw(s3),
        "b3": through_3 * manual.DNET_DB, "w3": through_3 * manual.dnet_dw(d),
    }


def _three_layer_error(w, b, d, label):
    s3 = manual.sigmoid(w[3] * d + b[3])
    s2 = manual.sigmoid(w[2] * s3 + b[2])
    return manual.error(label, manual.sigmoid(w[1] * s2 + b[1]))


chains = st.fixed_dictionaries({
    "w": st.fixed_dictionaries({k: reals for k in (1, 2, 3)}),
    "b": st.fixed_dictionaries({k: reals for k in (1, 2, 3)}),
    "d": reals, "label": outputs,
})


def _finite_difference(params, name):
    kind, layer = name[0], int(name[1])

    def error_at(value):
        changed = {"w": dict(params["w"]), "b": dict(params["b"])}
        changed[kind][layer] = value
        return _three_layer_error(changed["w"], changed["b"], params["d"], params["label"])

    return central_difference(error_at, params[kind][layer])


def _check_chain(params, name):
    analytic = _three_layer_chain(params["w"], params["b"], params["d"], params["label"])[name]
    assert analytic == pytest.approx(_finite_difference(params, name), rel=1e-5, abs=1e-9)


@given(chains)
def test_dE_db1_is_dE_ds1_times_ds1_dnet1_times_dnet1_db1(params):
    _check_chain(params, "b1")


@given(chains)
def test_dE_dw1_is_dE_ds1_times_ds1_dnet1_times_dnet1_dw1(params):
    _check_chain(params, "w1")


@given(chains)
def test_dE_db2_chains_through_dnet1_ds2_and_ds2_dnet2(params):
    _check_chain(params, "b2")


@given(chains)
def test_dE_dw2_chains_through_dnet1_ds2_and_ds2_dnet2(params):
    _check_chain(params, "w2")


@given(chains)
def test_dE_db3_chains_through_both_layers_above(params):
    _check_chain(params, "b3")


@given(chains)
def test_dE_dw3_chains_through_both_layers_above(params):
    _check_chain(params, "w3")


# -- the notes' one-layer net: dE/db1 and the dE/dw1 line that ends in "* 1" --------------


def _one_neuron(w, b, in_, label):
    out = manual.sigmoid(w * in_ + b)
    return out, lambda w_, b_: manual.error(label, manual.sigmoid(w_ * in_ + b_))


@given(w=reals, b=reals, in_=reals, label=outputs)
def test_notes_dE_db1_equals_minus_cost_times_out_times_one_minus_out_times_one(w, b, in_, label):
    out, error = _one_neuron(w, b, in_, label)
    as_written = -manual.cost(label, out) * out * (1 - out) * 1
    assert as_written == pytest.approx(central_difference(lambda b_: error(w, b_), b), rel=1e-5, abs=1e-10)


@given(w=reals, b=reals, in_=reals, label=outputs)
def test_notes_dE_dw1_must_end_in_times_in_not_times_one(w, b, in_, label):
    """The notes copy the dE/db1 line for dE/dw1, ending in `* 1`; dnet1/dw1 is in_1, not 1."""
    out, error = _one_neuron(w, b, in_, label)
    numeric = central_difference(lambda w_: error(w_, b), w)
    with_input = -manual.cost(label, out) * out * (1 - out) * in_
    as_written = -manual.cost(label, out) * out * (1 - out) * 1
    assert with_input == pytest.approx(numeric, rel=1e-5, abs=1e-10)
    assume(abs(in_ - 1) > 0.1 and abs(as_written) > 1e-4)  # where the two versions can be told apart
    assert as_written != pytest.approx(numeric, rel=1e-2, abs=0)


def test_the_prediction_is_the_sigmoid_of_net1_not_net0():
    """The notes: "net1 is input to last layer, net0 is the prediction". The prediction is s1 = σ(net1)."""
    layer = manual.Layer([[0.5], [-2.0]], [0.25])
    in_ = np.array([1.5, 0.5])
    net1 = in_ @ layer.weight + layer.bias
    assert layer.predict(in_) == pytest.approx(1 / (1 + np.exp(-net1)), rel=1e-15)


def test_one_relu_neuron_can_die_but_one_sigmoid_neuron_cannot():
    """The notes pick sigmoid because "we don't have enough nodes to sacrifice to the relu gods"."""
    inputs = np.random.default_rng(0).uniform(0.1, 1.0, size=(50, 2))
    weight = Value([[-1.0], [-1.0]])  # net < 0 for every sample
    for activation, learns in (("relu", False), ("sigmoid", True)):
        weight.zero_grad()
        out = getattr(inputs @ weight, activation)()
        ((out - 1.0) ** 2).mean().backward()
        assert bool(np.any(weight.grad != 0)) is learns, activation


# -- the recursive train: down the net with predictions, back up with the chain -----------


layer_sizes = st.lists(st.integers(1, 4), min_size=2, max_size=4)  # depth 1-3


@st.composite
def networks(draw):
    """A manual network of depth 1-3 with random weights, one input sample and its label."""
    sizes = draw(layer_sizes)
    arrays = [(draw(hnp.arrays(np.float64, (n_in, n_out), elements=st.floats(-2, 2))),
               draw(hnp.arrays(np.float64, n_out, elements=st.floats(-2, 2))))
              for n_in, n_out in zip(sizes, sizes[1:])]
    inputs = draw(hnp.arrays(np.float64, sizes[0], elements=st.floats(-2, 2)))
    label = draw(hnp.arrays(np.float64, sizes[-1], elements=st.floats(0.01, 0.99)))
    top = None
    for weight, bias in reversed(arrays):
        top = manual.Layer(weight, bias, next_layer=top)
    return top, inputs, label


def _as_values(net: manual.Layer) -> MLP:
    # manual layers keep weight (n_in, n_out), as the notes write it; Linear keeps PyTorch's (n_out, n_in)
    return MLP.from_linears([Linear.from_arrays(layer.weight.T, layer.bias) for layer in net.layers()])


def _autograd_gradients(net, inputs, label):
    mlp = _as_values(net)
    error = 0.5 * ((label - mlp(inputs)) ** 2).sum()
    error.backward()
    return [(layer.weight.grad.T, layer.bias.grad) for layer in mlp.layers]


@given(networks())
def test_manual_chain_equals_autograd(network):
    net, inputs, label = network
    for (mw, mb), (aw, ab) in zip(net.gradients(inputs, label), _autograd_gradients(net, inputs, label), strict=True):
        np.testing.assert_allclose(mw, aw, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(mb, ab, rtol=1e-6, atol=1e-12)


@given(networks())
def test_manual_chain_equals_central_differences(network):
    net, inputs, label = network
    for layer, (dE_dweight, dE_dbias) in zip(net.layers(), net.gradients(inputs, label)):
        for array, analytic in ((layer.weight, dE_dweight), (layer.bias, dE_dbias)):
            for index in np.ndindex(array.shape):
                original = array[index]
                array[index] = original + EPS
                up = manual.error(label, net.predict(inputs))
                array[index] = original - EPS
                down = manual.error(label, net.predict(inputs))
                array[index] = original
                assert analytic[index] == pytest.approx((up - down) / (2 * EPS), rel=1e-4, abs=1e-8)


@given(networks())
def test_autograd_of_the_same_network_equals_central_differences(network):
    net, inputs, label = network
    arrays = [a for layer in net.layers() for a in (layer.weight, layer.bias)]

    def error(*params):
        x = inputs
        for weight, bias in zip(params[::2], params[1::2]):
            x = (x @ weight + bias).sigmoid()
        return 0.5 * ((label - x) ** 2).sum()

    assert gradcheck(error, arrays)


@given(networks())
def test_train_returns_the_chain_dE_dinput(network):
    net, inputs, label = network
    numeric = np.empty_like(inputs)
    for i in range(len(inputs)):
        step = np.zeros_like(inputs)
        step[i] = EPS
        numeric[i] = (manual.error(label, net.predict(inputs + step))
                      - manual.error(label, net.predict(inputs - step))) / (2 * EPS)
    chain = net.train(inputs, label, rate=0.1)
    np.testing.assert_allclose(chain, numeric, rtol=1e-4, atol=1e-8)


@given(networks(), st.floats(0.01, 2.0))
def test_train_is_one_gradient_descent_step_on_every_layer(network, rate):
    net, inputs, label = network
    expected = [(layer.weight - rate * dw, layer.bias - rate * db)
                for layer, (dw, db) in zip(net.layers(), net.gradients(inputs, label))]
    net.train(inputs, label, rate)
    for layer, (weight, bias) in zip(net.layers(), expected):
        np.testing.assert_allclose(layer.weight, weight, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(layer.bias, bias, rtol=1e-14, atol=1e-15)


def test_manual_training_follows_the_value_network_sample_by_sample():
    """Same start, same samples: the hand-derived chain and autograd take the same SGD steps.

    nn.mse_loss is cost² (no ½), so its learning rate is half the manual rate.
    """
    train, _ = division_data(500, seed=3)
    x, t = train.features("log"), train.target
    by_hand = manual.network([2, 3, 1], seed=7)
    by_values = _as_values(by_hand)
    optimizer = SGD(by_values.parameters(), lr=0.5)
    for xi, ti in zip(x, t):
        by_hand.train(xi, ti, rate=1.0)
        optimizer.zero_grad()
        mse_loss(by_values(xi), ti).backward()
        optimizer.step()
    for hand, value in zip(by_hand.layers(), by_values.layers):
        np.testing.assert_allclose(hand.weight, value.weight.data.T, rtol=1e-9)
        np.testing.assert_allclose(hand.bias, value.bias.data, rtol=1e-9)


def test_layers_must_fit_together():
    with pytest.raises(ValueError, match="outputs"):
        manual.Layer(np.ones((2, 3)), np.ones(3), next_layer=manual.Layer(np.ones((2, 1)), np.ones(1)))
    with pytest.raises(ValueError, match="n_in, n_out"):
        manual.Layer(np.ones(2), np.ones(1))


def test_the_hand_derived_layer_names_its_parameters_as_the_autograd_layer_does():
    """Same names; the notes' weight is (n_in, n_out), Linear's is PyTorch's (n_out, n_in), its transpose."""
    hand, value = manual.network([2, 3], seed=0), MLP([2, 3], seed=0).layers[0]
    assert np.shape(hand.weight) == (2, 3) and value.weight.shape == (3, 2)
    assert np.shape(hand.bias) == value.bias.shape == (3,)
    assert not hasattr(hand, "weights")

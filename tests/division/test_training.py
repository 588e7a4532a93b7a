"""training: the notes' defaults learn to divide; the accuracy targets of the issue, with fixed seeds."""

import warnings

import numpy as np
import pytest

from tinygrad_div.division.config import TrainConfig
from tinygrad_div.division.data import Pairs, wider_range
from tinygrad_div.division.divider import Divider
from tinygrad_div.division.training import Scores, fit, train
from tinygrad_div.nn import MLP, Linear


@pytest.fixture(scope="module")
def default_run():
    return train(TrainConfig())


@pytest.fixture(scope="module")
def raw_run():
    return train(TrainConfig(inputs="raw", hidden=(8,)))


def test_the_default_run_divides_to_one_part_in_a_million_on_the_test_set(default_run):
    assert default_run.scores["test"].median_relative_error < 1e-6


def test_the_default_run_divides_to_one_part_in_a_million_on_a_range_100x_wider(default_run):
    assert wider_range(0.1, 1.0) == pytest.approx((1e-3, 10.0))
    assert default_run.wide.a.min() < 2e-3 and default_run.wide.a.max() > 5  # the whole wider range is used
    assert default_run.scores["wide"].median_relative_error < 1e-6


def test_the_default_run_divides_to_rounding_on_the_test_set(default_run):
    test = default_run.scores["test"]
    assert test.median_relative_error < 1e-15 and test.p95_relative_error < 1e-15  # measured 0 and 2.8e-16


def test_the_loss_reaches_the_rounding_floor_shortly_after_step_2000_as_the_readme_says(default_run):
    running = np.convolve(default_run.losses, np.ones(80) / 80, mode="valid")  # the plot's mean of 80 steps
    at = lambda step: running[step - 80]
    assert 1e-31 < at(2000) < 1e-30  # measured 4e-31
    assert running[2200 - 80:].max() < 1e-32  # measured about 4e-33 from step 2,200 on


@pytest.mark.parametrize("lr, rounding_level", [(0.2, False), (0.25, True), (7.0, True), (8.0, False)])
def test_the_default_run_reaches_rounding_level_for_lr_from_0_25_to_7(lr, rounding_level):
    median = train(TrainConfig(lr=lr)).scores["test"].median_relative_error
    assert (median < 1e-15) == rounding_level  # measured 5.6e-13, 5.1e-16, 9.1e-16, 2.0e-14


def test_the_default_run_finds_the_exact_divider_weights(default_run):
    layer = default_run.divider.model.layers[0]
    np.testing.assert_allclose(layer.weight.data[0], [1.0, -1.0], atol=1e-9)
    assert abs(layer.bias.data[0]) < 1e-9


def test_the_default_run_takes_one_step_per_training_pair(default_run):
    assert len(default_run.losses) == len(default_run.train) == 8000


def test_a_raw_input_network_with_a_hidden_layer_learns_roughly_but_does_not_extrapolate(raw_run):
    test, wide = raw_run.scores["test"], raw_run.scores["wide"]
    assert test.median_relative_error < 0.2  # measured 0.089 with seed 0
    assert wide.median_relative_error > 10 * test.median_relative_error


def test_training_lowers_the_loss(raw_run):
    losses = raw_run.losses
    assert losses[-500:].mean() < losses[:500].mean() / 3


def test_the_default_run_divides_across_the_whole_float64_range_to_1e_12(default_run):
    """The quotient is read as e^net, not as t/(1 - t), whose 1 - t cancels: that was 10% off at 1e15."""
    rng = np.random.default_rng(1)
    exponents = rng.uniform(-307, 307, size=(2, 20_000))
    a, b = 10 ** exponents[:, np.abs(exponents[0] - exponents[1]) < 307]  # a/b a normal float
    a, b = np.concatenate([a, [1e12, 1e15, 1e17]]), np.concatenate([b, [1.0, 1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predicted = default_run.divider.quotients(a, b)
    np.testing.assert_allclose(predicted, a / b, rtol=1e-12)


def test_a_known_exact_divider_scores_zero_error():
    exact = Divider(MLP.from_linears([Linear.from_arrays([[1.0, -1.0]], [0.0])]), "log")
    pairs = Pairs(np.array([0.2, 3.0, 7.0]), np.array([0.5, 0.01, 3.0]))
    np.testing.assert_allclose(exact.quotients(pairs.a, pairs.b), pairs.quotient, rtol=1e-13)
    scores = Scores.of(exact, pairs)
    assert scores.median_relative_error < 1e-13 and scores.p95_relative_error < 1e-13 and scores.mse < 1e-30


def test_a_saturated_divider_scores_infinite_errors_without_a_warning():
    saturated = Divider(MLP.from_linears([Linear.from_arrays([[2e3, 0.0]], [0.0])]), "raw")  # net 1000: e^net = inf
    pairs = Pairs(np.array([0.5, 0.6, 0.7]), np.array([0.5, 0.5, 0.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy interpolating between two infinite errors warns and gives nan
        scores = Scores.of(saturated, pairs)
    assert scores.median_relative_error == scores.p95_relative_error == np.inf


def test_mini_batches_and_epochs_take_the_right_number_of_steps_and_still_divide():
    run = train(TrainConfig(samples=1000, epochs=20, batch_size=16, lr=3.0))
    assert len(run.losses) == 20 * -(-800 // 16)
    assert run.scores["test"].median_relative_error < 1e-6


def test_every_sample_is_visited_once_per_epoch():
    seen = []

    class Recorder(MLP):
        def __call__(self, x):
            seen.extend(np.atleast_2d(x)[:, 0].tolist())
            return super().__call__(x)

    net = Recorder([2, 1], seed=0)
    x = np.stack([np.arange(10.0), np.zeros(10)], axis=1)
    fit(net, x, np.full((10, 1), 0.5), TrainConfig(epochs=3, batch_size=4))
    assert sorted(seen) == sorted(list(range(10)) * 3)


def test_progress_is_reported_after_every_step_up_to_the_total():
    calls = []
    train(TrainConfig(samples=100, epochs=2, batch_size=8), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 20) for i in range(1, 21)]

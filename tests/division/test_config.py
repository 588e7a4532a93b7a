"""config: TrainConfig's defaults are the notes', and every unusable setting is named by its field."""

import re

import numpy as np
import pytest

from tinygrad_div.division.config import ConfigError, TrainConfig
from tinygrad_div.division.names import Names
from tinygrad_div.division.training import train


def test_the_defaults_are_the_notes():
    config = TrainConfig()
    assert (config.hidden, config.epochs, config.batch_size) == ((), 1, 1)  # one layer, one epoch, no batches
    assert (config.samples, config.inputs, config.low, config.high) == (10_000, "log", 0.1, 1.0)


@pytest.mark.parametrize("change, message", [
    ({"samples": 1}, "samples must"), ({"hidden": (4, 0)}, "hidden sizes must"), ({"epochs": 0}, "epochs must"),
    ({"batch_size": -2}, "batch_size must"), ({"lr": 0.0}, "lr must"), ({"lr": float("nan")}, "lr must"),
    ({"inputs": "sqrt"}, "inputs must"), ({"low": 1.0, "high": 0.1}, r"\(low, high\) needs 0 < low < high"),
    ({"low": -1.0}, r"\(low, high\) needs"),
    ({"samples": 2}, "samples must be at least 3"),  # 20% of 2 rounds to an empty test set
    ({"seed": -1}, "seed must be >= 0"),
    ({"low": 1e-320, "high": 1e-310}, r"\(low, high\) = \(.*\): low is a subnormal"),
    ({"low": 1e300, "high": 1e308}, r"\(low, high\) = \(1e\+300, 1e\+308\): 10·high"),
    ({"test_fraction": 0.0}, "test_fraction"),
    ({"samples": 10**20}, "memory"), ({"hidden": (10**11,)}, "memory"), ({"epochs": 10**18}, "memory"),
], ids=lambda x: str(x) if isinstance(x, dict) else None)
def test_bad_configurations_are_named(change, message):
    config = TrainConfig(**change)
    assert len(config.problems()) == 1 and re.search(message, config.problems()[0])
    assert "--" not in config.problems()[0]  # a Python caller is told about fields, not flags
    with pytest.raises(ConfigError, match=message):
        config.validate()
    with pytest.raises(ConfigError, match=message):
        train(config)


def test_a_range_too_narrow_for_distinct_pairs_is_named_before_training():
    one_number = TrainConfig(samples=100, low=0.1, high=float(np.nextafter(0.1, 1.0)))  # [0.1, next float)
    assert one_number.problems() == []  # it takes drawing the pairs to find out
    with pytest.raises(ConfigError, match=r"\(low, high\) = \(0.1, 0.10000000000000002\) .* 1 distinct pair") as info:
        train(one_number)
    assert info.value.message(Names(range_values="--range {} {}")).startswith(
        "--range 0.1 0.10000000000000002 holds too few numbers")  # how the command line says it

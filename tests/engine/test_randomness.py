"""td.manual_seed and the default generator: the same seed gives the same draws, bit for bit."""

import numpy as np
import pytest

import tinygrad_div as td
from tinygrad_div import nn
from tinygrad_div.engine.randomness import default_generator, generator_argument


def test_the_same_seed_gives_the_same_model_bit_for_bit():
    td.manual_seed(3)
    first = nn.MLP([4, 8, 2]).state_dict()
    td.manual_seed(3)
    second = nn.MLP([4, 8, 2]).state_dict()
    assert all(first[k].tobytes() == second[k].tobytes() for k in first)
    td.manual_seed(4)
    assert not np.array_equal(nn.MLP([4, 8, 2]).state_dict()["0.weight"], first["0.weight"])


def test_manual_seed_reseeds_the_default_generator_in_place():
    before = default_generator()
    assert td.manual_seed(7) is before is td.default_generator()
    assert before.uniform() == np.random.default_rng(7).uniform()  # numpy's PCG64 stream for seed 7


def test_a_generator_passed_is_used_and_the_default_left_alone():
    td.manual_seed(0)
    expected = np.random.default_rng(0).uniform()
    nn.Linear(3, 2, rng=np.random.default_rng(5))
    assert default_generator().uniform() == expected
    rng = np.random.default_rng(1)
    assert generator_argument(rng, "x") is rng and generator_argument(None, "x") is default_generator()


@pytest.mark.parametrize("seed, error, message", [
    (-1, ValueError, "integer >= 0, got -1"), (1.5, TypeError, "takes an integer, got float"),
    (True, TypeError, "takes an integer, got bool"),
])
def test_a_bad_seed_is_one_line(seed, error, message):
    with pytest.raises(error, match=message):
        td.manual_seed(seed)


def test_a_generator_that_is_not_one_is_named():
    with pytest.raises(TypeError, match="dropout's generator must be a numpy Generator .* got int 3"):
        generator_argument(3, "dropout's generator")

"""data: seeded division pairs, a train/test split without overlap, and the target encoding."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_div import Value
from tinygrad_div.data import (
    TEST_FRACTION,
    TRAIN_RANGE,
    WIDE_RANGE,
    Pairs,
    decode,
    distinct,
    division_data,
    encode,
    features,
    make_pairs,
    relative_error,
    split,
)

positives = st.floats(1e-3, 1e3)


def _rows(pairs: Pairs) -> set:
    return set(zip(pairs.a.tolist(), pairs.b.tolist()))


def test_the_same_seed_gives_the_same_pairs_and_another_seed_other_pairs():
    first, again, other = make_pairs(100, 0.1, 1.0, seed=4), make_pairs(100, 0.1, 1.0, seed=4), make_pairs(
        100, 0.1, 1.0, seed=5)
    np.testing.assert_array_equal(first.a, again.a)
    np.testing.assert_array_equal(first.b, again.b)
    assert _rows(first).isdisjoint(_rows(other))


@pytest.mark.parametrize("spacing", ["uniform", "log"])
def test_pairs_lie_in_the_half_open_range(spacing):
    pairs = make_pairs(5000, *WIDE_RANGE, seed=0, spacing=spacing)
    for x in (pairs.a, pairs.b):
        assert np.all(x >= WIDE_RANGE[0]) and np.all(x < WIDE_RANGE[1])


def test_log_spacing_gives_every_decade_its_share():
    low, high = WIDE_RANGE  # four decades
    uniform, log = (make_pairs(8000, low, high, seed=0, spacing=s).a for s in ("uniform", "log"))
    assert np.mean(uniform < 0.1) < 0.02  # uniform draws almost never visit the lower decades
    assert np.mean(log < 0.1) == pytest.approx(0.5, abs=0.03)


def test_repeated_pairs_are_dropped_keeping_the_first():
    pairs = distinct(Pairs(np.array([0.5, 0.2, 0.5, 0.5]), np.array([0.3, 0.4, 0.3, 0.9])))
    np.testing.assert_array_equal(pairs.a, [0.5, 0.2, 0.5])
    np.testing.assert_array_equal(pairs.b, [0.3, 0.4, 0.9])


def test_the_split_holds_out_the_documented_fraction_without_overlap():
    assert TEST_FRACTION == 0.2
    pairs = make_pairs(1001, *TRAIN_RANGE, seed=1)
    train, test = split(pairs)
    assert len(test) == round(0.2 * 1001) and len(train) + len(test) == 1001
    assert _rows(train).isdisjoint(_rows(test))
    assert _rows(train) | _rows(test) == _rows(pairs)


def test_the_split_does_not_overlap_even_when_the_data_repeats_a_pair():
    repeated = Pairs(np.repeat([0.5, 0.25], 50), np.repeat([0.75, 0.5], 50))
    train, test = split(distinct(repeated), 0.5)
    assert _rows(train).isdisjoint(_rows(test))


def test_division_data_is_the_notes_data_split_in_one_call():
    train, test = division_data(10_000)
    assert (len(train), len(test)) == (8000, 2000)
    assert min(train.a.min(), train.b.min(), test.a.min()) >= 0.1 and max(train.a.max(), test.b.max()) < 1.0


@given(a=positives, b=positives)
def test_the_encoding_t_equals_a_over_a_plus_b_decodes_back_to_the_quotient(a, b):
    """Up to rounding, which 1 − t magnifies by about 1 + a/b: t = 1 − 1e-4 keeps only 12 digits of 1 − t."""
    t = encode(np.array([a]), np.array([b]))
    assert 0 < t[0] < 1
    assert decode(t)[0] == pytest.approx(a / b, rel=4 * np.finfo(float).eps * (1 + a / b))


@given(a=positives, b=positives)
def test_one_sigmoid_neuron_with_log_inputs_divides_exactly(a, b):
    """σ(ln a − ln b) = a/(a + b): weights (1, −1) and bias 0 make the notes' one neuron a divider."""
    x = features(np.array([a]), np.array([b]), "log")
    t = (Value(x) @ np.array([[1.0], [-1.0]])).sigmoid()
    assert t.data[0, 0] == pytest.approx(a / (a + b), rel=1e-13)


def test_features_are_raw_pairs_or_their_logarithms():
    a, b = np.array([0.5, 2.0]), np.array([4.0, 0.25])
    np.testing.assert_array_equal(features(a, b, "raw"), [[0.5, 4.0], [2.0, 0.25]])
    np.testing.assert_allclose(features(a, b, "log"), np.log([[0.5, 4.0], [2.0, 0.25]]))
    with pytest.raises(ValueError, match="inputs must be one of"):
        features(a, b, "sqrt")


def test_targets_are_a_column_for_the_single_output_neuron():
    pairs = Pairs(np.array([1.0, 3.0]), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(pairs.target, [[0.5], [0.75]])
    np.testing.assert_array_equal(pairs.quotient, [1.0, 3.0])


def test_relative_error_is_scaled_by_the_true_value():
    np.testing.assert_allclose(relative_error(np.array([1.1, 90.0]), np.array([1.0, 100.0])), [0.1, 0.1])


@pytest.mark.parametrize("call, message", [
    (lambda: make_pairs(-1, 0.1, 1.0, seed=0), "must be >= 0"),
    (lambda: make_pairs(10, 1.0, 0.1, seed=0), "0 < low < high"),
    (lambda: make_pairs(10, 0.0, 1.0, seed=0), "0 < low < high"),
    (lambda: make_pairs(10, 0.1, 1.0, seed=0, spacing="cubic"), "spacing"),
    (lambda: split(make_pairs(10, 0.1, 1.0, seed=0), 1.0), "test_fraction"),
], ids=["negative-count", "reversed-range", "zero-low", "spacing", "fraction"])
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()

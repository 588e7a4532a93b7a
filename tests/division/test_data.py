"""data: seeded division pairs, a train/test split without overlap, and the target encoding."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_div import Value
from tinygrad_div.division.data import (
    TEST_FRACTION,
    TRAIN_RANGE,
    Pairs,
    distinct,
    division_data,
    encode,
    features,
    make_pairs,
    min_samples,
    range_problem,
    relative_error,
    split,
    split_sizes,
    wider_range,
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


def test_the_wider_range_for_extrapolation_is_100x_wider_than_training():
    assert wider_range(*TRAIN_RANGE) == pytest.approx((1e-3, 10.0))


@pytest.mark.parametrize("spacing", ["uniform", "log"])
def test_pairs_lie_in_the_half_open_range(spacing):
    low, high = wider_range(*TRAIN_RANGE)
    pairs = make_pairs(5000, low, high, seed=0, spacing=spacing)
    for x in (pairs.a, pairs.b):
        assert np.all(x >= low) and np.all(x < high)


def test_pairs_stay_below_high_even_where_rounding_would_reach_it():
    low, high = 0.1, float(np.nextafter(0.1, 1.0))  # no float lies between them
    for spacing in ("uniform", "log"):
        pairs = make_pairs(100, low, high, seed=0, spacing=spacing)
        assert len(pairs) == 1 and pairs.a[0] == pairs.b[0] == low


def test_log_spacing_gives_every_decade_its_share():
    low, high = wider_range(*TRAIN_RANGE)  # four decades
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


def test_split_sizes_are_the_ones_split_cuts():
    for count in (0, 1, 2, 3, 7, 1001):
        train, test = split(make_pairs(count, *TRAIN_RANGE, seed=0))
        assert split_sizes(count) == (len(train), len(test))


def test_min_samples_is_the_fewest_pairs_that_leave_one_on_each_side():
    assert split_sizes(2) == (2, 0) and split_sizes(3) == (2, 1)  # round(0.4) = 0, round(0.6) = 1
    assert min_samples() == 3
    for fraction in (0.01, 0.2, 0.5, 0.9, 0.999):
        smallest = min_samples(fraction)
        assert 0 not in split_sizes(smallest, fraction)
        assert all(0 in split_sizes(n, fraction) for n in range(smallest))


@pytest.mark.parametrize("low, high", [(0.1, 1.0), (1e-300, 1e-290), (1e-3, 1e3), (1e290, 1e300)])
def test_ranges_whose_numbers_and_quotients_stay_normal_floats_are_usable(low, high):
    assert range_problem(low, high) is None


@pytest.mark.parametrize("low, high, message", [
    (1.0, 0.1, "0 < low < high"),
    (0.0, 1.0, "0 < low < high"),
    (-1.0, 1.0, "0 < low < high"),
    (0.1, np.inf, "finite"),
    (np.nan, 1.0, "finite"),
    (1e-320, 1e-310, "subnormal"),  # numbers below 2.2e-308 lose precision
    (1e-307, 1e-300, "subnormal"),  # fine itself, but the wider test range starts at LOW/100
    (1e300, 1e308, "overflow"),  # the wider test range ends at 10·HIGH
    (1e-300, 1e300, "overflow"),  # quotients reach 1000·HIGH/LOW
], ids=["reversed", "zero", "negative", "infinite", "nan", "subnormal", "subnormal-wider", "overflow-wider",
        "overflow-quotient"])
def test_ranges_that_cannot_work_are_named(low, high, message):
    problem = range_problem(low, high)
    assert message in problem and "--range" not in problem and "LOW" not in problem  # Python's words, not flags


def test_division_data_is_the_notes_data_split_in_one_call():
    train, test = division_data(10_000)
    assert (len(train), len(test)) == (8000, 2000)
    assert min(train.a.min(), train.b.min(), test.a.min()) >= 0.1 and max(train.a.max(), test.b.max()) < 1.0


@given(a=positives, b=positives)
def test_the_encoding_t_equals_a_over_a_plus_b_and_is_the_sigmoid_of_ln_a_over_b(a, b):
    """t = a/(a + b) lies in (0, 1) and is σ(ln(a/b)), so a network's net before its sigmoid reads back as ln(a/b)."""
    t = encode(np.array([a]), np.array([b]))
    assert 0 < t[0] < 1
    assert t[0] == pytest.approx(1 / (1 + np.exp(-np.log(a / b))), rel=1e-13)


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
    (lambda: min_samples(0.0), "test_fraction"),
    (lambda: division_data(2), "count must be at least 3, .* got 2"),  # 20% of 2 is no test pair at all
    (lambda: division_data(100, 0.1, float(np.nextafter(0.1, 1.0))), "holds too few numbers: only 1 distinct"),
], ids=["negative-count", "reversed-range", "zero-low", "spacing", "fraction", "min-samples-fraction",
        "division-data-without-a-test-pair", "division-data-from-a-one-number-range"])
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()

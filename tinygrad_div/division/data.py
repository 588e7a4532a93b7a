"""Division data: seeded (a, b) pairs, a train/test split, and the target encoding a sigmoid can output.

A sigmoid output lives in (0, 1) but a quotient q = a/b lives in (0, ∞), so the
network is trained on the invertible encoding

    t = a / (a + b) = σ(ln a − ln b)        read back as        q = t / (1 − t) = e^net

where t = σ(net) is the network's output. Predictions are read from net, the last
layer's weighted sum before its sigmoid (`divider.Divider.quotients`), not from t:
1 − t cancels, which would magnify the rounding of t by about q (10% at q = 1e15).
The encoding is the one that makes the notes' single sigmoid neuron exact:
σ(ln a − ln b) = a/(a + b), so with log inputs the weights (1, −1) and bias 0
divide perfectly.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tinygrad_div.division.names import PYTHON_NAMES, Names

InputKind = Literal["raw", "log"]
INPUT_KINDS: tuple[InputKind, ...] = ("raw", "log")

#: Share of the pairs held out for testing; the rest is the training set.
TEST_FRACTION = 0.2
#: The notes' range: a and b drawn uniformly from [0.1, 1).
TRAIN_RANGE = (0.1, 1.0)
#: The smallest normal float64 (2.2e-308); below it numbers lose precision (subnormal).
SMALLEST_NORMAL = sys.float_info.min


def wider_range(low: float, high: float) -> tuple[float, float]:
    """The range for testing extrapolation: [low/100, 10·high), i.e. [1e-3, 10) for the notes' [0.1, 1)."""
    return low / 100.0, high * 10.0


def range_problem(low: float, high: float, names: Names = PYTHON_NAMES) -> str | None:
    """Why [low, high) cannot be a training range, or None when it can (one line, in `names`' words).

    Training also scores the wider range, so its numbers a, b, their sums a + b (in
    the target a/(a+b)) and its quotients a/b must all be normal floats: an overflow
    turns into inf, and a subnormal number keeps only a few significant digits.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{names.range} needs finite numbers, got {low:g} {high:g}"
    if not 0 < low < high:
        return f"{names.range} needs 0 < {names.low} < {names.high}, got {low:g} {high:g}"
    bounds, least = names.range_values.format(f"{low:g}", f"{high:g}"), f"{100 * SMALLEST_NORMAL:.3g}"
    if low < SMALLEST_NORMAL:
        return (f"{bounds}: {names.low} is a subnormal float (below {SMALLEST_NORMAL:.3g}), with too few "
                f"significant digits to divide; {names.low} must be at least {least}")
    wide_low, wide_high = wider_range(low, high)
    if wide_low < SMALLEST_NORMAL:
        return (f"{bounds}: the wider test range starts at {names.low}/100 = {wide_low:g}, a subnormal "
                f"float that has lost precision; {names.low} must be at least {least}")
    extremes = {f"10·{names.high}": wide_high, "the sum of two numbers": 2 * wide_high,
                "the largest quotient": wide_high / wide_low, "the smallest quotient": wide_low / wide_high}
    for what, value in extremes.items():
        if value == math.inf:
            fault = "overflows float64"
        elif value < SMALLEST_NORMAL:
            fault = "underflows to a subnormal float"
        else:
            continue
        return (f"{bounds}: {what} in the wider test range [{names.low}/100, 10·{names.high}) {fault}; "
                "use a narrower range, or one nearer 1")
    return None


@dataclass(frozen=True)
class Pairs:
    """Dividends `a` and divisors `b`, two float64 arrays of the same length."""

    a: np.ndarray
    b: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    @property
    def quotient(self) -> np.ndarray:
        return self.a / self.b

    def features(self, inputs: InputKind) -> np.ndarray:
        """The network's input rows: (a, b) for raw inputs, (ln a, ln b) for log inputs."""
        return features(self.a, self.b, inputs)

    @property
    def target(self) -> np.ndarray:
        """The encoded quotient t = a/(a+b), as a column (one output neuron)."""
        return encode(self.a, self.b)[:, None]


def make_pairs(count: int, low: float, high: float, seed: int, *, spacing: str = "uniform") -> Pairs:
    """`count` distinct pairs with a, b in [low, high), from a generator seeded with `seed`.

    `spacing="uniform"` draws each number uniformly (the notes' "random numbers");
    `spacing="log"` draws its logarithm uniformly, so every decade of a wide range
    gets the same share of pairs instead of the top decade getting nearly all.
    """
    if count < 0:
        raise ValueError(f"the number of pairs must be >= 0, got {count}")
    if not 0 < low < high:
        raise ValueError(f"the range needs 0 < low < high, got [{low}, {high})")
    rng = np.random.default_rng(seed)
    if spacing == "uniform":
        drawn = rng.uniform(low, high, size=(2, count))
    elif spacing == "log":
        drawn = np.exp(rng.uniform(np.log(low), np.log(high), size=(2, count)))
    else:
        raise ValueError(f"spacing must be 'uniform' or 'log', got {spacing!r}")
    # low + (high − low)·u, and exp(log(high)), can round up to high itself: keep the interval half-open
    a, b = np.minimum(drawn, np.nextafter(high, low))
    return distinct(Pairs(a, b))


def distinct(pairs: Pairs) -> Pairs:
    """Drop repeated pairs (keeping first occurrences, in order) so that a split can never overlap."""
    _, first = np.unique(np.stack([pairs.a, pairs.b], axis=1), axis=0, return_index=True)
    keep = np.sort(first)
    return Pairs(pairs.a[keep], pairs.b[keep])


def split_sizes(count: int, test_fraction: float = TEST_FRACTION) -> tuple[int, int]:
    """How `split` cuts `count` pairs: (train, test), test getting round(test_fraction · count)."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    n_test = round(test_fraction * count)
    return count - n_test, n_test


def min_samples(test_fraction: float = TEST_FRACTION) -> int:
    """The fewest pairs that `split` leaves at least one of on each side (3 for the default 20%)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1) to leave pairs on both sides, got {test_fraction}")
    # the smaller side gets about min(f, 1 − f) · count pairs, first rounding to 1 just above 0.5
    count = max(2, int(0.5 / min(test_fraction, 1.0 - test_fraction)) - 1)
    while 0 in split_sizes(count, test_fraction):
        count += 1
    return count


def split(pairs: Pairs, test_fraction: float = TEST_FRACTION, seed: int = 0) -> tuple[Pairs, Pairs]:
    """Shuffle and cut into (train, test) as `split_sizes` says; no pair is in both."""
    _, n_test = split_sizes(len(pairs), test_fraction)
    # a stream of its own (seed, 1), so the shuffle is independent of the draws made with `seed`
    order = np.random.default_rng((seed, 1)).permutation(len(pairs))
    test, train = order[:n_test], order[n_test:]
    return Pairs(pairs.a[train], pairs.b[train]), Pairs(pairs.a[test], pairs.b[test])


def division_data(
    count: int, low: float = TRAIN_RANGE[0], high: float = TRAIN_RANGE[1], seed: int = 0,
    test_fraction: float = TEST_FRACTION,
) -> tuple[Pairs, Pairs]:
    """The notes' data in one call: `count` seeded pairs in [low, high), split into (train, test).

    Refuses a count too small to leave a pair on each side (an empty test set scores nothing).
    """
    if count < (least := min_samples(test_fraction)):
        raise ValueError(f"count must be at least {least}, so that training and testing get a pair each "
                         f"({test_fraction:.0%} is held out for testing), got {count}")
    pairs = make_pairs(count, low, high, seed)
    if len(pairs) < least:  # a range holding only a few floats repeats pairs, and repeats are dropped
        raise ValueError(f"[{low!r}, {high!r}) holds too few numbers: only {len(pairs)} distinct pair(s) "
                         f"among {count} drawn")
    return split(pairs, test_fraction, seed)


def features(a: np.ndarray, b: np.ndarray, inputs: InputKind) -> np.ndarray:
    """Rows (a, b) or (ln a, ln b); log inputs need a, b > 0 (callers validate user input first)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if inputs == "raw":
        return np.stack([a, b], axis=-1)
    if inputs == "log":
        return np.stack([np.log(a), np.log(b)], axis=-1)
    raise ValueError(f"inputs must be one of {INPUT_KINDS}, got {inputs!r}")


def encode(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """t = a/(a+b), in (0, 1) for positive a and b."""
    return a / (a + b)


def relative_error(predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
    """|predicted − true| / |true|, elementwise."""
    return np.abs(predicted - true) / np.abs(true)

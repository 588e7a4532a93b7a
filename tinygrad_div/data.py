"""Division data: seeded (a, b) pairs, a train/test split, and the target encoding a sigmoid can output.

A sigmoid output lives in (0, 1) but a quotient q = a/b lives in (0, ∞), so the
network is trained on the invertible encoding

    t = a / (a + b)        decoded as        q = t / (1 - t)

and errors are reported on the decoded quotient. Decoding magnifies the rounding
of t by about 1 + q (1 − t is small when q is large): a quotient of 10⁴ keeps
12 significant digits, far more than any target here needs. The encoding is the one that
makes the notes' single sigmoid neuron exact: σ(ln a − ln b) = a/(a + b), so with
log inputs the weights (1, −1) and bias 0 divide perfectly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

InputKind = Literal["raw", "log"]
INPUT_KINDS: tuple[InputKind, ...] = ("raw", "log")

#: Share of the pairs held out for testing; the rest is the training set.
TEST_FRACTION = 0.2
#: The notes' range: a and b drawn uniformly from [0.1, 1).
TRAIN_RANGE = (0.1, 1.0)
#: 100x wider than training, for checking that a model extrapolates.
WIDE_RANGE = (1e-3, 10.0)


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
        a, b = rng.uniform(low, high, size=(2, count))
    elif spacing == "log":
        a, b = np.exp(rng.uniform(np.log(low), np.log(high), size=(2, count)))
        # exp(log(high)) can round up to high itself; keep the interval half-open
        a, b = np.minimum(a, np.nextafter(high, low)), np.minimum(b, np.nextafter(high, low))
    else:
        raise ValueError(f"spacing must be 'uniform' or 'log', got {spacing!r}")
    return distinct(Pairs(a, b))


def distinct(pairs: Pairs) -> Pairs:
    """Drop repeated pairs (keeping first occurrences, in order) so that a split can never overlap."""
    _, first = np.unique(np.stack([pairs.a, pairs.b], axis=1), axis=0, return_index=True)
    keep = np.sort(first)
    return Pairs(pairs.a[keep], pairs.b[keep])


def split(pairs: Pairs, test_fraction: float = TEST_FRACTION, seed: int = 0) -> tuple[Pairs, Pairs]:
    """Shuffle and cut into (train, test); test gets round(test_fraction · n) pairs, no pair is in both."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    # a stream of its own (seed, 1), so the shuffle is independent of the draws made with `seed`
    order = np.random.default_rng((seed, 1)).permutation(len(pairs))
    n_test = round(test_fraction * len(pairs))
    test, train = order[:n_test], order[n_test:]
    return Pairs(pairs.a[train], pairs.b[train]), Pairs(pairs.a[test], pairs.b[test])


def division_data(
    count: int, low: float = TRAIN_RANGE[0], high: float = TRAIN_RANGE[1], seed: int = 0,
    test_fraction: float = TEST_FRACTION,
) -> tuple[Pairs, Pairs]:
    """The notes' data in one call: `count` seeded pairs in [low, high), split into (train, test)."""
    return split(make_pairs(count, low, high, seed), test_fraction, seed)


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


def decode(t: np.ndarray) -> np.ndarray:
    """q = t/(1-t), the inverse of `encode` (t = 1 decodes to inf, as numpy divides)."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return t / (1.0 - t)


def relative_error(predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
    """|predicted − true| / |true|, elementwise."""
    return np.abs(predicted - true) / np.abs(true)

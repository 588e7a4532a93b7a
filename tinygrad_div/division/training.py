"""Teaching a network to divide: the training loop, and how a divider's quotients are scored.

With log inputs the notes' single neuron can represent a/b exactly (see `data`), and
one epoch of per-sample SGD at lr = 1 finds it to within rounding.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tinygrad_div.compile import compile
from tinygrad_div.division import data
from tinygrad_div.division.config import ConfigError, TrainConfig
from tinygrad_div.division.data import Pairs, wider_range
from tinygrad_div.division.divider import Divider, quotients_of
from tinygrad_div.division.memory import WIDE_COUNT
from tinygrad_div.nn import MLP, mse_loss
from tinygrad_div.optim import SGD

#: Called after every step with (steps done, total steps); the CLI's progress bar.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Scores:
    """How well a divider does on a set of pairs."""

    mse: float  # of the encoded target t = a/(a+b), the quantity the network was trained on
    median_relative_error: float  # of the quotient e^net the network predicts
    p95_relative_error: float

    @classmethod
    def of(cls, divider: Divider, pairs: Pairs) -> Scores:
        net, t = divider.outputs(pairs.a, pairs.b)
        errors = data.relative_error(quotients_of(net[:, 0]), pairs.quotient)
        return cls(
            mse=float(np.mean((t - pairs.target) ** 2)),
            median_relative_error=float(np.median(errors)),
            p95_relative_error=_percentile(errors, 95),
        )


def _percentile(errors: np.ndarray, q: float) -> float:
    """np.percentile, except that between two infinite errors (a saturated network) it gives inf, not
    nan and a RuntimeWarning: numpy interpolates as a + t·(b − a), and inf − inf is nan."""
    with np.errstate(invalid="ignore"):
        value = float(np.percentile(errors, q))
    return np.inf if np.isnan(value) and not np.isnan(errors).any() else value


@dataclass
class TrainResult:
    """A trained divider, the pairs it was trained and scored on, and the loss of every step."""

    config: TrainConfig
    divider: Divider
    train: Pairs
    test: Pairs
    wide: Pairs  # from the wider range, for extrapolation
    losses: np.ndarray
    seconds: float
    scores: dict[str, Scores] = field(default_factory=dict)  # "train", "test", "wide"


def train(config: TrainConfig = TrainConfig(), progress: Progress | None = None) -> TrainResult:
    """Generate the data, train the network as `config` says, and score it on train, test and wider pairs."""
    config.validate()
    pairs = data.make_pairs(config.samples, config.low, config.high, config.seed)
    if len(pairs) < data.min_samples(config.test_fraction):
        # a range holding only a few floats repeats pairs, and repeats are dropped (see data.distinct)
        raise ConfigError([lambda n: (
            f"{n.range_values.format(repr(config.low), repr(config.high))} holds too few numbers: only {len(pairs)} "
            f"distinct pair(s) among {config.samples} drawn, too few to train on one and test another")])
    train_pairs, test_pairs = data.split(pairs, config.test_fraction, config.seed)
    model = MLP(config.sizes, seed=config.seed)
    divider = Divider(model, config.inputs, (config.low, config.high))
    start = time.perf_counter()
    losses = fit(model, train_pairs.features(config.inputs), train_pairs.target, config, progress)
    seconds = time.perf_counter() - start
    result = TrainResult(config, divider, train_pairs, test_pairs, wide_pairs(config), losses, seconds)
    result.scores = {name: Scores.of(divider, pairs) for name, pairs in
                     (("train", result.train), ("test", result.test), ("wide", result.wide))}
    return result


def wide_pairs(config: TrainConfig, count: int = WIDE_COUNT) -> Pairs:
    """Pairs from the wider range, log-spaced so that every decade is tested, not just the top one."""
    return data.make_pairs(count, *wider_range(config.low, config.high), seed=config.seed + 1, spacing="log")


#: the fewest steps a run needs for its step to be compiled
COMPILE_FROM = 50


def fit(model: MLP, x: np.ndarray, target: np.ndarray, config: TrainConfig,
        progress: Progress | None = None) -> np.ndarray:
    """SGD on mean squared error: `config.epochs` passes over (x, target) in batches of `config.batch_size`.

    With batch_size 1 (the notes' "no batches") every sample is one step. Samples
    are visited in a fresh seeded order each epoch. Returns each step's loss.
    """
    optimizer = SGD(model.parameters(), lr=config.lr)
    rng = np.random.default_rng((config.seed, 2))
    n, size = len(x), config.batch_size
    steps_per_epoch = -(-n // size)
    total = config.epochs * steps_per_epoch
    losses = np.empty(total)
    step = 0
    # A compiled step gives the eager step's bits (checked on its first call); tracing it
    # costs about as much as a few dozen eager steps, so very short runs stay eager.
    compiled = compile(lambda xb, tb: mse_loss(model(xb), tb)) if config.compiled and total >= COMPILE_FROM else None
    for _ in range(config.epochs):
        order = rng.permutation(n)
        for start in range(0, n, size):
            rows = order[start] if size == 1 else order[start:start + size]
            if compiled is None:
                loss = mse_loss(model(x[rows]), target[rows])
                optimizer.zero_grad()
                loss.backward()
            else:
                optimizer.zero_grad()
                loss = compiled(x[rows], target[rows])
            optimizer.step()
            losses[step] = loss.item()
            step += 1
            if progress is not None:
                progress(step, total)
    return losses

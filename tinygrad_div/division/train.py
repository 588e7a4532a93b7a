"""Teaching a network to divide: the training loop and how its quotients are scored.

The defaults are the notes': one sigmoid layer, no batches (one sample per step),
one epoch, on 10,000 pairs with a and b in [0.1, 1). With log inputs that single
neuron can represent a/b exactly (see `tinygrad_div.division.data`), and one epoch of
per-sample SGD at lr = 1 finds it to within rounding.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tinygrad_div.division import data
from tinygrad_div.division.data import INPUT_KINDS, TEST_FRACTION, TRAIN_RANGE, InputKind, Pairs, wider_range
from tinygrad_div.engine.mode import no_grad
from tinygrad_div.nn import MLP, mse_loss
from tinygrad_div.optim import SGD

#: Called after every step with (steps done, total steps); the CLI's progress bar.
Progress = Callable[[int, int], None]
#: Pairs drawn from the wider range to score extrapolation.
WIDE_COUNT = 2_000


class ConfigError(ValueError):
    """A configuration that cannot run; the message names the CLI option to change."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; the defaults are the notes'."""

    samples: int = 10_000
    hidden: tuple[int, ...] = ()
    epochs: int = 1
    batch_size: int = 1
    # Measured on the default run: one epoch reaches rounding level (test median below
    # 1e-15) for lr 0.25 to 7; at 0.1 it has not converged yet (3e-7), at 8 it is 2e-14,
    # at 9 0.01, and at 10 it diverges.
    lr: float = 1.0
    seed: int = 0
    inputs: InputKind = "log"
    low: float = TRAIN_RANGE[0]
    high: float = TRAIN_RANGE[1]
    test_fraction: float = TEST_FRACTION

    def problems(self, *, memory: bool = True) -> list[str]:
        """What is wrong with this configuration, one sentence each naming its CLI option (empty when usable).

        Everything that can be known before drawing the data is checked here, so a run
        never fails after minutes of training; `train` checks the drawn pairs too.
        `memory=False` leaves out the estimate of a training run's memory (for commands
        that do not train, and estimate their own).
        """
        found = []
        if not 0 < self.test_fraction < 1:
            found.append(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        elif self.samples < (least := data.min_samples(self.test_fraction)):
            found.append(f"--samples must be at least {least}, so that training and testing get a pair each "
                         f"({self.test_fraction:.0%} is held out for testing), got {self.samples}")
        if self.seed < 0:
            found.append(f"--seed must be >= 0, got {self.seed}")
        if any(n < 1 for n in self.hidden):
            found.append(f"--hidden sizes must be >= 1, got {' '.join(map(str, self.hidden))}")
        if self.epochs < 1:
            found.append(f"--epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            found.append(f"--batch-size must be >= 1, got {self.batch_size}")
        if not (np.isfinite(self.lr) and self.lr > 0):
            found.append(f"--lr must be a positive number, got {self.lr}")
        if self.inputs not in INPUT_KINDS:
            found.append(f"--inputs must be one of {', '.join(INPUT_KINDS)}, got {self.inputs!r}")
        if problem := data.range_problem(self.low, self.high):
            found.append(problem)
        if memory and not found and (problem := memory_problem(self.memory_needed(), "this run",
                                                                 "lower --samples, --hidden or --epochs")):
            found.append(problem)
        return found

    def check(self) -> None:
        """Raise `ConfigError` naming every problem, if there is one."""
        if problems := self.problems():
            raise ConfigError("; ".join(problems))

    def memory_needed(self) -> int:
        """Roughly the bytes a run holds at its peak, to refuse sizes no machine can run (a generous estimate)."""
        n_train, _ = data.split_sizes(self.samples, self.test_fraction)
        sizes = [2, *self.hidden, 1]
        weights = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
        steps = self.epochs * -(-n_train // self.batch_size)
        rows = max(n_train, WIDE_COUNT)  # scoring sends a whole set through the network at once
        floats = 16 * self.samples + steps + 4 * weights + 4 * rows * sum(sizes)
        return 8 * floats


def memory_problem(needed: int, what: str, advice: str) -> str | None:
    """A one-line refusal when `needed` bytes exceed this machine's memory, else None."""
    available = _physical_memory()
    if available is None or needed <= available:
        return None
    return (f"{what} would need about {_gigabytes(needed)} of memory, more than the {_gigabytes(available)} "
            f"this machine has: {advice}")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: the run finds out itself
        return None


def _gigabytes(size: int) -> str:
    return f"{size / 2**30:.3g} GiB"


@dataclass
class Divider:
    """A network that divides: the MLP, which inputs it takes, and the range it was trained on."""

    net: MLP
    inputs: InputKind
    train_range: tuple[float, float] = TRAIN_RANGE

    def outputs(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The last layer's net (before its sigmoid) and the network's output t = σ(net), a column each."""
        with no_grad():
            net = self.net.net(data.features(a, b, self.inputs))
            return np.asarray(net.data), np.asarray(net.sigmoid().data)

    def encoded(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The network's output t for each pair (a column per output; one here)."""
        return self.outputs(a, b)[1]

    def quotients(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The predicted a/b for each pair: e^net, from the last layer's net before its sigmoid.

        The output is t = σ(net) and the target t = a/(a + b), so a/b = t/(1 − t) = e^net
        exactly. Decoding t itself would lose digits: 1 − t cancels, by about q·eps for a
        quotient q (10% at 1e15), while e^net is as accurate as net. A net beyond ln(max
        float), about 709.8, gives inf.
        """
        return quotients_of(self.outputs(a, b)[0][..., 0])


def quotients_of(net: np.ndarray) -> np.ndarray:
    """q = e^net, the quotient a sigmoid output σ(net) encodes (inf where it overflows float64)."""
    with np.errstate(over="ignore"):
        return np.exp(np.asarray(net, dtype=np.float64))


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
    config.check()
    pairs = data.make_pairs(config.samples, config.low, config.high, config.seed)
    if len(pairs) < data.min_samples(config.test_fraction):
        # a range holding only a few floats repeats pairs, and repeats are dropped (see data.distinct)
        raise ConfigError(f"--range {config.low!r} {config.high!r} holds too few numbers: only {len(pairs)} "
                          f"distinct pair(s) among {config.samples} drawn, too few to train on one and test another")
    train_pairs, test_pairs = data.split(pairs, config.test_fraction, config.seed)
    net = MLP([2, *config.hidden, 1], seed=config.seed)
    divider = Divider(net, config.inputs, (config.low, config.high))
    start = time.perf_counter()
    losses = fit(net, train_pairs.features(config.inputs), train_pairs.target, config, progress)
    seconds = time.perf_counter() - start
    result = TrainResult(config, divider, train_pairs, test_pairs, wide_pairs(config), losses, seconds)
    result.scores = {name: Scores.of(divider, pairs) for name, pairs in
                     (("train", result.train), ("test", result.test), ("wide", result.wide))}
    return result


def wide_pairs(config: TrainConfig, count: int = WIDE_COUNT) -> Pairs:
    """Pairs from the wider range, log-spaced so that every decade is tested, not just the top one."""
    return data.make_pairs(count, *wider_range(config.low, config.high), seed=config.seed + 1, spacing="log")


def fit(net: MLP, x: np.ndarray, target: np.ndarray, config: TrainConfig,
        progress: Progress | None = None) -> np.ndarray:
    """SGD on mean squared error: `config.epochs` passes over (x, target) in batches of `config.batch_size`.

    With batch_size 1 (the notes' "no batches") every sample is one step. Samples
    are visited in a fresh seeded order each epoch. Returns each step's loss.
    """
    optimizer = SGD(net.parameters(), lr=config.lr)
    rng = np.random.default_rng((config.seed, 2))
    n, size = len(x), config.batch_size
    steps_per_epoch = -(-n // size)
    total = config.epochs * steps_per_epoch
    losses = np.empty(total)
    step = 0
    for _ in range(config.epochs):
        order = rng.permutation(n)
        for start in range(0, n, size):
            rows = order[start] if size == 1 else order[start:start + size]
            loss = mse_loss(net(x[rows]), target[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[step] = loss.item()
            step += 1
            if progress is not None:
                progress(step, total)
    return losses

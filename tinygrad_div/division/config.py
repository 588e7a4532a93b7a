"""`TrainConfig`: everything that determines a training run, and what is wrong with a given one.

The defaults are the notes': one sigmoid layer, no batches (one sample per step),
one epoch, on 10,000 pairs with a and b in [0.1, 1). Validation speaks Python:
`TrainConfig(samples=-5).problems()` says "samples must be at least 3 ..."; the
command line renders the same messages with its flags (see `names`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinygrad_div.division import data
from tinygrad_div.division.data import INPUT_KINDS, TEST_FRACTION, TRAIN_RANGE, InputKind
from tinygrad_div.division.memory import memory_problem, training_bytes
from tinygrad_div.division.names import PYTHON_NAMES, Names, Problem


class ConfigError(ValueError):
    """Settings that cannot run. `str()` names the Python fields; `message(names)` says it in other words."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(self.message(PYTHON_NAMES))

    def message(self, names: Names) -> str:
        return "; ".join(problem(names) for problem in self.problems)


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
    #: run each SGD step as a td.compile program (the eager step's bits, less Python per step);
    #: False is `train --eager`
    compiled: bool = True

    @property
    def sizes(self) -> list[int]:
        """The network's layer sizes: two inputs (a, b), the hidden layers, one output."""
        return [2, *self.hidden, 1]

    def problems(self, names: Names = PYTHON_NAMES, *, memory: bool = True) -> list[str]:
        """What is wrong with this configuration, one sentence each in `names`' words (empty when usable).

        Everything that can be known before drawing the data is checked here, so a run
        never fails after minutes of training; `train` checks the drawn pairs too.
        `memory=False` leaves out the estimate of a training run's memory (for commands
        that do not train, and estimate their own).
        """
        return [problem(names) for problem in self.faults(memory=memory)]

    def faults(self, *, memory: bool = True) -> list[Problem]:
        """What `problems` renders: each problem still a function of the words to say it in (`names.Names`)."""
        found: list[Problem] = []
        if not 0 < self.test_fraction < 1:
            found.append(lambda n: f"{n.test_fraction} must be in (0, 1), got {self.test_fraction}")
        elif self.samples < (least := data.min_samples(self.test_fraction)):
            found.append(lambda n: f"{n.samples} must be at least {least}, so that training and testing get a pair "
                                   f"each ({self.test_fraction:.0%} is held out for testing), got {self.samples}")
        if self.seed < 0:
            found.append(lambda n: f"{n.seed} must be >= 0, got {self.seed}")
        if any(size < 1 for size in self.hidden):
            found.append(lambda n: f"{n.hidden} sizes must be >= 1, got {' '.join(map(str, self.hidden))}")
        if self.epochs < 1:
            found.append(lambda n: f"{n.epochs} must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            found.append(lambda n: f"{n.batch_size} must be >= 1, got {self.batch_size}")
        if not (np.isfinite(self.lr) and self.lr > 0):
            found.append(lambda n: f"{n.lr} must be a positive number, got {self.lr}")
        if self.inputs not in INPUT_KINDS:
            found.append(lambda n: f"{n.inputs} must be one of {', '.join(INPUT_KINDS)}, got {self.inputs!r}")
        if data.range_problem(self.low, self.high) is not None:
            found.append(lambda n: data.range_problem(self.low, self.high, n))
        if memory and not found and (problem := memory_problem(self.memory_needed(), "this run")):
            found.append(lambda n: f"{problem}: lower {n.samples}, {n.hidden} or {n.epochs}")
        return found

    def validate(self) -> None:
        """Raise `ConfigError` naming every problem, if there is one."""
        if faults := self.faults():
            raise ConfigError(faults)

    def memory_needed(self) -> int:
        """Roughly the bytes a run holds at its peak (see `memory.training_bytes`)."""
        return training_bytes(self.samples, self.sizes, self.epochs, self.batch_size, self.test_fraction)

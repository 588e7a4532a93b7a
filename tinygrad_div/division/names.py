"""How a message names a setting: by its Python name for the library, by its flag for the command line.

A validation message is written once, as a function of `Names`; `PYTHON_NAMES`
renders it for a Python caller ("samples must be at least 3"), and the CLI passes
its own `Names` with the flags ("--samples must be at least 3"). So the library
never talks about flags, and the CLI's messages stay word for word what they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    """The word for each setting of a training run, as a message shows it."""

    samples: str = "samples"
    hidden: str = "hidden"
    epochs: str = "epochs"
    batch_size: str = "batch_size"
    lr: str = "lr"
    seed: str = "seed"
    inputs: str = "inputs"
    test_fraction: str = "test_fraction"
    range: str = "(low, high)"  # the pair of bounds as one setting
    low: str = "low"
    high: str = "high"
    range_values: str = "(low, high) = ({}, {})"  # the bounds with their values: .format(low, high)


#: The library's words: the fields of `TrainConfig` and the parameters of `data`.
PYTHON_NAMES = Names()

#: A message about some settings, written once and rendered with either `Names`.
Problem = Callable[[Names], str]


"""What the command line accepts: one parser per kind of argument, the options commands share, and the
error for bad input.

Every subcommand declares its options with these parsers, so the same mistake gets the
same message whichever command it is made in. The library names a setting by its Python
field (`samples`); `FLAGS` gives the command line's word for each (`--samples`).
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from tinygrad_div.division.config import TrainConfig
from tinygrad_div.division.data import INPUT_KINDS
from tinygrad_div.division.names import Names

#: Each setting of a run by its flag, so that library messages read as the CLI's own.
FLAGS = Names(samples="--samples", hidden="--hidden", epochs="--epochs", batch_size="--batch-size", lr="--lr",
              seed="--seed", inputs="--inputs", range="--range", low="LOW", high="HIGH", range_values="--range {} {}")


class UsageError(Exception):
    """Bad input from the user; the CLI prints the message as one line and exits with status 2."""


def integer(text: str) -> int:
    """A whole number, e.g. for --samples or --seed (the command checks its range)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def number(text: str) -> float:
    """A finite number: nan and inf are refused here, so no command has to think about them."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def output_file(text: str) -> Path:
    """A file to write. `Path` drops a trailing slash, so "out/" would quietly become a file named
    "out"; the slash says the user meant a directory, and that is refused here while it is still visible."""
    if not text:
        raise argparse.ArgumentTypeError("expected a file name, got an empty one")
    if text.endswith(("/", os.sep)) or text in (".", ".."):
        raise argparse.ArgumentTypeError(f"expected a file name, got {text!r} (a directory)")
    return Path(text)


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """--seed, --hidden and --inputs: the network's options, meaning the same for every command that has them."""
    defaults = TrainConfig()
    parser.add_argument("--seed", type=integer, default=defaults.seed,
                        help=f"seed for the data, the split and the weights (default {defaults.seed})")
    parser.add_argument("--hidden", type=integer, nargs="*", default=list(defaults.hidden), metavar="SIZE",
                        help="sizes of hidden sigmoid layers (default: none, the notes' single layer)")
    parser.add_argument("--inputs", choices=INPUT_KINDS, default=defaults.inputs,
                        help="feed (a, b) or (ln a, ln b) to the network "
                             "(default log: one neuron then divides exactly)")


def add_hidden_argument(parser: argparse.ArgumentParser) -> None:
    """`--hidden N ...`: the hidden layers of the notes' network, for the commands that derive or explain it."""
    parser.add_argument("--hidden", type=integer, nargs="*", default=[], metavar="N",
                        help="hidden layer sizes (default: none, the notes' single neuron)")


def hidden_sizes(args: argparse.Namespace) -> tuple[int, ...]:
    """The parsed `--hidden` sizes, each at least 1 (else a UsageError naming them)."""
    if any(n < 1 for n in args.hidden):
        raise UsageError(f"--hidden: each layer needs at least 1 neuron, got {args.hidden}")
    return tuple(args.hidden)

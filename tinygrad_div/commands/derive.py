"""`derive`: print the chain rule the engine derives for the notes' network, as the code it runs.

    python -m tinygrad_div derive              # the notes' single neuron
    python -m tinygrad_div derive --hidden 8   # with a hidden layer of 8
"""

from __future__ import annotations

import argparse

from tinygrad_div.commands.usage import UsageError, integer
from tinygrad_div.division.derivation import derivation

HELP = "print the notes' chain rule as the code td.compile derives for the network"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hidden", type=integer, nargs="*", default=[], metavar="N",
                        help="hidden layer sizes (default: none, the notes' single neuron)")


def command(args: argparse.Namespace) -> int:
    if any(n < 1 for n in args.hidden):
        raise UsageError(f"--hidden: each layer needs at least 1 neuron, got {args.hidden}")
    print(derivation(tuple(args.hidden)), end="")
    return 0

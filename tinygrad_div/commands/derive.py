"""`derive`: print the chain rule the engine derives for the notes' network, as the code it runs.

    python -m tinygrad_div derive              # the notes' single neuron
    python -m tinygrad_div derive --hidden 8   # with a hidden layer of 8
"""

from __future__ import annotations

import argparse

from tinygrad_div.commands.usage import add_hidden_argument, hidden_sizes
from tinygrad_div.division.derivation import derivation

HELP = "print the notes' chain rule as the code td.compile derives for the network"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_hidden_argument(parser)


def command(args: argparse.Namespace) -> int:
    hidden = hidden_sizes(args)
    print(derivation(hidden), end="")
    return 0

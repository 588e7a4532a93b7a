"""`explain`: the notes' chain rule with numbers, one product per path, for every weight of the network.

    python -m tinygrad_div explain              # the notes' single neuron
    python -m tinygrad_div explain --hidden 2   # with a hidden layer of 2
"""

from __future__ import annotations

import argparse

from tinygrad_div.commands.usage import add_hidden_argument, hidden_sizes
from tinygrad_div.division.derivation import SAMPLE, explanations

HELP = "spell out the gradient of every weight of the notes' network as chain-rule products, with numbers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_hidden_argument(parser)


def command(args: argparse.Namespace) -> int:
    hidden = hidden_sizes(args)
    x, t = SAMPLE
    sizes = " -> ".join(str(n) for n in [2, *hidden, 1])
    print(f"# The notes' network {sizes} (sigmoid), E = mean((s1 - t)**2), at x = {x.tolist()}, t = {t}, "
          "the weights of seed 0")
    for explanation in explanations(hidden):
        print()
        print(explanation, end="")
    return 0

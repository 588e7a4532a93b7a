"""`graph`: draw the division network's graph, one training sample through the model and the loss.

    python -m tinygrad_div graph -o division_graph.svg --hidden 8
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygrad_div.commands.usage import FLAGS, UsageError, add_network_arguments, output_file
from tinygrad_div.division.config import ConfigError
from tinygrad_div.division.graph import division_graph
from tinygrad_div.files import output_problem
from tinygrad_div.viz import GraphvizNotFoundError

HELP = "draw the division network's graph: one training sample through the model and the loss"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=output_file, default=Path("division_graph.svg"), metavar="FILE",
                        help="picture to write: .svg, .png or .pdf (needs Graphviz), or .dot text "
                             "(default division_graph.svg)")
    add_network_arguments(parser)


def command(args: argparse.Namespace) -> int:
    """A bad option, a missing Graphviz or a bad path is a one-line usage error (exit 2)."""
    if problem := output_problem(args.output):
        raise UsageError(f"--output: {problem}")
    try:
        graph = division_graph(seed=args.seed, hidden=args.hidden, inputs=args.inputs)
    except ConfigError as exc:
        raise UsageError(exc.message(FLAGS)) from None
    try:
        path = graph.draw(args.output)
    except (GraphvizNotFoundError, ValueError, RuntimeError, OSError) as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {path}")
    return 0

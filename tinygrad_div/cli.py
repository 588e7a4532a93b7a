"""The command line's parser and `main`: `tinygrad-div train` teaches the notes' network to divide, `predict` uses it.

    python -m tinygrad_div train --save model.npz
    python -m tinygrad_div predict 7 3 --model model.npz

Every subcommand is a module of `tinygrad_div.commands` and one entry of `COMMANDS`. Bad input never shows a traceback:
it is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from tinygrad_div.commands import check, derive, explain, export, graph, predict, train
from tinygrad_div.commands.usage import UsageError

PROG = "tinygrad-div"
#: Exit status for bad input (the same as argparse's own usage errors).
USAGE_ERROR = 2


@dataclass(frozen=True)
class Command:
    """A subcommand: its one-line help, how it declares its arguments, and what it runs (returns the exit status)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


#: One entry per subcommand, each from its own module in `tinygrad_div.commands`.
COMMANDS: dict[str, Command] = {
    "train": Command(train.HELP, train.add_arguments, train.command),
    "predict": Command(predict.HELP, predict.add_arguments, predict.command),
    "graph": Command(graph.HELP, graph.add_arguments, graph.command),
    "check": Command(check.HELP, check.add_arguments, check.command),
    "export": Command(export.HELP, export.add_arguments, export.command),
    "derive": Command(derive.HELP, derive.add_arguments, derive.command),
    "explain": Command(explain.HELP, explain.add_arguments, explain.command),
    # More subcommands go here, one entry each: Command(help, add_arguments, run).
    # `run(args)` returns the exit status and raises UsageError for bad input.
}


# -- parsing --------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a UsageError (one line, exit 2 via `main`) rather than usage + exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="A small exact autograd engine and the network from the notes "
                                            "that learns to divide.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 2 bad input, 130 interrupted)."""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:  # past the up-front estimate (TrainConfig.memory_needed): still one line
        print(f"{PROG}: error: out of memory; try smaller sizes", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # the reader left early (`... | head -1`): stop quietly like other Unix tools, and point
        # stdout at devnull so the interpreter's final flush does not raise the same error again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1

"""The command line: `tinygrad-div train` teaches the notes' network to divide, `predict` uses it.

    python -m tinygrad_div train --save model.npz
    python -m tinygrad_div predict 7 3 --model model.npz

Every subcommand is one entry of `COMMANDS`. Bad input never shows a traceback:
it is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np

from tinygrad_div import viz
from tinygrad_div.commands import check
from tinygrad_div.commands.usage import UsageError, integer, number, output_file
from tinygrad_div.division import checkpoint, data
from tinygrad_div.division.data import INPUT_KINDS, TRAIN_RANGE, wider_range
from tinygrad_div.division.plot import plot_problem, plot_training
from tinygrad_div.division.progress import ProgressBar
from tinygrad_div.division.train import ConfigError, Divider, TrainConfig, TrainResult, train
from tinygrad_div.files import output_problem

PROG = "tinygrad-div"
#: Exit status for bad input (the same as argparse's own usage errors).
USAGE_ERROR = 2


@dataclass(frozen=True)
class Command:
    """A subcommand: its one-line help, how it declares its arguments, and what it runs (returns the exit status)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# -- train ------------------------------------------------------------------------------


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    add = parser.add_argument
    add("--samples", type=integer, default=defaults.samples, metavar="N",
        help=f"pairs to generate, split {round(100 * (1 - defaults.test_fraction))}%% train / "
             f"{round(100 * defaults.test_fraction)}%% test (default %(default)s)")
    add("--hidden", type=integer, nargs="*", default=list(defaults.hidden), metavar="SIZE",
        help="sizes of hidden sigmoid layers (default: none, the notes' single layer)")
    add("--epochs", type=integer, default=defaults.epochs, metavar="N", help="passes over the data (default 1)")
    add("--batch-size", type=integer, default=defaults.batch_size, metavar="N",
        help="samples per step (default 1: the notes' 'no batches')")
    add("--lr", type=number, default=defaults.lr, help=f"learning rate (default {defaults.lr:g})")
    add("--seed", type=integer, default=defaults.seed, help="seed for data, split and weights (default 0)")
    add("--inputs", choices=INPUT_KINDS, default=defaults.inputs,
        help="feed (a, b) or (ln a, ln b) to the network (default log: one neuron then divides exactly)")
    add("--range", type=number, nargs=2, default=list(TRAIN_RANGE), metavar=("LOW", "HIGH"),
        help=f"draw a and b uniformly from [LOW, HIGH) (default {TRAIN_RANGE[0]:g} {TRAIN_RANGE[1]:g})")
    add("--save", type=output_file, metavar="MODEL.npz", help="write the trained model to this file")
    add("--plot", type=output_file, metavar="PLOT.png",
        help="draw the loss and predicted-vs-true quotients (matplotlib)")


def _train(args: argparse.Namespace) -> int:
    config = TrainConfig(samples=args.samples, hidden=tuple(args.hidden), epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed, inputs=args.inputs,
                         low=args.range[0], high=args.range[1])
    problems = config.problems()
    if problems:
        raise UsageError(problems[0])
    _check_outputs(args.save, args.plot)

    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        result = train(config, progress=bar)
    except ConfigError as exc:  # found only once the pairs are drawn, still before training
        raise UsageError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    print(report(result))
    if args.save is not None:
        try:
            checkpoint.save(result.divider, args.save)
        except OSError as exc:
            raise UsageError(f"--save: cannot write {args.save}: {exc.strerror or exc}") from None
        print(f"\nsaved to {args.save}; try: {PROG} predict 7 3 --model {args.save}")
    if args.plot is not None:
        try:
            plot_training(result, args.plot)
        except OSError as exc:
            raise UsageError(f"--plot: cannot write {args.plot}: {exc.strerror or exc}") from None
        print(f"plot written to {args.plot}")
    return 0


def _check_outputs(save: Path | None, plot: Path | None) -> None:
    """Refuse unwritable --save and --plot paths before training, not after it."""
    for option, path in (("--save", save), ("--plot", plot)):
        if path is not None and (problem := output_problem(path)):
            raise UsageError(f"{option}: {problem}")
    if save is not None and plot is not None and save.resolve() == plot.resolve():
        raise UsageError(f"--save and --plot name the same file, {save}: the plot would replace the model")
    if plot is not None and (problem := plot_problem(plot)):
        raise UsageError(problem)


def report(result: TrainResult, examples: int = 5) -> str:
    """The table `train` prints: the run, its errors on each set, and a few example divisions."""
    config = result.config
    low, high = wider_range(config.low, config.high)
    sizes = " -> ".join(map(str, result.divider.net.sizes))
    lines = [
        f"trained {sizes} sigmoid network on {len(result.train)} pairs ({config.inputs} inputs, "
        f"{config.epochs} epoch(s), batch {config.batch_size}, lr {config.lr:g}) in {result.seconds:.2f} s",
        "",
        f"{'pairs':<22} {'count':>6} {'MSE of t':>10} {'median rel err':>15} {'95% rel err':>12}",
    ]
    labels = {"train": f"train [{config.low:g}, {config.high:g})", "test": f"test  [{config.low:g}, {config.high:g})",
              "wide": f"wider [{low:g}, {high:g})"}
    counts = {"train": len(result.train), "test": len(result.test), "wide": len(result.wide)}
    for name, scores in result.scores.items():
        lines.append(f"{labels[name]:<22} {counts[name]:>6} {scores.mse:>10.2e} "
                     f"{scores.median_relative_error:>15.2e} {scores.p95_relative_error:>12.2e}")
    lines += ["", f"{'a':>10} {'b':>10} {'true a/b':>16} {'predicted':>16}"]
    wide = result.wide
    shown_test = (examples + 1) // 2
    a = np.concatenate([result.test.a[:shown_test], wide.a[:examples - shown_test]])
    b = np.concatenate([result.test.b[:shown_test], wide.b[:examples - shown_test]])
    for ai, bi, qi in zip(a, b, result.divider.quotients(a, b)):
        lines.append(f"{ai:>10.4g} {bi:>10.4g} {ai / bi:>16.10g} {qi:>16.10g}")
    return "\n".join(lines)


# -- predict ----------------------------------------------------------------------------


def _predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", type=number, help="the dividend")
    parser.add_argument("b", type=number, help="the divisor")
    parser.add_argument("--model", type=Path, default=Path("model.npz"), metavar="MODEL.npz",
                        help="a model saved by `train --save` (default model.npz)")


def _predict(args: argparse.Namespace) -> int:
    try:
        divider = checkpoint.load(args.model)
    except checkpoint.ModelFileError as exc:
        raise UsageError(str(exc)) from None
    problem = pair_problem(divider, args.a, args.b)
    if problem:
        raise UsageError(problem)
    quotient = divider.quotients(np.array([args.a]), np.array([args.b]))[0]
    if not math.isfinite(quotient):
        # e^net overflows once the network's net passes ln(largest float) ≈ 709.8
        raise UsageError(f"the network's quotient for {args.a:g}/{args.b:g} is {quotient:g}: it is beyond "
                         "float64's range")
    low, high = divider.train_range
    if divider.inputs == "raw" and not (low <= args.a < high and low <= args.b < high):
        print(f"note: ({args.a:g}, {args.b:g}) is outside the training range [{low:g}, {high:g}); "
              "raw-input networks do not extrapolate well", file=sys.stderr)
    print(f"{quotient:.10g}")
    return 0


def pair_problem(divider: Divider, a: float, b: float) -> str | None:
    """Why the network cannot divide a by b, or None when it can."""
    if b == 0:
        return "cannot divide by zero (b = 0)"
    if divider.inputs == "log" and (a <= 0 or b <= 0):
        return f"this model takes log inputs, so a and b must be > 0 (got a={a:g}, b={b:g})"
    if a <= 0 or b < 0:
        # the quotient is read back as e^net, which is positive
        return f"this network divides positive numbers only (got a={a:g}, b={b:g})"
    if not math.isfinite(a / b):
        return f"a/b = {a:g}/{b:g} overflows float64"
    if a / b < data.SMALLEST_NORMAL:
        return (f"a/b = {a:g}/{b:g} underflows float64: below {data.SMALLEST_NORMAL:.3g} a quotient "
                "keeps too few significant digits")
    return None


# -- the registry -------------------------------------------------------------------------

COMMANDS: dict[str, Command] = {
    "train": Command("train the division network (defaults: the notes' one sigmoid layer)", _train_arguments, _train),
    "predict": Command("divide two numbers with a saved model", _predict_arguments, _predict),
    "graph": Command(viz.GRAPH_HELP, viz.graph_arguments, viz.graph_command),
    "check": Command(check.HELP, check.add_arguments, check.command),
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

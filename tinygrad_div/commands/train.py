"""`train`: teach the division network, print how well it divides, optionally save and plot it.

    python -m tinygrad_div train --hidden 8 --inputs raw --save model.npz --plot loss.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from tinygrad_div.commands.usage import FLAGS, UsageError, add_network_arguments, integer, number, output_file
from tinygrad_div.division import model_file
from tinygrad_div.division.config import ConfigError, TrainConfig
from tinygrad_div.division.data import TRAIN_RANGE, wider_range
from tinygrad_div.division.plot import plot_problem, plot_training
from tinygrad_div.division.progress import ProgressBar
from tinygrad_div.division.training import TrainResult, train
from tinygrad_div.files import output_problem

HELP = "train the division network (defaults: the notes' one sigmoid layer)"
PROG = "tinygrad-div"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    add = parser.add_argument
    add("--samples", type=integer, default=defaults.samples, metavar="N",
        help=f"pairs to generate, split {round(100 * (1 - defaults.test_fraction))}%% train / "
             f"{round(100 * defaults.test_fraction)}%% test (default %(default)s)")
    add("--epochs", type=integer, default=defaults.epochs, metavar="N", help="passes over the data (default 1)")
    add("--batch-size", type=integer, default=defaults.batch_size, metavar="N",
        help="samples per step (default 1: the notes' 'no batches')")
    add("--lr", type=number, default=defaults.lr, help=f"learning rate (default {defaults.lr:g})")
    add_network_arguments(parser)
    add("--range", type=number, nargs=2, default=list(TRAIN_RANGE), metavar=("LOW", "HIGH"),
        help=f"draw a and b uniformly from [LOW, HIGH) (default {TRAIN_RANGE[0]:g} {TRAIN_RANGE[1]:g})")
    add("--eager", action="store_true",
        help="run each step eagerly instead of as a td.compile program (same numbers, slower)")
    add("--save", type=output_file, metavar="MODEL.npz", help="write the trained model to this file")
    add("--plot", type=output_file, metavar="PLOT.png",
        help="draw the loss and predicted-vs-true quotients (matplotlib)")


def command(args: argparse.Namespace) -> int:
    config = TrainConfig(samples=args.samples, hidden=tuple(args.hidden), epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed, inputs=args.inputs,
                         low=args.range[0], high=args.range[1], compiled=not args.eager)
    problems = config.problems(FLAGS)
    if problems:
        raise UsageError(problems[0])
    _check_outputs(args.save, args.plot)

    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        result = train(config, progress=bar)
    except ConfigError as exc:  # found only once the pairs are drawn, still before training
        raise UsageError(exc.message(FLAGS)) from None
    finally:
        if bar is not None:
            bar.close()
    print(report(result))
    if args.save is not None:
        try:
            model_file.save(result.divider, args.save)
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
    sizes = " -> ".join(map(str, result.divider.model.sizes))
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

"""`predict`: divide two numbers with a model saved by `train --save`.

    python -m tinygrad_div predict 7 3 --model model.npz      # prints 2.333333333

Needs the model file and the network, not the training loop.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from tinygrad_div.commands.usage import UsageError, number
from tinygrad_div.division import model_file

HELP = "divide two numbers with a saved model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", type=number, help="the dividend")
    parser.add_argument("b", type=number, help="the divisor")
    parser.add_argument("--model", type=Path, default=Path("model.npz"), metavar="MODEL.npz",
                        help="a model saved by `train --save` (default model.npz)")


def command(args: argparse.Namespace) -> int:
    try:
        divider = model_file.load(args.model)
    except model_file.ModelFileError as exc:
        raise UsageError(str(exc)) from None
    if problem := divider.pair_problem(args.a, args.b):
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

"""`export`: write a model saved by `train --save` as an ONNX model that divides, for onnxruntime.

    python -m tinygrad_div export model.npz model.onnx

The ONNX model takes a and b (arrays of one shape (batch,), float64 or with --dtype
float32 float32) and returns the quotients, ln of the inputs and e^net decoding included. Needs the `onnx` extra.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygrad_div.commands.usage import UsageError, output_file
from tinygrad_div.division import model_file
from tinygrad_div.division.onnx_model import export_divider
from tinygrad_div.files import output_problem
from tinygrad_div.onnx import ExportError
from tinygrad_div.onnx.errors import EXTRA_HINT

HELP = "write a saved model as an ONNX model (a, b) -> a/b for onnxruntime"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, metavar="MODEL.npz", help="a model saved by `train --save`")
    parser.add_argument("output", type=output_file, metavar="MODEL.onnx", help="the ONNX file to write")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="precision of the stored weights and of the inputs (default float64)")


def command(args: argparse.Namespace) -> int:
    """A bad model file, an unwritable path or a missing onnx package is a one-line usage error (exit 2)."""
    try:
        import onnx  # noqa: F401  (the extra, checked before any work)
    except ImportError:
        raise UsageError(f"export needs the onnx package: {EXTRA_HINT}") from None
    if problem := output_problem(args.output):
        raise UsageError(f"{args.output}: {problem}")
    try:
        divider = model_file.load(args.model)
    except model_file.ModelFileError as exc:
        raise UsageError(str(exc)) from None
    try:
        export_divider(divider, args.output, dtype=args.dtype)
    except (ExportError, OSError) as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {args.output}: inputs a, b ({args.dtype} arrays of one length), output quotient")
    return 0

"""What the command line accepts: one parser per kind of argument, and the error for bad input.

Every subcommand (`cli`, `viz`'s graph, `check`) declares its options with these
parsers, so the same mistake gets the same message whichever command it is made in.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path


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

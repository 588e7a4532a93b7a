"""The error a trace raises when the step cannot become straight-line code."""

from __future__ import annotations

import os
import traceback

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TraceError(RuntimeError):
    """The step does something a compiled program could not repeat on new data (see docs/compile.md)."""


def user_line() -> str:
    """'file.py:12' of the innermost frame outside tinygrad_div: the user's line being traced."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE + os.sep):
            return f"{os.path.basename(frame.filename)}:{frame.lineno}"
    return "?"

"""`detect_anomaly()`: stop at the first op whose forward or backward makes a NaN or an Inf.

Inside the mode each recorded node also remembers the line of user code that created
it (outside the mode nothing is captured, so it costs nothing).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from tinygrad_div.mode import state

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared; the message names the op, its input shapes and where it was created."""


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `AnomalyError` at the first NaN/Inf produced by any op's forward or backward."""
    previous = state.anomaly
    state.anomaly = True
    try:
        with np.errstate(all="ignore"):  # the error below says more than numpy's warning
            yield
    finally:
        state.anomaly = previous


def user_site() -> str:
    """`file:line: code` of the innermost caller outside this package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    import linecache

    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {code}"


def _finite(x: Any) -> bool:
    return bool(np.all(np.isfinite(x)))


def _shapes(datas: Any) -> str:
    return ", ".join(str(np.shape(d)) for d in datas)


def check_forward(op: type, ctx: Any, datas: list, out: Any) -> None:
    site = user_site()
    if type(ctx) is op:  # a recorded node, not the throwaway ctx
        ctx.creation_site = site
    if not _finite(out) and all(_finite(d) for d in datas):
        kind = "NaN" if np.any(np.isnan(out)) else "Inf"
        raise AnomalyError(f"{op.__name__} forward produced {kind} from inputs of shapes ({_shapes(datas)}), at {site}")


def check_backward(ctx: Any, grads: tuple, upstream: Any) -> None:
    if not _finite(upstream):
        return  # blame the op that made the non-finite upstream gradient, which was checked before
    for i, g in enumerate(grads):
        if g is not None and not _finite(getattr(g, "data", g)):
            kind = "NaN" if np.any(np.isnan(getattr(g, "data", g))) else "Inf"
            inputs = [getattr(p, "data", p) for p in ctx.parents]
            site = getattr(ctx, "creation_site", "<unknown>")
            raise AnomalyError(
                f"{type(ctx).__name__} backward produced {kind} in the gradient of input {i} "
                f"(input shapes ({_shapes(inputs)})); the op was created at {site}"
            )

"""`detect_anomaly()`: stop at the first NaN or Inf that any op's forward or backward makes.

    with detect_anomaly():
        loss = model(x).log().mean()      # AnomalyError here if log meets a negative number
        loss.backward()                   # ... or here, naming the op whose backward made it

The error names the op, its input shapes, the first bad element, and the line of
user code that created the node. Creation sites are captured only inside the mode:
outside it `Function.apply` and the backward loop pay one flag test each, nothing more.

How it plugs in: the engine knows nothing of this module. `detect_anomaly()`
installs a `_Detector` as the engine's observer (`engine.mode.state.anomaly`), whose
`check_forward` the engine calls after every forward and `check_backward` after every
backward rule; the node whose backward rule is running is `state.backward_node`.
"""

from __future__ import annotations

import linecache
import math
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from tinygrad_div.engine.mode import state

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: filename -> True when the file belongs to this package (frames to skip when looking for user code)
_is_package_file: dict[str, bool] = {}

Site = tuple[str, int]  # (filename, line number) of the user code that created a node


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared; the message names the op, its input shapes and where its node was created."""


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `AnomalyError` at the first NaN/Inf produced by any op's forward or backward.

    Slows every op down (each one records its creation site and scans its output),
    so use it to find a bug, not to train.
    """
    previous = state.anomaly
    state.anomaly = _DETECTOR
    try:
        with np.errstate(all="ignore"):  # the AnomalyError says more than numpy's RuntimeWarning would
            yield
    finally:
        state.anomaly = previous


# -- the observer the engine calls ------------------------------------------------------------
class _Detector:
    """The engine's observer while the mode is on (see `engine.mode.Observer`)."""

    __slots__ = ()

    def check_forward(self, op: type, ctx: Any, datas: Sequence[Any], out: Any) -> None:
        """Remember where the node was created; raise if its output is the first NaN/Inf in sight."""
        site = user_site()
        ctx.creation_site = site
        if _finite(out):
            return
        for i, d in enumerate(datas):
            if not _finite(d):
                # The op only passed it on. Inside the mode an op that made it would have been
                # stopped already, so it came from data or from work done outside the mode.
                raise AnomalyError(
                    f"{op.__name__} forward received {_describe(d)} in input {i}, input shapes {_shapes(datas)}, "
                    f"at {format_site(site)}; it was already there: in the data, or computed outside detect_anomaly()"
                )
        raise AnomalyError(
            f"{op.__name__} forward produced {_describe(out)} from finite inputs, input shapes {_shapes(datas)}, "
            f"at {format_site(site)}{_inside_backward()}"
        )

    def check_backward(self, ctx: Any, grads: Sequence[Any], upstream: Any) -> None:
        """Raise if `ctx`'s backward rule turned a finite upstream gradient into a NaN/Inf one."""
        if not _finite(_data(upstream)):
            return  # the op that made the bad upstream gradient was checked (and blamed) before this one
        parents = ctx.parents
        for i, g in enumerate(grads):
            if g is None or not getattr(parents[i], "requires_grad", False):
                continue  # a gradient the engine throws away cannot do harm
            if not _finite(_data(g)):
                inputs = [_data(p) for p in parents]
                raise AnomalyError(
                    f"{type(ctx).__name__} backward produced {_describe(_data(g))} in the gradient of input {i} "
                    f"from a finite upstream gradient, input shapes {_shapes(inputs)}; {_created_at(ctx)}"
                )


_DETECTOR = _Detector()


# -- where user code created a node -----------------------------------------------------------
def user_site() -> Site | None:
    """(file, line) of the innermost caller outside this package; the line's text is read only on error."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        inside = _is_package_file.get(filename)
        if inside is None:
            inside = _is_package_file[filename] = os.path.abspath(filename).startswith(_PACKAGE_DIR)
        if not inside:
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


def format_site(site: Site | None) -> str:
    """`file:line: code` for a site captured by the mode."""
    if site is None:
        return "<unknown line>"
    filename, line = site
    code = linecache.getline(filename, line).strip()
    return f"{filename}:{line}: {code}" if code else f"{filename}:{line}"


def _created_at(ctx: Any) -> str:
    site = ctx.creation_site
    if site is None:
        return "the node was created outside detect_anomaly() (create the graph inside the mode to see its line)"
    return f"the node was created at {format_site(site)}"


def _inside_backward() -> str:
    """When a backward rule runs ops (create_graph=True), name the node whose backward it is."""
    ctx = state.backward_node
    if ctx is None:
        return ""
    return f", while running the backward of {type(ctx).__name__} ({_created_at(ctx)})"


# -- describing data --------------------------------------------------------------------------
def _data(x: Any) -> Any:
    return getattr(x, "data", x)  # a Value's data, or raw data as is


def _finite(x: Any) -> bool:
    if type(x) is float:
        return math.isfinite(x)
    return bool(np.all(np.isfinite(x)))


def _describe(x: Any) -> str:
    """'NaN' or 'Inf', and for arrays the first element that is."""
    if np.ndim(x) == 0:
        return "NaN" if math.isnan(float(x)) else "Inf"
    first = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
    kind = "NaN" if math.isnan(x[first]) else "Inf"
    return f"{kind} (first at element {first})"


def _shapes(datas: Sequence[Any]) -> str:
    return "[" + ", ".join(str(np.shape(d)) for d in datas) + "]"

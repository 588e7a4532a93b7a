"""The helpers a compiled program may call besides numpy: the engine's own exact primitives.

Each is the very function (or the very few lines) the eager engine runs at that
point, so a program line that calls one computes the same bits as eager.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_div.engine.ops.numeric import divide, power
from tinygrad_div.engine.ops.shape import expand, sum_to_shape
from tinygrad_div.engine.value import Value, to_data

_ndarray = np.ndarray
_F64 = np.dtype(np.float64)


def sum_to(g: Any, target: tuple) -> Any:
    """A gradient summed over the axes broadcasting added (the engine's fit of a gradient to its input)."""
    out = sum_to_shape(np.asarray(g, dtype=np.float64), target)
    return float(out) if target == () else out


def same_bits(a: Any, b: Any) -> bool:
    """True when a and b are the same float64 data to the last bit (arrays: shape too; nan payloads too)."""
    if isinstance(a, _ndarray) or isinstance(b, _ndarray):
        if not (isinstance(a, _ndarray) and isinstance(b, _ndarray)) or a.shape != b.shape:
            return False
        return np.ascontiguousarray(a, dtype=np.float64).tobytes() == np.ascontiguousarray(b, np.float64).tobytes()
    if a is None or b is None:
        return a is b
    return np.float64(a).tobytes() == np.float64(b).tobytes()


class _Input(Value):
    """What a replayed op's `ctx.parents` holds: a Value that carries requires_grad and no data.

    So `ctx.needs_input_grad` reads what eager's does. A backward rule that reads its
    inputs' data through `ctx.parents` instead of saving it with `save_for_backward`
    would compute from stale trace-time data in a compiled program; here it fails
    instead (the tracer turns that into a TraceError).
    """

    __slots__ = ()

    @property
    def data(self) -> Any:
        raise AttributeError("ctx.parents[i].data is not available to a compiled backward: save it in forward")


def replay_forward(op: type, needs: tuple, *datas: Any, **params: Any) -> tuple[Any, Any]:
    """Run `op.forward` as `Function.apply` does (same output normalisation); return (output, ctx)."""
    ctx = object.__new__(op)
    ctx.parents = needs
    out = op.forward(ctx, *datas, **params)
    if type(out) is not float and (type(out) is not _ndarray or out.dtype is not _F64 or not out.ndim):
        if isinstance(out, Value):
            raise TypeError(f"{op.__name__}.forward must return raw data (a float or ndarray), not a Value")
        out = to_data(out)
    return out, ctx


def replay_backward(ctx: Any, g: Any) -> tuple:
    """Run the op's own backward on what its replayed forward saved, as a tuple (one per input)."""
    grads = ctx.backward(ctx, g)
    if type(grads) is not tuple:
        grads = tuple(grads) if type(grads) is list else (grads,)
    return grads


def needs(*flags: bool) -> tuple:
    """`ctx.parents` for a replayed op: one stand-in Value per input, carrying only requires_grad."""
    stand_ins = []
    for flag in flags:
        v = object.__new__(_Input)
        v.requires_grad = flag
        stand_ins.append(v)
    return tuple(stand_ins)


class Retrace(Exception):  # noqa: N818  (a signal, not an error: the caller traces again)
    """Raised by a program's guard: something the trace assumed (a mask's selection count) no longer holds."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where, self.what = where, what


def guard(value: Any, shape: tuple, where: str) -> None:
    """The guard's slow path (the program tests `value.shape != shape` inline): raise Retrace."""
    raise Retrace(where, f"an output of shape {np.shape(value)} where the trace had {shape}")


#: everything a program's source may name besides its own constants
NAMESPACE = {
    "np": np, "math": math, "inf": math.inf, "nan": math.nan,
    "divide": divide, "power": power, "expand": expand, "sum_to": sum_to,
    "replay_forward": replay_forward, "replay_backward": replay_backward, "guard": guard,
}

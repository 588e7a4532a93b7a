"""The engine's global state, read by every op: recording on or off, the anomaly observer, the running node.

One small mutable object rather than several module globals, so the hot path in
`Function.apply` pays a single attribute read per switch. The state is
process-wide, not per thread (PyTorch's is per thread): `no_grad()` in one thread
stops recording in all of them.

The engine depends on no tool: a tool that wants to watch every op (anomaly
detection, in `tinygrad_div.anomaly`) installs an `Observer` in `state.anomaly`, and
learns which node's backward rule is running from `state.backward_node`, which the
backward loop keeps up to date; a tool that records ops as a program (`tinygrad_div.compile`,
`tinygrad_div.onnx`) installs a `Tracer` in `state.tracer`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Observer(Protocol):
    """What the engine calls while `state.anomaly` holds one (see tinygrad_div.anomaly)."""

    def check_forward(self, op: type, ctx: Any, datas: Sequence[Any], out: Any) -> None:
        """After every forward: `ctx` is the node (recorded or not: every op gets a fresh one)."""

    def check_backward(self, ctx: Any, grads: Sequence[Any], upstream: Any) -> None:
        """After every backward rule: `grads` has one entry per input of `ctx`."""


class Tracer(Protocol):
    """What the engine calls while `state.tracer` holds one: a tool recording a step as a program
    (tinygrad_div.compile) or a model as a graph (tinygrad_div.onnx)."""

    def record(self, op: type, inputs: tuple, params: dict, out: Any) -> None:
        """After every op (Function.apply): `out` is its Value, `out.grad_fn` its node or None."""

    def compare(self, symbol: str, a: Any, b: Any, out: Any) -> Any:
        """After every comparison (engine.ops.compare): returns the mask to use in place of `out`."""

    def refuse(self, what: str) -> None:
        """Before data leaves a Value as a Python value (float(v), v.item(), bool(v), np.asarray(v), ...):
        raise if the recording cannot keep it, else return."""


class _State:
    __slots__ = ("grad_enabled", "anomaly", "backward_node", "tracer", "data_changed")

    def __init__(self) -> None:
        self.grad_enabled = True  # record new ops for backpropagation
        self.anomaly: Observer | None = None  # None, or the observer that checks every op
        self.backward_node: Any = None  # the node whose backward rule is running; None outside backward
        self.tracer: Tracer | None = None  # while a tool records (compile, onnx): told of every op
        self.data_changed = 0  # the clock at the latest change of any Value's data (Value.increment_version)


state = _State()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backpropagation."""
    return state.grad_enabled


class set_grad_enabled:  # noqa: N801  (named like the function it replaces in PyTorch)
    """Context manager (or decorator): record ops inside it or not, restoring the mode after.

    A small class rather than @contextmanager: entering and leaving costs a fraction
    of a microsecond, so a `no_grad()` block around a single op stays cheap.
    """

    __slots__ = ("enabled", "previous")

    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)
        self.previous = True

    def __enter__(self) -> None:
        self.previous = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        state.grad_enabled = self.previous

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(self.enabled):
                return fn(*args, **kwargs)

        return wrapper


def no_grad() -> set_grad_enabled:
    """Operations inside record nothing (inference, optimizer updates): `with no_grad():` or `@no_grad()`."""
    return set_grad_enabled(False)


def enable_grad() -> set_grad_enabled:
    """Re-enable recording inside a `no_grad()` block."""
    return set_grad_enabled(True)

"""Global switches read by every op: whether to record the graph, and anomaly detection.

One small mutable object rather than several module globals, so the hot path in
`Function.apply` pays a single attribute read per switch. The switches are
process-wide, not per thread (PyTorch's are per thread): `no_grad()` in one thread
stops recording in all of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


class _Mode:
    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False


state = _Mode()


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

"""Global switches read by every op: whether to record the graph, and anomaly detection.

One small mutable object rather than several module globals, so the hot path in
`Function.apply` pays a single attribute read per switch. The switches are
process-wide, not per thread (PyTorch's are per thread): `no_grad()` in one thread
stops recording in all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


class _Mode:
    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False


state = _Mode()


def is_grad_enabled() -> bool:
    """True when new operations are recorded for backpropagation."""
    return state.grad_enabled


@contextmanager
def set_grad_enabled(enabled: bool) -> Iterator[None]:
    previous = state.grad_enabled
    state.grad_enabled = bool(enabled)
    try:
        yield
    finally:
        state.grad_enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Context manager: operations inside record nothing (inference, optimizer updates)."""
    return set_grad_enabled(False)


def enable_grad() -> AbstractContextManager[None]:
    """Context manager: re-enable recording inside a `no_grad()` block."""
    return set_grad_enabled(True)

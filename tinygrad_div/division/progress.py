"""A tiny progress bar for long training runs (no dependency; draws on one line with carriage returns)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class ProgressBar:
    """Call with (done, total) after each step; the bar appears only once a run has taken `delay` seconds.

    Short runs therefore print nothing at all, and a long run redraws at most
    `1 / interval` times a second, so updating after every step costs next to nothing.
    """

    def __init__(self, stream: TextIO | None = None, *, delay: float = 2.0, interval: float = 0.1,
                 width: int = 30, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.delay, self.interval, self.width = delay, interval, width
        self.clock = clock
        self.started = clock()
        self.last_draw: float | None = None  # None until the bar has been shown

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        elapsed = now - self.started
        if elapsed < self.delay:
            return
        if self.last_draw is not None and now - self.last_draw < self.interval and done < total:
            return
        self.last_draw = now
        self.stream.write("\r" + self.render(done, total, elapsed))
        self.stream.flush()

    def render(self, done: int, total: int, elapsed: float) -> str:
        """E.g. `[##########--------------------]  33% 2640/8000  1.2s elapsed, 2.4s left`."""
        fraction = done / total if total else 1.0
        filled = int(fraction * self.width)  # full only when done
        left = f"{elapsed * (1 - fraction) / fraction:.1f}s" if fraction else "?"
        return (f"[{'#' * filled}{'-' * (self.width - filled)}] {fraction:4.0%} {done}/{total}"
                f"  {elapsed:.1f}s elapsed, {left} left")

    def close(self) -> None:
        """End the bar's line, if it was ever drawn."""
        if self.last_draw is not None:
            self.stream.write("\n")
            self.stream.flush()

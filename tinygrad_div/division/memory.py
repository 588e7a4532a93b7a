"""Memory probing: refuse, up front and in one line, sizes this machine cannot hold.

The estimates are generous upper bounds on a run's peak, in bytes: `training_bytes`
for `train`, `graph_bytes` for drawing one sample's graph. Both count the network's
parameters with `parameter_count`, the one place that arithmetic lives.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from tinygrad_div.division import data

#: Pairs drawn from the wider range to score extrapolation.
WIDE_COUNT = 2_000


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a fully connected network with these layer sizes: Σ (n_in + 1)·n_out."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))


def training_bytes(samples: int, sizes: Sequence[int], epochs: int, batch_size: int,
                   test_fraction: float = data.TEST_FRACTION) -> int:
    """A training run's peak: the pairs, every step's loss, the parameters with their gradients and
    optimizer state, and a whole scored set through the network at once."""
    n_train, _ = data.split_sizes(samples, test_fraction)
    steps = epochs * -(-n_train // batch_size)
    rows = max(n_train, WIDE_COUNT)
    floats = 16 * samples + steps + 4 * parameter_count(sizes) + 4 * rows * sum(sizes)
    return 8 * floats


def graph_bytes(samples: int, sizes: Sequence[int]) -> int:
    """Drawing one sample's graph: the drawn pairs, and every parameter with its gradient and the arrays
    the ops save (one sample's activations are small)."""
    return 8 * (16 * samples + 4 * parameter_count(sizes) + 8 * sum(sizes))


def memory_problem(needed: int, what: str) -> str | None:
    """"{what} would need about X GiB of memory, more than the Y GiB this machine has", or None when it fits.

    The caller appends its advice (which settings to lower), in its own words.
    """
    available = _physical_memory()
    if available is None or needed <= available:
        return None
    return (f"{what} would need about {_gigabytes(needed)} of memory, "
            f"more than the {_gigabytes(available)} this machine has")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: the run finds out itself
        return None


def _gigabytes(size: int) -> str:
    return f"{size / 2**30:.3g} GiB"

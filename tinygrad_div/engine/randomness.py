"""Where random numbers come from: one default numpy Generator, reseeded by `manual_seed`, or one you pass.

    td.manual_seed(0)                          # every draw that is given no generator now repeats
    net = nn.Linear(4, 2)                      # drawn from the default generator
    rng = np.random.default_rng(1)
    net = nn.Linear(4, 2, rng=rng)             # drawn from yours (init, dropout, shuffling alike)

`manual_seed` reseeds the default generator in place (the object stays the same), so
code that draws later, layer init, dropout masks and DataLoader shuffles, sees the
seeded stream. The same seed and the same sequence of draws give the same numbers,
bit for bit. As `torch.manual_seed`, but the stream is numpy's PCG64, not torch's.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

#: The generator every draw without an explicit one uses; unseeded (OS entropy) until `manual_seed`.
_DEFAULT = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator with `seed` (an integer >= 0) and return it, as `torch.manual_seed`."""
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        raise TypeError(f"manual_seed takes an integer, got {type(seed).__name__} {seed!r}")
    seed = operator.index(seed)
    if seed < 0:
        raise ValueError(f"manual_seed takes an integer >= 0, got {seed}")
    _DEFAULT.bit_generator.state = np.random.PCG64(seed).state
    return _DEFAULT


def default_generator() -> np.random.Generator:
    """The generator used wherever none is given (the one `manual_seed` reseeds)."""
    return _DEFAULT


def generator_argument(generator: Any, what: str) -> np.random.Generator:
    """`generator` if it is a numpy Generator, the default one for None, else a one-line TypeError naming `what`."""
    if generator is None:
        return _DEFAULT
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{what} must be a numpy Generator (np.random.default_rng(seed)) or None, "
                    f"got {type(generator).__name__} {generator!r}")

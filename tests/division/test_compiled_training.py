"""`train` runs each step as a td.compile program by default; `--eager` gives the very same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_div.division.config import TrainConfig
from tinygrad_div.division.training import train


@pytest.mark.parametrize("hidden, batch", [((), 1), ((8,), 1), ((8,), 16)])
def test_compiled_and_eager_training_give_identical_weights_and_losses(hidden, batch):
    runs = [train(TrainConfig(samples=300, hidden=hidden, batch_size=batch, compiled=c)) for c in (True, False)]
    compiled, eager = runs
    assert np.array_equal(compiled.losses, eager.losses)
    for a, b in zip(compiled.divider.model.parameters(), eager.divider.model.parameters()):
        assert np.array_equal(a.data, b.data)

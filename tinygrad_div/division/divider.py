"""`Divider`: a trained network that divides, and how its output is read back as a quotient.

Loading a model file needs this module and `nn`, never the training loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tinygrad_div.division import data
from tinygrad_div.division.data import TRAIN_RANGE, InputKind
from tinygrad_div.engine.mode import no_grad
from tinygrad_div.nn import MLP


@dataclass
class Divider:
    """A network that divides: the MLP, which inputs it takes, and the range it was trained on."""

    model: MLP
    inputs: InputKind
    train_range: tuple[float, float] = TRAIN_RANGE

    def outputs(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The last layer's net (before its sigmoid) and the network's output t = σ(net), a column each."""
        with no_grad():
            net = self.model.net(data.features(a, b, self.inputs))
            return np.asarray(net.data), np.asarray(net.sigmoid().data)

    def encoded(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The network's output t for each pair (a column per output; one here)."""
        return self.outputs(a, b)[1]

    def quotients(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The predicted a/b for each pair: e^net, from the last layer's net before its sigmoid.

        The output is t = σ(net) and the target t = a/(a + b), so a/b = t/(1 − t) = e^net
        exactly. Decoding t itself would lose digits: 1 − t cancels, by about q·eps for a
        quotient q (10% at 1e15), while e^net is as accurate as net. A net beyond ln(max
        float), about 709.8, gives inf.
        """
        return quotients_of(self.outputs(a, b)[0][..., 0])

    def pair_problem(self, a: float, b: float) -> str | None:
        """Why this network cannot divide a by b, or None when it can."""
        if b == 0:
            return "cannot divide by zero (b = 0)"
        if self.inputs == "log" and (a <= 0 or b <= 0):
            return f"this model takes log inputs, so a and b must be > 0 (got a={a:g}, b={b:g})"
        if a <= 0 or b < 0:
            # the quotient is read back as e^net, which is positive
            return f"this network divides positive numbers only (got a={a:g}, b={b:g})"
        if not math.isfinite(a / b):
            return f"a/b = {a:g}/{b:g} overflows float64"
        if a / b < data.SMALLEST_NORMAL:
            return (f"a/b = {a:g}/{b:g} underflows float64: below {data.SMALLEST_NORMAL:.3g} a quotient "
                    "keeps too few significant digits")
        return None


def quotients_of(net: np.ndarray) -> np.ndarray:
    """q = e^net, the quotient a sigmoid output σ(net) encodes (inf where it overflows float64)."""
    with np.errstate(over="ignore"):
        return np.exp(np.asarray(net, dtype=np.float64))

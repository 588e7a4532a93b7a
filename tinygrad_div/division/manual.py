"""The notes' backprop by hand: every derivative written out, in the notes' own terms (numpy only, no Values).

The terms, for a sigmoid layer x (the notes number layers from the output: layer 1
is the last one):

    in_x    the layer's input (the previous layer's out, or the data)
    net_x   in_x · w_x + b_x, the weighted sum going into the sigmoid
    s_x     σ(net_x), the layer's output, also written out_x (so "ds" is "d out")
    label   the target;  out = s_1, the network's prediction
    cost    = label − out                E = ½ · cost²

and the pieces of the chain rule:

    dE/ds        = −cost             (= out − label: positive when the prediction is too high)
    ds/dnet      = out · (1 − out)
    dnet/dw      = in
    dnet/db      = 1
    dnet/d(in)   = w                 (the notes' "dnet/ds": how net_x moves with the layer below's output)

The notes' plan for training without batches: "a single recursive function. We go
down the net making predictions, we return the derivative chain on the way back
up." That is `Layer.train`. `tinygrad_div.nn` builds the same network from Value
nodes; the tests check the two against each other and against finite differences.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

# -- the notes' first, simpler model ----------------------------------------------------


class LinearModel:
    """The notes' warm-up: prediction p = b + w·d, cost c = p − t, error E = ½·c².

    The notes' "dc = d(b + (w * d) − t)" read as a differential is dc = db + d·dw,
    so dc/dw = d and dc/db = 1, and with dE/dc = c the chain gives dE/dw = c·d,
    dE/db = c. (Here the cost is prediction minus truth, the opposite sign of the
    sigmoid network's cost = label − out; E is the same either way.)
    """

    def __init__(self, w: float = 0.0, b: float = 0.0) -> None:
        self.w, self.b = float(w), float(b)

    def predict(self, d: Any) -> Any:
        return self.b + self.w * d

    def cost(self, d: Any, t: Any) -> Any:
        return self.predict(d) - t

    def error(self, d: Any, t: Any) -> Any:
        return 0.5 * self.cost(d, t) ** 2

    def gradients(self, d: float, t: float) -> tuple[float, float]:
        """(dE/dw, dE/db) = (c · dc/dw, c · dc/db) = (c·d, c)."""
        c = self.cost(d, t)
        return c * d, c * 1.0

    def train(self, d: float, t: float, rate: float) -> float:
        """One step of gradient descent on one sample; returns the error before the step."""
        error = self.error(d, t)
        dE_dw, dE_db = self.gradients(d, t)
        self.w -= rate * dE_dw
        self.b -= rate * dE_db
        return error


# -- the formulas, one function each ----------------------------------------------------


def sigmoid(net: Any) -> Any:
    """s = 1/(1 + e^−net), computed from e^−|net| so no input overflows."""
    net = np.asarray(net, dtype=np.float64)
    z = np.exp(-np.abs(net))
    return np.where(net >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def cost(label: Any, out: Any) -> Any:
    """cost = label − out"""
    return label - out


def error(label: Any, out: Any) -> float:
    """E = ½ · cost², summed over the output neurons."""
    return float(0.5 * np.sum(cost(label, out) ** 2))


def dE_ds(label: Any, out: Any) -> Any:
    """dE/ds = −cost. The notes' "THIS MAY BE POSITIVE": it is out − label, positive when out > label."""
    return -cost(label, out)


def ds_dnet(out: Any) -> Any:
    """ds/dnet = out·(1 − out), the sigmoid's derivative written with its output.

    Exact in algebra, but in float64 `out` rounds to 1 once net ≳ 36.7 and the
    product becomes 0 while the true derivative is still e^−net; the engine's
    Sigmoid uses σ(net)·σ(−net) instead, which keeps full precision.
    """
    return out * (1.0 - out)


def dnet_dw(inputs: Any) -> Any:
    """dnet/dw = in (net = in·w + b)."""
    return inputs


#: dnet/db = 1 (net = in·w + b)
DNET_DB = 1.0


def dnet_din(weight: Any) -> Any:
    """dnet/d(in) = w: how a layer's net moves with the output of the layer below (the notes' dnet/ds)."""
    return weight


# -- the network ------------------------------------------------------------------------


class Layer:
    """The notes' `class layer`: numpy weights and bias, `predict` and a recursive `train`.

    Layers are chained through `next_layer` (toward the output), so `predict` and
    `train` called on the first layer run through the whole net. `weight` has
    shape (n_in, n_out) and `bias` (n_out,): net = in @ weight + bias, the same
    attributes and shapes as the autograd layer, `tinygrad_div.nn.Layer`.
    """

    def __init__(self, weight: Any, bias: Any, next_layer: Layer | None = None) -> None:
        self.weight = np.array(weight, dtype=np.float64)
        self.bias = np.array(bias, dtype=np.float64)
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[1],):
            raise ValueError(f"weight must be (n_in, n_out) and bias (n_out,), "
                             f"got {self.weight.shape} and {self.bias.shape}")
        if next_layer is not None and next_layer.weight.shape[0] != self.weight.shape[1]:
            raise ValueError(f"this layer has {self.weight.shape[1]} outputs, "
                             f"the next one takes {next_layer.weight.shape[0]} inputs")
        self.next_layer = next_layer

    def layers(self) -> Iterator[Layer]:
        """This layer and every layer above it, input side first."""
        layer: Layer | None = self
        while layer is not None:
            yield layer
            layer = layer.next_layer

    def predict(self, inputs: Any) -> np.ndarray:
        """Run down the net from this layer: each layer's out is the next one's in."""
        out = sigmoid(np.asarray(inputs, dtype=np.float64) @ self.weight + self.bias)
        return out if self.next_layer is None else self.next_layer.predict(out)

    def train(self, inputs: Any, label: Any, rate: float) -> np.ndarray:
        """One sample, one step: go down making predictions, update on the way back up.

        Returns the derivative chain dE/d(inputs), which is what the layer below
        needs. Each layer passes that chain down with its weights from before its
        own update, so this is exactly one step of gradient descent.
        """
        return self._descend(np.asarray(inputs, dtype=np.float64), np.asarray(label, dtype=np.float64), rate, [])

    def gradients(self, inputs: Any, label: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        """(dE/dweight, dE/dbias) of every layer, input side first, without changing anything."""
        grads: list[tuple[np.ndarray, np.ndarray]] = []
        self._descend(np.asarray(inputs, dtype=np.float64), np.asarray(label, dtype=np.float64), None, grads)
        return grads[::-1]  # collected on the way up, i.e. output layer first

    def _descend(self, inputs: np.ndarray, label: np.ndarray, rate: float | None, grads: list) -> np.ndarray:
        out = sigmoid(inputs @ self.weight + self.bias)  # on the way down: this layer's prediction
        if self.next_layer is None:
            chain = dE_ds(label, out)  # the top of the chain: dE/ds of the network's output
        else:
            chain = self.next_layer._descend(out, label, rate, grads)  # dE/d(out) from the layers above
        dE_dnet = chain * ds_dnet(out)
        dE_dweight = np.outer(dnet_dw(inputs), dE_dnet)
        dE_dbias = dE_dnet * DNET_DB
        chain_down = dnet_din(self.weight) @ dE_dnet  # dE/d(in) = Σ_j w_ij · dE/dnet_j
        grads.append((dE_dweight, dE_dbias))
        if rate is not None:
            self.weight -= rate * dE_dweight
            self.bias -= rate * dE_dbias
        return chain_down

    def __repr__(self) -> str:
        sizes = [self.weight.shape[0]] + [layer.weight.shape[1] for layer in self.layers()]
        return f"manual.Layer(sizes={sizes})"


def network(sizes: Sequence[int], seed: int | None = None) -> Layer:
    """A chain of layers for `sizes` = [n_inputs, hidden..., n_outputs], weights uniform in ±1/√n_in.

    Returns the first (input-side) layer; call `predict` and `train` on it.
    """
    if len(sizes) < 2:
        raise ValueError(f"a network needs at least an input and an output size, got {list(sizes)}")
    rng = np.random.default_rng(seed)
    shapes = list(zip(sizes, sizes[1:]))
    arrays = []
    for n_in, n_out in shapes:
        bound = 1.0 / np.sqrt(n_in)
        arrays.append((rng.uniform(-bound, bound, size=(n_in, n_out)), rng.uniform(-bound, bound, size=n_out)))
    top: Layer | None = None
    for weight, bias in reversed(arrays):
        top = Layer(weight, bias, next_layer=top)
    assert top is not None
    return top

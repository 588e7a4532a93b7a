"""The notes' network built from Value nodes: sigmoid layers, a stack of them, and the squared-error loss.

    net = MLP([2, 1])                       # the notes' one sigmoid layer: 2 inputs, 1 output
    loss = mse_loss(net(x), target)
    loss.backward()                         # every parameter's .grad is filled by autograd

This module shares no code with `tinygrad_div.division.manual` (the notes' hand-derived
chain rule): the two are checked against each other and against finite differences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.value import Value


class Layer:
    """A fully connected sigmoid layer: out = σ(in @ weight + bias).

    `weight` has shape (n_in, n_out) so a single sample (n_in,) and a batch
    (batch, n_in) both go through the same `in @ weight`.
    """

    def __init__(self, n_in: int, n_out: int, *, rng: np.random.Generator | None = None) -> None:
        if n_in < 1 or n_out < 1:
            raise ValueError(f"a layer needs at least one input and one output, got {n_in} -> {n_out}")
        rng = np.random.default_rng() if rng is None else rng
        # PyTorch's default for linear layers: uniform in ±1/√fan_in keeps σ's input
        # near 0, where the sigmoid is steepest, whatever the layer width.
        bound = 1.0 / np.sqrt(n_in)
        self.weight = Value(rng.uniform(-bound, bound, size=(n_in, n_out)))
        self.bias = Value(rng.uniform(-bound, bound, size=n_out))

    @classmethod
    def from_arrays(cls, weight: Any, bias: Any) -> Layer:
        """A layer with the given weight (n_in, n_out) and bias (n_out,), copied."""
        weight, bias = np.array(weight, dtype=np.float64), np.array(bias, dtype=np.float64)
        if weight.ndim != 2 or bias.shape != (weight.shape[1],):
            raise ValueError(f"weight must be (n_in, n_out) and bias (n_out,), got {weight.shape} and {bias.shape}")
        layer = cls.__new__(cls)
        layer.weight, layer.bias = Value(weight), Value(bias)
        return layer

    @property
    def n_in(self) -> int:
        return self.weight.shape[0]

    @property
    def n_out(self) -> int:
        return self.weight.shape[1]

    def __call__(self, x: Any) -> Value:
        return self.net(x).sigmoid()

    def net(self, x: Any) -> Value:
        """The weighted sum before the sigmoid, net = in @ weight + bias (the notes' net_x)."""
        if not isinstance(x, Value):
            x = Value(x, requires_grad=False)
        return x @ self.weight + self.bias

    def parameters(self) -> list[Value]:
        return [self.weight, self.bias]

    def __repr__(self) -> str:
        return f"Layer({self.n_in} -> {self.n_out}, sigmoid)"


class MLP:
    """Sigmoid layers applied in turn; `sizes` = [n_inputs, hidden..., n_outputs].

    `MLP([2, 1])` is the notes' single neuron; `MLP([2, 8, 1])` adds one hidden layer.
    """

    def __init__(self, sizes: Sequence[int], *, seed: int | None = None) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"an MLP needs at least an input and an output size, got {sizes}")
        rng = np.random.default_rng(seed)
        self.layers = [Layer(n_in, n_out, rng=rng) for n_in, n_out in zip(sizes, sizes[1:])]

    @classmethod
    def from_layers(cls, layers: Sequence[Layer]) -> MLP:
        """An MLP made of existing layers, each one's outputs feeding the next one's inputs."""
        layers = list(layers)
        if not layers:
            raise ValueError("an MLP needs at least one layer")
        for i, (lower, upper) in enumerate(zip(layers, layers[1:])):
            if lower.n_out != upper.n_in:
                raise ValueError(f"layer {i} has {lower.n_out} outputs but layer {i + 1} takes {upper.n_in} inputs")
        net = cls.__new__(cls)
        net.layers = layers
        return net

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    def __call__(self, x: Any) -> Value:
        return self.net(x).sigmoid()

    def net(self, x: Any) -> Value:
        """The last layer's weighted sum before its sigmoid: the network's output is σ of this."""
        for layer in self.layers[:-1]:
            x = layer(x)
        return self.layers[-1].net(x)

    def parameters(self) -> list[Value]:
        """Every weight and bias, input layer first (the order `optim.SGD` and model files use)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP({self.sizes}, sigmoid)"


def mse_loss(prediction: Value, target: Any) -> Value:
    """Mean squared error, mean((prediction − target)²), for a target of the prediction's shape (or a number).

    The notes' error is E = ½·cost² per sample; the mean drops the ½ (and averages a
    batch), which only rescales the gradient, i.e. the learning rate.
    """
    target_shape = np.shape(target.data if isinstance(target, Value) else target)
    if target_shape not in ((), prediction.shape):
        # e.g. (n, 1) against (n,) would broadcast to (n, n): every prediction against every target
        raise ShapeError(f"mse_loss: prediction of shape {prediction.shape} and target of shape {target_shape} "
                         "differ; broadcasting them would compare every prediction with every target")
    return ((prediction - target) ** 2).mean()

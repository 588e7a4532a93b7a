"""Layers in PyTorch's shape: `Linear`, the activations, `Sequential`, and `MLP` built from them.

    net = MLP([2, 1])                                  # the notes' network: one sigmoid neuron, 2 inputs
    net = MLP([64, 128, 10], activation="relu", output=None)   # a classifier's logits
    loss = mse_loss(net(x), target)
    loss.backward()                                    # every parameter's .grad is filled by autograd

`Linear` stores its weight as (n_out, n_in), as `torch.nn.Linear` does, so a
state_dict maps one to one onto PyTorch's. This module shares no code with
`tinygrad_div.division.manual` (the notes' hand-derived chain rule): the two are
checked against each other and against finite differences.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from tinygrad_div.engine import ops
from tinygrad_div.engine.ops.functional import flatten
from tinygrad_div.engine.randomness import default_generator, generator_argument
from tinygrad_div.engine.value import Value
from tinygrad_div.nn import functional as F
from tinygrad_div.nn.functional import linear
from tinygrad_div.nn.module import Module


def size_argument(what: str, value: Any) -> int:
    """`value` as a positive int, or a one-line TypeError/ValueError naming `what`."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__} {value!r}")
    value = operator.index(value)
    if value < 1:
        raise ValueError(f"{what} must be >= 1, got {value}")
    return value


class Linear(Module):
    """y = x @ weightᵀ + bias, with weight (n_out, n_in) and bias (n_out,), as `torch.nn.Linear`.

    Initialised as PyTorch does (kaiming_uniform_ with a=√5, which is): weight and bias
    uniform in ±1/√n_in, which keeps a sigmoid's input near 0, where it is steepest,
    whatever the width. `rng`, a numpy Generator, is where the numbers come from; by
    default the generator `td.manual_seed` seeds. They are drawn in (n_in, n_out)
    order, then stored transposed: the notes' network, seeded, keeps the weights (and
    so the training run) it always had.
    """

    def __init__(self, n_in: int, n_out: int, bias: bool = True, *, rng: np.random.Generator | None = None) -> None:
        n_in, n_out = size_argument("Linear's n_in", n_in), size_argument("Linear's n_out", n_out)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear's bias must be True or False, got {type(bias).__name__} {bias!r}")
        rng = generator_argument(rng, "Linear's rng")
        bound = 1.0 / np.sqrt(n_in)
        self.weight = Value(np.ascontiguousarray(rng.uniform(-bound, bound, size=(n_in, n_out)).T))
        self.bias = Value(rng.uniform(-bound, bound, size=n_out)) if bias else None

    @classmethod
    def from_arrays(cls, weight: Any, bias: Any = None) -> Linear:
        """A layer with the given weight (n_out, n_in) and bias (n_out,) or None, copied."""
        weight = np.array(weight, dtype=np.float64)
        if weight.ndim != 2 or 0 in weight.shape:
            raise ValueError(f"Linear's weight must be (n_out, n_in) with both >= 1, got shape {weight.shape}")
        layer = cls.__new__(cls)
        layer.weight = Value(weight)
        layer.bias = None
        if bias is not None:
            bias = np.array(bias, dtype=np.float64)
            if bias.shape != weight.shape[:1]:
                raise ValueError(f"Linear's bias must be (n_out,) = {weight.shape[:1]}, got shape {bias.shape}")
            layer.bias = Value(bias)
        return layer

    @property
    def n_in(self) -> int:
        return self.weight.shape[1]

    @property
    def n_out(self) -> int:
        return self.weight.shape[0]

    def forward(self, x: Any) -> Value:
        """One sample (n_in,) or a batch (..., n_in) to (n_out,) or (..., n_out)."""
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_out={self.n_out}, bias={self.bias is not None}"


class Sigmoid(Module):
    """y = σ(x) = 1 / (1 + e^−x), elementwise."""

    def forward(self, x: Any) -> Value:
        return ops.Sigmoid.apply(x)  # a Value, or raw data as the other layers take it


class Tanh(Module):
    """y = tanh(x), elementwise."""

    def forward(self, x: Any) -> Value:
        return ops.Tanh.apply(x)  # a Value, or raw data as the other layers take it


class ReLU(Module):
    """y = max(x, 0), elementwise (gradient 0 at x = 0, as PyTorch)."""

    def forward(self, x: Any) -> Value:
        return ops.ReLU.apply(x)  # a Value, or raw data as the other layers take it


class Identity(Module):
    """y = x: the input itself, whatever it is (a placeholder where a layer is optional)."""

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Axes start_dim..end_dim merged into one (by default all but the batch axis), as `torch.nn.Flatten`."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        for what, axis in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(axis, bool) or not hasattr(axis, "__index__"):
                raise TypeError(f"Flatten's {what} must be an integer, got {type(axis).__name__} {axis!r}")
        self.start_dim, self.end_dim = operator.index(start_dim), operator.index(end_dim)

    def forward(self, x: Value) -> Value:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class LeakyReLU(Module):
    """y = x for x >= 0, negative_slope·x below, as `torch.nn.LeakyReLU`."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Value:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """y = x·Φ(x) (the exact erf form), or its tanh approximation with approximate="tanh", as `torch.nn.GELU`."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU's approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Value:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Dropout(Module):
    """In training, each element zeroed with probability p and the rest scaled by 1/(1 − p); in eval, y = x.

    As `torch.nn.Dropout`. The masks are drawn from `rng` (a numpy Generator), or from
    the default generator that `td.manual_seed` seeds.
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"Dropout's p must be a number, got {type(p).__name__} {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout's p is a probability and must be in [0, 1], got {p}")
        self.p = float(p)
        self.rng = None if rng is None else generator_argument(rng, "Dropout's rng")

    def forward(self, x: Any) -> Value:
        return F.dropout(x, self.p, self.training, generator=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Embedding(Module):
    """Rows of weight (num_embeddings, embedding_dim) picked by integer indices, as `torch.nn.Embedding`;
    weight initialised N(0, 1) as PyTorch's, drawn from `rng` or the default generator."""

    def __init__(self, num_embeddings: int, embedding_dim: int, *, rng: np.random.Generator | None = None) -> None:
        self.num_embeddings = size_argument("Embedding's num_embeddings", num_embeddings)
        self.embedding_dim = size_argument("Embedding's embedding_dim", embedding_dim)
        rng = generator_argument(rng, "Embedding's rng")
        self.weight = Value(rng.normal(0.0, 1.0, size=(self.num_embeddings, self.embedding_dim)))

    def forward(self, indices: Any) -> Value:
        return F.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


#: The activations `MLP` takes by name.
ACTIVATIONS: dict[str, type[Module]] = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}


class Sequential(Module):
    """Modules applied in turn; their parameters are named "0.weight", "1.bias"... as in PyTorch."""

    def __init__(self, *modules: Module) -> None:
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential takes Modules, got {type(module).__name__} at position {i}")
        self._modules = list(modules)

    def named_children(self):
        for i, module in enumerate(self._modules):
            yield str(i), module

    def __getitem__(self, i: int) -> Module:
        return self._modules[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def forward(self, x: Any) -> Any:
        for module in self._modules:
            x = module(x)
        return x


Activation = str | Callable[[], Module] | None


class MLP(Sequential):
    """Linear layers with an activation between them and an `output` activation after the last.

    `sizes` = [n_inputs, hidden..., n_outputs]. The defaults are the notes' network,
    sigmoids throughout: `MLP([2, 1])` is the notes' single neuron, `MLP([2, 8, 1])`
    adds a hidden layer. `activation` and `output` are "sigmoid", "tanh", "relu", a
    Module class, or None (no activation: the output is the last layer's net, e.g. logits).
    `seed` draws the weights from np.random.default_rng(seed); None from td.manual_seed's generator.
    As a Sequential, `MLP([2, 8, 1])` has the state_dict keys of PyTorch's
    `Sequential(Linear(2, 8), Sigmoid(), Linear(8, 1), Sigmoid())`: "0.weight", ..., "2.bias".
    """

    def __init__(self, sizes: Sequence[int], activation: Activation = "sigmoid", output: Activation = "sigmoid",
                 *, seed: int | None = None) -> None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
            raise TypeError(f"MLP sizes must be a list of integers [n_inputs, ..., n_outputs], got {sizes!r}")
        sizes = [size_argument("each MLP size", n) for n in sizes]
        if len(sizes) < 2:
            raise ValueError(f"an MLP needs at least an input and an output size, got {sizes}")
        if seed is not None and (isinstance(seed, bool) or not hasattr(seed, "__index__") or seed < 0):
            raise TypeError(f"MLP's seed must be an integer >= 0 or None, got {seed!r}")
        rng = default_generator() if seed is None else np.random.default_rng(seed)
        layers = [Linear(n_in, n_out, rng=rng) for n_in, n_out in zip(sizes, sizes[1:])]
        self._build(layers, activation, output)

    @classmethod
    def from_linears(cls, layers: Sequence[Linear], activation: Activation = "sigmoid",
                     output: Activation = "sigmoid") -> MLP:
        """An MLP made of existing Linear layers, each one's outputs feeding the next one's inputs."""
        layers = list(layers)
        if not layers or not all(isinstance(layer, Linear) for layer in layers):
            raise TypeError(f"an MLP is made of at least one Linear layer, got {layers!r}")
        for i, (lower, upper) in enumerate(zip(layers, layers[1:])):
            if lower.n_out != upper.n_in:
                raise ValueError(f"layer {i} has {lower.n_out} outputs but layer {i + 1} takes {upper.n_in} inputs")
        net = cls.__new__(cls)
        net._build(layers, activation, output)
        return net

    def _build(self, layers: list[Linear], activation: Activation, output: Activation) -> None:
        _activation(activation, "activation")  # checked even when no hidden layer uses it
        modules: list[Module] = []
        for i, layer in enumerate(layers):
            last = i == len(layers) - 1
            act = _activation(output if last else activation, "output" if last else "activation")
            modules += [layer] if act is None else [layer, act]
        Sequential.__init__(self, *modules)
        self.layers = layers  # the same objects as in `modules`; named_children lists only `modules`
        self.output_activation = output is not None

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    def net(self, x: Any) -> Value:
        """The last layer's weighted sum before the output activation (the notes' net: net = w·x + b)."""
        modules = self._modules[:-1] if self.output_activation else self._modules
        for module in modules:
            x = module(x)
        return x

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"


def _activation(spec: Activation, what: str) -> Module | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ValueError(f"MLP {what} must be one of {', '.join(ACTIVATIONS)} or None, got {spec!r}")
        return ACTIVATIONS[spec]()
    if isinstance(spec, type) and issubclass(spec, Module):
        return spec()
    raise TypeError(f"MLP {what} must be a name ({', '.join(ACTIVATIONS)}), a Module class or None, got {spec!r}")

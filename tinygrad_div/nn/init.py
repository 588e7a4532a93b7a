"""Weight initialisation, as `torch.nn.init`: each function refills a Value's data in place and returns it.

    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5))   # Linear's and Conv's default
    nn.init.xavier_normal_(layer.weight, gain=nn.init.calculate_gain("tanh"))
    nn.init.zeros_(layer.bias)

Fans follow PyTorch: for a weight (out, in, k...), fan_in = in·∏k and fan_out = out·∏k
(a tensor needs two axes or more). The random ones draw from `generator` (a numpy
Generator), or from the default generator that `td.manual_seed` seeds. The numbers
are drawn in the weight's own (C) order; the stream is numpy's, not torch's, so the
values differ from PyTorch's while their distribution is the same.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_div.engine.randomness import generator_argument
from tinygrad_div.engine.value import Value

#: calculate_gain's fixed gains (leaky_relu's depends on its slope).
_GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "conv_transpose1d": 1.0,
          "conv_transpose2d": 1.0, "conv_transpose3d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3,
          "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for `nonlinearity`; leaky_relu's is √(2 / (1 + slope²)), slope `param` or 0.01."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise TypeError(f"calculate_gain: leaky_relu's negative slope must be a number, got {slope!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; "
                         f"choose from {', '.join([*_GAINS, 'leaky_relu'])}")
    return _GAINS[nonlinearity]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of `shape` (out, in, k...): (in·∏k, out·∏k), as PyTorch computes them."""
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor of 2 or more axes, got shape {tuple(shape)}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def uniform_(tensor: Value, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Value:
    """Fill with draws uniform in [a, b)."""
    rng = generator_argument(generator, "uniform_'s generator")
    return _fill(tensor, "uniform_", lambda shape: rng.uniform(a, b, size=shape))


def normal_(tensor: Value, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Value:
    """Fill with draws from N(mean, std²)."""
    rng = generator_argument(generator, "normal_'s generator")
    return _fill(tensor, "normal_", lambda shape: rng.normal(mean, std, size=shape))


def constant_(tensor: Value, val: float) -> Value:
    """Fill with `val`."""
    return _fill(tensor, "constant_", lambda shape: np.full(shape, float(val)))


def zeros_(tensor: Value) -> Value:
    return constant_(tensor, 0.0)


def ones_(tensor: Value) -> Value:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Value, gain: float = 1.0, *, generator: Any = None) -> Value:
    """Uniform in ±gain·√(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = fans(_shape(tensor, "xavier_uniform_"))
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor: Value, gain: float = 1.0, *, generator: Any = None) -> Value:
    """N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(_shape(tensor, "xavier_normal_"))
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator=generator)


def kaiming_uniform_(tensor: Value, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                     generator: Any = None) -> Value:
    """Uniform in ±gain·√(3 / fan) (He et al., 2015), fan = fan_in or fan_out by `mode`, gain of
    `nonlinearity` (slope `a` for leaky_relu). a=√5 gives ±1/√fan_in: Linear's and Conv's default."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode, "kaiming_uniform_"))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std, generator=generator)


def kaiming_normal_(tensor: Value, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", *,
                    generator: Any = None) -> Value:
    """N(0, std²) with std = gain / √fan (He et al., 2015)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode, "kaiming_normal_"))
    return normal_(tensor, 0.0, std, generator=generator)


def _fan(tensor: Value, mode: str, what: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{what}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(_shape(tensor, what))
    return fan_in if mode == "fan_in" else fan_out


def _shape(tensor: Value, what: str) -> tuple[int, ...]:
    if not isinstance(tensor, Value):
        raise TypeError(f"{what} fills a Value (a parameter), got {type(tensor).__name__}")
    return tensor.shape


def _fill(tensor: Value, what: str, draw) -> Value:
    tensor.data = np.asarray(draw(_shape(tensor, what)), dtype=np.float64)
    return tensor

"""Convolution and pooling layers, as `torch.nn`'s: thin holders of parameters over `nn.functional`'s ops.

    conv = Conv2d(1, 8, kernel_size=3, padding=1)     # weight (8, 1, 3, 3), bias (8,)
    y = MaxPool2d(2)(conv(x).relu())                  # x (N, 1, H, W) -> (N, 8, H // 2, W // 2)

Parameters are laid out as PyTorch lays them out (weight (out, in / groups, k...),
bias (out,)), so a state_dict maps one to one onto `torch.nn.Conv2d`'s, and start as
PyTorch's do: `kaiming_uniform_(weight, a=√5)` and the bias uniform in ±1/√fan_in,
fan_in = in / groups · ∏k, drawn from `rng` or the default generator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_div.engine.randomness import generator_argument
from tinygrad_div.engine.value import Value
from tinygrad_div.nn import functional as F
from tinygrad_div.nn import init
from tinygrad_div.nn.layers import size_argument
from tinygrad_div.nn.module import Module

Size = int | tuple[int, ...]


class _Conv(Module):
    """The parameters and arguments Conv1d and Conv2d share; `rank` spatial axes."""

    rank = 0
    name = ""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Size, stride: Size = 1,
                 padding: Size | str = 0, dilation: Size = 1, groups: int = 1, bias: bool = True, *,
                 rng: np.random.Generator | None = None) -> None:
        what = type(self).__name__
        in_channels, out_channels = size_argument(f"{what}'s in_channels", in_channels), size_argument(
            f"{what}'s out_channels", out_channels)
        groups = size_argument(f"{what}'s groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{what}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                             f"divisible by groups ({groups})")
        kernel = _tuple(f"{what}'s kernel_size", kernel_size, self.rank)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"{what}'s bias must be True or False, got {type(bias).__name__} {bias!r}")
        rng = generator_argument(rng, f"{what}'s rng")
        self.in_channels, self.out_channels, self.kernel_size, self.groups = in_channels, out_channels, kernel, groups
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.weight = Value(np.zeros((out_channels, in_channels // groups, *kernel)))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=rng)
        fan_in = init.fans(self.weight.shape)[0]
        self.bias = Value(rng.uniform(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), out_channels)) if bias else None

    def extra_repr(self) -> str:
        extra = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        extra += f", padding={self.padding}" if self.padding != 0 else ""
        extra += f", dilation={self.dilation}" if self.dilation != 1 else ""
        extra += f", groups={self.groups}" if self.groups != 1 else ""
        return extra + (", bias=False" if self.bias is None else "")


class Conv1d(_Conv):
    """y = conv1d(x, weight, bias): x (N, C_in, L) or (C_in, L) to (N, C_out, L_out), as `torch.nn.Conv1d`."""

    rank = 1

    def forward(self, x: Any) -> Value:
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_Conv):
    """y = conv2d(x, weight, bias): x (N, C_in, H, W) or (C_in, H, W) to (N, C_out, H_out, W_out), as
    `torch.nn.Conv2d`."""

    rank = 2

    def forward(self, x: Any) -> Value:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class MaxPool2d(Module):
    """The maximum of each kernel_size window, moved by stride (default kernel_size), as `torch.nn.MaxPool2d`."""

    def __init__(self, kernel_size: Size, stride: Size | None = None, padding: Size = 0, dilation: Size = 1) -> None:
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation

    def forward(self, x: Any) -> Value:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean of each kernel_size window (padded zeros counted), as `torch.nn.AvgPool2d`'s defaults."""

    def __init__(self, kernel_size: Size, stride: Size | None = None, padding: Size = 0) -> None:
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Any) -> Value:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _tuple(what: str, value: Any, rank: int) -> tuple[int, ...]:
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank
    if len(items) != rank:
        raise TypeError(f"{what} must be an int or a tuple of {rank} ints, got {value!r}")
    return tuple(size_argument(what, v) for v in items)

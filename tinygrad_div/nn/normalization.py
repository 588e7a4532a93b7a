"""Normalization layers, as `torch.nn`'s: BatchNorm1d, BatchNorm2d and LayerNorm over `nn.functional`'s ops.

    bn = BatchNorm2d(8)      # weight (8,) = 1, bias (8,) = 0; buffers running_mean, running_var, num_batches_tracked
    y = bn(x)                # training: the batch's statistics, and the running ones move by `momentum`
    bn.eval(); y = bn(x)     # evaluation: the running statistics

The buffers are numpy arrays saved in `state_dict()` under PyTorch's names, so a
state_dict loads into `torch.nn.BatchNorm2d` and back. momentum=None averages every
batch so far (1 / num_batches_tracked), as PyTorch's cumulative mode.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.value import Value
from tinygrad_div.nn import functional as F
from tinygrad_div.nn.layers import size_argument
from tinygrad_div.nn.module import Module


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; `dims` are the input ranks each accepts."""

    dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        what = type(self).__name__
        self.num_features = size_argument(f"{what}'s num_features", num_features)
        self.eps = _number(f"{what}'s eps", eps, low=0.0, open_low=True)
        self.momentum = None if momentum is None else _number(f"{what}'s momentum", momentum, low=0.0, high=1.0)
        for flag, value in (("affine", affine), ("track_running_stats", track_running_stats)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{what}'s {flag} must be True or False, got {value!r}")
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Value(np.ones(self.num_features)) if affine else None
        self.bias = Value(np.zeros(self.num_features)) if affine else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features))
            self.register_buffer("running_var", np.ones(self.num_features))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x: Any) -> Value:
        what = type(self).__name__
        shape = np.shape(getattr(x, "data", x))
        if len(shape) not in self.dims:
            raise ShapeError(f"{what}: expected a {' or '.join(f'{d}-D' for d in self.dims)} input, "
                             f"got shape {shape}")
        if shape[1] != self.num_features:
            raise ShapeError(f"{what}: input has {shape[1]} channels, the layer expects {self.num_features}")
        if self.training and int(np.prod(shape)) // shape[1] == 1:
            raise ValueError(f"{what}: expected more than 1 value per channel when training, got input of shape "
                             f"{shape} (use eval() for a single sample)")
        # the op moves the running statistics in place (so a td.compile step does too), as torch's layer
        stats = self.track_running_stats
        return F.batch_norm(x, getattr(self, "running_mean", None), getattr(self, "running_var", None),
                            self.weight, self.bias, self.training or not stats, self.momentum if stats else 0.0,
                            self.eps, num_batches_tracked=getattr(self, "num_batches_tracked", None))

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """(x − mean) / √(var + eps) · weight + bias per channel of x (N, C) or (N, C, L), as `torch.nn.BatchNorm1d`."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """(x − mean) / √(var + eps) · weight + bias per channel of x (N, C, H, W), as `torch.nn.BatchNorm2d`."""

    dims = (4,)


class LayerNorm(Module):
    """(x − mean) / √(var + eps) · weight + bias over the last len(normalized_shape) axes, as `torch.nn.LayerNorm`."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True) -> None:
        dims = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
        self.normalized_shape = tuple(size_argument("LayerNorm's normalized_shape", d) for d in dims)
        self.eps = _number("LayerNorm's eps", eps, low=0.0, open_low=True)
        for flag, value in (("elementwise_affine", elementwise_affine), ("bias", bias)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"LayerNorm's {flag} must be True or False, got {value!r}")
        self.weight = Value(np.ones(self.normalized_shape)) if elementwise_affine else None
        self.bias = Value(np.zeros(self.normalized_shape)) if elementwise_affine and bias else None

    def forward(self, x: Any) -> Value:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"


def _number(what: str, value: Any, low: float, high: float = float("inf"), open_low: bool = False) -> float:
    """`value` as a float in [low, high] ((low, high] when open_low), or a one-line error naming `what`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not (low < value if open_low else low <= value) or not value <= high:
        bounds = f"{'(' if open_low else '['}{low}, {high}]"
        raise ValueError(f"{what} must be in {bounds}, got {value}")
    return value

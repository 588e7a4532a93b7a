"""Ops that move data around without arithmetic: reshape, transpose, broadcast, sum-to, indexing."""

from __future__ import annotations

import numpy as np

from tinygrad_div.engine.function import Function
from tinygrad_div.engine.value import Value, shape_of


def reducible(shape: tuple, target: tuple) -> bool:
    """Whether `shape` is what broadcasting `target` against something else could give."""
    lead = len(shape) - len(target)
    if lead < 0:
        return False
    return all(t == s or t == 1 for t, s in zip(target, shape[lead:]))


def sum_to_shape(x: np.ndarray, target: tuple) -> np.ndarray:
    """Sum `x` over the axes that broadcasting added or stretched, to get `target` back."""
    lead = x.ndim - len(target)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(target) if n == 1 and x.shape[lead + i] != 1)
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    return x.reshape(target)


def expand(a, shape: tuple) -> np.ndarray:
    """`a` broadcast to `shape` as a fresh writable array (np.broadcast_to is a slow Python wrapper)."""
    out = np.empty(shape)
    np.copyto(out, a)
    return out


def broadcast_to(x, shape: tuple):
    """Broadcast raw data or a Value (recorded) to `shape`."""
    if isinstance(x, Value):
        return BroadcastTo.apply(x, shape=shape)
    return expand(x, shape) if shape else float(x)


def sum_to(x, shape: tuple):
    """Sum raw data or a Value (recorded) over broadcast axes down to `shape`."""
    if isinstance(x, Value):
        return SumTo.apply(x, shape=shape)
    out = sum_to_shape(np.asarray(x), shape)
    return float(out) if shape == () else out


def reshape(x, shape: tuple):
    return Reshape.apply(x, shape=shape) if isinstance(x, Value) else np.reshape(x, shape)


class Reshape(Function):
    """y = a viewed with another shape;  dy/da: the gradient reshaped back"""

    @staticmethod
    def forward(ctx, a, *, shape):
        ctx.input_shape = shape_of(a)
        return np.reshape(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.input_shape)

    @staticmethod
    def example_params(shape):
        return [{"shape": (-1,)}, {"shape": shape[::-1]}, {"shape": (1, *shape)}]


class Transpose(Function):
    """y = a with its axes permuted (reversed when axes is None);  dy/da: the inverse permutation"""

    @staticmethod
    def forward(ctx, a, *, axes=None):
        out = np.transpose(a, axes)  # validates axes first
        ctx.axes = None if axes is None else tuple(axis % out.ndim for axis in axes)
        return out

    @staticmethod
    def backward(ctx, grad):
        inverse = None if ctx.axes is None else tuple(np.argsort(ctx.axes))
        return np.transpose(grad, inverse)

    @staticmethod
    def example_params(shape):
        axes = tuple(range(len(shape)))
        negative = tuple(axis - len(shape) for axis in axes[::-1])
        return [{"axes": None}, {"axes": axes}, {"axes": axes[1:] + axes[:1]}, {"axes": negative[1:] + negative[:1]}]


class BroadcastTo(Function):
    """y = a broadcast to `shape`;  dy/da: the gradient summed over the broadcast axes"""

    @staticmethod
    def forward(ctx, a, *, shape):
        ctx.input_shape = input_shape = shape_of(a)
        if not reducible(tuple(shape), input_shape):  # np.copyto would also "broadcast" (1,) to ()
            raise ValueError(f"cannot broadcast shape {input_shape} to {tuple(shape)}")
        return expand(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.input_shape)

    @staticmethod
    def example_params(shape):
        return [{"shape": shape}, {"shape": (2, *shape)}, {"shape": (3, *(2 if n == 1 else n for n in shape))}]


class SumTo(Function):
    """y = a summed over leading axes and axes of length 1 in `shape`;  dy/da: the gradient broadcast back"""

    @staticmethod
    def forward(ctx, a, *, shape):
        ctx.input_shape = shape_of(a)
        if type(a) is float:
            # a float sums to () only: + 0.0 gives what numpy's sum of one element gives (-0.0 -> 0.0)
            return sum_to_shape(np.asarray(a), shape) + 0.0
        return sum_to_shape(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(grad, ctx.input_shape)

    @staticmethod
    def example_params(shape):
        return [{"shape": ()}, {"shape": shape}, {"shape": tuple(1 for _ in shape)}, {"shape": shape[1:]}]


class GetItem(Function):
    """y = a[index];  dy/da: the gradient scattered back into zeros (repeated indices add up)"""

    @staticmethod
    def forward(ctx, a, *, index):
        if type(a) is float:
            raise ValueError("a scalar Value cannot be indexed")
        ctx.input_shape = a.shape
        ctx.index = index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        return scatter_add(grad, ctx.input_shape, ctx.index)

    @staticmethod
    def example_params(shape):
        if not shape:
            return []
        return [{"index": 0}, {"index": -1}, {"index": slice(None, None, 2)}, {"index": np.array([0, 0, -1])}]


def scatter_add(grad, shape: tuple, index):
    if isinstance(grad, Value):
        return ScatterAdd.apply(grad, shape=shape, index=index)
    out = np.zeros(shape)
    np.add.at(out, index, grad)
    return out


class ScatterAdd(Function, register=False):
    """y = zeros(shape) with a added at `index`;  dy/da = the gradient at `index` (GetItem's adjoint)"""

    @staticmethod
    def forward(ctx, a, *, shape, index):
        ctx.index = index
        return scatter_add(a, shape, index)

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, index=ctx.index) if isinstance(grad, Value) else grad[ctx.index]

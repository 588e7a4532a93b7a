"""Ops that move data around without arithmetic: reshape, squeeze, expand_dims, flatten, transpose,
broadcast, sum-to, indexing."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from tinygrad_div.engine.errors import ShapeError
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


class Squeeze(Function):
    """y = a without its axes of length 1 (those in `axis`, or all);  dy/da: the gradient reshaped back"""

    @staticmethod
    def forward(ctx, a, *, axis=None):
        ctx.input_shape = shape_of(a)
        return np.squeeze(a, axis)

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.input_shape)

    @staticmethod
    def example_params(shape):
        ones = tuple(i for i, n in enumerate(shape) if n == 1)
        return [{}] + ([{"axis": ones[0]}, {"axis": ones[-1] - len(shape)}, {"axis": ones}] if ones else [])


class ExpandDims(Function):
    """y = a with new axes of length 1 at `axis` (numpy's expand_dims, torch's unsqueeze);  dy/da: reshaped back"""

    @staticmethod
    def forward(ctx, a, *, axis):
        ctx.input_shape = shape_of(a)
        return np.expand_dims(a, axis)

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.input_shape)

    @staticmethod
    def example_params(shape):
        return [{"axis": 0}, {"axis": -1}, {"axis": (0, len(shape) + 1)}]


class Flatten(Function):
    """y = a with axes start..end (inclusive, as torch.flatten) merged into one;  dy/da: reshaped back"""

    @staticmethod
    def forward(ctx, a, *, start=0, end=-1):
        ctx.input_shape = shape = shape_of(a)
        if not shape:
            return np.reshape(a, (1,))  # as numpy's and torch's flatten of a 0-d array
        first, last = (normalize_axis_index(axis, len(shape)) for axis in (start, end))
        if first > last:
            raise ValueError(f"flatten: start axis {start} comes after end axis {end} for shape {shape}")
        return np.reshape(a, (*shape[:first], math.prod(shape[first:last + 1]), *shape[last + 1:]))

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.input_shape)

    @staticmethod
    def example_params(shape):
        return [{}, {"start": 1}, {"end": -2}] if len(shape) > 1 else [{}]


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
            raise ShapeError(f"BroadcastTo: cannot broadcast shape {input_shape} to {tuple(shape)}")
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
    """y = a[index];  dy/da: the gradient scattered back into zeros (repeated indices add up, as np.add.at)

    Any numpy index: ints, slices, None, Ellipsis, integer arrays (labels, say) and
    boolean masks (`v[v > 0]`); a Value in the index stands for its data.
    """

    @staticmethod
    def forward(ctx, a, *, index):
        if type(a) is float:
            raise IndexError("a scalar Value cannot be indexed")
        index = _plain_index(index)
        ctx.input_shape = a.shape
        ctx.index = index
        try:
            out = a[index]
        except IndexError as exc:
            raise IndexError(f"index {_short(index)} into a Value of shape {a.shape}: {exc}") from None
        return out

    @staticmethod
    def backward(ctx, grad):
        return scatter_add(grad, ctx.input_shape, ctx.index)

    @staticmethod
    def example_params(shape):
        if not shape:
            return []
        examples = [{"index": 0}, {"index": -1}, {"index": slice(None, None, 2)}, {"index": np.array([0, 0, -1])},
                    {"index": np.arange(shape[0]) % 2 == 0}, {"index": (Ellipsis, None)}]
        if len(shape) > 1:
            examples.append({"index": np.ones(shape[:2], dtype=bool)})
        return examples

    @staticmethod
    def extra_cases():
        """For the cross-path registry: an empty selection, and rows and labels with repeats (a label lookup)."""
        a = np.arange(-3.0, 3.0).reshape(2, 3)
        return [([a], {"index": np.array([], dtype=np.int64)}),
                ([a], {"index": (np.array([1, 0, 1]), np.array([2, 2, 0]))}),
                ([a], {"index": (slice(None), np.array([0, 0]))})]


def _plain_index(index):
    """The index with Values replaced by their data and lists by arrays (numpy's own reading of a list).

    Arrays are copied: backward scatters with this index, so a caller changing their
    list or array after the forward pass must not move the gradient.
    """
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Value):
        index = index._data
    if isinstance(index, (list, np.ndarray)):
        return np.array(index)
    return index


def _short(index) -> str:
    text = repr(index)
    return text if len(text) <= 60 else text[:57] + "..."


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

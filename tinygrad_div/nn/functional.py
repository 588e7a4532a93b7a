"""Functions of Values that layers and losses are built from (PyTorch's `torch.nn.functional`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_div.engine import ops
from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.function import Function
from tinygrad_div.engine.mode import state
from tinygrad_div.engine.randomness import generator_argument
from tinygrad_div.engine.value import Value

__all__ = ["linear", "softplus", "conv1d", "conv2d", "max_pool2d", "avg_pool2d",
           "batch_norm", "layer_norm", "dropout", "embedding", "leaky_relu", "gelu"]


class Affine(Function):
    """y = x @ Wᵀ + b for W (n_out, n_in), x (n_in,) or (..., n_in);  dL/dx = G @ W, dL/dW = Gᵀx, dL/db = G

    One op rather than three (transpose, matmul, add): a layer costs one graph node.
    The product is taken with Wᵀ copied to a C-contiguous array, because BLAS rounds
    differently by memory layout: this way a layer stored (n_out, n_in), as PyTorch
    stores it, computes bit for bit what the notes' (n_in, n_out) layer computed.
    """

    shapes = ("N,I", "O,I", "O")  # what check_op draws: a batch, the weight, the bias

    @staticmethod
    def forward(ctx, x, w, b):
        x_shape, w_shape = np.shape(x), np.shape(w)
        if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
            raise ShapeError(f"linear: input of shape {x_shape} does not match weight of shape {w_shape}: "
                             "the weight must be (n_out, n_in) and the input's last axis n_in long")
        wt = np.ascontiguousarray(w.T)
        ctx.save_for_backward(x, wt)
        out = x @ wt
        if np.broadcast_shapes(out.shape, np.shape(b)) != out.shape:  # a bias may not add axes to the output
            raise ShapeError(f"linear: bias of shape {np.shape(b)} does not fit the output's shape {out.shape}")
        return out + b

    @staticmethod
    def backward(ctx, grad):
        x, wt = ctx.saved_tensors
        need_x, need_w, _ = ctx.needs_input_grad
        grad_x = grad @ wt.T if need_x else None
        grad_w = None
        if need_w:
            # a sample (n_in,) is a batch of one; leading axes are one batch (the rows of Gᵀx)
            rows_x = x.reshape((-1, x.shape[-1]))
            rows_g = grad.reshape((-1, grad.shape[-1]))
            grad_w = (rows_x.T @ rows_g).T
        return grad_x, grad_w, grad  # the engine sums b's gradient over the batch axes

    @staticmethod
    def to_onnx(ctx, g, x, w, b):
        """ONNX: MatMul(x, Transpose(W)) + b, which takes a sample (n_in,) as well as a batch (Gemm does not).
        A hook because forward's np.ascontiguousarray (the layout BLAS rounds by) is not dispatched to a trace."""
        return g.op("Add", g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0])), b)

    @classmethod
    def saved_values(cls, ctx, inputs, output):
        x, w, _ = inputs
        return (x if isinstance(x, Value) else Value(x, requires_grad=False),
                w.T if isinstance(w, Value) else Value(np.asarray(w).T, requires_grad=False))


def linear(x: Any, weight: Value, bias: Value | None = None) -> Value:
    """y = x @ weightᵀ + bias, weight (n_out, n_in), as `torch.nn.functional.linear`."""
    return Affine.apply(x, weight, 0.0 if bias is None else bias)


class Softplus(Function):
    """y = log(1 + eˣ), computed as numpy's logaddexp(0, x) (no overflow, exact tails);  dy/dx = σ(x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        out = np.logaddexp(0.0, x)
        return float(out) if type(x) is float else out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        s = ops.Sigmoid.apply(x)  # recorded when x is a Value (a second derivative), else a constant
        return grad * (s if isinstance(x, Value) else s.data)


def softplus(x: Any) -> Value:
    """y = log(1 + eˣ), elementwise, without overflow (torch.nn.functional.softplus)."""
    return Softplus.apply(x)


# -- convolution and pooling (ops in engine/ops/conv.py and pool.py) -------------------------------
Size = int | tuple[int, ...]


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Size = 1, padding: Size | str = 0,
           dilation: Size = 1, groups: int = 1) -> Value:
    """Cross-correlation of input (N, C, L) (or (C, L)) with weight (O, C/groups, k), as
    `torch.nn.functional.conv1d`."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Size = 1, padding: Size | str = 0,
           dilation: Size = 1, groups: int = 1) -> Value:
    """Cross-correlation of input (N, C, H, W) (or (C, H, W)) with weight (O, C/groups, kh, kw), as
    `torch.nn.functional.conv2d`: stride, padding (ints, or "valid"/"same"), dilation and groups per axis."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def max_pool2d(input: Any, kernel_size: Size, stride: Size | None = None, padding: Size = 0,
               dilation: Size = 1) -> Value:
    """The maximum of each window of input (N, C, H, W) (or (C, H, W)), padded with -inf, as
    `torch.nn.functional.max_pool2d` (stride defaults to kernel_size); tied maxima share the gradient."""
    kernel, stride, padding = _pool_sizes("max_pool2d", kernel_size, stride, padding)
    dilation = _sizes("max_pool2d", "dilation", dilation, 2, 1)
    return _batched("max_pool2d", 2, input, lambda x: ops.MaxPool.apply(
        x, kernel=kernel, stride=stride, padding=padding, dilation=dilation))


def avg_pool2d(input: Any, kernel_size: Size, stride: Size | None = None, padding: Size = 0) -> Value:
    """The mean of each window of input (N, C, H, W) (or (C, H, W)), padded zeros included, as
    `torch.nn.functional.avg_pool2d` with its defaults (stride = kernel_size, count_include_pad=True)."""
    kernel, stride, padding = _pool_sizes("avg_pool2d", kernel_size, stride, padding)
    return _batched("avg_pool2d", 2, input, lambda x: ops.AvgPool.apply(x, kernel=kernel, stride=stride,
                                                                        padding=padding))


def _conv(name: str, rank: int, x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
          groups: Any) -> Value:
    stride = _sizes(name, "stride", stride, rank, 1)
    dilation = _sizes(name, "dilation", dilation, rank, 1)
    if isinstance(padding, str):
        padding = _named_padding(name, padding, np.shape(getattr(weight, "data", weight))[2:], stride, dilation)
    padding = _sizes(name, "padding", padding, rank, 0)
    groups = _sizes(name, "groups", groups, 1, 1)[0]
    b = 0.0 if bias is None else bias
    return _batched(name, rank, x, lambda v: ops.Conv.apply(v, weight, b, stride=stride, padding=padding,
                                                            dilation=dilation, groups=groups))


def _named_padding(name: str, padding: str, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    if padding == "valid":
        return 0
    if padding != "same":
        raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    if any(s != 1 for s in stride):
        raise ValueError(f"{name}: padding='same' needs stride 1, got stride={stride}")
    spans = [d * (k - 1) for k, d in zip(kernel, dilation)]
    if any(s % 2 for s in spans):
        raise ValueError(f"{name}: padding='same' with an even (dilated) kernel needs uneven padding, which is not "
                         "supported; pad explicitly")
    return tuple(s // 2 for s in spans)


def _pool_sizes(name: str, kernel_size: Any, stride: Any, padding: Any) -> tuple:
    kernel = _sizes(name, "kernel_size", kernel_size, 2, 1)
    stride = kernel if stride is None or stride == () else _sizes(name, "stride", stride, 2, 1)
    return kernel, stride, _sizes(name, "padding", padding, 2, 0)


def _sizes(name: str, what: str, value: Any, rank: int, least: int) -> tuple[int, ...]:
    """An int or a tuple of `rank` ints, each >= `least`, as a tuple; else a one-line TypeError/ValueError."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank
    if len(items) != rank or not all(hasattr(v, "__index__") and not isinstance(v, bool) for v in items):
        raise TypeError(f"{name}: {what} must be an int or a tuple of {rank} ints, got {value!r}")
    items = tuple(int(v) for v in items)
    if any(v < least for v in items):
        raise ValueError(f"{name}: {what} must be >= {least}, got {value!r}")
    return items


def _batched(name: str, rank: int, x: Any, apply: Any) -> Value:
    """apply(x) on a batch (N, C, *spatial); an unbatched (C, *spatial) input gets a batch of one and loses it again."""
    ndim = np.ndim(getattr(x, "data", x))
    if ndim == rank + 1:
        return ops.Squeeze.apply(apply(ops.ExpandDims.apply(x, axis=0)), axis=0)
    if ndim != rank + 2:
        raise ShapeError(f"{name}: expected a {rank + 1}-D (unbatched) or {rank + 2}-D (batched) input, "
                         f"got {ndim}-D")
    return apply(x)


# -- normalisation, dropout, embedding ---------------------------------------------------------------
def batch_norm(input: Any, running_mean: np.ndarray | None, running_var: np.ndarray | None, weight: Any = None,
               bias: Any = None, training: bool = False, momentum: float | None = 0.1, eps: float = 1e-5,
               num_batches_tracked: np.ndarray | None = None) -> Value:
    """Normalise each channel (axis 1) of input (N, C, ...), then scale by weight and shift by bias (C,), as
    `torch.nn.functional.batch_norm`. Training: the batch's mean and biased variance, and the running
    statistics (float64 arrays, or None) updated in place: r <- (1 - momentum)·r + momentum·s, the variance
    unbiased; `num_batches_tracked` (a 0-d int64 array) counted up, and momentum=None the cumulative
    average 1/num_batches_tracked, as torch's BatchNorm layers do. Eval: the running statistics."""
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and not (isinstance(stat, np.ndarray) and stat.dtype == np.float64):
            raise TypeError(f"batch_norm: {name} must be a float64 numpy array (updated in place) or None, "
                            f"got {type(stat).__name__}")
    if num_batches_tracked is not None and not (isinstance(num_batches_tracked, np.ndarray)
                                                and num_batches_tracked.dtype.kind == "i"):
        raise TypeError("batch_norm: num_batches_tracked must be an integer numpy array (counted in place) or None")
    if momentum is None and training and num_batches_tracked is None:
        raise ValueError("batch_norm: momentum=None (a cumulative average) needs num_batches_tracked")
    return ops.BatchNorm.apply(input, 1.0 if weight is None else weight, 0.0 if bias is None else bias,
                               training=bool(training), eps=float(eps), momentum=momentum, running_mean=running_mean,
                               running_var=running_var, num_batches_tracked=num_batches_tracked)


def layer_norm(input: Any, normalized_shape: Size, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Value:
    """(x - mean) / sqrt(var + eps) over the last len(normalized_shape) axes (biased variance), times weight plus
    bias (of shape normalized_shape), as `torch.nn.functional.layer_norm`. Composed of recorded ops."""
    x = input if isinstance(input, Value) else Value(input, requires_grad=False)
    normalized = (normalized_shape,) if hasattr(normalized_shape, "__index__") else tuple(normalized_shape)
    if not normalized or x.shape[len(x.shape) - len(normalized):] != normalized or len(normalized) > len(x.shape):
        raise ShapeError(f"layer_norm: normalized_shape {normalized} does not match the last axes of the input's "
                         f"shape {x.shape}")
    axes = tuple(range(-len(normalized), 0))
    centred = x - x.mean(axis=axes, keepdims=True)
    y = centred / ((centred * centred).mean(axis=axes, keepdims=True) + eps).sqrt()
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


def dropout(input: Any, p: float = 0.5, training: bool = True, generator: np.random.Generator | None = None) -> Value:
    """Each element zeroed with probability p, the rest scaled by 1/(1 - p), as `torch.nn.functional.dropout`;
    the input itself when not training or p = 0. The mask is drawn from `generator` (default: the one
    td.manual_seed seeds). Not in a td.compile step: the program would keep the trace's mask (TraceError)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    rng = generator_argument(generator, "dropout's generator")
    if not training or p == 0.0:
        return input
    if state.tracer is not None:
        state.tracer.refuse("dropout's random mask")
    keep = rng.random(np.shape(getattr(input, "data", input))) >= p
    return input * (keep / (1.0 - p)) if p < 1.0 else input * 0.0


def embedding(input: Any, weight: Value) -> Value:
    """Rows of weight (num_embeddings, dim) picked by the integer indices in `input` (any shape), as
    `torch.nn.functional.embedding`: the result has shape input.shape + (dim,); a row picked twice gets the
    gradient of both."""
    indices = np.asarray(getattr(input, "data", input))
    rows = np.shape(getattr(weight, "data", weight))
    if len(rows) != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {rows}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= rows[0]):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"embedding: index {bad} is out of range for {rows[0]} embeddings")
    return ops.GetItem.apply(weight, index=indices)


# -- activations (ops in engine/ops/activation.py) -------------------------------------------------------
def leaky_relu(input: Any, negative_slope: float = 0.01) -> Value:
    """x where x > 0, else negative_slope·x, as `torch.nn.functional.leaky_relu` (the slope's gradient at 0)."""
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {type(negative_slope).__name__}")
    return ops.LeakyReLU.apply(input, negative_slope=float(negative_slope))


def gelu(input: Any, approximate: str = "none") -> Value:
    """x·Φ(x) = ½x(1 + erf(x/√2)), or with approximate="tanh" ½x(1 + tanh(√(2/π)(x + 0.044715x³))), as
    `torch.nn.functional.gelu`. erf is the C library's (math.erf, ≤ 1 ulp)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return ops.GELU.apply(input, approximate=approximate)

"""Functions of Values that layers and losses are built from (PyTorch's `torch.nn.functional`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_div.engine import ops
from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.function import Function
from tinygrad_div.engine.value import Value


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

"""Numpy functions applied to Values run as recorded ops.

This is what lets one backward rule serve both worlds: written with arithmetic and
numpy functions (`np.exp`, `np.log`, `np.abs`, `np.reshape`, ...), it computes on raw
arrays when no graph is wanted and records a differentiable graph when it is handed
Values (`create_graph=True`). It also makes `np.ones(3) + v` a Value.
"""

from __future__ import annotations

import inspect

import numpy as np

from tinygrad_div.engine.ops import functional
from tinygrad_div.engine.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub
from tinygrad_div.engine.ops.compare import argmax, argmin, compare
from tinygrad_div.engine.ops.elementwise import Abs, Cos, Exp, Expm1, Log, Log1p, Sin, Sqrt, Tanh
from tinygrad_div.engine.ops.linalg import MatMul
from tinygrad_div.engine.ops.reduce import Mean, Sum
from tinygrad_div.engine.ops.select import Max, Maximum, Min, Minimum
from tinygrad_div.engine.ops.shape import BroadcastTo, Reshape, Transpose

UFUNCS = {
    np.add: Add.apply, np.subtract: Sub.apply, np.multiply: Mul.apply, np.divide: Div.apply,
    np.negative: Neg.apply, np.power: Pow.apply, np.exp: Exp.apply, np.log: Log.apply,
    np.tanh: Tanh.apply, np.absolute: Abs.apply, np.matmul: MatMul.apply,
    np.sqrt: Sqrt.apply, np.square: lambda x: Mul.apply(x, x),
    np.sin: Sin.apply, np.cos: Cos.apply, np.log1p: Log1p.apply, np.expm1: Expm1.apply,
    np.maximum: Maximum.apply, np.minimum: Minimum.apply,
    # comparisons give masks (not recorded), as the operators do
    np.less: lambda a, b: compare("lt", a, b), np.less_equal: lambda a, b: compare("le", a, b),
    np.greater: lambda a, b: compare("gt", a, b), np.greater_equal: lambda a, b: compare("ge", a, b),
    np.equal: lambda a, b: compare("eq", a, b), np.not_equal: lambda a, b: compare("ne", a, b),
}


def array_ufunc(ufunc, method, inputs, kwargs):
    implementation = UFUNCS.get(ufunc)
    if implementation is None or method != "__call__" or kwargs:
        usage = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        extra = f" with {', '.join(sorted(kwargs))}=" if kwargs else ""
        supported = ", ".join(sorted(f.__name__ for f in UFUNCS))
        raise TypeError(f"{usage}{extra} is not a recorded op on Values; supported ufuncs: {supported}")
    return implementation(*inputs)


# Only the arguments these implement: anything else (order=, out=, where=, dtype=...) is
# refused by Python's own TypeError rather than silently ignored.
FUNCTIONS = {
    np.reshape: lambda a, shape: Reshape.apply(a, shape=shape),
    np.transpose: lambda a, axes=None: Transpose.apply(a, axes=axes),
    np.swapaxes: lambda a, axis1, axis2: a.swapaxes(axis1, axis2),
    np.sum: lambda a, axis=None, keepdims=False: Sum.apply(a, axis=axis, keepdims=keepdims),
    np.mean: lambda a, axis=None, keepdims=False: Mean.apply(a, axis=axis, keepdims=keepdims),
    np.broadcast_to: lambda array, shape: BroadcastTo.apply(array, shape=tuple(np.atleast_1d(shape))),
    np.where: lambda condition, x, y: functional.where(condition, x, y),
    np.clip: lambda a, a_min=None, a_max=None: functional.clip(a, a_min, a_max),
    np.max: lambda a, axis=None, keepdims=False: Max.apply(a, axis=axis, keepdims=keepdims),
    np.amax: lambda a, axis=None, keepdims=False: Max.apply(a, axis=axis, keepdims=keepdims),
    np.min: lambda a, axis=None, keepdims=False: Min.apply(a, axis=axis, keepdims=keepdims),
    np.amin: lambda a, axis=None, keepdims=False: Min.apply(a, axis=axis, keepdims=keepdims),
    np.argmax: lambda a, axis=None, keepdims=False: argmax(a, axis, keepdims),
    np.argmin: lambda a, axis=None, keepdims=False: argmin(a, axis, keepdims),
    np.concatenate: lambda arrays, axis=0: functional.concatenate(arrays, axis),
    np.stack: lambda arrays, axis=0: functional.stack(arrays, axis),
    np.squeeze: lambda a, axis=None: functional.squeeze(a, axis),
    np.expand_dims: lambda a, axis: functional.expand_dims(a, axis),
}


def array_function(func, args, kwargs):
    implementation = FUNCTIONS.get(func)
    if implementation is None:
        return NotImplemented  # numpy then raises a TypeError that names the function
    signature = inspect.signature(implementation)
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"numpy.{func.__name__}{signature} on a Value: {exc}") from None
    return implementation(*args, **kwargs)

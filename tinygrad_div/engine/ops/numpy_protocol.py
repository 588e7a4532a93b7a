"""Numpy functions applied to Values run as recorded ops.

This is what lets one backward rule serve both worlds: written with arithmetic and
numpy functions (`np.exp`, `np.log`, `np.abs`, `np.reshape`, ...), it computes on raw
arrays when no graph is wanted and records a differentiable graph when it is handed
Values (`create_graph=True`). It also makes `np.ones(3) + v` a Value.
"""

from __future__ import annotations

import inspect

import numpy as np

from tinygrad_div.engine.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub
from tinygrad_div.engine.ops.elementwise import Abs, Exp, Log, Tanh
from tinygrad_div.engine.ops.linalg import MatMul
from tinygrad_div.engine.ops.reduce import Mean, Sum
from tinygrad_div.engine.ops.shape import BroadcastTo, Reshape, Transpose

UFUNCS = {
    np.add: Add.apply, np.subtract: Sub.apply, np.multiply: Mul.apply, np.divide: Div.apply,
    np.negative: Neg.apply, np.power: Pow.apply, np.exp: Exp.apply, np.log: Log.apply,
    np.tanh: Tanh.apply, np.absolute: Abs.apply, np.matmul: MatMul.apply,
    np.sqrt: lambda x: Pow.apply(x, 0.5), np.square: lambda x: Mul.apply(x, x),
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

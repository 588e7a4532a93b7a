"""An op's own forward, run on symbolic tensors: each numpy call it makes becomes ONNX nodes.

    out = trace_forward(g, ops.Sigmoid, [Sym(g, "x", data)], {})   # out.name: the ONNX tensor of σ(x)

A `Sym` stands for one tensor of the graph being built: its ONNX name, and the value
eager computed there (`value`), which the numpy calls are also applied to, so that
shapes, dtypes and the final result can be checked. Numpy reaches a Sym through its
protocol (`__array_ufunc__`, `__array_function__`) and through the operators; the
tables `UFUNCS` and `FUNCTIONS` turn each supported call into ONNX nodes. That table
of numpy primitives, not a table of ops, is what keeps ONNX to the op's own math:
an op (built-in or a user's Function) whose forward calls only supported numpy
functions exports as written. Anything that would read the data into Python
(`bool(x)`, `float(x)`, `np.asarray(x)`) or a numpy call without an ONNX
equivalent raises `Untraceable`, naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple
from onnx import TensorProto

from tinygrad_div.onnx import exact
from tinygrad_div.onnx.builder import OnnxGraph
from tinygrad_div.onnx.indexing import index_tensor

BOOL = TensorProto.BOOL


class Untraceable(Exception):
    """A forward did something that has no ONNX form (the message names it)."""


class Sym:
    """A tensor of the ONNX graph under construction, with the value eager computed there."""

    __array_priority__ = 1000  # numpy defers its operators to ours

    def __init__(self, g: OnnxGraph, name: str, value: Any) -> None:
        self.g, self.name, self.value = g, name, value

    # -- what a forward may ask -----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def dtype(self) -> np.dtype:
        return np.asarray(self.value).dtype

    @property
    def size(self) -> int:
        return int(np.size(self.value))

    @property
    def T(self) -> Sym:  # noqa: N802  (numpy's name)
        return _transpose(self)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Sym:
        return _reduce("ReduceSum", self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Sym:
        return _reduce("ReduceMean", self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Sym:
        return _reduce("ReduceMax", self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Sym:
        return _reduce("ReduceMin", self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Sym:
        return _reshape(self, shape[0] if len(shape) == 1 else shape)

    def astype(self, dtype: Any, copy: bool = True) -> Sym:
        kind = np.dtype(dtype).kind
        if kind not in "bf":
            raise Untraceable(f"astype({np.dtype(dtype)})")
        return self if self.dtype.kind == kind else Sym(self.g, _as(self, kind), np.asarray(self.value).astype(dtype))

    def __setitem__(self, key: Any, item: Any) -> None:
        """x[mask] = y, the one assignment with an ONNX form: x becomes Where(mask, y, x)."""
        if not (isinstance(key, Sym) and key.dtype == bool and key.shape == self.shape):
            raise Untraceable("item assignment other than x[mask] = y")
        value = np.array(self.value)
        value[key.value] = item.value if isinstance(item, Sym) else item
        self.name, self.value = self.g.op("Where", key.name, *_floats(self.g, self, item)[::-1]), value

    def _read(self, what: str) -> Any:
        raise Untraceable(f"{what} (it reads the data into Python, so the graph would keep this run's value)")

    def __bool__(self) -> bool:
        return self._read("bool(x) (an `if` on the data)")

    def __float__(self) -> float:
        return self._read("float(x)")

    def __int__(self) -> int:
        return self._read("int(x)")

    def __index__(self) -> int:
        return self._read("an index taken from the data")

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        return self._read("np.asarray(x)")

    def __iter__(self):
        return self._read("iteration over x")

    def __getitem__(self, key: Any) -> Sym:
        """x[index] with a constant index (ints, slices, None, ..., integer arrays and masks), as GetItem."""
        entries = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, Sym) for k in entries):
            raise Untraceable("an index computed from the data")
        return Sym(self.g, index_tensor(self.g, self.name, self.shape, key), np.asarray(self.value)[key])

    # -- numpy's protocol ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "reduce" and ufunc in REDUCTIONS:
            return _reduce(REDUCTIONS[ufunc], *inputs, **kwargs)
        emit = UFUNCS.get(ufunc)
        out = kwargs.pop("out", None)
        if emit is None or method != "__call__" or kwargs:
            raise Untraceable(f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}") +
                              (f" with {', '.join(kwargs)}=" if kwargs else ""))
        g = next(x.g for x in inputs if isinstance(x, Sym))
        with np.errstate(all="ignore"):
            value = ufunc(*[x.value if isinstance(x, Sym) else x for x in inputs])
        if np.asarray(value).dtype.kind == "b" and ufunc not in MASKS:
            raise Untraceable(f"numpy.{ufunc.__name__} on booleans (ONNX computes it on numbers)")
        result = Sym(g, emit(g, *inputs), value)
        if out is None:
            return result
        target = out[0] if isinstance(out, tuple) else out
        if not isinstance(target, Sym):
            raise Untraceable(f"numpy.{ufunc.__name__} into an array that is not traced")
        target.name, target.value = result.name, np.asarray(value, dtype=np.asarray(target.value).dtype)
        return target

    def __array_function__(self, func: Callable, types: Any, args: tuple, kwargs: dict) -> Any:
        implementation = FUNCTIONS.get(func)
        if implementation is None:
            raise Untraceable(f"numpy.{func.__name__}")
        return implementation(*args, **kwargs)

    # -- operators: the ufuncs they stand for ---------------------------------------------
    def __add__(self, other): return np.add(self, other)  # noqa: E704
    def __radd__(self, other): return np.add(other, self)  # noqa: E704
    def __sub__(self, other): return np.subtract(self, other)  # noqa: E704
    def __rsub__(self, other): return np.subtract(other, self)  # noqa: E704
    def __mul__(self, other): return np.multiply(self, other)  # noqa: E704
    def __rmul__(self, other): return np.multiply(other, self)  # noqa: E704
    def __truediv__(self, other): return np.divide(self, other)  # noqa: E704
    def __rtruediv__(self, other): return np.divide(other, self)  # noqa: E704
    def __pow__(self, other): return np.power(self, other)  # noqa: E704
    def __rpow__(self, other): return np.power(other, self)  # noqa: E704
    def __matmul__(self, other): return np.matmul(self, other)  # noqa: E704
    def __rmatmul__(self, other): return np.matmul(other, self)  # noqa: E704
    def __neg__(self): return np.negative(self)  # noqa: E704
    def __abs__(self): return np.absolute(self)  # noqa: E704
    def __invert__(self): return np.invert(self)  # noqa: E704
    def __and__(self, other): return np.logical_and(self, other)  # noqa: E704
    def __rand__(self, other): return np.logical_and(other, self)  # noqa: E704
    def __or__(self, other): return np.logical_or(self, other)  # noqa: E704
    def __ror__(self, other): return np.logical_or(other, self)  # noqa: E704
    def __lt__(self, other): return np.less(self, other)  # noqa: E704
    def __le__(self, other): return np.less_equal(self, other)  # noqa: E704
    def __gt__(self, other): return np.greater(self, other)  # noqa: E704
    def __ge__(self, other): return np.greater_equal(self, other)  # noqa: E704
    def __eq__(self, other): return np.equal(self, other)  # noqa: E704
    def __ne__(self, other): return np.not_equal(self, other)  # noqa: E704
    __hash__ = None  # type: ignore[assignment]


# -- operands -------------------------------------------------------------------------------
def _as(x: Any, kind: str) -> str:
    """The ONNX name of `x` (a Sym, or a number or array: a constant) as the model's floats ("f") or bool ("b")."""
    g: OnnxGraph = x.g if isinstance(x, Sym) else None  # type: ignore[assignment]
    if isinstance(x, Sym):
        if x.dtype.kind == kind:
            return x.name
        return g.op("Cast", x.name, to=g.float_type if kind == "f" else BOOL)
    raise AssertionError("constants go through _floats/_bools")


def _floats(g: OnnxGraph, *xs: Any) -> list[str]:
    return [_as(x, "f") if isinstance(x, Sym) else g.constant(_constant(x, "f")) for x in xs]


def _bools(g: OnnxGraph, *xs: Any) -> list[str]:
    return [_as(x, "b") if isinstance(x, Sym) else g.constant(np.asarray(x, dtype=bool), bool) for x in xs]


def _constant(x: Any, kind: str) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise Untraceable(f"a constant of dtype {array.dtype}")
    return array


# -- the primitives: numpy ufunc -> ONNX ------------------------------------------------------
def _same(onnx_op: str) -> Callable[..., str]:
    """Numpy's function under ONNX's name, on floats (numpy's broadcasting is ONNX's)."""
    return lambda g, *xs: g.op(onnx_op, *_floats(g, *xs))


def _unary(construction: Callable[[OnnxGraph, str], str]) -> Callable[..., str]:
    return lambda g, x: construction(g, *_floats(g, x))


def _logical(onnx_op: str) -> Callable[..., str]:
    return lambda g, *xs: g.op(onnx_op, *_bools(g, *xs))


def _compare(onnx_op: str, negate: bool = False) -> Callable[..., str]:
    def emit(g: OnnxGraph, a: Any, b: Any) -> str:
        out = g.op(onnx_op, *_floats(g, a, b))
        return g.op("Not", out) if negate else out
    return emit


def _power(g: OnnxGraph, a: Any, b: Any) -> str:
    constant = None if isinstance(b, Sym) or np.ndim(b) else float(b)
    return exact.power(g, *_floats(g, a, b), constant)


def copysign(g: OnnxGraph, a: Any, b: Any) -> str:
    """|a| with the sign of b, for a constant b (ONNX has no sign bit test: −0.0 and nan's sign are numpy's)."""
    if isinstance(b, Sym):
        raise Untraceable("numpy.copysign with a traced sign")
    (a,) = _floats(g, a)
    negative = g.constant(np.signbit(np.asarray(b)), bool)
    magnitude = g.op("Abs", a)
    return g.op("Where", negative, g.op("Neg", magnitude), magnitude)


def _isfinite(g: OnnxGraph, x: Any) -> str:
    (x,) = _floats(g, x)
    return g.op("Not", g.op("Or", g.op("IsNaN", x), g.op("IsInf", x)))


UFUNCS: dict[np.ufunc, Callable[..., str]] = {
    np.add: _same("Add"), np.subtract: _same("Sub"), np.multiply: _same("Mul"), np.divide: _same("Div"),
    np.negative: _same("Neg"), np.power: _power, np.exp: _same("Exp"), np.log: _same("Log"),
    np.tanh: _same("Tanh"), np.sqrt: _same("Sqrt"),
    np.sin: _unary(exact.trigonometric(0)), np.cos: _unary(exact.trigonometric(1)),
    np.absolute: _same("Abs"), np.sign: _same("Sign"), np.reciprocal: _same("Reciprocal"),
    np.matmul: _same("MatMul"), np.maximum: _same("Max"), np.minimum: _same("Min"),  # (nan passes, as in numpy)
    np.square: lambda g, x: g.op("Mul", *_floats(g, x, x)),
    np.log1p: _unary(exact.log1p), np.expm1: _unary(exact.expm1), np.copysign: copysign,
    np.logaddexp: lambda g, a, b: exact.logaddexp(g, *_floats(g, a, b)),
    np.less: _compare("Less"), np.less_equal: _compare("LessOrEqual"), np.greater: _compare("Greater"),
    np.greater_equal: _compare("GreaterOrEqual"), np.equal: _compare("Equal"),
    np.not_equal: _compare("Equal", negate=True),
    np.logical_and: _logical("And"), np.logical_or: _logical("Or"), np.logical_not: _logical("Not"),
    np.invert: _logical("Not"), np.isnan: lambda g, x: g.op("IsNaN", *_floats(g, x)),
    np.isinf: lambda g, x: g.op("IsInf", *_floats(g, x)), np.isfinite: _isfinite,
}


#: the ufuncs whose answer is a mask (the others compute on the model's floats)
MASKS = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal, np.logical_and,
         np.logical_or, np.logical_not, np.invert, np.isnan, np.isinf, np.isfinite}


# -- numpy functions ----------------------------------------------------------------------------
REDUCTIONS = {np.add: "ReduceSum", np.maximum: "ReduceMax", np.minimum: "ReduceMin"}


def _reduce(onnx_op: str, a: Any, axis: Any = 0, dtype: Any = None, out: Any = None, keepdims: bool = False,
            **kwargs: Any) -> Any:
    """A reduction over axes fixed by the run (numpy's rules); its value computed alongside."""
    if not isinstance(a, Sym) or dtype is not None or out is not None or kwargs:
        raise Untraceable(f"a {onnx_op} with dtype=, out= or where=")
    value = np.asarray(a.value)
    axes = tuple(range(value.ndim)) if axis is None else normalize_axis_tuple(axis, value.ndim) if value.ndim else ()
    numpy_reduce = {"ReduceSum": np.sum, "ReduceMax": np.max, "ReduceMin": np.min, "ReduceMean": np.mean}
    result = numpy_reduce[onnx_op](value, axis=axes, keepdims=keepdims)
    (x,) = _floats(a.g, a)
    if axes:
        x = a.g.reduce(onnx_op, x, axes, keepdims)
    return Sym(a.g, x, result)


def _where(condition: Any, x: Any, y: Any) -> Sym:
    g = next(v.g for v in (condition, x, y) if isinstance(v, Sym))
    values = [v.value if isinstance(v, Sym) else v for v in (condition, x, y)]
    (c,), (a, b) = _bools(g, condition), _floats(g, x, y)
    return Sym(g, g.op("Where", c, a, b), np.where(*values))


def _copyto(dst: Any, src: Any, casting: str = "same_kind", where: Any = True) -> None:
    """np.copyto(dst, src, where=mask) on a traced dst: dst becomes Where(mask, src, dst)."""
    if not isinstance(dst, Sym):
        raise Untraceable("numpy.copyto into an array that is not traced")
    value = np.array(dst.value)
    np.copyto(value, src.value if isinstance(src, Sym) else src,
              where=where.value if isinstance(where, Sym) else where)
    g = dst.g
    (mask,) = _bools(g, where)
    dst.name, dst.value = g.op("Where", mask, *_floats(g, src, dst)), value


def _transpose(a: Sym, axes: Any = None) -> Sym:
    perm = list(range(a.ndim))[::-1] if axes is None else [int(i) % a.ndim for i in axes]
    return Sym(a.g, a.g.op("Transpose", _as(a, "f"), perm=perm) if a.ndim > 1 else a.name,
               np.transpose(a.value, axes))


def _reshape(a: Sym, shape: Any) -> Sym:
    """A reshape to the run's shape (a shape that follows the batch size is refused by the check at the other
    batch sizes: its constant changes)."""
    value = np.reshape(a.value, shape)
    return Sym(a.g, a.g.op("Reshape", a.name, a.g.integers(np.shape(value))), value)


def _numpy_reduce(onnx_op: str) -> Callable[..., Sym]:
    return lambda a, axis=None, keepdims=False: _reduce(onnx_op, a, axis=axis, keepdims=keepdims)


FUNCTIONS: dict[Callable, Callable] = {
    np.where: _where, np.copyto: _copyto, np.transpose: _transpose, np.reshape: _reshape,
    np.shape: lambda a: a.shape, np.ndim: lambda a: a.ndim, np.size: lambda a: a.size,
    np.sum: _numpy_reduce("ReduceSum"), np.max: _numpy_reduce("ReduceMax"), np.amax: _numpy_reduce("ReduceMax"),
    np.min: _numpy_reduce("ReduceMin"), np.amin: _numpy_reduce("ReduceMin"),
    np.mean: _numpy_reduce("ReduceMean"),
}


def trace_forward(g: OnnxGraph, op: type, inputs: list[Any], params: dict) -> Sym:
    """Run `op.forward` on `inputs` (Syms, and raw data for constants); its output as a Sym."""
    ctx = object.__new__(op)
    try:
        out = op.forward(ctx, *inputs, **params)
    except Untraceable:
        raise
    except Exception as exc:  # noqa: BLE001  (numpy refusing a Sym: the forward needs something not traced)
        raise Untraceable(f"a step that cannot be traced ({type(exc).__name__}: {str(exc).splitlines()[0]})") \
            from None
    if isinstance(out, tuple):
        raise Untraceable("several outputs")
    if not isinstance(out, Sym):
        raise Untraceable("an output that does not depend on its inputs")
    return out

"""`Value`: a float64 scalar or array that remembers the operation that made it.

Scalars are stored as Python floats (IEEE float64, like numpy's, but arithmetic on
them costs nanoseconds where a 0-d numpy array costs about a microsecond); arrays
are float64 ndarrays. `Value._ctx` is the `Function` node that produced it, and
that node's `parents` are the inputs: the graph only points backwards, so it holds
no reference cycles and is freed by reference counting alone.

Every Value is built by `new_value`, the one place that sets a Value's fields:
`Value(...)` (a leaf from user data), `detach()` and every op's output alike.
"""

from __future__ import annotations

import numbers
from itertools import count
from operator import attrgetter
from typing import Any

import numpy as np

from tinygrad_div import engine  # operators run engine.ops, looked up per call (see engine/__init__.py)
from tinygrad_div.engine.errors import DataError
from tinygrad_div.engine.mode import state

Data = float | np.ndarray
_F64 = np.dtype(np.float64)
_new = object.__new__
_ndarray = np.ndarray

#: The engine's clock: every recorded node takes its `sequence` from it, and every change
#: of a Value's data its `version`, so "changed after the node was recorded" is one comparison.
clock = count(1)


def to_data(x: Any, copy: bool = False) -> Data:
    """Convert a number or array-like to the engine's representation (float or float64 array)."""
    kind = type(x)
    if kind is float:
        return x
    if kind is np.ndarray:
        if x.dtype is not _F64:
            _check_numeric_dtype(x.dtype, x)
            x = x.astype(np.float64)
            copy = False
        if x.ndim == 0:
            return float(x)
        return x.copy() if copy else x
    if isinstance(x, Value):
        return to_data(x._data, copy)
    if isinstance(x, (bool, numbers.Real)):
        try:
            return float(x)
        except OverflowError:
            raise DataError(f"Value data must fit in float64, got {_short_repr(x)}") from None
    if isinstance(x, (str, bytes)) or x is None:
        raise DataError(f"Value data must be numeric, got {type(x).__name__} {x!r}")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise DataError(f"Value data must be a number or a rectangular array of numbers: {exc}") from None
    _check_numeric_dtype(arr.dtype, x)
    arr = arr.astype(np.float64)
    return float(arr) if arr.ndim == 0 else arr


def _check_numeric_dtype(dtype: np.dtype, original: Any) -> None:
    if dtype.kind not in "biuf":
        what = "complex numbers" if dtype.kind == "c" else f"dtype {dtype}"
        raise DataError(f"Value data must be real numbers, got {what} ({_short_repr(original)})")


def _short_repr(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


class _Unset:
    """The default of an `axis=` whose meaning is a number (softmax's -1, stack's 0): given or not, told apart
    from that number, so that `axis=` beside `dim=` is always refused."""

    def __init__(self, default: int) -> None:
        self.default = default

    def __repr__(self) -> str:
        return repr(self.default)


LAST_AXIS, FIRST_AXIS = _Unset(-1), _Unset(0)


def dim_or_axis(op: str, axis: Any, dim: Any) -> Any:
    """The axis of a call that gave `dim=` (torch's name for numpy's `axis=`), or its default given neither.

    Called only when `dim` is given or `axis` was left at an `_Unset` default, so a
    call that gives neither (or only axis) pays one comparison.
    """
    if dim is None:
        return axis.default if isinstance(axis, _Unset) else axis
    if axis is not None and not isinstance(axis, _Unset):
        raise TypeError(f"{op}() got both axis= and dim= (dim is torch's name for axis): give one")
    return dim


def required_axis(op: str, axis: Any, dim: Any) -> Any:
    if axis is None and dim is None:
        raise TypeError(f"{op}() needs the axis to insert: axis= (or dim=)")
    return dim_or_axis(op, axis, dim)


def shape_of(data: Data) -> tuple[int, ...]:
    return () if type(data) is float else data.shape


class Value:
    """A node of the computation graph: `data`, and after `backward()` its `grad`.

    >>> x = Value(3.0)
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> x.grad
    8.0
    """

    # `_version` is set only once data changes (see `version`): an unset slot costs nothing to create
    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_retains_grad", "_version", "__weakref__")

    # Numpy defers to Value in mixed expressions (`np.ones(3) + v` is a Value), and
    # numpy functions applied to Values run as recorded ops (see engine.ops.numpy_protocol):
    # that is what lets one backward rule serve raw arrays and Values alike.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return engine.ops.numpy_protocol.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return engine.ops.numpy_protocol.array_function(func, args, kwargs)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if state.tracer is not None:
            state.tracer.refuse("np.asarray(v) (numpy on a Value's data)")
        return np.asarray(self.data, dtype=dtype)

    _data: Data  # the value: a Python float for a scalar, else a float64 ndarray (read and set as `data`)
    grad: Data | None  # d(output)/d(self) after backward(): leaves, and nodes that called retain_grad()
    requires_grad: bool  # whether gradients flow to this Value (every output of a recorded op does)
    _ctx: Any  # the Function node that produced it; None for a leaf
    _retains_grad: bool  # a non-leaf that keeps its .grad (retain_grad())

    def __new__(cls, data: Any, requires_grad: bool = True) -> Value:
        """A leaf holding a float64 copy of `data` (a number or an array-like of real numbers)."""
        data = to_data(data, copy=True)
        if type(requires_grad) is not bool and type(requires_grad) is not np.bool_:
            raise TypeError(f"requires_grad must be True or False, got {type(requires_grad).__name__} "
                            f"{_short_repr(requires_grad)}")
        return new_value(data, bool(requires_grad), None)

    def __getnewargs__(self) -> tuple:
        return (self._data, self.requires_grad)  # copy and pickle rebuild through __new__, then restore the fields

    # -- data and its version ------------------------------------------------------------
    # The engine itself reads `_data` (a plain slot: no property call on the hot path);
    # `data` is the public face, so that rebinding it is seen.
    def _rebind(self, value: Any) -> None:
        """Rebinding `data` converts it to the engine's float64 form and bumps `version`."""
        if type(value) is not float and (type(value) is not _ndarray or value.dtype is not _F64 or not value.ndim):
            value = to_data(value)  # inline above: optimizers rebind every parameter at every step
        self._data = value
        self._version = state.data_changed = next(clock)

    data = property(attrgetter("_data"), _rebind, doc="The value: a Python float for a scalar, else a float64 ndarray.")

    @property
    def version(self) -> int:
        """Grows whenever `data` changes (rebound, or `increment_version()` after an in-place change).

        Backward refuses a node recorded before a change to one of its inputs (as
        PyTorch's version counter does): its saved data would no longer be what
        forward saw. In-place numpy writes (`x.data[0] = 1`) are not seen: call
        `increment_version()` after them, or rebind `data`.
        """
        return getattr(self, "_version", 0)

    def increment_version(self) -> None:
        """Mark `data` as changed in place: graphs recorded before now refuse to backpropagate through it."""
        self._version = state.data_changed = next(clock)

    # -- inspection -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self._data)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return 1 if type(self._data) is float else self._data.size

    @property
    def is_leaf(self) -> bool:
        """True for Values made by the user rather than by an op (they accumulate `.grad`)."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The `Function` node that produced this Value, or None for a leaf."""
        return self._ctx

    def item(self) -> float:
        if state.tracer is not None:
            state.tracer.refuse("v.item()")
        if type(self.data) is float:
            return self.data
        if self.data.size != 1:
            raise ValueError(f"item() needs a Value with one element, this one has shape {self.shape}")
        return float(self._data.reshape(()))

    def __float__(self) -> float:
        if state.tracer is not None:
            state.tracer.refuse("float(v)")
        if type(self.data) is float:
            return self.data
        if self.data.size != 1:
            raise TypeError(f"float() needs a Value with one element, this one has shape {self.shape}")
        return float(self._data.reshape(()))

    def __format__(self, spec: str) -> str:
        """`f"{loss:.4f}"`: a scalar formats as a float; an array as numpy prints it, each number in `spec`."""
        if state.tracer is not None:
            state.tracer.refuse("format(v) (an f-string of a Value)")
        data = self._data
        if type(data) is float:
            return format(data, spec)
        if not spec:
            return str(data)
        width = max((len(format(x, spec)) for x in data.flat), default=0)  # columns aligned, as numpy's
        return np.array2string(data, formatter={"float_kind": lambda x: format(x, spec).rjust(width)})

    def numpy(self) -> np.ndarray:
        return np.asarray(self._data)

    def __bool__(self) -> bool:
        if state.tracer is not None:
            state.tracer.refuse("bool(v) (an `if`, `and`/`or`, or a comparison's truth value)")
        if type(self.data) is float:
            return self.data != 0.0
        if self.data.size != 1:
            raise ValueError(f"the truth value of a Value of shape {self.shape} is ambiguous (use .data.any())")
        return bool(self._data.reshape(()))

    def __len__(self) -> int:
        if type(self._data) is float:
            raise TypeError("len() of a scalar Value")
        return len(self._data)

    def __repr__(self) -> str:
        data = np.array2string(np.asarray(self._data), precision=6, separator=", ")
        extra = "" if self.requires_grad else ", requires_grad=False"
        if self._ctx is not None:
            extra += f", op={type(getattr(self._ctx, 'node', self._ctx)).__name__}"
        return f"Value({data}{extra})"

    # -- autograd ---------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (seed `grad` for non-scalars)."""
        engine.autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self) -> None:
        self.grad = None

    def retain_grad(self) -> Value:
        """Keep `.grad` on this non-leaf Value too (leaves always keep theirs)."""
        self._retains_grad = True
        return self

    def detach(self) -> Value:
        """The same data as a new leaf that is cut off from the graph (no gradient flows back)."""
        return new_value(self._data, False, None)

    # -- arithmetic: each operator is one recorded op -------------------------------------
    def __add__(self, other: Any) -> Value: return engine.ops.Add.apply(self, other)
    def __radd__(self, other: Any) -> Value: return engine.ops.Add.apply(other, self)
    def __sub__(self, other: Any) -> Value: return engine.ops.Sub.apply(self, other)
    def __rsub__(self, other: Any) -> Value: return engine.ops.Sub.apply(other, self)
    def __mul__(self, other: Any) -> Value: return engine.ops.Mul.apply(self, other)
    def __rmul__(self, other: Any) -> Value: return engine.ops.Mul.apply(other, self)
    def __truediv__(self, other: Any) -> Value: return engine.ops.Div.apply(self, other)
    def __rtruediv__(self, other: Any) -> Value: return engine.ops.Div.apply(other, self)
    def __pow__(self, other: Any) -> Value: return engine.ops.Pow.apply(self, other)
    def __rpow__(self, other: Any) -> Value: return engine.ops.Pow.apply(other, self)
    def __matmul__(self, other: Any) -> Value: return engine.ops.MatMul.apply(self, other)
    def __rmatmul__(self, other: Any) -> Value: return engine.ops.MatMul.apply(other, self)
    def __neg__(self) -> Value: return engine.ops.Neg.apply(self)
    def __pos__(self) -> Value: return self
    def __getitem__(self, index: Any) -> Value: return engine.ops.GetItem.apply(self, index=index)

    def exp(self) -> Value: return engine.ops.Exp.apply(self)
    def log(self) -> Value: return engine.ops.Log.apply(self)
    def sigmoid(self) -> Value: return engine.ops.Sigmoid.apply(self)
    def relu(self) -> Value: return engine.ops.ReLU.apply(self)
    def tanh(self) -> Value: return engine.ops.Tanh.apply(self)
    def abs(self) -> Value: return engine.ops.Abs.apply(self)
    def __abs__(self) -> Value: return engine.ops.Abs.apply(self)

    # `dim=` is accepted wherever `axis=` is (torch's name; both at once: TypeError)
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *, dim: Any = None) -> Value:
        if dim is not None:
            axis = dim_or_axis("sum", axis, dim)
        return engine.ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *, dim: Any = None) -> Value:
        if dim is not None:
            axis = dim_or_axis("mean", axis, dim)
        return engine.ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Value:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return engine.ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: Any) -> Value:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return engine.ops.Transpose.apply(self, axes=tuple(axes) if axes else None)

    def swapaxes(self, axis1: int, axis2: int) -> Value:
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return engine.ops.Transpose.apply(self, axes=tuple(axes))

    @property
    def T(self) -> Value:
        return engine.ops.Transpose.apply(self, axes=None)


    # -- comparisons: masks, never recorded (see engine.ops.compare for why == stays identity) ---------
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool: return self is other
    def __ne__(self, other: object) -> bool: return self is not other
    def eq(self, other: Any) -> Any: return engine.ops.compare.compare("eq", self, other)
    def ne(self, other: Any) -> Any: return engine.ops.compare.compare("ne", self, other)
    def __lt__(self, other: Any) -> Any: return engine.ops.compare.compare("lt", self, other)
    def __le__(self, other: Any) -> Any: return engine.ops.compare.compare("le", self, other)
    def __gt__(self, other: Any) -> Any: return engine.ops.compare.compare("gt", self, other)
    def __ge__(self, other: Any) -> Any: return engine.ops.compare.compare("ge", self, other)

    # -- selection, limits, more elementwise functions, normalising, shape -------------------
    def maximum(self, other: Any) -> Value: return engine.ops.Maximum.apply(self, other)
    def minimum(self, other: Any) -> Value: return engine.ops.Minimum.apply(self, other)

    def clip(self, lo: Any = None, hi: Any = None) -> Value:
        """Limit to [lo, hi] (None: no limit on that side), as np.clip and torch.clamp."""
        return engine.ops.Clip.apply(self, -np.inf if lo is None else lo, np.inf if hi is None else hi)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *, dim: Any = None) -> Value:
        if dim is not None:
            axis = dim_or_axis("max", axis, dim)
        return engine.ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *, dim: Any = None) -> Value:
        if dim is not None:
            axis = dim_or_axis("min", axis, dim)
        return engine.ops.Min.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: Any = None) -> Any:
        return engine.ops.compare.argmax(self, axis, keepdims, dim=dim)

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: Any = None) -> Any:
        return engine.ops.compare.argmin(self, axis, keepdims, dim=dim)

    def sqrt(self) -> Value: return engine.ops.Sqrt.apply(self)
    def sin(self) -> Value: return engine.ops.Sin.apply(self)
    def cos(self) -> Value: return engine.ops.Cos.apply(self)
    def log1p(self) -> Value: return engine.ops.Log1p.apply(self)
    def expm1(self) -> Value: return engine.ops.Expm1.apply(self)
    def softmax(self, axis: int = LAST_AXIS, *, dim: Any = None) -> Value:
        if dim is not None or axis is LAST_AXIS:
            axis = dim_or_axis("softmax", axis, dim)
        return engine.ops.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = LAST_AXIS, *, dim: Any = None) -> Value:
        if dim is not None or axis is LAST_AXIS:
            axis = dim_or_axis("log_softmax", axis, dim)
        return engine.ops.LogSoftmax.apply(self, axis=axis)

    def logsumexp(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, *,
                  dim: Any = None) -> Value:
        if dim is not None:
            axis = dim_or_axis("logsumexp", axis, dim)
        return engine.ops.LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def squeeze(self, axis: int | tuple[int, ...] | None = None, *, dim: Any = None) -> Value:
        if dim is not None:
            axis = dim_or_axis("squeeze", axis, dim)
        return engine.ops.Squeeze.apply(self, axis=axis)

    def expand_dims(self, axis: int | tuple[int, ...] | None = None, *, dim: Any = None) -> Value:
        if dim is not None or axis is None:
            axis = required_axis("expand_dims", axis, dim)
        return engine.ops.ExpandDims.apply(self, axis=axis)
    def unsqueeze(self, dim: int) -> Value: return engine.ops.ExpandDims.apply(self, axis=dim)

    def flatten(self, start: int = 0, end: int = -1) -> Value:
        return engine.ops.Flatten.apply(self, start=start, end=end)


def new_value(data: Data, requires_grad: bool, node: Any) -> Value:
    """The one place a Value is built. `data` must already be engine data (see `to_data`);
    `node` is the Function that produced it, or None for a leaf."""
    v = _new(Value)
    v._data = data
    v.grad = None
    v.requires_grad = requires_grad
    v._ctx = node
    v._retains_grad = False
    return v

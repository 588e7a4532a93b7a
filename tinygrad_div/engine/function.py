"""`Function`: the one way an op is defined, built-in or yours (PyTorch's `autograd.Function` contract).

    class Square(Function):
        '''y = x², dy/dx = 2x'''
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(v)

`forward` receives raw data (Python floats for scalars, float64 ndarrays otherwise)
plus any keyword parameters; `backward` returns one gradient per positional input
(None where there is none). The engine, not the op, sums a gradient back to its
input's shape after broadcasting. Write backward with arithmetic and numpy
functions only: the same rule then runs on raw arrays (fast) and, for higher-order
gradients, on Values (see `numpy_protocol`), which record a graph of their own.

A `Function` instance is the graph node: it is the `ctx`, it holds the inputs
(`parents`) and what forward saved, and never its own output, so graphs hold no
reference cycles.
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
import os
import traceback
import weakref
from typing import Any, ClassVar

import numpy as np
from numpy.exceptions import AxisError

from tinygrad_div.engine.errors import ShapeError
from tinygrad_div.engine.mode import state
from tinygrad_div.engine.value import Data, Value, clock, new_value, shape_of, to_data

_ndarray = np.ndarray
_F64 = np.dtype(np.float64)
_new = object.__new__
_sequence = clock  # shared with data versions (see Value.version)


class Function:
    """Base class of every op; subclasses define static `forward(ctx, *data, **params)` and `backward(ctx, grad)`."""

    #: every subclass, by "module.QualName"; `registered_ops()` reads it
    registry: ClassVar[dict[str, type[Function]]] = {}

    # What `tinygrad_div.testing` draws when it gradient-checks the op on its own (docs/ops.md):
    #: input domain, one name for all inputs or one per input: "real", "positive", "nonzero",
    #: "distinct" (elements kept apart, off kinks such as a = b), "bool" (masks)
    domain: ClassVar[str | tuple[str, ...]] = "real"
    #: how the input shapes relate: "broadcast" (elementwise), "matmul", or one spec per input
    #: such as ("N,C", "N"); also how apply tells numpy refusing mismatched inputs (a
    #: ShapeError) from an op's own ValueError
    shapes: ClassVar[str | tuple[str, ...]] = "broadcast"
    #: the fewest axes a "broadcast" input is drawn with (1: no scalars)
    min_ndim: ClassVar[int] = 0
    #: optional hook `draw_inputs(draw) -> (inputs, params)`: the op draws its own cases
    draw_inputs: ClassVar[Any] = None
    #: False when backward is not itself differentiable (skip second-derivative checks)
    twice_differentiable: ClassVar[bool] = True
    #: optional hook `extra_cases() -> [(inputs, params), ...]`: whole cases the cross-path registry
    #: (tinygrad_div.crosspath) runs besides those it derives from the hooks above and edge values
    extra_cases: ClassVar[Any] = None

    # A node's fields. `apply` sets the first three on the node it records; the class
    # values are the defaults, so every node has every field. Ops add their own
    # (ctx.input_shape, ...) freely, as in PyTorch.
    #: the inputs as given (Values or raw data), in order: the graph's edges, pointing back only
    parents: tuple = ()
    #: creation order, unique and increasing: an op comes after its inputs, which gives the
    #: backward loop its topological order
    sequence: int = -1
    #: what forward saved for backward (save_for_backward); None once a backward pass has freed it
    saved_tensors: tuple | None = ()
    #: the data forward saw, kept only when it is not the parents' own data by identity (see _distinct)
    input_data: tuple | None = None
    #: (file, line) of the user code that created the node; recorded only under detect_anomaly()
    creation_site: tuple[str, int] | None = None
    #: the raw outputs forward passed to mark_non_differentiable (constants, not differentiated)
    non_differentiable: tuple = ()
    #: a node with several outputs: a weak reference per output Value (None for a constant
    #: one) and their shapes, so backward can be handed zeros for an output nobody used
    outputs: tuple | None = None
    output_shapes: tuple = ()

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if register:
            Function.registry[f"{cls.__module__}.{cls.__qualname__}"] = cls

    # -- the contract ---------------------------------------------------------------------
    @staticmethod
    def forward(ctx: Function, *inputs: Data, **params: Any) -> Data:
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: Function, grad: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @staticmethod
    def example_params(*shapes: tuple[int, ...]) -> list[dict[str, Any]]:
        """Keyword parameters worth gradient-checking for inputs of these shapes."""
        return [{}]

    @classmethod
    def saved_values(cls, ctx: Function, inputs: tuple, output: Value) -> tuple:
        """`saved_tensors` as Values, for differentiating the backward rule itself.

        A saved input or output becomes its Value and anything else a constant. An op
        that saves an intermediate which depends on its inputs overrides this to
        recompute it from `inputs` with recorded ops (see Sigmoid).
        """
        seen = ctx.input_data or [getattr(x, "data", x) for x in inputs]
        by_identity = {id(data): x for x, data in zip(inputs, seen) if isinstance(x, Value)}
        by_identity[id(output._data)] = output
        for ref in ctx.outputs or ():
            sibling = ref() if ref is not None else None
            if sibling is not None:
                by_identity[id(sibling._data)] = sibling
        values = []
        for t in ctx.saved_tensors:
            if isinstance(t, float) or (type(t) is _ndarray and t.dtype.kind == "f"):  # labels, masks stay raw
                known = by_identity.get(id(t))
                t = known if known is not None else new_value(to_data(t), False, None)
            values.append(t)
        return tuple(values)

    # -- what forward and backward may use on ctx -------------------------------------------
    def save_for_backward(self, *tensors: Any) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """In forward: these outputs (the raw objects it returns) are constants, as in PyTorch.
        They come back with requires_grad=False (an integer array as the raw array), and
        backward gets zeros for them."""
        self.non_differentiable = outputs

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple([isinstance(p, Value) and p.requires_grad for p in self.parents])

    # -- running an op --------------------------------------------------------------------
    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Value:
        """Run forward on the inputs' data and, when any input requires grad, record the node.

        Three steps: `gather_data` (each input's data, and whether any requires grad),
        `run_forward` (forward on a fresh node, numpy refusing shapes made a ShapeError),
        `record_output` (the output as engine data, in a Value whose `grad_fn` is the node).
        """
        datas, record, separated = gather_data(inputs)
        ctx = _new(cls)
        out = run_forward(cls, ctx, datas, params)
        return record_output(cls, ctx, inputs, datas, params, out, record and state.grad_enabled, separated)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} node>"


class Output:
    """The node of output `index` of a Function with several outputs (`output.grad_fn`).

    Each output gets its own sequence number, so the backward loop orders them like any
    nodes; on reaching one, it collects the gradients of all of them and runs the op's
    backward once, with one gradient per output (see autograd). Everything else reads
    through to the op's node.
    """

    __slots__ = ("node", "index", "parents", "sequence")

    def __init__(self, node: Function, index: int) -> None:
        self.node, self.index = node, index
        self.parents = node.parents
        self.sequence = next(_sequence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.node, name)

    def __repr__(self) -> str:
        return f"<{type(self.node).__name__} node, output {self.index}>"


def constant(x: Any) -> Any:
    """A non-Value input as forward sees it: integer and boolean arrays (labels, indices, masks)
    untouched, anything else as engine data (`to_data`: floats and float64 arrays)."""
    if type(x) is _ndarray and x.dtype.kind in "biu":
        return x
    return to_data(x)


def gather_data(inputs: tuple) -> tuple[tuple, bool, bool]:
    """Step 1 of `apply`: the inputs' data (`constant` for non-Values), whether any input requires
    grad, and whether some data had to be separated (see `_distinct`)."""
    if len(inputs) == 2:  # two Values (every binary operator): measured W4 -740 instructions per op
        a, b = inputs
        if isinstance(a, Value) and isinstance(b, Value):
            datas = [a._data, b._data]
            if datas[0] is not datas[1] or a is b:
                return datas, a.requires_grad or b.requires_grad, False
    record = False
    datas = []
    for x in inputs:
        if isinstance(x, Value):
            datas.append(x._data)
            record = record or x.requires_grad
        else:
            datas.append(x if type(x) is float else constant(x))
    if len(datas) == 2:  # the common case, told without building a set
        if datas[0] is not datas[1] or inputs[0] is inputs[1]:
            return datas, record, False
    elif len(datas) < 2 or len(set(map(id, datas))) == len(datas):
        return datas, record, False
    return _separate(inputs, datas), record, True


def _separate(inputs: tuple, datas: list) -> list:
    """The data with a copy (`_distinct`) wherever two different inputs share one data object."""
    owner: dict[int, Any] = {}
    separated = []
    for x, data in zip(inputs, datas):
        if owner.setdefault(id(data), x) is not x:
            data = _distinct(data)
        separated.append(data)
    return separated


def run_forward(cls: type[Function], ctx: Function, datas: list, params: dict) -> Any:
    """Step 2 of `apply`: `cls.forward` on the data; a ValueError that is numpy refusing the
    inputs' shapes becomes a ShapeError naming the op (see `numpy_refused`), any other passes unchanged."""
    try:
        if params:
            return cls.forward(ctx, *datas, **params)
        if len(datas) == 2:  # a star-call costs more: measured W4 -650 instructions per op
            return cls.forward(ctx, datas[0], datas[1])
        return cls.forward(ctx, *datas)
    except ValueError as exc:
        if not numpy_refused(cls, datas, exc):
            raise  # the op's own error (a user forward's, say), unchanged, with its own line
        raise _shape_error(cls, datas, exc) from None


def record_output(cls: type[Function], ctx: Function, inputs: tuple, datas: list, params: dict, out: Any,
                  record: bool, separated: bool) -> Any:
    """Step 3 of `apply`: the output as engine data in a new Value; when `record`, `ctx` becomes
    its node (`grad_fn`) with the inputs as `parents`. Several outputs: `_apply_many`."""
    if type(out) is not float and (type(out) is not _ndarray or out.dtype is not _F64 or not out.ndim):
        if type(out) is tuple or (type(out) is _ndarray and out.dtype.kind in "biu" and _marked(ctx, out)):
            if state.tracer is not None:  # tinygrad_div.compile records one Value per op
                state.tracer.refuse(f"{cls.__name__} (an op with several outputs or an integer output)")
            if type(out) is not tuple:
                return out  # an integer output marked non-differentiable: the raw array, as numpy gives it
            return _apply_many(cls, ctx, inputs, datas, out, record, separated)
        out = _normalize_output(cls, ctx, out)
    if datas and (out is datas[0] or out is datas[-1] or (len(datas) > 2 and any(out is d for d in datas))):
        out = _distinct(out)  # forward passed an input through (a for loop: measured W4 +640 instructions)
    if state.anomaly is not None:
        state.anomaly.check_forward(cls, ctx, datas, out)
    if record and not (ctx.non_differentiable and _marked(ctx, out)):
        ctx.parents = inputs
        if separated:
            ctx.input_data = tuple(datas)
        ctx.sequence = next(_sequence)
        v = new_value(out, True, ctx)
    else:
        v = new_value(out, False, None)  # nothing recorded, or forward marked its one output a constant
    if state.tracer is not None:  # tinygrad_div.compile is recording a step
        state.tracer.record(cls, inputs, params, v)
    return v


def _marked(ctx: Function, out: Any) -> bool:
    """Whether forward passed `out` to ctx.mark_non_differentiable."""
    return any(out is m for m in ctx.non_differentiable)


def _apply_many(cls: type[Function], ctx: Function, inputs: tuple, datas: list, outs: tuple, record: bool,
                separated: bool) -> tuple:
    """`apply` for a forward that returned a tuple: a tuple of Values (raw arrays for integer outputs
    marked non-differentiable), each differentiable one with an `Output` node of its own."""
    constant_output = [_marked(ctx, out) for out in outs]
    if record:
        ctx.parents = inputs
        if separated:
            ctx.input_data = tuple(datas)
        ctx.sequence = next(_sequence)
    results: list = []
    for k, out in enumerate(outs):
        if constant_output[k] and type(out) is _ndarray and out.dtype.kind in "biu":
            results.append(out)
            continue
        data = _normalize_output(cls, ctx, out, k)
        if any(data is d for d in datas) or any(data is getattr(r, "data", r) for r in results):
            data = _distinct(data)  # an input passed through, or one array returned twice
        if state.anomaly is not None:
            state.anomaly.check_forward(cls, ctx, datas, data)
        node = Output(ctx, k) if record and not constant_output[k] else None
        results.append(new_value(data, node is not None, node))
    if record:
        ctx.outputs = tuple(weakref.ref(r) if isinstance(r, Value) and r._ctx is not None else None for r in results)
        ctx.output_shapes = tuple(shape_of(r.data) if isinstance(r, Value) else None for r in results)
    return tuple(results)


def _distinct(data: Data) -> Data:
    """Equal data in a new object. `saved_values` recognises a saved input or output by
    identity, so two different Values (say x and x.detach(), or two Value(1.0), which
    share Python's float object) must not hand forward the very same object; where they
    would, one gets a copy and the node remembers what forward saw (`input_data`)."""
    return data * 1.0 if type(data) is float else data.view()


def _normalize_output(cls: type[Function], ctx: Any, out: Any, index: int | None = None) -> Data:
    """A forward's output as engine data: numpy's float64 scalars and 0-d arrays become floats;
    anything else that is not float64 is refused, naming the op (no silent conversions)."""
    what = "output" if index is None else f"output {index}"
    if isinstance(out, Value):
        raise TypeError(f"{cls.__name__}.forward returned a Value as its {what}: return raw data "
                        "(a float or a float64 array)")
    if type(out) is float:
        return out
    if isinstance(out, float):  # np.float64
        normalized = float(out)
    elif type(out) is _ndarray and out.dtype is _F64:
        normalized = float(out) if out.ndim == 0 else out
    else:
        kind = (f"an array of dtype {out.dtype}" if isinstance(out, _ndarray) else
                f"a numpy {out.dtype} scalar" if isinstance(out, np.generic) else type(out).__name__)
        hint = " (mark integer outputs with ctx.mark_non_differentiable)" if kind.startswith("an array") else ""
        raise TypeError(f"{cls.__name__}.forward returned {kind} as its {what}: an op returns a float, a float64 "
                        f"array, or a tuple of them{hint}")
    saved = getattr(ctx, "saved_tensors", ())
    if saved and any(t is out for t in saved):
        # keep "saved the output" recognisable by identity (see Function.saved_values)
        ctx.saved_tensors = tuple(normalized if t is out else t for t in saved)
    return normalized


# -- shape errors: told by where the error was raised and by the shapes, never by its words ----
_NUMPY_DIR = os.path.dirname(np.__file__) + os.sep
_OPS_PACKAGE = __name__.rpartition(".")[0] + ".ops"


def numpy_refused(cls: type[Function], datas: list, exc: ValueError) -> bool:
    """Whether a ValueError out of `cls.forward` is numpy refusing inputs that do not fit (a ShapeError).

    - numpy's exception for a bad axis (AxisError), or an error raised in numpy's Python
      code (np.reshape, np.transpose, ...): numpy refused what it was handed;
    - raised by a `raise` statement anywhere else: the op's own error, never relabelled
      (a built-in op that finds its inputs do not fit raises ShapeError itself);
    - raised inside a C function the op called (a ufunc, np.matmul, but also math.log):
      numpy's refusal if the op is a built-in one, whose code calls only numpy, or if the
      inputs' shapes break the op's declared relation (`Function.shapes`).
    Why a `raise` statement is told by the syntax tree of the raising line's file (where the
    error's traceback ends), not by bytecode: the tree is the language's, stable across
    CPython versions, where opcodes are not; and the shapes alone cannot tell a user's own
    `raise ValueError` on mismatched inputs from numpy's. Only the error path pays for this.
    """
    if isinstance(exc, AxisError):
        return True
    where = traceback.extract_tb(exc.__traceback__)[-1]
    if os.path.abspath(where.filename).startswith(_NUMPY_DIR):
        return True
    builtin = cls.__module__.startswith(_OPS_PACKAGE)
    raise_lines = _raise_lines(where.filename, _stamp(where.filename))
    if raise_lines is None:  # no source to read (exec, python -c, the REPL): never relabel a user's error
        return builtin
    if where.lineno in raise_lines:
        return False
    return builtin or not _shapes_fit(cls.shapes, [shape_of(d) for d in datas])


def _stamp(filename: str) -> tuple[float, int] | None:
    """The file's modification time and size: a cache key that changes when the file is edited or reloaded."""
    try:
        info = os.stat(filename)
    except OSError:
        return None
    return info.st_mtime, info.st_size


@functools.lru_cache(maxsize=64)
def _raise_lines(filename: str, stamp: tuple[float, int] | None) -> frozenset[int] | None:
    """The lines of `filename` that belong to a `raise` statement; None when its source is not at hand."""
    linecache.checkcache(filename)
    lines = linecache.getlines(filename)
    if stamp is None or not lines:
        return None
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return None
    return frozenset(line for node in ast.walk(tree) if isinstance(node, ast.Raise)
                     for line in range(node.lineno, (node.end_lineno or node.lineno) + 1))


def _shapes_fit(relation: str, shapes: list[tuple[int, ...]]) -> bool:
    """Whether input shapes satisfy `relation`: numpy's broadcast rule, or matmul's (1-D and stacked)."""
    try:
        if relation == "matmul":
            a, b = shapes
            if not a or not b or a[-1] != b[-1 if len(b) == 1 else -2]:
                return False
            np.broadcast_shapes(a[:-2], b[:-2])
        else:
            np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _shape_error(cls: type[Function], datas: tuple, exc: ValueError) -> ShapeError:
    shapes = " and ".join(str(shape_of(d)) for d in datas)
    return ShapeError(f"{cls.__name__}: inputs of shapes {shapes} do not fit: {exc}")


def registered_ops(prefix: str | None = None) -> list[type[Function]]:
    """Every registered Function subclass, optionally only those whose module starts with `prefix`."""
    return [
        op for op in Function.registry.values()
        if prefix is None or op.__module__ == prefix or op.__module__.startswith(prefix + ".")
    ]


def input_count(op: type[Function]) -> int:
    """How many positional inputs `op.forward` takes (after ctx)."""
    parameters = list(inspect.signature(op.forward).parameters.values())[1:]
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in kinds and p.default is inspect.Parameter.empty)

"""`compile(fn)`: a training step traced once per signature, then run as straight-line Python.

The first call with a new signature (per argument: scalar, or array and shape)
traces fn, simplifies and emits the program, then runs fn eagerly as well and
raises TraceError unless the program's loss and every gradient equal eager's to the
last bit. Later calls with that signature run only the program. Parameters' `.data`
is read on every call, and their `.grad` is accumulated as `loss.backward()` would.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_div.compile.backward import chain_rule
from tinygrad_div.compile.builder import Builder
from tinygrad_div.compile.emit import build, emit
from tinygrad_div.compile.errors import TraceError
from tinygrad_div.compile.independence import check_independent
from tinygrad_div.compile.ir import Program
from tinygrad_div.compile.naming import arrays_of, names_of
from tinygrad_div.compile.runtime import Retrace, same_bits
from tinygrad_div.compile.simplify import simplify
from tinygrad_div.compile.tracer import Tracer, run_traced
from tinygrad_div.engine.errors import DataError
from tinygrad_div.engine.mode import state
from tinygrad_div.engine.value import Value, new_value, to_data

_ndarray = np.ndarray
_F64 = np.dtype(np.float64)
#: programs one signature may have (one per selection count seen); more is a TraceError
MAX_VARIANTS = 4


@dataclass
class Traced:
    """One signature's program: its source, the function compiled from it, the Values it reads."""

    signature: tuple
    source: str
    run: Callable
    params: tuple[Value, ...]
    program: Program
    #: programs of the same signature traced after a guard failed here (another selection count)
    variants: list[Traced] = field(default_factory=list)


class Compiled:
    """What `compile(fn)` returns: call it like fn; it returns the loss and fills the parameters' `.grad`."""

    def __init__(self, fn: Callable, names: dict[str, Value] | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"compile() needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.names = names
        self.signatures: dict[tuple, Traced] = {}
        parameters = list(inspect.signature(fn).parameters.values())
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY) for p in parameters):
            raise TypeError("compile() supports steps with positional parameters only (no *args, **kwargs)")
        self.arg_names = [p.name for p in parameters]
        #: parameters with defaults may be left out; fn then sees its defaults (constants of the program)
        self.required = sum(1 for p in parameters if p.default is p.empty)
        self.__name__ = getattr(fn, "__name__", "step")
        functools.update_wrapper(self, fn)

    @property
    def source(self) -> str:
        """The generated code of every traced signature and its variants (the most recent last)."""
        return "\n".join(v.source for t in self.signatures.values() for v in (t, *t.variants))

    def __call__(self, *args: Any) -> Value:
        if not state.grad_enabled:
            raise RuntimeError(f"{self.__name__}: a compiled step computes gradients; do not call it under no_grad()")
        if not self.required <= len(args) <= len(self.arg_names):
            count = (f"{self.required}" if self.required == len(self.arg_names)
                     else f"{self.required} to {len(self.arg_names)}")
            raise TypeError(f"{self.__name__}() takes {count} arguments ({', '.join(self.arg_names)}), "
                            f"got {len(args)}")
        # the common case first: floats and float64 arrays, passed to the program as they are
        key = tuple([() if type(a) is float else a.shape if type(a) is _ndarray and a.dtype is _F64 and a.ndim
                     else None for a in args])
        if None in key:
            args = [a if type(a) is float else self._data(i, a) for i, a in enumerate(args)]
            key = _signature(args)
        traced = self.signatures.get(key)
        if traced is None:
            traced, loss = self._first_call(key, list(args))
            self.signatures[key] = traced
            return loss
        try:
            return new_value(traced.run(*args), False, None)
        except Retrace as failed:  # a guard: the trace's assumption (a mask's count) does not hold this call
            return self._variant(traced, list(args), failed)

    def _variant(self, traced: Traced, datas: list, failed: Retrace) -> Value:
        """Run the signature's other program whose guards hold, or trace one more (at most MAX_VARIANTS)."""
        for other in traced.variants:
            try:
                return new_value(other.run(*datas), False, None)
            except Retrace as again:
                failed = again
        if len(traced.variants) + 1 >= MAX_VARIANTS:
            raise TraceError(f"{failed.where}: {failed.what}, on {MAX_VARIANTS} traces of {self.__name__} with one "
                             "signature: a shape that follows the data (a mask's selection count) keeps changing; "
                             "use td.where instead of indexing with the mask, or call the step uncompiled") from None
        variant, loss = self._first_call(traced.signature, datas)
        traced.variants.append(variant)
        return loss

    def _data(self, i: int, a: Any) -> Any:
        """An argument as the program takes it; Python ints and bools, and int and bool arrays, stay as they are."""
        if type(a) is _ndarray and (a.dtype is _F64 and a.ndim or a.dtype.kind in "iub" and a.ndim):
            return a  # integer and bool arrays (labels, masks) stay what they are
        if type(a) in (int, bool) or isinstance(a, (np.integer, np.bool_)):
            return a  # static: part of the signature, the step sees the number itself (see _signature)
        if isinstance(a, Value):
            return a.data
        if isinstance(a, (_ndarray, np.floating)) and a.dtype.kind == "f" and a.dtype != _F64:
            raise DataError(f"{self.__name__}(): argument {self.arg_names[i]}: {a.dtype} data; a compiled step "
                            "computes in float64 as the engine does: pass it as .astype(np.float64)")
        try:
            return to_data(a)
        except DataError as exc:
            raise DataError(f"{self.__name__}(): argument {self.arg_names[i]}: {exc}") from None

    # -- the first call of a signature -----------------------------------------------------
    def trace(self, datas: list) -> Traced:
        """Trace fn on these arguments and build its program (no eager check; see __call__)."""
        builder = Builder()
        tracer = Tracer(builder, names_of(self.fn, self.names))
        args = [tracer.argument(name, d, i) for i, (name, d) in enumerate(zip(self.arg_names, datas))]
        loss = run_traced(tracer, self.fn, args)
        check_independent(self.fn, self.arg_names, datas, tracer)
        if not isinstance(loss, Value):
            raise TraceError(f"{self.__name__} must return the loss as a Value, got {type(loss).__name__}")
        if type(loss.data) is not float:
            raise TraceError(f"{self.__name__} must return a scalar loss, got shape {loss.shape}")
        slot = tracer.slot_of.get(id(loss))
        if slot is None or not loss.requires_grad:
            raise TraceError(f"{self.__name__}: the loss does not depend on any parameter that requires grad")
        program = builder.program
        program.loss = slot
        if slot not in tracer.renamed:
            program.slots[slot].name = builder.name("loss")
        grads = chain_rule(builder, tracer, tracer.nodes, slot)
        program.grads = [(program.slots[p].source, g) for p, g in grads.items()]
        simplify(program)
        key = _signature(datas)
        name = self.__name__ if self.__name__.isidentifier() else "step"
        source = emit(program, name, self.arg_names, builder.namespace)
        filename = f"<compiled {name} {key}>"
        run = build(source, name, filename, builder.namespace)
        return Traced(key, source, run, builder.namespace["params"], program)

    def _first_call(self, key: tuple, datas: list) -> tuple[Traced, Value]:
        """Trace, then run the program and fn eagerly on the same data: TraceError unless every bit agrees.

        fn runs several times here (the trace, its re-traces, eager); arrays it reaches that an op
        updates in place (batch_norm's running statistics) are put back before eager's run and
        before the program's, so the call has the effect of one step."""
        state = [(a, a.copy()) for a in arrays_of(self.fn)]
        traced = self.trace(datas)
        _restore(state)
        grads_before = [p.grad for p in traced.params]
        loss = self.fn(*(d if _static(d) or type(d) is _ndarray and d.dtype.kind in "iub" else new_value(d, False, None)
                         for d in datas))  # eager, for the bitwise check
        loss.backward()
        eager = [p.grad for p in traced.params]
        for p, g in zip(traced.params, grads_before):
            p.grad = g
        _restore(state)
        compiled = traced.run(*datas)
        differ = [i for i, (p, g) in enumerate(zip(traced.params, eager))
                  if not (same_bits(p.grad, g) and type(p.grad) is type(g))]
        for p, g in zip(traced.params, eager):
            p.grad = g  # the caller gets eager's gradients either way
        if differ or not same_bits(compiled, loss.data):
            what = "the loss" if not differ else f"the gradient of {traced.program.slots and differ[0]}"
            raise TraceError(f"{self.__name__}: the compiled program differs from eager in {what} "
                             "(please report this with the step's source)")
        return traced, new_value(compiled, False, None)

    def __repr__(self) -> str:
        return f"<compiled {self.__name__}: {len(self.signatures)} signature(s)>"


def _restore(state: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Put arrays back to their copies, in place (the program holds them by reference)."""
    for array, copy in state:
        if array.shape == copy.shape and not np.array_equal(array, copy, equal_nan=array.dtype.kind in "fc"):
            np.copyto(array, copy)


def _static(d: Any) -> bool:
    """A Python (or numpy) int or bool argument: the step sees it as it is, a constant of its program."""
    return type(d) in (int, bool) or isinstance(d, (np.integer, np.bool_))


def _signature(datas: list) -> tuple:
    """Per argument: () for a float, the shape of a float64 array, (dtype, shape) of an int or bool
    array, and (type, value) of a static int or bool (a new value traces a new program)."""
    return tuple(() if type(d) is float else (type(d).__name__, d) if _static(d) else d.shape
                 if d.dtype is _F64 else (d.dtype.str, d.shape) for d in datas)


def compile(fn: Callable | None = None, *, names: dict[str, Value] | None = None) -> Any:  # noqa: A001
    """`td.compile(step)` or `@td.compile`: trace once per signature, then run as straight-line code.

    `names` gives parameters names for the generated source ({"w1": layer.weight}).
    """
    if fn is None:
        return lambda f: Compiled(f, names)
    return Compiled(fn, names)

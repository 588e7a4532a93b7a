"""`OnnxGraph`: what a mapping (built-in or a Function's `to_onnx` hook) uses to emit ONNX nodes.

    class Softplus(Function):
        ...
        @staticmethod
        def to_onnx(ctx, g, x):           # x: the ONNX name of the input tensor
            return g.op("Softplus", x)    # the ONNX name of the output tensor

A mapping receives the node (`ctx`, whatever forward saved on it), the graph `g` and
the ONNX names of the node's inputs, and returns the name of its output. It reads the
shapes the model ran with from `g.input_dims` and `g.output_dims`: ints, and `Dim`s
for dimensions that follow a symbolic batch size; `g.shape(dims)` turns such a shape
into the int64 tensor that Reshape and Expand take.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tinygrad_div.onnx.errors import ExportError
from tinygrad_div.onnx.trace import Dim

FLOAT_TYPES = {"float64": TensorProto.DOUBLE, "float32": TensorProto.FLOAT}


class OnnxGraph:
    """Nodes and initializers under construction, with unique tensor names."""

    def __init__(self, dtype: str, batch_source: str | None) -> None:
        self.dtype = np.dtype(dtype)
        self.float_type = FLOAT_TYPES[dtype]
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.input_dims: list[tuple] = []
        self.output_dims: tuple = ()
        self.current_dims: tuple = ()  # the dims of the tensor a mapping is working on (its own use)
        self.op_name = ""  # the op being mapped, for error messages
        self._batch_source = batch_source  # the graph input whose axis 0 is the batch size
        self._batch: str | None = None
        self._names: set[str] = set()
        self._constants: dict[tuple, str] = {}

    # -- names ------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        """A tensor name not used yet, made from `hint`."""
        name, k = hint, 0
        while name in self._names:
            k += 1
            name = f"{hint}_{k}"
        self._names.add(name)
        return name

    def reserve(self, name: str) -> None:
        self._names.add(name)

    # -- emitting ---------------------------------------------------------------------
    def op(self, op_type: str, *inputs: str, **attributes: Any) -> str:
        """Add one ONNX node with a single output; return the output's name."""
        output = self.fresh(op_type)
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=output, **attributes))
        return output

    def constant(self, value: Any, dtype: Any = None) -> str:
        """An initializer holding `value` (in the model's float type unless `dtype` is given)."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        name = self._constants.get(key)
        if name is None:
            name = self._constants[key] = self.fresh("const")
            self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def initializer(self, value: Any, name: str) -> str:
        """A named initializer (a parameter) in the model's float type."""
        name = self.fresh(name)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=self.dtype), name))
        return name

    def reduce(self, onnx_op: str, x: str, axes: Sequence[int], keepdims: bool) -> str:
        """A reduction over `axes`; ReduceMax and ReduceMin give nan where numpy does (onnxruntime's skip it)."""
        out = self.op(onnx_op, x, self.integers(axes), keepdims=int(keepdims))
        if onnx_op not in ("ReduceMax", "ReduceMin"):
            return out
        nan = self.op("ReduceMax", self.op("Cast", self.op("IsNaN", x), to=self.float_type), self.integers(axes),
                      keepdims=int(keepdims))
        return self.op("Where", self.op("Greater", nan, self.constant(0.0)), self.constant(np.nan), out)

    def integers(self, values: Sequence[int]) -> str:
        """A 1-D int64 constant (axes, starts, ends...)."""
        return self.constant(np.array(list(values), dtype=np.int64), np.int64)

    def shape(self, dims: Sequence[int | Dim]) -> str:
        """A 1-D int64 tensor holding `dims`, with each Dim computed from the batch size at run time."""
        if not any(isinstance(d, Dim) for d in dims):
            return self.integers(dims)
        pieces: list[str] = []
        static: list[int] = []
        for d in dims:
            if not isinstance(d, Dim):
                static.append(d)
                continue
            if static:
                pieces.append(self.integers(static))
                static = []
            pieces.append(self._dim(d))
        if static:
            pieces.append(self.integers(static))
        return pieces[0] if len(pieces) == 1 else self.op("Concat", *pieces, axis=0)

    def _dim(self, d: Dim) -> str:
        if d.scale is None:
            raise ExportError(f"{self.op_name}: a size that follows the batch size irregularly (as x[::2] gives) "
                              "cannot be computed in the graph; export with dynamic_batch=False")
        if self._batch is None:
            # Shape's start/end (opset 15) take axis 0 alone: a 1-element int64 tensor
            self._batch = self.op("Shape", self._batch_source, start=0, end=1)
        size = self._batch
        if d.scale != 1:
            size = self.op("Mul", size, self.integers([d.scale]))
        if d.offset:
            size = self.op("Add", size, self.integers([d.offset]))
        return size

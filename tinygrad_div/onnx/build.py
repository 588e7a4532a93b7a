"""From a trace to a checked `onnx.ModelProto`: leaves become graph inputs and initializers, nodes are mapped."""

from __future__ import annotations

from typing import Any

import onnx
from onnx import helper

from tinygrad_div.onnx.builder import OnnxGraph
from tinygrad_div.onnx.errors import ExportError
from tinygrad_div.onnx.mappings import MAPPINGS
from tinygrad_div.onnx.trace import Dim, Ref, Trace, created_at


def mapping_of(op: type) -> Any:
    """The built-in mapping of `op`, or its own `to_onnx` hook, or None."""
    return MAPPINGS.get(op) or getattr(op, "to_onnx", None)


def build(trace: Trace, input_names: list[str], output_names: list[str], dtype: str,
          batch_input: int | None, opset: int, ir_version: int) -> onnx.ModelProto:
    g = OnnxGraph(dtype, None if batch_input is None else input_names[batch_input])
    for name in (*input_names, *output_names):
        g.reserve(name)
    names: dict[int, str] = {}
    for k, i in enumerate(trace.inputs):
        names[i] = input_names[k]
    for i, ref in enumerate(trace.refs):
        if i in names:
            continue
        if ref.kind == "parameter":
            names[i] = g.initializer(ref.data, ref.name or "param")
        elif ref.kind == "constant":
            names[i] = g.constant(ref.data)
        elif ref.kind == "node":
            names[i] = _emit(g, trace, ref, [names[p] for p in ref.parents])
    if not set(trace.inputs) & _ancestors(trace):
        raise ExportError("no output depends on the inputs (computed under no_grad()?)")
    for i, name in zip(trace.outputs, output_names):
        g.nodes.append(helper.make_node("Identity", [names[i]], [name], name=f"{name}_identity"))
    graph = helper.make_graph(
        g.nodes, "tinygrad_div",
        [_value_info(name, trace.refs[i], g.float_type) for name, i in zip(input_names, trace.inputs)],
        [_value_info(name, trace.refs[i], g.float_type) for name, i in zip(output_names, trace.outputs)],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir_version,
                              producer_name="tinygrad_div")
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f"the exported model fails onnx.checker: {str(exc).splitlines()[0]}") from None
    return model


def _emit(g: OnnxGraph, trace: Trace, ref: Ref, inputs: list[str]) -> str:
    mapping = mapping_of(ref.op)
    if mapping is None:
        if ref.op.__module__.startswith("tinygrad_div."):
            raise ExportError(f"{ref.op.__name__} (a built-in op) has no ONNX mapping; {created_at(ref)}")
        raise ExportError(f"{ref.op.__name__} (a user Function) has no ONNX mapping; {created_at(ref)} "
                          "(a Function can declare one: def to_onnx(ctx, g, *inputs))")
    g.input_dims = [trace.refs[p].dims for p in ref.parents]
    g.output_dims = ref.dims
    g.current_dims = ()
    g.op_name = ref.op.__name__
    out = mapping(ref.ctx, g, *inputs)
    if not isinstance(out, str):
        raise ExportError(f"{ref.op.__name__}'s ONNX mapping returned {type(out).__name__}, not a tensor name")
    return out


def _ancestors(trace: Trace) -> set[int]:
    seen: set[int] = set()
    todo = list(trace.outputs)
    while todo:
        i = todo.pop()
        if i not in seen:
            seen.add(i)
            todo.extend(trace.refs[i].parents)
    return seen


def _value_info(name: str, ref: Ref, float_type: int) -> onnx.ValueInfoProto:
    dims = [str(d) if isinstance(d, Dim) and d == Dim(1) else (None if isinstance(d, Dim) else d)
            for d in ref.dims]
    return helper.make_tensor_value_info(name, float_type, dims)

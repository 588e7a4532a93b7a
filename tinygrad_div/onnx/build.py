"""From a trace to a checked `onnx.ModelProto`: leaves become graph inputs and initializers, nodes are mapped.

Each node gets its ONNX form from, in order: a hand-written mapping (`mappings.MAPPINGS`, each with its
reason), the Function's own `to_onnx` hook, or its own forward run on symbolic tensors (`symbolic`).
A comparison's mask is a node too (Greater, Less, ...), never data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from tinygrad_div.onnx.builder import OnnxGraph
from tinygrad_div.onnx.errors import ExportError
from tinygrad_div.onnx.mappings import MAPPINGS
from tinygrad_div.onnx.symbolic import Sym, Untraceable, trace_forward
from tinygrad_div.onnx.trace import Dim, Ref, Trace, created_at

#: a comparison (its symbol in the engine) as ONNX ops, and whether the answer is negated
COMPARISONS = {"<": ("Less", False), "<=": ("LessOrEqual", False), ">": ("Greater", False),
               ">=": ("GreaterOrEqual", False), "==": ("Equal", False), "!=": ("Equal", True)}
#: a traced forward must give eager's own numbers: what it computed alongside the nodes, relative
TRACED_RTOL = 1e-12


def mapping_of(op: type) -> Any:
    """The hand-written mapping of `op`, or its own `to_onnx` hook, or None (its forward is traced)."""
    return MAPPINGS.get(op) or getattr(op, "to_onnx", None)


def build(trace: Trace, input_names: list[str], output_names: list[str], dtype: str,
          batch_input: int | None, opset: int, ir_version: int, others: list[Trace] = ()) -> onnx.ModelProto:
    """The model of `trace`; `others` are the runs at other batch sizes (a traced forward must give the same
    nodes on each)."""
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
        elif ref.kind == "compare":
            onnx_op, negate = COMPARISONS[ref.name]
            operands = [_float(g, trace, names, p) for p in ref.parents]
            out = g.op(onnx_op, *operands)
            names[i] = g.op("Not", out) if negate else out
        elif ref.kind == "node":
            names[i] = _emit(g, trace, i, names, others)
    for i, name in zip(trace.outputs, output_names):
        g.nodes.append(helper.make_node("Identity", [_float(g, trace, names, i)], [name], name=f"{name}_identity"))
    _prune(g, output_names)
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


def _float(g: OnnxGraph, trace: Trace, names: dict[int, str], i: int) -> str:
    """A tensor as the model's floats: a comparison's mask becomes 0/1 (as numpy multiplies it)."""
    if trace.refs[i].kind != "compare":
        return names[i]
    return g.op("Cast", names[i], to=g.float_type)


def _emit(g: OnnxGraph, trace: Trace, i: int, names: dict[int, str], others: list[Trace]) -> str:
    ref = trace.refs[i]
    g.input_dims = [trace.refs[p].dims for p in ref.parents]
    g.output_dims = ref.dims
    g.current_dims = ()
    g.op_name = ref.op.__name__
    mapping = mapping_of(ref.op)
    if mapping is None:
        try:
            return _traced(g, trace, i, names, others)
        except Untraceable as exc:
            owner = "a built-in op" if ref.op.__module__.startswith("tinygrad_div.") else "a user Function"
            raise ExportError(f"{ref.op.__name__} ({owner}) has no ONNX form: its forward uses {exc}, which has no "
                              f"ONNX equivalent; {created_at(ref)} (a Function can declare its ONNX form: "
                              "def to_onnx(ctx, g, *inputs))") from None
    out = mapping(ref.ctx, g, *[_float(g, trace, names, p) for p in ref.parents])
    if not isinstance(out, str):
        raise ExportError(f"{ref.op.__name__}'s ONNX mapping returned {type(out).__name__}, not a tensor name")
    return out


def _traced(g: OnnxGraph, trace: Trace, i: int, names: dict[int, str], others: list[Trace]) -> str:
    """The node's own forward on symbolic tensors (constants as the data forward saw), checked against eager's
    output and, where a shape follows the batch size, against the same forward traced at the other sizes."""
    ref = trace.refs[i]
    start = len(g.nodes)
    symbols = _symbols(g, trace, ref, names)
    inputs = [x.name for x in symbols if isinstance(x, Sym)]  # (before forward: it may update them in place)
    out = trace_forward(g, ref.op, symbols, ref.params)
    value = np.asarray(out.value, dtype=np.float64) if out.dtype.kind in "bf" else None
    if value is None or value.shape != np.shape(ref.data) or not np.allclose(
            value, ref.data, rtol=TRACED_RTOL, atol=0.0, equal_nan=True):
        raise Untraceable("steps whose traced result is not eager's (it computed other numbers)")
    if any(isinstance(d, Dim) for r in (ref, *(trace.refs[p] for p in ref.parents)) for d in r.dims):
        signature = _signature(g, g.nodes[start:], inputs)
        for other in others:
            scratch = OnnxGraph(g.dtype.name, None)
            symbols = _symbols(scratch, other, other.refs[i], {p: scratch.fresh(f"in{p}") for p in ref.parents})
            inputs = [x.name for x in symbols if isinstance(x, Sym)]
            trace_forward(scratch, ref.op, symbols, other.refs[i].params)
            if _signature(scratch, scratch.nodes, inputs) != signature:
                raise Untraceable("steps that change with the batch size (a shape or a count taken from the data)")
    return out.name if out.dtype.kind == "f" else g.op("Cast", out.name, to=g.float_type)


def _symbols(g: OnnxGraph, trace: Trace, ref: Ref, names: dict[int, str]) -> list[Any]:
    """A node's inputs for its traced forward: a Sym per tensor of the graph, constants as forward saw them."""
    return [trace.refs[p].data if trace.refs[p].kind == "constant" else Sym(g, names[p], trace.refs[p].data)
            for p in ref.parents]


def _signature(g: OnnxGraph, nodes: list[onnx.NodeProto], inputs: list[str]) -> list[tuple]:
    """Nodes with their names replaced by what they stand for: an input's position, a node's, a constant's bytes."""
    canonical = {name: ("input", k) for k, name in enumerate(inputs)}
    constants = {t.name: t for t in g.initializers}
    out = []
    for k, node in enumerate(nodes):
        ins = tuple(canonical.get(x) or (("constant", numpy_helper.to_array(constants[x]).tobytes(),
                                          tuple(constants[x].dims)) if x in constants else ("other", x))
                    for x in node.input)
        attributes = tuple((a.name, str(helper.get_attribute_value(a))) for a in node.attribute)
        out.append((node.op_type, ins, attributes))
        canonical[node.output[0]] = ("node", k)
    return out


def _prune(g: OnnxGraph, outputs: list[str]) -> None:
    """Drop the nodes and initializers no output needs (what a traced forward computed for its backward)."""
    needed = set(outputs)
    kept = []
    for node in reversed(g.nodes):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(node.input)
    g.nodes[:] = kept[::-1]
    g.initializers[:] = [t for t in g.initializers if t.name in needed]


def _value_info(name: str, ref: Ref, float_type: int) -> onnx.ValueInfoProto:
    dims = [str(d) if isinstance(d, Dim) and d == Dim(1) else (None if isinstance(d, Dim) else d)
            for d in ref.dims]
    return helper.make_tensor_value_info(name, float_type, dims)

"""Draw the graph behind a Value: Graphviz DOT text with no dependency, pictures via Graphviz's `dot`.

    from tinygrad_div import Value
    from tinygrad_div.viz import draw, to_dot

    a, b = Value(2.0), Value(3.0)
    y = (a * b + 1.0).log()
    y.backward()
    print(to_dot(y, labels={"a": a, "b": b, "y": y}))   # DOT text
    draw(y, "y.svg")                                     # or .png/.pdf: needs the `dot` program

Boxes are values (name, shape, data and grad summarised), ellipses are ops, and
edges follow the data: inputs -> op -> output, left to right. Parameters and
inputs that require grad are blue, constants grey and dashed, the drawn Value bold.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_div.engine.autograd import topological_order
from tinygrad_div.engine.value import Value
from tinygrad_div.files import write_atomically

#: Arrays up to this many elements are written out in full; larger ones as their range.
SHOWN_ELEMENTS = 4
INSTALL_HINT = (
    "install Graphviz (apt-get install graphviz / brew install graphviz / https://graphviz.org/download/), "
    "or save to_dot(value) as a .dot file"
)

_STYLE = {
    "leaf": 'style=filled, fillcolor="#dbe9f6"',
    "constant": 'style=dashed, color="#888888", fontcolor="#555555"',
    "computed": "",
}


class GraphvizNotFoundError(RuntimeError):
    """Rendering a picture needs Graphviz's `dot` program and it is not on PATH."""


def to_dot(value: Value, *, labels: Mapping[str, Value] | None = None, title: str | None = None) -> str:
    """Graphviz DOT text of the graph that computed `value`.

    One node per Value (and per raw constant an op was given), one per op, and an
    edge from each input to its op and from each op to its output, in creation order.
    `labels` names Values in the picture, e.g. `{"w": layer.weight}`.
    """
    if not isinstance(value, Value):
        raise TypeError(f"to_dot needs a Value, got {type(value).__name__}")
    names = {id(v): name for name, v in (labels or {}).items()}
    lines = [
        "digraph tinygrad_div {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [color="#555555"];',
    ]
    if title:
        lines.append(f'  labelloc=t; label="{_escape(title)}"; fontname="Helvetica";')
    value_nodes: dict[int, str] = {}  # id(Value) -> node name: a reused Value is drawn once
    numbers = count()

    def node_for(v: Any) -> str:
        if isinstance(v, Value) and id(v) in value_nodes:
            return value_nodes[id(v)]
        node = f"v{next(numbers)}"
        if isinstance(v, Value):
            value_nodes[id(v)] = node
            lines.append(f"  {node} [{_value_attributes(v, names.get(id(v)), is_root=v is value)}];")
        else:  # a raw number or array handed to an op: drawn once per use
            lines.append(f'  {node} [shape=record, {_STYLE["constant"]}, label="const | {_summary(v)}"];')
        return node

    # topological_order lists the op outputs newest first; draw them in the order they were made
    for op_index, out in enumerate(reversed(topological_order([value]))):
        ctx = out._ctx
        inputs = [node_for(p) for p in ctx.parents]
        op_node = f"op{op_index}"
        lines.append(f"  {op_node} [{_op_attributes(ctx)}];")
        lines.extend(f"  {node} -> {op_node};" for node in inputs)
        lines.append(f"  {op_node} -> {node_for(out)};")
    if id(value) not in value_nodes:  # a leaf drawn on its own
        node_for(value)
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw(value: Value, path: str | Path, **to_dot_options: Any) -> Path:
    """Render the graph of `value` to `path`; the suffix picks the format (.svg, .png, .pdf, or .dot for text).

    Raises `GraphvizNotFoundError` (saying how to install Graphviz) when a picture is
    asked for and the `dot` program is missing.
    """
    path = Path(path)
    text = to_dot(value, **to_dot_options)
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("dot", "gv"):
        write_atomically(path, lambda file: file.write(text.encode("utf-8")))
        return path
    if not fmt:
        raise ValueError(f"{path}: give the file a suffix that names the format, e.g. .svg or .png")
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(f"drawing {path} needs Graphviz's `dot` program, not found on PATH: {INSTALL_HINT}")
    # bytes, not text=True: Graphviz reads UTF-8 whatever the locale's encoding is. The picture
    # comes back on stdout, not through `-o path`, so that a failed run cannot leave half a file.
    done = subprocess.run([dot, f"-T{fmt}"], input=text.encode("utf-8"), capture_output=True)
    if done.returncode != 0:
        message = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[0]
        raise RuntimeError(f"Graphviz could not draw {path}: {message}")
    write_atomically(path, lambda file: file.write(done.stdout))
    return path


def retain_all_grads(value: Value) -> Value:
    """Ask every intermediate Value behind `value` to keep its `.grad`, so a drawing shows them all.

    Call before `backward()`; normally only leaves keep their gradient.
    """
    for v in topological_order([value]):
        v.retain_grad()
    return value


# -- node attributes ----------------------------------------------------------------------------
def _value_attributes(v: Value, name: str | None, is_root: bool) -> str:
    fields = [] if name is None else [_escape(name)]
    if v.shape:
        fields.append(f"shape {v.shape}")
    fields.append(f"data {_summary(v.data)}")
    if v.grad is not None:
        fields.append(f"grad {_summary(getattr(v.grad, 'data', v.grad))}")
    kind = "computed" if v._ctx is not None else "leaf" if v.requires_grad else "constant"
    attributes = ["shape=record", _STYLE[kind], "penwidth=2" if is_root else "", f'label="{" | ".join(fields)}"']
    return ", ".join(a for a in attributes if a)


def _op_attributes(ctx: Any) -> str:
    attributes = f'shape=ellipse, style=filled, fillcolor="#fff2cc", label="{_escape(type(ctx).__name__)}"'
    site = getattr(ctx, "creation_site", None)  # recorded under detect_anomaly(): shown on hover in SVG
    if site is not None:
        attributes += f', tooltip="{_escape(f"{site[0]}:{site[1]}")}"'
    return attributes


def _summary(data: Any) -> str:
    """A short text for a number or an array: the values if few, else their range."""
    array = np.asarray(data, dtype=np.float64)
    if array.ndim == 0:
        return _number(float(array))
    if array.size <= SHOWN_ELEMENTS:
        return _escape(_nested(array.tolist()))
    return f"min {_number(array.min())}, max {_number(array.max())}"


def _nested(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(item) for item in items) + "]"
    return f"{items:.4g}"


def _number(x: float) -> str:
    return _escape(f"{x:.4g}")


def _escape(text: str) -> str:
    """Protect characters that mean something inside a DOT record label."""
    for char in '\\"{}|<>':
        text = text.replace(char, "\\" + char)
    return text

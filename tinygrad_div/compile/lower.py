# ruff: noqa: UP031  (templates hold str.format fields like {0}; %-formatting fills in the rest)
"""Each built-in op as program lines: its forward, and its backward rule written out (Tangent-style).

A rule writes the very numpy or float expressions the op's own `forward` and
`backward` evaluate (engine/ops/), for scalars and arrays separately, so the
lines are readable and give eager's bits. The tracer checks every rule's result
against the op's own answer on the trace data and falls back to `replay` when
they differ. An op without a rule here (a user's Function, an op added later) is
replayed: its own forward and backward are called from the program, which is
exact by construction and needs no rule at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from numpy.lib.array_utils import normalize_axis_tuple

from tinygrad_div.compile.builder import Builder
from tinygrad_div.engine import ops


@dataclass
class Node:
    """One recorded op application: its input slots and output slot, and what backward needs."""

    op: type
    ins: tuple[int, ...]
    params: dict
    out: int
    needs: tuple[bool, ...]  # which inputs get a gradient (require grad, as eager decides)
    recorded: bool  # eager recorded it (grad enabled and an input requires grad)
    ctx: Any  # eager's node from the trace, or None
    where: str  # the user's file:line that applied it
    saved: dict = field(default_factory=dict)  # slots a forward rule made for its backward rule


def _hint(node: Node) -> str:
    return node.op.__name__.lower()


def _both_scalar(b: Builder, *slots: int) -> bool:
    return all(b.scalar(s) for s in slots)


# -- forward rules: node -> output slot -----------------------------------------------
def _binary(symbol: str):
    def rule(b: Builder, node: Node) -> int:
        return b.line("{0} %s {1}" % symbol, node.ins, node.op.__name__, _hint(node))
    return rule


def _const(b: Builder, slot: int, value: float | None = None) -> bool:
    """Whether a slot is a float constant of the program (nonzero, or equal to `value`)."""
    v = b.program.slots[slot]
    return v.kind == "const" and type(v.value) is float and (v.value == value if value is not None else v.value != 0.0)


def f_pow(b: Builder, node: Node) -> int | None:
    """Only a constant nonzero float exponent (x ** 2): any other exponent is replayed, edges and all."""
    if not _const(b, node.ins[1]):
        return None
    # power() squares a float at 2.0, and np.power(a, 2.0) squares an array: a * a is both's bits
    out = b.line("{0} * {0}" if _const(b, node.ins[1], 2.0) else "power({0}, {1})", node.ins, "Pow", "pow")
    return out


def f_sigmoid(b: Builder, node: Node) -> int:
    (a,) = node.ins
    if b.scalar(a):
        z = b.line("float(np.exp(-abs({0})))", (a,), "Sigmoid", "z", note="z = e^-|a|")
        r = b.line("1.0 / (1.0 + {0})", (z,), "Sigmoid", "r", note="r = 1/(1+z)")
        out = b.line("{2} if {0} >= 0.0 else {1} * {2}", (a, z, r), "Sigmoid", "sigmoid")
    else:
        z = b.line("np.exp(np.copysign({0}, -1.0))", (a,), "Sigmoid", "z", note="z = e^-|a|")
        r = b.line("1.0 / ({0} + 1.0)", (z,), "Sigmoid", "r", note="r = 1/(1+z)")
        out = b.line("np.exp(np.minimum({0}, 0.0)) * {1}", (a, r), "Sigmoid", "sigmoid")
    node.saved.update(z=z, r=r)
    return out


def f_relu(b: Builder, node: Node) -> int:
    """ReLU.forward's lines; its mask is the one it saves: a > 0 or nan (out != 0 on arrays)."""
    (a,) = node.ins
    if b.scalar(a):
        node.saved["mask"] = b.line("1.0 if {0} > 0.0 or {0} != {0} else 0.0", (a,), "ReLU", "mask")
        return b.line("{0} if {0} > 0.0 or {0} != {0} else 0.0", (a,), "ReLU", "relu")
    out = b.line("np.maximum({0}, 0.0)", (a,), "ReLU", "relu")
    node.saved["mask"] = b.line("{0} != 0.0", (out,), "ReLU", "mask")
    return out


def _sum_template(b: Builder, node: Node) -> str:
    """`a.sum(...)` (ndarray.sum is np.add.reduce, which Sum.forward calls), a float when all axes go."""
    axis, keepdims = node.params.get("axis"), node.params.get("keepdims", False)
    args = ([f"axis={axis!r}"] if axis is not None else []) + (["keepdims=True"] if keepdims else [])
    text = "{0}.sum(%s)" % ", ".join(args)
    ndim = len(b.shape(node.ins[0]))
    every_axis = axis is None or len(normalize_axis_tuple(axis, ndim)) == ndim
    return f"float({text})" if every_axis and not keepdims else text


def f_sum(b: Builder, node: Node) -> int | None:
    if b.scalar(node.ins[0]):
        return None
    return b.line(_sum_template(b, node), node.ins, "Sum", "sum")


def f_mean(b: Builder, node: Node) -> int | None:
    if b.scalar(node.ins[0]):
        return None
    total = b.line(_sum_template(b, node), node.ins, "Mean", "total")
    count = b.const(_count(b.shape(node.ins[0]), node.params.get("axis")))
    node.saved["count"] = count
    # divide() differs from / only by dividing by zero, which a nonempty mean never does
    template = "divide({0}, {1})" if b.scalar(total) and not b.value(count) else "{0} / {1}"
    return b.line(template, (total, count), "Mean", "mean")


def _count(shape: tuple, axis: Any) -> float:
    """How many elements each mean averages (Mean.forward's ctx.count)."""
    axes = range(len(shape)) if axis is None else normalize_axis_tuple(axis, len(shape))
    return float(math.prod(shape[i] for i in axes))


def f_matmul(b: Builder, node: Node) -> int:
    a, c = node.ins
    template = "float({0} @ {1})" if len(b.shape(a)) == 1 and len(b.shape(c)) == 1 else "{0} @ {1}"
    return b.line(template, node.ins, "MatMul", "matmul")


def f_affine(b: Builder, node: Node) -> int:
    """nn's Linear op, y = x @ Wᵀ + b, with Wᵀ made C-ordered first exactly as Affine.forward does."""
    x, w, c = node.ins
    wt = b.line("np.ascontiguousarray({0}.T)", (w,), "Affine", "wt", note="Wᵀ in C order: BLAS rounds by layout")
    node.saved["wt"] = wt
    product = b.line("{0} @ {1}", (x, wt), "Affine", "matmul")
    return b.line("{0} + {1}", (product, c), "Affine", "net")


def b_affine(b: Builder, node: Node, g: int) -> tuple:
    x, _, _ = node.ins
    wt = node.saved["wt"]
    grad_x = b.line("{0} @ {1}.T", (g, wt), "Affine", "d_x") if node.needs[0] else None
    grad_w = None
    if node.needs[1]:
        rows_x = b.line("{0}.reshape(%r)" % ((-1, b.shape(x)[-1]),), (x,), "Affine", "rows_x")
        rows_g = b.line("{0}.reshape(%r)" % ((-1, b.shape(g)[-1]),), (g,), "Affine", "rows_g")
        grad_w = b.line("({0}.T @ {1}).T", (rows_x, rows_g), "Affine", "d_w")
    return grad_x, grad_w, g


#: rules for ops of higher layers (nn), by qualified name: this layer may not import them
BY_NAME = {"tinygrad_div.nn.functional.Affine": (f_affine, b_affine)}


def rules(op: type) -> tuple:
    """(forward rule, backward rule) of an op, either may be None (then it is replayed)."""
    named = BY_NAME.get(f"{op.__module__}.{op.__qualname__}")
    if named is not None:
        return named
    return FORWARD.get(op), BACKWARD.get(op)


FORWARD = {
    ops.Add: _binary("+"), ops.Sub: _binary("-"), ops.Mul: _binary("*"), ops.Pow: f_pow,
    ops.Sigmoid: f_sigmoid, ops.ReLU: f_relu, ops.Sum: f_sum, ops.Mean: f_mean, ops.MatMul: f_matmul,
}


# -- backward rules: (node, slot of dloss/dout) -> one gradient slot (or None) per input ------
def b_sub(b: Builder, node: Node, g: int) -> tuple:
    return g, (b.line("-{0}", (g,), "Sub", "d_neg") if node.needs[1] else None)


def b_mul(b: Builder, node: Node, g: int) -> tuple:
    x, y = node.ins
    return (b.line("{0} * {1}", (g, y), "Mul", "d_mul") if node.needs[0] else None,
            b.line("{0} * {1}", (g, x), "Mul", "d_mul") if node.needs[1] else None)


def b_pow(b: Builder, node: Node, g: int) -> tuple | None:
    """Pow.backward for a constant float exponent b != 0: dy/da = g·b·a^(b-1) (power(a, 1.0) is a: b = 2)."""
    x, y = node.ins
    if node.needs[1] or not _const(b, y):
        return None
    if _const(b, y, 2.0):
        return b.line("{0} * 2.0 * {1}", (g, x), "Pow", "d_pow"), None
    minus_one = b.line("{0} - 1.0", (y,), "Pow", "exponent")
    return b.line("{0} * {1} * power({2}, {3})", (g, y, x, minus_one), "Pow", "d_pow"), None


def _spread(b: Builder, node: Node, g: int, op: str) -> int:
    shape = b.shape(node.ins[0])
    if b.scalar(g):
        return b.line("expand({0}, %r)" % (shape,), (g,), op, "d_" + op.lower())
    axes = range(len(shape)) if node.params.get("axis") is None else normalize_axis_tuple(
        node.params["axis"], len(shape))
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return b.line("expand({0}.reshape(%r), %r)" % (kept, shape), (g,), op, "d_" + op.lower())


def b_mean(b: Builder, node: Node, g: int) -> tuple:
    count = node.saved["count"]
    share = b.line("divide({0}, {1})" if b.scalar(g) and not b.value(count) else "{0} / {1}", (g, count), "Mean",
                   "d_mean")
    return (_spread(b, node, share, "Mean"),)


def b_matmul(b: Builder, node: Node, g: int) -> tuple:
    x, y = node.ins
    need_x, need_y = node.needs
    x_vector, y_vector = len(b.shape(x)) == 1, len(b.shape(y)) == 1
    if x_vector and y_vector:
        return (b.line("{0} * {1}", (g, y), "MatMul", "d_matmul") if need_x else None,
                b.line("{0} * {1}", (g, x), "MatMul", "d_matmul") if need_y else None)
    if x_vector:  # numpy's promotion of a 1-D left operand to a row, and back
        x = b.line("{0}.reshape(%r)" % ((1, b.shape(x)[0]),), (x,), "MatMul", "row")
        gs = b.shape(g)
        g = b.line("{0}.reshape(%r)" % ((*gs[:-1], 1, gs[-1]),), (g,), "MatMul", "d_row")
    elif y_vector:
        y = b.line("{0}.reshape(%r)" % ((b.shape(y)[0], 1),), (y,), "MatMul", "column")
        g = b.line("{0}.reshape(%r)" % ((*b.shape(g), 1),), (g,), "MatMul", "d_column")
    grad_x = grad_y = None
    if need_x:
        t = "{0} @ {1}.T" if len(b.shape(y)) == 2 else "{0} @ {1}.swapaxes(-1, -2)"
        grad_x = b.line(t, (g, y), "MatMul", "d_matmul")
        if x_vector:
            gs = b.shape(grad_x)
            grad_x = b.line("{0}.reshape(%r)" % ((*gs[:-2], gs[-1]),), (grad_x,), "MatMul", "d_matmul")
    if need_y:
        t = "{0}.T @ {1}" if len(b.shape(x)) == 2 else "{0}.swapaxes(-1, -2) @ {1}"
        grad_y = b.line(t, (x, g), "MatMul", "d_matmul")
        if y_vector:
            grad_y = b.line("{0}.reshape(%r)" % (b.shape(grad_y)[:-1],), (grad_y,), "MatMul", "d_matmul")
    return grad_x, grad_y


BACKWARD = {
    ops.Add: lambda b, n, g: (g, g), ops.Sub: b_sub, ops.Mul: b_mul, ops.Pow: b_pow,
    ops.Sigmoid: lambda b, n, g: (b.line("{0} * {1} * {2} * {2}", (g, n.saved["z"], n.saved["r"]), "Sigmoid",
                                         "d_sigmoid"),),
    ops.ReLU: lambda b, n, g: (b.line("{0} * {1}", (g, n.saved["mask"]), "ReLU", "d_relu"),),
    ops.Sum: lambda b, n, g: (_spread(b, n, g, "Sum"),),
    ops.Mean: b_mean, ops.MatMul: b_matmul,
}

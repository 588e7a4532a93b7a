# ruff: noqa: UP031  (templates hold str.format fields like {0}; %-formatting fills in the rest)
"""The few ops written out as program lines, kept only because replaying them is measurably slower.

Every op's math lives once, in engine/ops/. A compiled program gets it by
**replaying** the op (tracer.replay): a line that calls the op's own `forward`, and
one that calls its own `backward` on what that forward saved. That is exact by
construction and is how every op runs unless it is listed below.

A rule here writes the very numpy or float expressions its op's `forward` and
`backward` evaluate, as lines, so the program skips the op's call overhead. Each
is kept for one reason, a measured one: dropping it slows a benchmark (the factor
in its comment: compiled step time with the op replayed ÷ with the rule,
`python -m benchmarks.run` workloads W1, W5, W6; docs/compile.md). Each is held to
its op bit for bit: at trace time on the trace's data (the tracer replays the op
when they differ), and in the suite at the edges, 0, -0.0, ±inf, nan, subnormals
(tests/compile/test_rules.py and the cross-path registry). A rule returns None
where it does not apply (then the op is replayed).
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


def _const(b: Builder, slot: int, value: float | None = None) -> bool:
    """Whether a slot is a float constant of the program (nonzero, or equal to `value`)."""
    v = b.program.slots[slot]
    return v.kind == "const" and type(v.value) is float and (v.value == value if value is not None else v.value != 0.0)


def _binary(symbol: str):
    """Add, Sub, Mul forward: `a + b`, `a - b`, `a * b` (the same expression on floats and arrays)."""
    def rule(b: Builder, node: Node) -> int:
        return b.line("{0} %s {1}" % symbol, node.ins, node.op.__name__, node.op.__name__.lower())
    return rule


# -- Add (kept: W5 2.6x, W1 1.14x): y = a + b; dy/da = dy/db = 1 -----------------------
def b_add(b: Builder, node: Node, g: int) -> tuple:
    return g, g


# -- Sub (kept: W1 1.14x): y = a - b; dy/da = 1, dy/db = -1 ----------------------------
def b_sub(b: Builder, node: Node, g: int) -> tuple:
    return g, (b.line("-{0}", (g,), "Sub", "d_neg") if node.needs[1] else None)


# -- Mul (kept: W5 3.0x): y = a * b; dy/da = b, dy/db = a -------------------------------
def b_mul(b: Builder, node: Node, g: int) -> tuple:
    x, y = node.ins
    return (b.line("{0} * {1}", (g, y), "Mul", "d_mul") if node.needs[0] else None,
            b.line("{0} * {1}", (g, x), "Mul", "d_mul") if node.needs[1] else None)


# -- Pow, constant nonzero float exponent only (kept: W1 1.19x, W5 1.15x) -----------------
#    y = a ** c; dy/da = c·a^(c-1). Any other exponent (zero, an array, a Value, one that
#    needs a gradient) is replayed: Pow.backward's edge cases are its own.
def f_pow(b: Builder, node: Node) -> int | None:
    if not _const(b, node.ins[1]):
        return None
    # power() squares a float at 2.0, and np.power(a, 2.0) squares an array: a * a is both's bits
    return b.line("{0} * {0}" if _const(b, node.ins[1], 2.0) else "power({0}, {1})", node.ins, "Pow", "pow")


def b_pow(b: Builder, node: Node, g: int) -> tuple | None:
    x, y = node.ins
    if node.needs[1] or not _const(b, y):
        return None
    if _const(b, y, 2.0):  # power(a, 1.0) is a, bit for bit
        return b.line("{0} * 2.0 * {1}", (g, x), "Pow", "d_pow"), None
    minus_one = b.line("{0} - 1.0", (y,), "Pow", "exponent")
    return b.line("{0} * {1} * power({2}, {3})", (g, y, x, minus_one), "Pow", "d_pow"), None


# -- Sigmoid (kept: W1 1.22x): y = σ(a), z = e^-|a|, r = 1/(1+z); dy/da = z·r·r ---------------
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


def b_sigmoid(b: Builder, node: Node, g: int) -> tuple:
    return (b.line("{0} * {1} * {2} * {2}", (g, node.saved["z"], node.saved["r"]), "Sigmoid", "d_sigmoid"),)


# -- ReLU (kept: W5 1.22x): y = max(a, 0); dy/da = [a > 0 or a is nan], the mask forward saves --
def f_relu(b: Builder, node: Node) -> int:
    (a,) = node.ins
    if b.scalar(a):
        # "a > 0 or a is nan" as one comparison: a <= 0 is False at nan
        node.saved["mask"] = b.line("0.0 if {0} <= 0.0 else 1.0", (a,), "ReLU", "mask")
        return b.line("0.0 if {0} <= 0.0 else {0}", (a,), "ReLU", "relu")
    out = b.line("np.maximum({0}, 0.0)", (a,), "ReLU", "relu")
    node.saved["mask"] = b.line("{0} != 0.0", (out,), "ReLU", "mask")
    return out


def b_relu(b: Builder, node: Node, g: int) -> tuple:
    return (b.line("{0} * {1}", (g, node.saved["mask"]), "ReLU", "d_relu"),)


# -- Mean of an array (kept: W1 1.18x): y = Σa / n; dy/da = 1/n, spread over the averaged axes --
def f_mean(b: Builder, node: Node) -> int | None:
    a = node.ins[0]
    if b.scalar(a):
        return None
    axis, keepdims = node.params.get("axis"), node.params.get("keepdims", False)
    shape = b.shape(a)
    axes = range(len(shape)) if axis is None else normalize_axis_tuple(axis, len(shape))
    args = ([f"axis={axis!r}"] if axis is not None else []) + (["keepdims=True"] if keepdims else [])
    text = "{0}.sum(%s)" % ", ".join(args)  # ndarray.sum is np.add.reduce, which Mean.forward calls
    total = b.line(f"float({text})" if len(axes) == len(shape) and not keepdims else text, (a,), "Mean", "total")
    count = b.const(float(math.prod(shape[i] for i in axes)))
    node.saved.update(count=count, kept=tuple(1 if i in axes else n for i, n in enumerate(shape)))
    # Mean.forward's divide() differs from / only in dividing by zero (an empty mean: nan)
    empty = not b.value(count)
    return b.line("divide({0}, {1})" if b.scalar(total) and empty else "{0} / {1}", (total, count), "Mean", "mean")


def b_mean(b: Builder, node: Node, g: int) -> tuple:
    count = node.saved["count"]
    share = b.line("divide({0}, {1})" if b.scalar(g) and not b.value(count) else "{0} / {1}", (g, count), "Mean",
                   "d_mean")
    shape = b.shape(node.ins[0])
    template = "expand({0}, %r)" % (shape,) if b.scalar(share) else "expand({0}.reshape(%r), %r)" % (
        node.saved["kept"], shape)
    return (b.line(template, (share,), "Mean", "d_mean"),)


# -- MatMul (kept: W1 1.23x): Y = A @ B; dL/dA = G @ Bᵀ, dL/dB = Aᵀ @ G (1-D operands promoted) --
def f_matmul(b: Builder, node: Node) -> int:
    a, c = node.ins
    template = "float({0} @ {1})" if len(b.shape(a)) == 1 and len(b.shape(c)) == 1 else "{0} @ {1}"
    return b.line(template, node.ins, "MatMul", "matmul")


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
        t = "{0} @ {1}.T" if len(b.shape(y)) == 2 else "{0} @ {1}.swapaxes(-1, -2)"  # .T: the same view, cheaper
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


# -- nn's Affine (kept: W6 step 1.05x): y = x @ Wᵀ + b, Wᵀ made C-ordered first as Affine.forward does --
#    dL/dx = G @ W, dL/dW = Gᵀx over the rows, dL/db = G (the engine sums it over the batch)
def f_affine(b: Builder, node: Node) -> int:
    x, w, c = node.ins
    wt = b.line("np.ascontiguousarray({0}.T)", (w,), "Affine", "wt", note="Wᵀ in C order: BLAS rounds by layout")
    node.saved["wt"] = wt
    product = b.line("{0} @ {1}", (x, wt), "Affine", "matmul")
    return b.line("{0} + {1}", (product, c), "Affine", "net")


def b_affine(b: Builder, node: Node, g: int) -> tuple:
    x, _, _ = node.ins
    grad_x = b.line("{0} @ {1}.T", (g, node.saved["wt"]), "Affine", "d_x") if node.needs[0] else None
    grad_w = None
    if node.needs[1]:
        rows_x = b.line("{0}.reshape(%r)" % ((-1, b.shape(x)[-1]),), (x,), "Affine", "rows_x")
        rows_g = b.line("{0}.reshape(%r)" % ((-1, b.shape(g)[-1]),), (g,), "Affine", "rows_g")
        grad_w = b.line("({0}.T @ {1}).T", (rows_x, rows_g), "Affine", "d_w")
    return grad_x, grad_w, g


#: (forward rule, backward rule) per op
RULES = {
    ops.Add: (_binary("+"), b_add), ops.Sub: (_binary("-"), b_sub), ops.Mul: (_binary("*"), b_mul),
    ops.Pow: (f_pow, b_pow), ops.Sigmoid: (f_sigmoid, b_sigmoid), ops.ReLU: (f_relu, b_relu),
    ops.Mean: (f_mean, b_mean), ops.MatMul: (f_matmul, b_matmul),
}
#: rules for ops of higher layers (nn), by qualified name: this layer may not import them
BY_NAME = {"tinygrad_div.nn.functional.Affine": (f_affine, b_affine)}


def rules(op: type) -> tuple:
    """(forward rule, backward rule) of an op, or (None, None): then it is replayed."""
    return BY_NAME.get(f"{op.__module__}.{op.__qualname__}") or RULES.get(op, (None, None))

"""Differential test: the engine's gradients against a second, independent implementation.

The reference is forward-mode automatic differentiation with hyper-dual numbers,
x = r + a·ε1 + b·ε2 + ab·ε1ε2 with ε1² = ε2² = 0, written here from the textbook
rules (each op's own formula, not the engine's backward rule). Seeding ε1 with a unit
vector e_i and ε2 with a direction v, one forward pass of f gives ∂f/∂x_i in the ε1
part and (H v)_i in the ε1ε2 part: the exact gradient and Hessian-vector product,
with no step size, to compare at rtol 1e-9 with `grad(..., create_graph=True)`.

Hypothesis composes random graphs of the registered ops (each node may feed several
later ones, and every node contributes to the loss, so gradients accumulate along
many paths). Coverage is enforced: a registered built-in op without a reference
implementation in REFERENCE fails `test_every_registered_op_has_a_reference`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_div import Value, grad, registered_ops
from tinygrad_div.engine.function import input_count
from tinygrad_div.testing import op_inputs


class HyperDual:
    """r + a·ε1 + b·ε2 + ab·ε1ε2, each part a float64 array (or float) of the same shape."""

    __slots__ = ("r", "a", "b", "ab")

    def __init__(self, r, a, b, ab):
        self.r, self.a, self.b, self.ab = r, a, b, ab

    def parts(self):
        return self.r, self.a, self.b, self.ab

    def linear(self, f):
        """A linear map (sums, reshapes, indexing) acts on each part alone."""
        return HyperDual(*(f(p) for p in self.parts()))

    def chain(self, f0, f1, f2):
        """g(x) with value f0(r), first derivative f1(r), second f2(r), elementwise."""
        d1, d2 = f1(self.r), f2(self.r)
        return HyperDual(f0(self.r), d1 * self.a, d1 * self.b, d1 * self.ab + d2 * self.a * self.b)

    def bilinear(self, other, product):
        """A product that is linear in each factor (elementwise *, matmul)."""
        return HyperDual(
            product(self.r, other.r),
            product(self.a, other.r) + product(self.r, other.a),
            product(self.b, other.r) + product(self.r, other.b),
            product(self.ab, other.r) + product(self.a, other.b) + product(self.b, other.a)
            + product(self.r, other.ab),
        )

    def __add__(self, other):
        return HyperDual(*(p + q for p, q in zip(self.parts(), other.parts())))

    def __neg__(self):
        return self.linear(lambda p: -p)

    def __sub__(self, other):
        return self + (-other)

    def __mul__(self, other):
        return self.bilinear(other, np.multiply)


def reciprocal(x):
    return x.chain(lambda r: 1 / r, lambda r: -1 / r**2, lambda r: 2 / r**3)


def exp(x):
    return x.chain(np.exp, np.exp, np.exp)


def log(x):
    return x.chain(np.log, lambda r: 1 / r, lambda r: -1 / r**2)


def sigmoid(x):
    def s(r):
        return 1 / (1 + np.exp(-r))

    return x.chain(s, lambda r: s(r) * (1 - s(r)), lambda r: s(r) * (1 - s(r)) * (1 - 2 * s(r)))


def tanh(x):
    return x.chain(np.tanh, lambda r: 1 - np.tanh(r) ** 2, lambda r: -2 * np.tanh(r) * (1 - np.tanh(r) ** 2))


def softplus(x):
    def s(r):
        return 1 / (1 + np.exp(-r))

    return x.chain(lambda r: np.log1p(np.exp(-np.abs(r))) + np.maximum(r, 0.0), s, lambda r: s(r) * (1 - s(r)))


def relu(x):
    return x.chain(lambda r: np.maximum(r, 0.0), lambda r: (r > 0) * 1.0, lambda r: 0.0 * r)


def absolute(x):
    return x.chain(np.abs, np.sign, lambda r: 0.0 * r)


def power(x, y):
    return exp(y * log(x))  # positive bases only (Pow's declared domain)


def summed(x, axis=None, keepdims=False):
    return x.linear(lambda p: np.sum(p, axis=axis, keepdims=keepdims))


def averaged(x, axis=None, keepdims=False):
    return x.linear(lambda p: np.mean(p, axis=axis, keepdims=keepdims))


def sum_to(x, shape):
    """Sum over the axes broadcasting added (leading) or stretched (length 1 in `shape`)."""
    def reduce(p):
        p = np.asarray(p)
        while p.ndim > len(shape):
            p = p.sum(axis=0)
        for axis, n in enumerate(shape):
            if n == 1 and p.shape[axis] != 1:
                p = p.sum(axis=axis, keepdims=True)
        return p

    return x.linear(reduce)


def constant_shift(x, m):
    """x - m for a constant m: only the real part moves."""
    return HyperDual(x.r - m, x.a, x.b, x.ab)


def stable_max(x, axis):
    m = np.max(np.asarray(x.r), axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def logsumexp(x, axis=None, keepdims=False):
    m = stable_max(x, axis)
    out = constant_shift(log(summed(exp(constant_shift(x, m)), axis=axis, keepdims=True)), -m)
    return out if keepdims else out.linear(lambda p: np.squeeze(p, axis=axis) if axis is not None else
                                           np.reshape(p, ()))


def softmax(x, axis=-1):
    e = exp(constant_shift(x, stable_max(x, axis)))
    return e * reciprocal(summed(e, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    shifted = constant_shift(x, stable_max(x, axis))
    return shifted - log(summed(exp(shifted), axis=axis, keepdims=True))


def select(weight, x, y):
    """weight·x + (1 - weight)·y part by part, for a constant weight (1 picks x, ½ at a tie)."""
    return HyperDual(*(weight * p + (1.0 - weight) * q for p, q in zip(x.parts(), y.parts())))


def maximum(x, y):
    return select((x.r > y.r) + 0.5 * (x.r == y.r), x, y)


def minimum(x, y):
    return select((x.r < y.r) + 0.5 * (x.r == y.r), x, y)


def where(cond, x, y):
    return select((np.asarray(cond.r) != 0) * 1.0, x, y)


def clip(x, lo, hi):
    """min(max(x, lo), hi), with the value at a limit x itself (torch.clamp's choice)."""
    inside = (x.r >= lo.r) & (x.r <= hi.r)
    below = (x.r < lo.r) & (lo.r <= hi.r)
    above = np.maximum(x.r, lo.r) > hi.r
    return HyperDual(*(inside * p + below * q + above * t for p, q, t in zip(x.parts(), lo.parts(), hi.parts())))


def extreme(pick):
    """max or min over `axis`: the mean of the parts of the elements that attain it (ties share)."""
    def reduce(x, axis=None, keepdims=False):
        r = np.asarray(x.r)
        hit = r == pick(r, axis=axis, keepdims=True)
        weight = hit / np.maximum(np.sum(hit, axis=axis, keepdims=True), 1)
        return x.linear(lambda p: np.sum(weight * p, axis=axis, keepdims=keepdims))

    return reduce


def flatten(x, start=0, end=-1):
    def reshape(p):
        shape = np.shape(p)
        if not shape:
            return np.reshape(p, (1,))
        first, last = start % len(shape), end % len(shape)
        return np.reshape(p, shape[:first] + (math.prod(shape[first:last + 1]),) + shape[last + 1:])

    return x.linear(reshape)


def joined(join):
    def apply(*xs, axis=0):
        return HyperDual(*(join([np.asarray(x.parts()[k]) for x in xs], axis=axis) for k in range(4)))

    return apply


def _padded_slices(x, padding, fill, kernel, stride, dilation):
    """x padded, and for each kernel offset the strided slice of it that offset reads (one per output position)."""
    x = np.pad(np.asarray(x), [(0, 0), (0, 0)] + [(p, p) for p in padding], constant_values=fill)
    sizes = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(x.shape[2:], kernel, stride, dilation)]
    return [(offset, x[(slice(None), slice(None), *(slice(k * d, k * d + s * (m - 1) + 1, s) for k, d, s, m
                                                      in zip(offset, dilation, stride, sizes)))])
            for offset in np.ndindex(*kernel)]


def conv_reference(x, w, stride, padding, dilation, groups=1):
    """Cross-correlation summed one kernel offset and one group at a time (no windows matrix)."""
    o, cg = w.shape[:2]
    og = o // groups
    out = 0.0
    for offset, patch in _padded_slices(x, padding, 0.0, w.shape[2:], stride, dilation):
        out = out + np.concatenate([np.einsum("nc...,oc->no...", patch[:, g * cg:(g + 1) * cg],
                                              w[(slice(g * og, (g + 1) * og), slice(None), *offset)])
                                    for g in range(groups)], axis=1)
    return out


def conv(x, w, b, stride, padding, dilation, groups=1):
    bias = b.linear(lambda p: np.reshape(p, (-1,) + (1,) * len(stride)))
    return x.bilinear(w, lambda p, q: conv_reference(p, q, stride, padding, dilation, groups)) + bias


def pooled(kind):
    """max or average pooling: a weighted sum over each window, the max's weights read from the real part."""
    def apply(x, kernel, stride, padding, dilation=None):
        dilation = dilation or (1,) * len(kernel)

        def stacked(p, fill):
            return np.stack([s for _, s in _padded_slices(p, padding, fill, kernel, stride, dilation)], axis=-1)

        if kind == "avg":
            return x.linear(lambda p: np.mean(stacked(p, 0.0), axis=-1))
        r = stacked(x.r, -np.inf)
        hit = r == np.max(r, axis=-1, keepdims=True)
        weight = hit / np.sum(hit, axis=-1, keepdims=True)
        return x.linear(lambda p: np.sum(stacked(p, 0.0) * weight, axis=-1))

    return apply


def batch_norm(x, w, b, training, eps=1e-5, running_mean=None, running_var=None, **_):
    """(x − μ)/√(σ² + ε)·w + b per channel: the batch's statistics as hyper-dual ops, or the running ones."""
    axes, kept = (0, *range(2, np.ndim(x.r))), (1, -1) + (1,) * (np.ndim(x.r) - 2)
    if training:
        centred = x - averaged(x, axis=axes, keepdims=True)
        variance = averaged(centred * centred, axis=axes, keepdims=True)
        x_hat = centred * reciprocal(REFERENCE["Sqrt"](constant_shift(variance, -eps)))
    else:
        inv = 1 / np.sqrt(running_var + eps)
        x_hat = constant_shift(x, np.reshape(running_mean, kept)).linear(lambda p: p * np.reshape(inv, kept))
    return x_hat * w.linear(lambda p: np.reshape(p, kept)) + b.linear(lambda p: np.reshape(p, kept))


def leaky_relu(x, negative_slope=0.01):
    s = negative_slope
    return x.chain(lambda r: np.where(r > 0, r, s * r), lambda r: np.where(r > 0, 1.0, s), lambda r: 0.0 * r)


def gelu(x, approximate="none"):
    """The exact form by its textbook derivatives (Φ + xφ, φ·(2 − x²)); the tanh form composed of hyper-dual ops."""
    if approximate == "tanh":
        c, k = math.sqrt(2 / math.pi), 0.044715
        inner = (x + (x * x * x).linear(lambda p: k * p)).linear(lambda p: c * p)
        return x.linear(lambda p: 0.5 * p) * constant_shift(tanh(inner), -1.0)
    erf = np.vectorize(math.erf)
    phi = lambda r: np.exp(-0.5 * r * r) / math.sqrt(2 * math.pi)  # noqa: E731
    return x.chain(lambda r: 0.5 * r * (1 + erf(r / math.sqrt(2))), lambda r: 0.5 * (1 + erf(r / math.sqrt(2)))
                   + r * phi(r), lambda r: phi(r) * (2 - r * r))


REFERENCE = {
    "Add": lambda x, y: x + y,
    "Sub": lambda x, y: x - y,
    "Mul": lambda x, y: x * y,
    "Div": lambda x, y: x * reciprocal(y),
    "Neg": lambda x: -x,
    "Pow": power,
    "Exp": exp,
    "Log": log,
    "Sigmoid": sigmoid,
    "Softplus": softplus,  # tinygrad_div.nn.functional
    "Tanh": tanh,
    "ReLU": relu,
    "Abs": absolute,
    "Sum": summed,
    "Mean": averaged,
    "Reshape": lambda x, shape: x.linear(lambda p: np.reshape(p, shape)),
    "Transpose": lambda x, axes=None: x.linear(lambda p: np.transpose(p, axes)),
    "BroadcastTo": lambda x, shape: x.linear(lambda p: np.broadcast_to(p, shape)),
    "SumTo": sum_to,
    "GetItem": lambda x, index: x.linear(lambda p: np.asarray(p)[index]),
    "MatMul": lambda x, y: x.bilinear(y, np.matmul),
    "Affine": lambda x, w, b: x.bilinear(w, lambda p, q: np.matmul(p, np.swapaxes(q, -1, -2))) + b,  # nn.functional
    "Sqrt": lambda x: x.chain(np.sqrt, lambda r: 0.5 / np.sqrt(r), lambda r: -0.25 / (r * np.sqrt(r))),
    "Sin": lambda x: x.chain(np.sin, np.cos, lambda r: -np.sin(r)),
    "Cos": lambda x: x.chain(np.cos, lambda r: -np.sin(r), lambda r: -np.cos(r)),
    "Log1p": lambda x: x.chain(np.log1p, lambda r: 1 / (1 + r), lambda r: -1 / (1 + r) ** 2),
    "Expm1": lambda x: x.chain(np.expm1, np.exp, np.exp),
    "Where": where,
    "Maximum": maximum,
    "Minimum": minimum,
    "Clip": clip,
    "Max": extreme(np.max),
    "Min": extreme(np.min),
    "LogSumExp": logsumexp,
    "Softmax": softmax,
    "LogSoftmax": log_softmax,
    "Squeeze": lambda x, axis=None: x.linear(lambda p: np.squeeze(p, axis)),
    "ExpandDims": lambda x, axis: x.linear(lambda p: np.expand_dims(p, axis)),
    "Flatten": flatten,
    "Concatenate": joined(np.concatenate),
    "Stack": joined(np.stack),
    "Conv": conv,
    "MaxPool": pooled("max"),
    "AvgPool": pooled("avg"),
    "BatchNorm": batch_norm,
    "LeakyReLU": leaky_relu,
    "GELU": gelu,
}

OPS = registered_ops("tinygrad_div")
MISSING = [op.__name__ for op in OPS if op.__name__ not in REFERENCE]
CHECKED = [op for op in OPS if op.__name__ in REFERENCE]


def test_every_registered_op_has_a_reference():
    assert not MISSING, f"add a hyper-dual reference for {', '.join(MISSING)} to REFERENCE in {__file__}"


# -- random graphs --------------------------------------------------------------------------------
SHAPES = [(), (3,), (2, 3), (1, 3), (3, 3)]
LIMIT = 1e3  # keep values where float64 still has digits to spare for a 1e-9 comparison


def in_domain(domain: str, data) -> bool:
    data = np.asarray(data)
    if domain == "positive":
        return bool(np.all(data > 0.1))
    if domain == "nonzero":
        return bool(np.all(np.abs(data) > 0.1))
    return True


@st.composite
def graphs(draw, first=None):
    """Leaves and a list of steps (op, input positions, params) over a pool that starts with the leaves.

    With `first`, the leaves are drawn where that op is defined (`testing.op_inputs`) and
    it is the first step; random ops follow.
    """
    steps = []
    if first is None:
        leaves = [draw(leaf_data()) for _ in range(draw(st.integers(1, 3)))]
    else:
        leaves, params = draw(op_inputs(first))
        steps.append((first, list(range(len(leaves))), params))
    pool = list(leaves)
    if steps:
        pool.append(first.apply(*[Value(x) for x in leaves], **params).data)
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(CHECKED))
        count = input_count(op)
        positions = [draw(st.integers(0, len(pool) - 1)) for _ in range(count)]
        inputs = [pool[i] for i in positions]
        domains = op.domain if isinstance(op.domain, tuple) else (op.domain,) * count
        if not all(in_domain(d, x) for d, x in zip(domains, inputs)):
            continue
        options = op.example_params(*[np.shape(x) for x in inputs])
        if not options:
            continue
        params = draw(st.sampled_from(options))
        try:
            with np.errstate(all="raise"):
                out = op.apply(*[Value(x) for x in inputs], **params).data
        except (ValueError, FloatingPointError, IndexError):  # shapes that do not fit, overflow
            continue
        if not np.all(np.isfinite(out)) or np.any(np.abs(out) > LIMIT):
            continue
        steps.append((op, positions, params))
        pool.append(out)
    return leaves, steps


def leaf_data():
    return st.sampled_from(SHAPES).flatmap(
        lambda shape: st.floats(-2.0, 2.0) if shape == () else
        st.lists(st.floats(-2.0, 2.0), min_size=math.prod(shape), max_size=math.prod(shape)).map(
            lambda xs, shape=shape: np.reshape(np.array(xs, dtype=np.float64), shape))
    )


def evaluate(leaves, steps, apply):
    """Run the graph with `apply(op, inputs, params)`; the loss is Σ_k (k+1)·sum(node_k), every node counted."""
    pool = list(leaves)
    for op, positions, params in steps:
        pool.append(apply(op, [pool[i] for i in positions], params))
    return pool


def engine_derivatives(leaves, steps, direction):
    xs = [Value(x) for x in leaves]
    pool = evaluate(xs, steps, lambda op, inputs, params: op.apply(*inputs, **params))
    loss = sum((k + 1.0) * v.sum() for k, v in enumerate(pool))
    gs = grad(loss, xs, create_graph=True, allow_unused=True)
    gs = [g if g is not None else Value(np.zeros(np.shape(x)), requires_grad=False) for g, x in zip(gs, leaves)]
    projection = sum((g * d).sum() for g, d in zip(gs, direction))
    if not projection.requires_grad:
        return [np.asarray(g.data) for g in gs], [np.zeros(np.shape(x)) for x in leaves]
    hv = grad(projection, xs, allow_unused=True)
    return [np.asarray(g.data) for g in gs], [np.zeros(np.shape(x)) if h is None else np.asarray(h) for h, x in
                                                zip(hv, leaves)]


def reference_derivatives(leaves, steps, direction):
    """(∇f, H·direction) from one hyper-dual pass per input element."""
    gradients = [np.zeros(np.shape(x)) for x in leaves]
    hessian_v = [np.zeros(np.shape(x)) for x in leaves]
    for i, x in enumerate(leaves):
        for flat in range(np.size(x)):
            unit = [np.zeros(np.shape(y)) for y in leaves]
            unit[i].reshape(-1)[flat] = 1.0  # a view, 0-d arrays included
            duals = [HyperDual(np.asarray(y, dtype=np.float64), u, np.asarray(d, dtype=np.float64),
                               np.zeros(np.shape(y))) for y, u, d in zip(leaves, unit, direction)]
            pool = evaluate(duals, steps, lambda op, inputs, params: REFERENCE[op.__name__](*inputs, **params))
            loss = HyperDual(0.0, 0.0, 0.0, 0.0)
            for k, v in enumerate(pool):
                loss = loss + summed(v).linear(lambda p, k=k: (k + 1.0) * p)
            gradients[i].reshape(-1)[flat] = loss.a
            hessian_v[i].reshape(-1)[flat] = loss.ab
    return gradients, hessian_v


def compare(leaves, steps, seed):
    second_order = all(op.twice_differentiable for op, _, _ in steps)
    direction = [np.random.default_rng(seed).uniform(-1, 1, np.shape(x)) for x in leaves]
    with np.errstate(all="ignore"):
        got = engine_derivatives(leaves, steps, direction)
        want = reference_derivatives(leaves, steps, direction)
    for order, (g, w) in enumerate(zip(got, want) if second_order else zip(got[:1], want[:1]), start=1):
        for i, (gi, wi) in enumerate(zip(g, w)):
            np.testing.assert_allclose(
                gi, wi, rtol=1e-9, atol=1e-9 * (1 + np.max(np.abs(wi), initial=0.0)),
                err_msg=f"order {order}, input {i}, graph {[(op.__name__, p, k) for op, p, k in steps]}",
            )


@pytest.mark.parametrize("op", CHECKED, ids=lambda op: op.__name__)
@settings(max_examples=12)
@given(case=st.data())
def test_each_op_in_random_graphs_matches_hyper_dual_numbers(op, case):
    """First and second order, with `op` applied to the leaves first, then random ops after it."""
    leaves, steps = case.draw(graphs(first=op))
    compare(leaves, steps, seed=len(steps))


@settings(max_examples=60)
@given(case=graphs(), seed=st.integers(0, 2**16))
def test_random_compositions_match_hyper_dual_numbers(case, seed):
    leaves, steps = case
    compare(leaves, steps, seed)


def test_the_reference_itself_on_a_known_function():
    """f(x, y) = x²y: ∇f = (2xy, x²), H = [[2y, 2x], [2x, 0]], at (3, 5) along v = (1, 2)."""
    square = REFERENCE["Mul"]
    for unit, gradient, hv in (((1.0, 0.0), 30.0, 2 * 5 + 2 * 3 * 2), ((0.0, 1.0), 9.0, 2 * 3)):
        x = HyperDual(3.0, unit[0], 1.0, 0.0)
        y = HyperDual(5.0, unit[1], 2.0, 0.0)
        f = square(square(x, x), y)
        assert (f.r, f.a, f.ab) == (45.0, gradient, hv)

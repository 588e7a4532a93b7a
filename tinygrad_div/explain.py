"""`td.explain(output, leaf)`: a gradient spelled out as the notes write it, one chain-rule product per path.

    E = mse_loss(s1, t) ...
    print(td.explain(E, w1, names={"E": E, "s1": s1, "net1": net1, "w1": w1}))

    dE/dw1: 1 path from E to w1
      path 1, through Mean ← Pow ← Sub ← Sigmoid ← Affine
        dE/dw1[0, 0] = dE/ds1 · ds1/dnet1 · dnet1/dw1[0, 0] = 0.4204 · 0.2436 · 0.6 = 0.06145
    ...

d(output)/d(leaf) is a sum over the paths from `output` back to `leaf`, each term the
product of the local derivatives along it. This prints one line per path (and per
element of an array leaf), the local derivatives between the named values with the
ops between them, and the order in which `backward()` adds the terms into
`leaf.grad`. The terms are computed by the ops' own backward rules, in the order
`backward()` runs them, so the sum printed is `leaf.grad` bit for bit.

Where paths merge, backward adds their gradients at the meeting node and multiplies
on once: the terms it adds into `.grad` are then per edge into the leaf (the last op
before it), not per path. Those are the terms summed; the paths are shown grouped
under them, and folded into one line each when there are more than `max_paths`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_div.engine.autograd import fit_gradient, topological_order
from tinygrad_div.engine.function import Output
from tinygrad_div.engine.mode import no_grad
from tinygrad_div.engine.value import Value

_ndarray = np.ndarray
#: Past this many paths, they are grouped by the last op before the leaf.
MAX_PATHS = 12
#: Elements of an array leaf written out one line each, up to this many (and products per element).
MAX_ELEMENTS = 6
#: Values of up to this many elements are followed element by element; a bigger one between the
#: output and the leaf makes the path's line one product of Jacobians.
MAX_JACOBIAN = 64

Edge = tuple[Value, int]  # (a Value computed by an op, which input of that op)


@dataclass
class Term:
    """What backward adds into `leaf.grad` once: the gradient through one edge into the leaf."""

    node: Value  # the output of the last op before the leaf
    input: int  # which input of that op the leaf is
    value: Any  # the gradient this edge adds, as backward computes it
    paths: list[list[Edge]] = field(default_factory=list)  # the paths it carries (all, or none when folded)
    path_count: int = 0


@dataclass
class Explanation:
    """`str()` is the explanation; `total` equals what backward() puts in `leaf.grad`, bit for bit."""

    text: str
    terms: list[Term]
    total: Any

    def __str__(self) -> str:
        return self.text


def explain(output: Value, leaf: Value, *, names: Mapping[str, Value] | None = None,
            max_paths: int = MAX_PATHS) -> Explanation:
    """Spell out d(output)/d(leaf): one chain-rule product per path, their sum, and backward's order.

    `output` is a one-element Value; `leaf` a Value that requires grad and was made by
    the user (a parameter, an input). `names` names Values in the text, e.g.
    `{"E": loss, "s1": s1, "w1": w}`: given, the local derivatives are taken between
    named values (the ops in between are listed); not given, between every pair of
    consecutive values, each named after its op. Call it before `backward()` (which
    frees what the rules need) or after `backward(retain_graph=True)`.
    """
    _check_arguments(output, leaf)
    leading = _leading(output, leaf)
    label = _Labels(output, leaf, names, leading)
    terms = _terms(output, leaf, leading)
    if not terms:
        raise ValueError(f"{label(leaf)} does not reach {label(output)}: no path, d{label(output)}/d{label(leaf)} = 0")
    total = terms[0].value.copy() if type(terms[0].value) is _ndarray else terms[0].value
    for term in terms[1:]:
        total = total + term.value  # as backward() adds into .grad: in arrival order
    counts = _path_counts(output, leading)
    folded = sum(counts[t.node] for t in terms) > max_paths
    for term in terms:
        term.path_count = counts[term.node]
        if not folded:
            term.paths = [path + [(term.node, term.input)] for path in _paths_to(output, term.node, leading)]
    text = _Writer(output, leaf, label).write(terms, total, folded, max_paths)
    return Explanation(text, terms, total)


def _check_arguments(output: Any, leaf: Any) -> None:
    if not isinstance(output, Value) or not isinstance(leaf, Value):
        raise TypeError("explain(output, leaf) needs two Values")
    if output.size != 1:
        raise ValueError(f"explain needs a one-element output (a loss), this one has shape {output.shape}")
    if not leaf.requires_grad or not leaf.is_leaf:
        raise ValueError("explain's leaf must be a Value made by you that requires grad (a parameter or an input)")


# -- the graph between output and leaf ---------------------------------------------------------------
def _leading(output: Value, leaf: Value) -> list[Value]:
    """The computed Values between output and leaf (each depends on leaf), newest first: backward's order."""
    order = topological_order([output])  # newest first
    reach = {leaf}
    leading = []
    for v in reversed(order):  # oldest first: a node's inputs are decided before it
        if type(v._ctx) is Output:
            raise ValueError(f"explain does not follow ops with several outputs ({type(v._ctx.node).__name__})")
        if any(p in reach for p in v._ctx.parents if isinstance(p, Value)):
            reach.add(v)
            leading.append(v)
    return leading[::-1]


def _rule(v: Value, g: Any) -> tuple:
    """The gradients v's op passes to its inputs for gradient g of v: its backward rule, as the engine runs it."""
    ctx = v._ctx
    if ctx.saved_tensors is None:
        raise ValueError(f"{type(ctx).__name__}: backward() freed this graph; call explain before backward(), "
                         "or run backward(retain_graph=True)")
    with no_grad():
        grads = ctx.backward(ctx, g)
    if type(grads) is not tuple:
        grads = tuple(grads) if type(grads) is list else (grads,)
    fitted = []
    for p, pg in zip(ctx.parents, grads):
        if pg is not None and isinstance(p, Value) and p.requires_grad:
            data = p._data
            if type(pg) is not type(data) or (type(pg) is _ndarray and pg.shape != data.shape):
                pg = fit_gradient(pg, data, ctx, p)
        fitted.append(pg)
    return tuple(fitted)


def _seed(output: Value) -> Any:
    return 1.0 if type(output._data) is float else np.ones(output._data.shape)


def _terms(output: Value, leaf: Value, leading: list[Value]) -> list[Term]:
    """The engine's backward loop, restricted to the Values between output and leaf: every gradient
    that arrives at `leaf`, in the order it arrives, with the same arithmetic (so the same bits)."""
    inside = set(leading)
    pending: dict[Value, Any] = {output: _seed(output)}
    terms = []
    for v in leading:  # newest first, as backward pops them
        if v not in pending:
            continue
        for i, (p, pg) in enumerate(zip(v._ctx.parents, _rule(v, pending.pop(v)))):
            if pg is None or not isinstance(p, Value) or not p.requires_grad:
                continue
            if p is leaf:
                terms.append(Term(v, i, pg))
            elif p in inside:
                pending[p] = pending[p] + pg if p in pending else pg
    return terms


def _path_counts(output: Value, leading: list[Value]) -> dict[Value, int]:
    """How many paths lead from output down to each Value between them."""
    inside = set(leading)
    counts = {v: 0 for v in leading}
    counts[output] = 1
    for v in leading:  # newest first: every consumer of v is counted before v
        for p in v._ctx.parents:
            if isinstance(p, Value) and p in inside:
                counts[p] += counts[v]
    return counts


def _paths_to(output: Value, node: Value, leading: list[Value]) -> list[list[Edge]]:
    """Every path from output down to node, as its edges (value, input index), output first."""
    inside = set(leading)
    paths: list[list[Edge]] = []

    def walk(v: Value, path: list[Edge]) -> None:
        if v is node:
            paths.append(path)
            return
        for i, p in enumerate(v._ctx.parents):
            if isinstance(p, Value) and p in inside:
                walk(p, path + [(v, i)])

    walk(output, [])
    return paths


def _along(edges: list[Edge], g: Any) -> Any:
    """Gradient g of the first edge's value, carried down the edges by the ops' rules."""
    for v, i in edges:
        g = _rule(v, g)[i]
        if g is None:
            return 0.0
    return g


# -- writing -------------------------------------------------------------------------------------
class _Labels:
    """The name of each Value in the text: given names, else output "y", leaf "x", the others after their
    op, numbered in creation order (Mul1, Mul2, ...)."""

    def __init__(self, output: Value, leaf: Value, names: Mapping[str, Value] | None, leading: list[Value]) -> None:
        self.names = {id(v): name for name, v in (names or {}).items()}
        self.given = set(self.names)
        self.names.setdefault(id(output), "y")
        self.names.setdefault(id(leaf), "x")
        counts: dict[str, int] = {}
        for v in reversed(leading):  # oldest first
            if id(v) not in self.names:
                op = type(v._ctx).__name__
                counts[op] = counts.get(op, 0) + 1
                self.names[id(v)] = f"{op}{counts[op]}"

    def __call__(self, v: Value) -> str:
        return self.names[id(v)]


class _Writer:
    def __init__(self, output: Value, leaf: Value, label: _Labels) -> None:
        self.output, self.leaf, self.label = output, leaf, label
        self.y, self.x = label(output), label(leaf)

    def write(self, terms: list[Term], total: Any, folded: bool, max_paths: int) -> str:
        y, x = self.y, self.x
        paths = sum(t.path_count for t in terms)
        lines = [f"d{y}/d{x}: {paths} path{'s' if paths != 1 else ''} from {y} to {x}"]
        if folded:
            lines.append(f"  more than {max_paths} paths: grouped by the last op before {x}, "
                         f"{paths} paths folded into {len(terms)} line(s)")
        number = 0
        for k, term in enumerate(terms, 1):
            via = f"{self.label(term.node)} (its input {term.input})"
            if folded:
                lines.append(f"  term {k}, via {via}: {term.path_count} path(s) folded, = {_short(term.value)}")
                continue
            first = number + 1
            for path in term.paths:
                number += 1
                lines += self.path_lines(number, path)
            if len(term.paths) > 1:
                lines.append(f"  term {k}, via {via}: paths {first} to {number} meet before {x}; backward adds "
                             f"them where they meet, then multiplies on: = {_short(term.value)}")
        via = ", ".join(f"{self.label(t.node)}" for t in terms)
        lines.append(f"backward() adds {len(terms)} term{'s' if len(terms) > 1 else ''} into {x}.grad, one per "
                     f"edge into {x}, newest op first: via {via}")
        sum_text = " + ".join(_short(t.value) for t in terms) + " = " if len(terms) > 1 else ""
        lines.append(f"{x}.grad = {sum_text}{_full(total)}")
        return "\n".join(lines) + "\n"

    def path_lines(self, number: int, path: list[Edge]) -> list[str]:
        ops = " ← ".join(type(v._ctx).__name__ for v, _ in path)
        lines = [f"  path {number}, through {ops}"]
        given = self.label.given
        cuts = [k for k, (v, _) in enumerate(path) if k == 0 or not given or id(v) in given]
        segments = [path[a:b] for a, b in zip(cuts, cuts[1:] + [len(path)])]
        values = [seg[0][0] for seg in segments] + [self.leaf]  # the chain's steps, output first
        value = _along(path, _seed(self.output))
        if any(v.size > MAX_JACOBIAN for v in values[:-1]):  # too big to write element by element
            names = [f"d{self.label(a)}/d{self.label(b)}" for a, b in zip(values, values[1:])]
            lines.append(f"    d{self.y}/d{self.x} = {' · '.join(names)} = {_short(value)}")
            return lines
        jacobians = [_jacobian(seg, top) for seg, top in zip(segments, values)]
        elements = list(np.ndindex(self.leaf.shape))
        for element in elements[:MAX_ELEMENTS]:
            leaf_at = _at(self.leaf, element)
            chains = _element_chains(jacobians, int(np.ravel_multi_index(element, self.leaf.shape))
                                     if element else 0)
            for chain in chains[:MAX_ELEMENTS]:
                names = [f"d{self.label(a)}{_at(a, i)}/d{self.label(b)}{_at(b, j)}"
                         for a, b, i, j in zip(values, values[1:], chain, chain[1:])]
                factors = [float(jac[i, j]) for jac, i, j in zip(jacobians, chain, chain[1:])]
                product = _number(value, element) if len(chains) == 1 else float(np.prod(factors))
                lines.append(f"    d{self.y}/d{self.x}{leaf_at} = {' · '.join(names)} = "
                             f"{' · '.join(f'{n:.4g}' for n in factors)} = {product:.4g}")
            if len(chains) > MAX_ELEMENTS:
                lines.append(f"    ... ({len(chains) - MAX_ELEMENTS} more products for {self.x}{leaf_at})")
            if len(chains) > 1:
                lines.append(f"    d{self.y}/d{self.x}{leaf_at} along this path = their sum = "
                             f"{_number(value, element):.4g}")
        if len(elements) > MAX_ELEMENTS:
            lines.append(f"    ... ({len(elements) - MAX_ELEMENTS} more elements)")
        return lines


def _jacobian(edges: list[Edge], top: Value) -> np.ndarray:
    """d(bottom)/d(top) along these edges, one row per element of top (its rules run on basis gradients)."""
    rows = []
    for k in range(top.size):
        basis = np.zeros(top.size)
        basis[k] = 1.0
        upstream = 1.0 if type(top._data) is float else basis.reshape(top.shape)
        rows.append(np.ravel(np.asarray(_along(edges, upstream), dtype=np.float64)))
    return np.array(rows)


def _element_chains(jacobians: list[np.ndarray], last: int) -> list[list[int]]:
    """Every chain of elements (one per step, output first) from the output's element to `last` of the
    leaf, through nonzero local derivatives."""
    chains: list[list[int]] = []

    def walk(step: int, element: int, chain: list[int]) -> None:
        if step == len(jacobians):
            if element == last:
                chains.append(chain)
            return
        for nxt in np.flatnonzero(jacobians[step][element]):
            if step + 1 < len(jacobians) or nxt == last:
                walk(step + 1, int(nxt), chain + [int(nxt)])

    walk(0, 0, [0])
    return chains


def _at(v: Value, element: Any) -> str:
    """"[i, j]" for an element of an array Value, "" for a one-element Value."""
    if v.size == 1:
        return ""
    index = element if isinstance(element, tuple) else np.unravel_index(element, v.shape)
    return f"[{', '.join(str(int(i)) for i in index)}]"


def _number(x: Any, element: tuple) -> float:
    array = np.asarray(x, dtype=np.float64)
    return float(array.reshape(-1)[0] if array.size == 1 else array[element])


def _short(x: Any) -> str:
    """4 significant digits, as the notes write numbers."""
    return _written(x, lambda v: f"{v:.4g}")


def _full(x: Any) -> str:
    """Every digit: the shortest text that reads back as the same float64 (repr)."""
    return _written(x, lambda v: repr(float(v)))


def _written(x: Any, number: Any) -> str:
    if np.ndim(x) == 0:
        return number(float(np.asarray(x)))
    return np.array2string(np.asarray(x), separator=", ", max_line_width=10_000, threshold=10_000,
                           formatter={"float_kind": number})

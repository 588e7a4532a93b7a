"""W5, scalar graphs (micrograd's home ground): one node per weight and per activation.

An MLP 2 -> 16 -> 16 -> 1 built from scalar values the way micrograd's `nn.Neuron`
builds it (`sum((w_i * x_i ...), b)`, then relu; linear output), loss (p - t)²,
per-sample SGD with lr 0.01, one epoch over 500 samples of the division task.
Reported in µs per sample; each sample records ~640 scalar ops and updates 337
weights, so this is the cost of a scalar node: creating it, walking it in backward
and collecting it. The target compares with the plain-Python-floats floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks import data
from benchmarks.workload import Case, Run, Workload

LR = 0.01
SIZES = [2, 16, 16, 1]


@dataclass(frozen=True)
class Problem:
    X: np.ndarray  # (n, 2)
    T: np.ndarray  # (n,)
    weights: list  # [W1 (2, 16), b1, W2 (16, 16), b2, W3 (16, 1), b3]
    lr: float = LR


def make_problem(samples: int) -> Problem:
    gen = data.rng(5)
    weights = data.dense_weights(gen, SIZES)
    X, T = data.divide_dataset(gen, samples)
    return Problem(X, T, weights)


def _rows(problem: Problem) -> list[tuple[list, float]]:
    return [(x.tolist(), float(t)) for x, t in zip(problem.X, problem.T)]


def _neurons(weights: list, make) -> list[list[tuple[list, object]]]:
    """Per layer, per neuron: ([incoming weights], bias), each made by `make(float)`."""
    layers = []
    for W, b in zip(weights[0::2], weights[1::2]):
        layers.append([([make(float(w)) for w in W[:, j]], make(float(b[j]))) for j in range(W.shape[1])])
    return layers


def _matrices(layers: list, value) -> list[np.ndarray]:
    """Back from neurons to [W1, b1, ...], reading each scalar with `value(node)`."""
    weights = []
    for layer in layers:
        weights.append(np.array([[value(w) for w in ws] for ws, _ in layer]).T)
        weights.append(np.array([value(b) for _, b in layer]))
    return weights


def _forward(layers: list, x: list, relu) -> object:
    """micrograd's nn.MLP forward: sum((w_i * x_i), b) per neuron, relu except in the last layer."""
    for depth, layer in enumerate(layers):
        last = depth == len(layers) - 1
        x = [sum((wi * xi for wi, xi in zip(ws, x)), b) for ws, b in layer]
        if not last:
            x = [relu(v) for v in x]
    return x[0]


# -- floors ------------------------------------------------------------------------------
def floor_numpy(problem: Problem) -> Run:
    """One sample at a time with numpy vectors and matrices, derivatives by hand (the reference)."""
    W1, b1, W2, b2, W3, b3 = data.copies(problem.weights)
    rows, lr = [(np.array(x), t) for x, t in _rows(problem)], problem.lr

    def run() -> list:
        nonlocal W1, b1, W2, b2, W3, b3  # updated in place
        for x, t in rows:
            z1 = x @ W1 + b1
            h1 = np.maximum(z1, 0.0)
            z2 = h1 @ W2 + b2
            h2 = np.maximum(z2, 0.0)
            p = h2 @ W3 + b3
            d = 2.0 * (p - t)  # dL/dp, shape (1,)
            dz2 = (W3 @ d) * (z2 > 0.0)
            dz1 = (W2 @ dz2) * (z1 > 0.0)
            W3 -= lr * np.outer(h2, d)
            b3 -= lr * d
            W2 -= lr * np.outer(h1, dz2)
            b2 -= lr * dz2
            W1 -= lr * np.outer(x, dz1)
            b1 -= lr * dz1
        return [W1, b1, W2, b2, W3, b3]

    return run


def floor_python(problem: Problem) -> Run:
    """Plain Python floats in nested lists, derivatives by hand: the target's reference."""
    W1, b1, W2, b2, W3, b3 = (w.tolist() for w in problem.weights)
    w3 = [row[0] for row in W3]
    rows, lr = _rows(problem), problem.lr
    n1, n2 = range(len(b1)), range(len(b2))

    def run() -> list:
        for x, t in rows:
            x0, x1 = x
            z1 = [b1[j] + W1[0][j] * x0 + W1[1][j] * x1 for j in n1]
            h1 = [z if z > 0.0 else 0.0 for z in z1]
            z2 = list(b2)
            for i in n1:
                hi, row = h1[i], W2[i]
                for j in n2:
                    z2[j] += row[j] * hi
            h2 = [z if z > 0.0 else 0.0 for z in z2]
            p = b3[0]
            for j in n2:
                p += w3[j] * h2[j]
            d = 2.0 * (p - t)
            dz2 = [w3[j] * d if z2[j] > 0.0 else 0.0 for j in n2]
            dz1 = [sum(W2[i][j] * dz2[j] for j in n2) if z1[i] > 0.0 else 0.0 for i in n1]
            for j in n2:
                w3[j] -= lr * h2[j] * d
            b3[0] -= lr * d
            for i in n1:
                hi, row = h1[i], W2[i]
                for j in n2:
                    row[j] -= lr * hi * dz2[j]
            for j in n2:
                b2[j] -= lr * dz2[j]
            for i in n1:
                W1[0][i] -= lr * x0 * dz1[i]
                W1[1][i] -= lr * x1 * dz1[i]
                b1[i] -= lr * dz1[i]
        return [np.array(W1), np.array(b1), np.array(W2), np.array(b2), np.array(w3).reshape(-1, 1), np.array(b3)]

    return run


# -- frameworks --------------------------------------------------------------------------
def setup_tinygrad_div(problem: Problem) -> Run:
    from tinygrad_div import Value

    layers = _neurons(problem.weights, Value)
    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    rows, lr = _rows(problem), problem.lr

    def run() -> list:
        for x, t in rows:
            loss = (_forward(layers, x, Value.relu) - t) ** 2
            loss.backward()
            for q in params:
                q.data -= lr * q.grad
                q.grad = None
        return _matrices(layers, lambda v: v.data)

    return run


def setup_tinygrad_div_compiled(problem: Problem) -> Run:
    """The same step under td.compile (one straight-line float program): traced in setup, untimed."""
    from tinygrad_div import Value, compile

    layers = _neurons(problem.weights, Value)
    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    rows, lr = _rows(problem), problem.lr

    @compile
    def step(x0, x1, t):
        return (_forward(layers, [x0, x1], Value.relu) - t) ** 2

    step(*rows[0][0], rows[0][1])  # the trace; its gradients are dropped, the weights are untouched
    for q in params:
        q.grad = None

    def run() -> list:
        for (x0, x1), t in rows:
            step(x0, x1, t)
            for q in params:
                q.data -= lr * q.grad
                q.grad = None
        return _matrices(layers, lambda v: v.data)

    return run


def setup_torch(problem: Problem) -> Run:
    import torch

    layers = _neurons(problem.weights, lambda w: torch.tensor(w, dtype=torch.float64, requires_grad=True))
    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    rows, lr = _rows(problem), problem.lr

    def run() -> list:
        for x, t in rows:
            loss = (_forward(layers, x, torch.relu) - t) ** 2
            loss.backward()
            with torch.no_grad():
                for q in params:
                    q -= lr * q.grad
                    q.grad = None
        return _matrices(layers, lambda v: v.item())

    return run


def setup_mygrad(problem: Problem) -> Run:
    import mygrad as mg
    from mygrad.nnet.activations import relu

    layers = _neurons(problem.weights, mg.tensor)
    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    rows, lr = _rows(problem), problem.lr

    def run() -> list:
        for x, t in rows:
            loss = (_forward(layers, x, relu) - t) ** 2
            loss.backward()
            for q in params:
                q.data -= lr * q.grad
        return _matrices(layers, lambda v: v.item())

    return run


def setup_autograd(problem: Problem) -> Run:
    """The weights as one flat float64 array, read element by element into scalar nodes."""
    from autograd import grad

    def relu(z):
        return z if z > 0.0 else 0.0 * z

    shapes = _neurons(problem.weights, float)

    def unflatten(values) -> list:
        values = iter(values)
        return [[([next(values) for _ in ws], next(values)) for ws, _ in layer] for layer in shapes]

    def loss(flat, x, t):
        return (_forward(unflatten(flat), x, relu) - t) ** 2

    loss_grad = grad(loss)
    start = np.array([p for layer in shapes for ws, b in layer for p in (*ws, b)])
    rows, lr = _rows(problem), problem.lr

    def run() -> list:
        flat = start
        for x, t in rows:
            flat = flat - lr * loss_grad(flat, x, t)
        return _matrices(unflatten(flat.tolist()), float)

    return run


def setup_micrograd(problem: Problem) -> Run:
    """micrograd's own nn.MLP, its random weights replaced by the problem's."""
    from micrograd.nn import MLP

    model = MLP(SIZES[0], SIZES[1:])
    for layer, W, b in zip(model.layers, problem.weights[0::2], problem.weights[1::2]):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.data = float(W[i, j])
            neuron.b.data = float(b[j])
    params = model.parameters()
    rows, lr = _rows(problem), problem.lr

    def run() -> list:
        for x, t in rows:
            loss = (model(x) - t) ** 2
            model.zero_grad()
            loss.backward()
            for q in params:
                q.data -= lr * q.grad
        layers = [[(n.w, n.b) for n in layer.neurons] for layer in model.layers]
        return _matrices(layers, lambda v: v.data)

    return run


def cases(quick: bool) -> list[Case]:
    if quick:
        return [Case("W5", "W5", {"samples": 20}, rounds=1, warmup=False)]
    # no warm-up round: one run takes 0.5 s (tinygrad_div) to 20 s (MyGrad), first-call costs vanish in it
    return [Case("W5", "W5", {"samples": 500}, rounds=3, warmup=False)]


WORKLOAD = Workload(
    name="W5",
    title="scalar-node MLP 2-16-16-1 relu, per-sample SGD, 500 samples",
    unit="sample",
    floors=("floor-numpy", "floor-python"),
    make_problem=make_problem,
    units=lambda problem: len(problem.T),
    setups={
        "tinygrad_div": setup_tinygrad_div, "tinygrad_div-compiled": setup_tinygrad_div_compiled,
        "torch": setup_torch, "mygrad": setup_mygrad,
        "autograd": setup_autograd, "micrograd": setup_micrograd,
        "floor-numpy": floor_numpy, "floor-python": floor_python,
    },
    cases=cases,
)

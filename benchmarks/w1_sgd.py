"""W1, the notes' network trained per sample: the cost of one small SGD step.

2 -> 8 sigmoid -> 1 sigmoid, loss (p - t)² (MSE of one sample), plain SGD with
lr 0.5, batch size 1, one epoch over 5,000 samples of the division task. Reported
in µs per step (forward + backward + update). With 33 weights and ~9 ops per step,
this measures per-op and per-step overhead, not arithmetic: the numpy floor is
itself dominated by numpy's own call overhead, the plain-float floor by the
interpreter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from benchmarks import data
from benchmarks.workload import Case, Run, Workload

LR = 0.5


@dataclass(frozen=True)
class Problem:
    X: np.ndarray  # (n, 2)
    T: np.ndarray  # (n,)
    weights: list  # [W1 (2, 8), b1 (8,), W2 (8, 1), b2 (1,)]
    lr: float = LR


def make_problem(samples: int) -> Problem:
    gen = data.rng(1)
    weights = data.dense_weights(gen, [2, 8, 1])
    X, T = data.divide_dataset(gen, samples)
    return Problem(X, T, weights)


def _rows(problem: Problem) -> list[tuple[np.ndarray, float]]:
    return [(np.array(x), float(t)) for x, t in zip(problem.X, problem.T)]


# -- floors ------------------------------------------------------------------------------
def floor_numpy(problem: Problem) -> Run:
    """The step written out in numpy, derivatives by hand (the reference answer)."""
    W1, b1, W2, b2 = data.copies(problem.weights)
    rows, lr = _rows(problem), problem.lr

    def run() -> list:
        nonlocal W1, b1, W2, b2  # updated in place
        for x, t in rows:
            h = 1.0 / (1.0 + np.exp(-(x @ W1 + b1)))
            p = 1.0 / (1.0 + np.exp(-(h @ W2 + b2)))
            dz2 = 2.0 * (p - t) * p * (1.0 - p)  # dL/d(pre-activation of the output), shape (1,)
            dz1 = (W2 @ dz2) * h * (1.0 - h)
            W2 -= lr * np.outer(h, dz2)
            b2 -= lr * dz2
            W1 -= lr * np.outer(x, dz1)
            b1 -= lr * dz1
        return [W1, b1, W2, b2]

    return run


def floor_python(problem: Problem) -> Run:
    """The step in plain Python floats and lists, derivatives by hand."""
    W1, b1, W2, b2 = (w.tolist() for w in problem.weights)
    w2 = [row[0] for row in W2]
    c2 = b2[0]
    rows = [(float(x[0]), float(x[1]), t) for x, t in _rows(problem)]
    lr, exp, hidden = problem.lr, math.exp, range(len(b1))
    W1a, W1b = W1  # the weights from input a and from input b

    def run() -> list:
        nonlocal c2
        for xa, xb, t in rows:
            h = [1.0 / (1.0 + exp(-(xa * W1a[j] + xb * W1b[j] + b1[j]))) for j in hidden]
            z2 = c2
            for j in hidden:
                z2 += h[j] * w2[j]
            p = 1.0 / (1.0 + exp(-z2))
            dz2 = 2.0 * (p - t) * p * (1.0 - p)
            for j in hidden:
                hj = h[j]
                dz1 = w2[j] * dz2 * hj * (1.0 - hj)
                w2[j] -= lr * hj * dz2
                W1a[j] -= lr * xa * dz1
                W1b[j] -= lr * xb * dz1
                b1[j] -= lr * dz1
            c2 -= lr * dz2
        return [np.array([W1a, W1b]), np.array(b1), np.array(w2).reshape(-1, 1), np.array([c2])]

    return run


# -- frameworks --------------------------------------------------------------------------
def setup_tinygrad_div(problem: Problem) -> Run:
    from tinygrad_div import Value

    params = [Value(w) for w in problem.weights]
    W1, b1, W2, b2 = params
    rows = [(Value(x, requires_grad=False), t) for x, t in _rows(problem)]
    lr = problem.lr

    def run() -> list:
        for x, t in rows:
            h = (x @ W1 + b1).sigmoid()
            p = (h @ W2 + b2).sigmoid()
            loss = ((p - t) ** 2).mean()
            loss.backward()
            for q in params:
                q.data -= lr * q.grad
                q.grad = None
        return [q.data for q in params]

    return run


def setup_tinygrad_div_compiled(problem: Problem) -> Run:
    """The same step under td.compile: traced (and checked against eager) in setup, untimed."""
    from tinygrad_div import Value, compile

    params = [Value(w) for w in problem.weights]
    W1, b1, W2, b2 = params
    rows, lr = _rows(problem), problem.lr

    @compile
    def step(x, t):
        h = (x @ W1 + b1).sigmoid()
        p = (h @ W2 + b2).sigmoid()
        return ((p - t) ** 2).mean()

    step(*rows[0])  # the trace; its gradients are dropped, the weights are untouched
    for q in params:
        q.grad = None

    def run() -> list:
        for x, t in rows:
            step(x, t)
            for q in params:
                q.data -= lr * q.grad
                q.grad = None
        return [q.data for q in params]

    return run


def setup_jax(problem: Problem) -> Run:
    """JAX, float64, the whole SGD step (grad and update) under one jax.jit, compiled in setup."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    lr = problem.lr

    def loss(params, x, t):
        W1, b1, W2, b2 = params
        h = jax.nn.sigmoid(x @ W1 + b1)
        p = jax.nn.sigmoid(h @ W2 + b2)
        return jnp.mean((p - t) ** 2)

    @jax.jit
    def step(params, x, t):
        grads = jax.grad(loss)(params, x, t)
        return [q - lr * g for q, g in zip(params, grads)]

    start = [jnp.asarray(w) for w in problem.weights]
    rows = [(jnp.asarray(x), t) for x, t in _rows(problem)]
    jax.block_until_ready(step(start, *rows[0]))  # compile, untimed

    def run() -> list:
        params = start
        for x, t in rows:
            params = step(params, x, t)
        return [np.asarray(q) for q in jax.block_until_ready(params)]

    return run


def setup_torch(problem: Problem) -> Run:
    import torch

    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in problem.weights]
    W1, b1, W2, b2 = params
    rows = [(torch.tensor(x, dtype=torch.float64), t) for x, t in _rows(problem)]
    lr = problem.lr

    def run() -> list:
        for x, t in rows:
            h = torch.sigmoid(x @ W1 + b1)
            p = torch.sigmoid(h @ W2 + b2)
            loss = ((p - t) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                for q in params:
                    q -= lr * q.grad
                    q.grad = None
        return [q.detach().numpy() for q in params]

    return run


def setup_mygrad(problem: Problem) -> Run:
    import mygrad as mg
    from mygrad.nnet.activations import sigmoid

    params = [mg.tensor(w) for w in data.copies(problem.weights)]
    W1, b1, W2, b2 = params
    rows = _rows(problem)
    lr = problem.lr

    def run() -> list:
        for x, t in rows:
            h = sigmoid(x @ W1 + b1)
            p = sigmoid(h @ W2 + b2)
            loss = mg.mean((p - t) ** 2)
            loss.backward()
            for q in params:
                q.data -= lr * q.grad
        return [np.array(q.data) for q in params]

    return run


def setup_autograd(problem: Problem) -> Run:
    import autograd.numpy as anp
    from autograd import grad

    def loss(params, x, t):
        W1, b1, W2, b2 = params
        h = 1.0 / (1.0 + anp.exp(-(anp.dot(x, W1) + b1)))
        p = 1.0 / (1.0 + anp.exp(-(anp.dot(h, W2) + b2)))
        return anp.mean((p - t) ** 2)

    loss_grad = grad(loss)
    start = data.copies(problem.weights)
    rows, lr = _rows(problem), problem.lr

    def run() -> list:
        params = start
        for x, t in rows:
            grads = loss_grad(params, x, t)
            params = [q - lr * g for q, g in zip(params, grads)]
        return params

    return run


def setup_micrograd(problem: Problem) -> Run:
    """Scalar micrograd, one Value per weight, as micrograd's own nn.Neuron computes a neuron."""
    from micrograd.engine import Value

    from benchmarks.micrograd_ops import sigmoid

    W1, b1, W2, b2 = problem.weights
    w1 = [[Value(float(W1[i, j])) for i in range(2)] for j in range(8)]  # neuron j's incoming weights
    c1 = [Value(float(b)) for b in b1]
    w2 = [Value(float(w)) for w in W2[:, 0]]
    c2 = Value(float(b2[0]))
    params = [w for neuron in w1 for w in neuron] + c1 + w2 + [c2]
    rows = [(x.tolist(), t) for x, t in _rows(problem)]
    lr = problem.lr

    def run() -> list:
        for x, t in rows:
            h = [sigmoid(sum((wi * xi for wi, xi in zip(w, x)), c)) for w, c in zip(w1, c1)]
            p = sigmoid(sum((wi * hi for wi, hi in zip(w2, h)), c2))
            loss = (p - t) ** 2
            for q in params:
                q.grad = 0.0
            loss.backward()
            for q in params:
                q.data -= lr * q.grad
        return [
            np.array([[w[i].data for w in w1] for i in range(2)]), np.array([c.data for c in c1]),
            np.array([[w.data] for w in w2]), np.array([c2.data]),
        ]

    return run


def cases(quick: bool) -> list[Case]:
    if quick:
        return [Case("W1", "W1", {"samples": 200}, rounds=1, warmup=False)]
    return [Case("W1", "W1", {"samples": 5000}, rounds=5)]


WORKLOAD = Workload(
    name="W1",
    title="notes' network 2-8-1 sigmoid, per-sample SGD, 5,000 steps",
    unit="step",
    floors=("floor-numpy", "floor-python"),
    make_problem=make_problem,
    units=lambda problem: len(problem.T),
    setups={
        "tinygrad_div": setup_tinygrad_div, "tinygrad_div-compiled": setup_tinygrad_div_compiled,
        "jax": setup_jax, "torch": setup_torch, "mygrad": setup_mygrad,
        "autograd": setup_autograd, "micrograd": setup_micrograd,
        "floor-numpy": floor_numpy, "floor-python": floor_python,
    },
    cases=cases,
)

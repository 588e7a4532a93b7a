"""W2, a batched MLP: where numpy's arithmetic, not per-op overhead, should dominate.

2 -> 64 -> 64 -> 1, every layer sigmoid, loss mean((P - T)²) over a batch of 256,
plain SGD with lr 0.5, 300 steps over 300 distinct batches of the division task.
Reported in µs per step. Each step does six (256 x 64)-sized matmuls and a dozen
elementwise passes over (256, 64) arrays, so a framework's ratio to the floor here
is mostly the extra array passes it makes (and the temporaries it allocates), not
Python overhead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks import data
from benchmarks.workload import Case, Run, Workload

LR = 0.5
SIZES = [2, 64, 64, 1]


@dataclass(frozen=True)
class Problem:
    batches: list  # [(X (batch, 2), T (batch, 1))] * steps
    weights: list  # [W1, b1, W2, b2, W3, b3]
    lr: float = LR


def make_problem(steps: int, batch: int) -> Problem:
    gen = data.rng(2)
    weights = data.dense_weights(gen, SIZES)
    X, T = data.divide_dataset(gen, steps * batch)
    batches = [(X[i:i + batch].copy(), T[i:i + batch].reshape(-1, 1).copy()) for i in range(0, steps * batch, batch)]
    return Problem(batches, weights)


def floor_numpy(problem: Problem) -> Run:
    """Forward and backward written out with numpy matmuls, derivatives by hand (the reference)."""
    W1, b1, W2, b2, W3, b3 = data.copies(problem.weights)
    batches, lr = problem.batches, problem.lr

    def run() -> list:
        nonlocal W1, b1, W2, b2, W3, b3  # updated in place
        for X, T in batches:
            H1 = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))
            H2 = 1.0 / (1.0 + np.exp(-(H1 @ W2 + b2)))
            P = 1.0 / (1.0 + np.exp(-(H2 @ W3 + b3)))
            dZ3 = (2.0 / P.size) * (P - T) * P * (1.0 - P)
            dZ2 = (dZ3 @ W3.T) * H2 * (1.0 - H2)
            dZ1 = (dZ2 @ W2.T) * H1 * (1.0 - H1)
            W3 -= lr * (H2.T @ dZ3)
            b3 -= lr * dZ3.sum(axis=0)
            W2 -= lr * (H1.T @ dZ2)
            b2 -= lr * dZ2.sum(axis=0)
            W1 -= lr * (X.T @ dZ1)
            b1 -= lr * dZ1.sum(axis=0)
        return [W1, b1, W2, b2, W3, b3]

    return run


def setup_tinygrad_div(problem: Problem) -> Run:
    from tinygrad_div import Value

    params = [Value(w) for w in problem.weights]
    W1, b1, W2, b2, W3, b3 = params
    batches = [(Value(X, requires_grad=False), Value(T, requires_grad=False)) for X, T in problem.batches]
    lr = problem.lr

    def run() -> list:
        for X, T in batches:
            H1 = (X @ W1 + b1).sigmoid()
            H2 = (H1 @ W2 + b2).sigmoid()
            P = (H2 @ W3 + b3).sigmoid()
            loss = ((P - T) ** 2).mean()
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
    W1, b1, W2, b2, W3, b3 = params
    batches = list(problem.batches)
    lr = problem.lr

    @compile
    def step(X, T):
        H1 = (X @ W1 + b1).sigmoid()
        H2 = (H1 @ W2 + b2).sigmoid()
        P = (H2 @ W3 + b3).sigmoid()
        return ((P - T) ** 2).mean()

    step(*batches[0])  # the trace; its gradients are dropped, the weights are untouched
    for q in params:
        q.grad = None

    def run() -> list:
        for X, T in batches:
            step(X, T)
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

    def loss(params, X, T):
        W1, b1, W2, b2, W3, b3 = params
        H1 = jax.nn.sigmoid(X @ W1 + b1)
        H2 = jax.nn.sigmoid(H1 @ W2 + b2)
        P = jax.nn.sigmoid(H2 @ W3 + b3)
        return jnp.mean((P - T) ** 2)

    @jax.jit
    def step(params, X, T):
        grads = jax.grad(loss)(params, X, T)
        return [q - lr * g for q, g in zip(params, grads)]

    start = [jnp.asarray(w) for w in problem.weights]
    batches = [(jnp.asarray(X), jnp.asarray(T)) for X, T in problem.batches]
    jax.block_until_ready(step(start, *batches[0]))  # compile, untimed

    def run() -> list:
        params = start
        for X, T in batches:
            params = step(params, X, T)
        return [np.asarray(q) for q in jax.block_until_ready(params)]

    return run


def setup_torch(problem: Problem) -> Run:
    import torch

    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in problem.weights]
    W1, b1, W2, b2, W3, b3 = params
    batches = [(torch.tensor(X), torch.tensor(T)) for X, T in problem.batches]
    lr = problem.lr

    def run() -> list:
        for X, T in batches:
            H1 = torch.sigmoid(X @ W1 + b1)
            H2 = torch.sigmoid(H1 @ W2 + b2)
            P = torch.sigmoid(H2 @ W3 + b3)
            loss = ((P - T) ** 2).mean()
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
    W1, b1, W2, b2, W3, b3 = params
    batches, lr = problem.batches, problem.lr

    def run() -> list:
        for X, T in batches:
            H1 = sigmoid(X @ W1 + b1)
            H2 = sigmoid(H1 @ W2 + b2)
            P = sigmoid(H2 @ W3 + b3)
            loss = mg.mean((P - T) ** 2)
            loss.backward()
            for q in params:
                q.data -= lr * q.grad
        return [np.array(q.data) for q in params]

    return run


def setup_autograd(problem: Problem) -> Run:
    import autograd.numpy as anp
    from autograd import grad

    def sigmoid(z):
        return 1.0 / (1.0 + anp.exp(-z))

    def loss(params, X, T):
        W1, b1, W2, b2, W3, b3 = params
        H1 = sigmoid(anp.dot(X, W1) + b1)
        H2 = sigmoid(anp.dot(H1, W2) + b2)
        P = sigmoid(anp.dot(H2, W3) + b3)
        return anp.mean((P - T) ** 2)

    loss_grad = grad(loss)
    start = data.copies(problem.weights)
    batches, lr = problem.batches, problem.lr

    def run() -> list:
        params = start
        for X, T in batches:
            grads = loss_grad(params, X, T)
            params = [q - lr * g for q, g in zip(params, grads)]
        return params

    return run


def cases(quick: bool) -> list[Case]:
    if quick:
        return [Case("W2", "W2", {"steps": 10, "batch": 32}, rounds=1, warmup=False)]
    return [Case("W2", "W2", {"steps": 300, "batch": 256}, rounds=5)]


WORKLOAD = Workload(
    name="W2",
    title="MLP 2-64-64-1 sigmoid, batch 256, 300 SGD steps",
    unit="step",
    floors=("floor-numpy",),
    make_problem=make_problem,
    units=lambda problem: len(problem.batches),
    setups={
        "tinygrad_div": setup_tinygrad_div, "tinygrad_div-compiled": setup_tinygrad_div_compiled,
        "jax": setup_jax, "torch": setup_torch, "mygrad": setup_mygrad,
        "autograd": setup_autograd, "floor-numpy": floor_numpy,
    },
    cases=cases,
    unsupported={
        "micrograd": "scalar-only (one node per multiply: ~1.1M nodes per step)",
        "floor-python": "no plain-float floor for batched matmuls",
    },
)

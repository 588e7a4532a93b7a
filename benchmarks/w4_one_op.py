"""W4, one op: the fixed cost of recording one operation and backpropagating through it.

c = a * b on two 3-element float64 arrays, then backward with a seed of ones, then
the leaves' gradients reset (as a training loop would): repeated `iterations`
times and reported in µs per iteration. The arithmetic is negligible, so this is
the engine's per-op overhead: building the node, running backward, and filling
`.grad`. The floor is the same forward plus the two hand-written derivative
products in raw numpy. The answer compared is c and the gradients of the last
iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks import data
from benchmarks.workload import Case, Run, Workload


@dataclass(frozen=True)
class Problem:
    a: np.ndarray  # (3,)
    b: np.ndarray  # (3,)
    iterations: int


def make_problem(iterations: int) -> Problem:
    gen = data.rng(4)
    return Problem(gen.uniform(-1.0, 1.0, 3), gen.uniform(-1.0, 1.0, 3), iterations)


def floor_numpy(problem: Problem) -> Run:
    """c = a * b; dc/da = seed * b, dc/db = seed * a (the reference)."""
    a, b, seed, iterations = problem.a.copy(), problem.b.copy(), np.ones(3), range(problem.iterations)

    def run() -> list:
        for _ in iterations:
            c = a * b
            grad_a = seed * b
            grad_b = seed * a
        return [c, grad_a, grad_b]

    return run


def setup_tinygrad_div(problem: Problem) -> Run:
    from tinygrad_div import Value

    a, b, seed, iterations = Value(problem.a), Value(problem.b), np.ones(3), range(problem.iterations)

    def run() -> list:
        for _ in iterations:
            a.grad = b.grad = None
            c = a * b
            c.backward(seed)
        return [c.data, a.grad, b.grad]

    return run


def setup_torch(problem: Problem) -> Run:
    import torch

    a = torch.tensor(problem.a, requires_grad=True)
    b = torch.tensor(problem.b, requires_grad=True)
    seed, iterations = torch.ones(3, dtype=torch.float64), range(problem.iterations)

    def run() -> list:
        for _ in iterations:
            a.grad = b.grad = None
            c = a * b
            c.backward(seed)
        return [c.detach().numpy(), a.grad.numpy(), b.grad.numpy()]

    return run


def setup_mygrad(problem: Problem) -> Run:
    import mygrad as mg

    a, b, seed, iterations = mg.tensor(problem.a), mg.tensor(problem.b), np.ones(3), range(problem.iterations)

    def run() -> list:
        for _ in iterations:  # MyGrad's backward overwrites .grad: nothing to reset
            c = a * b
            c.backward(seed)
        return [np.array(c.data), np.array(a.grad), np.array(b.grad)]

    return run


def setup_autograd(problem: Problem) -> Run:
    from autograd import make_vjp

    def multiply(a, b):
        return a * b

    multiply_vjp = make_vjp(multiply, argnum=(0, 1))
    a, b, seed, iterations = problem.a.copy(), problem.b.copy(), np.ones(3), range(problem.iterations)

    def run() -> list:
        for _ in iterations:
            vjp, c = multiply_vjp(a, b)
            grad_a, grad_b = vjp(seed)
        return [c, grad_a, grad_b]

    return run


def setup_micrograd(problem: Problem) -> Run:
    """Three scalar products (micrograd has no arrays), each backpropagated on its own."""
    from micrograd.engine import Value

    a = [Value(v) for v in problem.a.tolist()]
    b = [Value(v) for v in problem.b.tolist()]
    pairs, iterations = list(zip(a, b)), range(problem.iterations)

    def run() -> list:
        for _ in iterations:
            c = []
            for x, y in pairs:
                x.grad = y.grad = 0.0
                product = x * y
                product.backward()
                c.append(product)
        return [np.array([v.data for v in c]), np.array([v.grad for v in a]), np.array([v.grad for v in b])]

    return run


def cases(quick: bool) -> list[Case]:
    if quick:
        return [Case("W4", "W4", {"iterations": 2_000}, rounds=1, warmup=False)]
    return [Case("W4", "W4", {"iterations": 20_000}, rounds=7)]


WORKLOAD = Workload(
    name="W4",
    title="one op: a * b on 3-element arrays, forward + backward",
    unit="op",
    floors=("floor-numpy",),
    make_problem=make_problem,
    units=lambda problem: problem.iterations,
    setups={
        "tinygrad_div": setup_tinygrad_div, "torch": setup_torch, "mygrad": setup_mygrad,
        "autograd": setup_autograd, "micrograd": setup_micrograd, "floor-numpy": floor_numpy,
    },
    cases=cases,
    tolerance=0.0,  # one multiplication: every framework must agree exactly
    unsupported={"floor-python": "no plain-float floor for array ops"},
)

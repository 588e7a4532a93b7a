"""W3, a deep chain: graph size, backward bookkeeping, memory and the garbage collector.

y = sigmoid(0.9·y + 0.1), applied N times (N = 1,000 / 10,000 / 100,000 /
1,000,000) to a 4-element y, then one backward with a seed of ones. Reported in µs
per link (3 recorded ops: a multiply, an add, a sigmoid), with peak RSS and RSS
after the graph is dropped. The answer compared across frameworks is the final y
and d(Σ y_N)/d(y_0) (which underflows to 0 after a few hundred links, as it should).

This is where recursion (micrograd's topological sort), per-node memory and the
cyclic garbage collector (which rescans every live tracked object as the graph
grows) show up; the arithmetic per link is tiny.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks import data
from benchmarks.workload import Case, Run, Workload

SIZES = (1_000, 10_000, 100_000, 1_000_000)
#: the largest N each peer is run at in a full run, and why not beyond
PEER_LIMITS = {
    "mygrad": (100_000, "not run above N=100,000 (minutes per run)"),
    "autograd": (100_000, "not run above N=100,000 (minutes per run)"),
    "micrograd": (1_000, "not run above N=1,000 (RecursionError there already)"),
}


@dataclass(frozen=True)
class Problem:
    y0: np.ndarray  # (4,)
    n: int


def make_problem(n: int) -> Problem:
    return Problem(data.rng(3).uniform(-1.0, 1.0, 4), n)


def floor_numpy(problem: Problem) -> Run:
    """Forward keeping every link's sigmoid output, then the chain rule link by link (the reference)."""
    y0, n = problem.y0.copy(), problem.n

    def run() -> list:
        outputs = []
        y = y0
        for _ in range(n):
            y = 1.0 / (1.0 + np.exp(-(0.9 * y + 0.1)))
            outputs.append(y)
        g = np.ones_like(y0)
        for s in reversed(outputs):
            g = g * (s * (1.0 - s)) * 0.9
        return [y, g]

    return run


def setup_tinygrad_div(problem: Problem) -> Run:
    from tinygrad_div import Value

    y0, n, seed = problem.y0, problem.n, np.ones(4)

    def run() -> list:
        x = Value(y0)
        y = x
        for _ in range(n):
            y = (0.9 * y + 0.1).sigmoid()
        y.backward(seed)
        return [y.data, x.grad]

    return run


def setup_torch(problem: Problem) -> Run:
    import torch

    y0, n, seed = problem.y0, problem.n, torch.ones(4, dtype=torch.float64)

    def run() -> list:
        x = torch.tensor(y0, requires_grad=True)
        y = x
        for _ in range(n):
            y = torch.sigmoid(0.9 * y + 0.1)
        y.backward(seed)
        return [y.detach().numpy(), x.grad.numpy()]

    return run


def setup_mygrad(problem: Problem) -> Run:
    import mygrad as mg
    from mygrad.nnet.activations import sigmoid

    y0, n, seed = problem.y0, problem.n, np.ones(4)

    def run() -> list:
        x = mg.tensor(y0)
        y = x
        for _ in range(n):
            y = sigmoid(0.9 * y + 0.1)
        y.backward(seed)
        return [np.array(y.data), np.array(x.grad)]

    return run


def setup_autograd(problem: Problem) -> Run:
    import autograd.numpy as anp
    from autograd import make_vjp

    n, seed = problem.n, np.ones(4)

    def chain(y):
        for _ in range(n):
            y = 1.0 / (1.0 + anp.exp(-(0.9 * y + 0.1)))
        return y

    chain_vjp = make_vjp(chain)
    y0 = problem.y0.copy()

    def run() -> list:
        vjp, y = chain_vjp(y0)
        return [y, vjp(seed)]

    return run


def setup_micrograd(problem: Problem) -> Run:
    """Four independent scalar chains (micrograd has no arrays), one backward from their sum."""
    from micrograd.engine import Value

    from benchmarks.micrograd_ops import sigmoid

    y0, n = problem.y0.tolist(), problem.n

    def run() -> list:
        xs = [Value(v) for v in y0]
        ys = list(xs)
        for _ in range(n):
            ys = [sigmoid(0.9 * y + 0.1) for y in ys]
        sum(ys).backward()
        return [np.array([y.data for y in ys]), np.array([x.grad for x in xs], dtype=np.float64)]

    return run


def cases(quick: bool) -> list[Case]:
    if quick:
        return [Case("W3", "W3 N=1,000", {"n": 1_000}, rounds=1, warmup=False)]
    rounds = {1_000: 7, 10_000: 5, 100_000: 3, 1_000_000: 1}
    result = []
    for n in SIZES:
        skip = {peer: reason for peer, (limit, reason) in PEER_LIMITS.items() if n > limit}
        result.append(Case("W3", f"W3 N={n:,}", {"n": n}, rounds=rounds[n], warmup=n <= 10_000, skip=skip))
    return result


WORKLOAD = Workload(
    name="W3",
    title="deep chain y = sigmoid(0.9·y + 0.1) on 4 elements, one backward",
    unit="link",
    floors=("floor-numpy",),
    make_problem=make_problem,
    units=lambda problem: problem.n,
    setups={
        "tinygrad_div": setup_tinygrad_div, "torch": setup_torch, "mygrad": setup_mygrad,
        "autograd": setup_autograd, "micrograd": setup_micrograd, "floor-numpy": floor_numpy,
    },
    cases=cases,
    unsupported={"floor-python": "no plain-float floor for array chains"},
)

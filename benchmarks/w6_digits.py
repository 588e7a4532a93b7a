"""W6, a real small model: one epoch of the digits MLP, as a PyTorch user would write it.

scikit-learn's bundled handwritten digits (1,797 8×8 images, pixels / 16), a seeded
80/20 split, one epoch over the 1,438 training images in a seeded order, batches
of 64 (the last one 30): 64 -> 128 ReLU -> 10 logits, mean cross-entropy on the
integer labels, Adam (lr 1e-3, betas (0.9, 0.999), eps 1e-8). Weights are stored
(n_out, n_in) as in PyTorch and start from the same seeded draw everywhere.
Reported in µs per epoch. tinygrad_div and torch use their library's modules,
loss and optimizer (nn.MLP / nn.Sequential, cross_entropy, Adam); the floor is the
same math written out in numpy with the derivatives by hand. torch, when
installed, is also timed side by side with every row (a second floor), so the
tinygrad_div row carries its ratio to torch measured in the same rounds.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np

from benchmarks import data
from benchmarks.workload import Case, Run, Workload

SIZES = [64, 128, 10]
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Problem:
    batches: list  # [(X (batch, 64) float64, labels (batch,) int64)]
    weights: list  # [W1 (128, 64), b1 (128,), W2 (10, 128), b2 (10,)], PyTorch's layout


def make_problem(epochs: int = 1, batch: int = 64, samples: int | None = None) -> Problem:
    from sklearn.datasets import load_digits

    gen = data.rng(6)
    digits = load_digits()
    x, y = digits.data.astype(np.float64) / 16.0, digits.target.astype(np.int64)
    order = gen.permutation(len(x))
    train = order[:len(x) - round(len(x) * TEST_FRACTION)][:samples]
    weights = []
    for n_in, n_out in zip(SIZES, SIZES[1:]):
        bound = 1.0 / np.sqrt(n_in)  # PyTorch's default initialisation range
        weights += [gen.uniform(-bound, bound, (n_out, n_in)), gen.uniform(-bound, bound, n_out)]
    batches = []
    for _ in range(epochs):
        rows = train[gen.permutation(len(train))]
        batches += [(x[rows[i:i + batch]].copy(), y[rows[i:i + batch]].copy()) for i in range(0, len(rows), batch)]
    return Problem(batches, weights)


def floor_numpy(problem: Problem) -> Run:
    """Forward, softmax cross-entropy, backward and Adam written out in numpy (the reference)."""
    params = data.copies(problem.weights)
    W1, b1, W2, b2 = params
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    beta1, beta2 = BETAS
    batches = problem.batches

    def run() -> list:
        for t, (X, labels) in enumerate(batches, start=1):
            Z1 = X @ W1.T + b1
            H = np.maximum(Z1, 0.0)
            Z2 = H @ W2.T + b2
            shifted = Z2 - Z2.max(axis=1, keepdims=True)
            P = np.exp(shifted)
            P /= P.sum(axis=1, keepdims=True)
            n = len(labels)
            P[np.arange(n), labels] -= 1.0
            dZ2 = P / n  # d(mean cross-entropy)/d(logits) = (softmax − one_hot) / n
            dZ1 = (dZ2 @ W2) * (Z1 > 0)
            grads = [dZ1.T @ X, dZ1.sum(axis=0), dZ2.T @ H, dZ2.sum(axis=0)]
            correction1, correction2 = 1 - beta1**t, 1 - beta2**t
            for p, g, (m, v) in zip(params, grads, moments):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                p -= LR * (m / correction1) / (np.sqrt(v / correction2) + EPS)
        return params

    return run


def setup_tinygrad_div(problem: Problem) -> Run:
    from tinygrad_div import nn
    from tinygrad_div.optim import Adam

    net = nn.MLP(SIZES, activation="relu", output=None)
    net.load_state_dict(dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], problem.weights)))
    optimizer = Adam(net.parameters(), lr=LR, betas=BETAS, eps=EPS)
    batches = problem.batches

    def run() -> list:
        for X, labels in batches:
            loss = nn.cross_entropy(net(X), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return [p.data for p in net.parameters()]

    return run


def setup_tinygrad_div_compiled(problem: Problem) -> Run:
    """The same step under td.compile (a program per batch shape): traced in setup, untimed."""
    from tinygrad_div import compile, nn
    from tinygrad_div.optim import Adam

    net = nn.MLP(SIZES, activation="relu", output=None)
    net.load_state_dict(dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], problem.weights)))
    optimizer = Adam(net.parameters(), lr=LR, betas=BETAS, eps=EPS)
    batches = problem.batches
    step = compile(lambda X, labels: nn.cross_entropy(net(X), labels))
    for X, labels in {X.shape: (X, labels) for X, labels in batches}.values():
        step(X, labels)  # a trace per batch shape; the gradients are dropped, the weights untouched
    optimizer.zero_grad()

    def run() -> list:
        for X, labels in batches:
            optimizer.zero_grad()
            step(X, labels)
            optimizer.step()
        return [p.data for p in net.parameters()]

    return run


def setup_torch(problem: Problem) -> Run:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).double()
    model.load_state_dict(dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"],
                                   (torch.tensor(w) for w in problem.weights))))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS)
    batches = [(torch.tensor(X), torch.tensor(labels)) for X, labels in problem.batches]
    cross_entropy = torch.nn.functional.cross_entropy

    def run() -> list:
        for X, labels in batches:
            loss = cross_entropy(model(X), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return [p.detach().numpy() for p in model.parameters()]

    return run


def cases(quick: bool) -> list[Case]:
    if quick:
        return [Case("W6", "W6", {"samples": 200}, rounds=1, warmup=False)]
    return [Case("W6", "W6", {"epochs": 1}, rounds=7)]


_TORCH = importlib.util.find_spec("torch") is not None

WORKLOAD = Workload(
    name="W6",
    title="digits MLP 64-128-10 ReLU, cross-entropy, Adam, batch 64: one epoch (23 steps)",
    unit="epoch",
    # torch is a second floor where installed: every row is then timed side by side with it
    floors=("floor-numpy", "torch") if _TORCH else ("floor-numpy",),
    make_problem=make_problem,
    units=lambda problem: 1,
    setups={"tinygrad_div": setup_tinygrad_div, "tinygrad_div-compiled": setup_tinygrad_div_compiled,
            "torch": setup_torch, "floor-numpy": floor_numpy},
    cases=cases,
    tolerance=1e-9,
    unsupported={
        "mygrad": "not written for W6 (torch is the peer this workload measures)",
        "autograd": "not written for W6 (torch is the peer this workload measures)",
        "micrograd": "scalar-only (about 9,500 parameters, one node per multiply)",
        "floor-python": "no plain-float floor for batched matmuls",
    },
)

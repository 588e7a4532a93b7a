"""W7, a small CNN: one epoch of examples/digits_cnn.py's network, as a PyTorch user would write it.

scikit-learn's digits as (N, 1, 8, 8) images (pixels / 16), a seeded 80/20 split, one
epoch over the 1,438 training images in a seeded order, batches of 64 (the last one
30): Conv2d(1, 16, 3, padding=1, bias=False), BatchNorm2d(16), ReLU, Conv2d(16, 32, 3,
padding=1, bias=False), BatchNorm2d(32), ReLU, MaxPool2d(2), Flatten, Linear(512, 10);
mean cross-entropy, Adam (lr 1e-3). BatchNorm in training mode (batch statistics,
running statistics updated). Weights in PyTorch's layout, from the same seeded draw
everywhere. Reported in µs per epoch. tinygrad_div and torch use their library's
modules; the floor is the same math in numpy with the derivatives by hand (windows
and one matmul per convolution, channels last). torch, when installed, is timed side
by side with every row, so the tinygrad_div rows carry their ratio to it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from benchmarks import data
from benchmarks.workload import Case, Run, Workload

LR, BETAS, EPS, BN_EPS, MOMENTUM = 1e-3, (0.9, 0.999), 1e-8, 1e-5, 0.1
TEST_FRACTION = 0.2
#: state_dict names of the parameters, in parameters() order (the Sequential's indices)
NAMES = ["0.weight", "1.weight", "1.bias", "3.weight", "4.weight", "4.bias", "8.weight", "8.bias"]


@dataclass(frozen=True)
class Problem:
    batches: list  # [(X (batch, 1, 8, 8) float64, labels (batch,) int64)]
    weights: list  # in NAMES order, PyTorch's layout


def make_problem(epochs: int = 1, batch: int = 64, samples: int | None = None) -> Problem:
    from sklearn.datasets import load_digits

    gen = data.rng(7)
    digits = load_digits()
    x, y = digits.data.reshape(-1, 1, 8, 8) / 16.0, digits.target.astype(np.int64)
    order = gen.permutation(len(x))
    train = order[:len(x) - round(len(x) * TEST_FRACTION)][:samples]
    weights = [gen.uniform(-1, 1, (16, 1, 3, 3)) / 3.0, np.ones(16), np.zeros(16),  # PyTorch's ±1/√fan_in
               gen.uniform(-1, 1, (32, 16, 3, 3)) / 12.0, np.ones(32), np.zeros(32),
               gen.uniform(-1, 1, (10, 512)) / np.sqrt(512), gen.uniform(-1, 1, 10) / np.sqrt(512)]
    batches = []
    for _ in range(epochs):
        rows = train[gen.permutation(len(train))]
        batches += [(x[rows[i:i + batch]].copy(), y[rows[i:i + batch]].copy()) for i in range(0, len(rows), batch)]
    return Problem(batches, weights)


def _columns(x: np.ndarray) -> np.ndarray:
    """Channels-last x (n, 8, 8, c) -> every 3×3 window (zero padding 1) as rows (n·64, 9·c), ordered (kh, kw, c)."""
    n, h, w, c = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return sliding_window_view(padded, (3, 3), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3).reshape(n * h * w, 9 * c)


def _fold(d_columns: np.ndarray, n: int, c: int) -> np.ndarray:
    """The adjoint of _columns: each window entry's gradient added back where it was taken."""
    d = d_columns.reshape(n, 8, 8, 3, 3, c)
    padded = np.zeros((n, 10, 10, c))
    for i in range(3):
        for j in range(3):
            padded[:, i:i + 8, j:j + 8] += d[:, :, :, i, j]
    return padded[:, 1:9, 1:9]


def _batch_norm(z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, running: list) -> tuple:
    mean, var = z.mean(axis=0), z.var(axis=0)
    m = len(z)
    running[0] *= 1 - MOMENTUM
    running[0] += MOMENTUM * mean
    running[1] *= 1 - MOMENTUM
    running[1] += MOMENTUM * var * m / (m - 1)  # the running variance is the unbiased one, as PyTorch's
    inv_std = 1.0 / np.sqrt(var + BN_EPS)
    xhat = (z - mean) * inv_std
    return xhat * gamma + beta, xhat, inv_std


def _batch_norm_backward(dy: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, gamma: np.ndarray) -> tuple:
    d_gamma, d_beta = (dy * xhat).sum(axis=0), dy.sum(axis=0)
    dxhat = dy * gamma
    dz = inv_std * (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0))
    return dz, d_gamma, d_beta


def floor_numpy(problem: Problem) -> Run:
    """Forward, softmax cross-entropy, backward and Adam written out in numpy (the reference)."""
    params = data.copies(problem.weights)
    W1, g1, be1, W2, g2, be2, W3, b3 = params
    stats = [[np.zeros(16), np.ones(16)], [np.zeros(32), np.ones(32)]]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    beta1, beta2 = BETAS
    batches = problem.batches

    def run() -> list:
        for t, (X, labels) in enumerate(batches, start=1):
            n = len(labels)
            w1 = W1.reshape(16, 9).T                                   # (kh·kw·c, o), c = 1
            w2 = W2.transpose(2, 3, 1, 0).reshape(144, 32)             # (kh, kw, c) rows
            C1 = _columns(X.reshape(n, 8, 8, 1))
            Y1, xhat1, inv1 = _batch_norm(C1 @ w1, g1, be1, stats[0])
            R1 = np.maximum(Y1, 0.0)
            C2 = _columns(R1.reshape(n, 8, 8, 16))
            Y2, xhat2, inv2 = _batch_norm(C2 @ w2, g2, be2, stats[1])
            R2 = np.maximum(Y2, 0.0).reshape(n, 4, 2, 4, 2, 32)
            P = R2.max(axis=(2, 4))                                     # (n, 4, 4, 32)
            F = P.transpose(0, 3, 1, 2).reshape(n, 512)                 # PyTorch's flatten order (c, h, w)
            Z = F @ W3.T + b3
            S = np.exp(Z - Z.max(axis=1, keepdims=True))
            S /= S.sum(axis=1, keepdims=True)
            S[np.arange(n), labels] -= 1.0
            dZ = S / n
            dF = (dZ @ W3).reshape(n, 32, 4, 4).transpose(0, 2, 3, 1)
            ties = R2 == P[:, :, None, :, None]                        # a tied maximum shares the gradient
            dR2 = ties * (dF / ties.sum(axis=(2, 4)))[:, :, None, :, None]
            dY2 = dR2.reshape(n * 64, 32) * (Y2 > 0)
            dZ2, dg2, dbe2 = _batch_norm_backward(dY2, xhat2, inv2, g2)
            dW2 = (C2.T @ dZ2).reshape(3, 3, 16, 32).transpose(3, 2, 0, 1)
            dR1 = _fold(dZ2 @ w2.T, n, 16).reshape(n * 64, 16)
            dZ1, dg1, dbe1 = _batch_norm_backward(dR1 * (Y1 > 0), xhat1, inv1, g1)
            dW1 = (C1.T @ dZ1).T.reshape(16, 1, 3, 3)
            grads = [dW1, dg1, dbe1, dW2, dg2, dbe2, dZ.T @ F, dZ.sum(axis=0)]
            correction1, correction2 = 1 - beta1**t, 1 - beta2**t
            for p, g, (m, v) in zip(params, grads, moments):
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                p -= LR * (m / correction1) / (np.sqrt(v / correction2) + EPS)
        return params

    return run


def _ours(problem: Problem):
    from tinygrad_div import nn
    from tinygrad_div.optim import Adam

    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10))
    net.load_state_dict(dict(zip(NAMES, problem.weights)), strict=False)  # the running statistics start fresh
    return net, Adam(net.parameters(), lr=LR, betas=BETAS, eps=EPS)


def setup_tinygrad_div(problem: Problem) -> Run:
    from tinygrad_div import nn

    net, optimizer = _ours(problem)
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
    """The same step under td.compile (a program per batch shape): traced in setup, untimed, on a copy of the
    model (tracing runs the step several times), then run on a fresh one."""
    from tinygrad_div import compile, nn

    net, optimizer = _ours(problem)
    step = compile(lambda X, labels: nn.cross_entropy(net(X), labels))
    batches = problem.batches
    state = net.state_dict()
    for X, labels in {X.shape: (X, labels) for X, labels in batches}.values():
        step(X, labels)  # a trace per batch shape; the gradients are dropped
    net.load_state_dict(state)  # the running statistics as they were before tracing
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

    T = torch.nn
    model = T.Sequential(
        T.Conv2d(1, 16, 3, padding=1, bias=False), T.BatchNorm2d(16), T.ReLU(),
        T.Conv2d(16, 32, 3, padding=1, bias=False), T.BatchNorm2d(32), T.ReLU(),
        T.MaxPool2d(2), T.Flatten(), T.Linear(512, 10)).double()
    model.load_state_dict({name: torch.tensor(w) for name, w in zip(NAMES, problem.weights)}, strict=False)
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
        return [Case("W7", "W7", {"samples": 64}, rounds=1, warmup=False)]
    return [Case("W7", "W7", {"epochs": 1}, rounds=5)]


_TORCH = importlib.util.find_spec("torch") is not None

WORKLOAD = Workload(
    name="W7",
    title="digits CNN conv-BN-ReLU ×2, max pool, linear; cross-entropy, Adam, batch 64: one epoch (23 steps)",
    unit="epoch",
    floors=("floor-numpy", "torch") if _TORCH else ("floor-numpy",),
    make_problem=make_problem,
    units=lambda problem: 1,
    setups={"tinygrad_div": setup_tinygrad_div, "tinygrad_div-compiled": setup_tinygrad_div_compiled,
            "torch": setup_torch, "floor-numpy": floor_numpy},
    cases=cases,
    tolerance=1e-9,
    unsupported={
        "jax": "not written for W7 (torch is the peer this workload measures)",
        "mygrad": "not written for W7 (torch is the peer this workload measures)",
        "autograd": "not written for W7 (torch is the peer this workload measures)",
        "micrograd": "scalar-only (no convolution)",
        "floor-python": "no plain-float floor for convolutions",
    },
)

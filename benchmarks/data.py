"""Seeded data and initial weights shared by every framework of a workload.

The task is the notes' one: learn to divide. Inputs are pairs (a, b) with a in
[0, 1) and b in [1, 2), the target is a / b (in [0, 1), reachable by a sigmoid).
Everything is float64 and drawn from one seeded generator, so every framework and
every floor starts from bit-identical weights and sees bit-identical samples.
"""

from __future__ import annotations

import numpy as np

SEED = 20240604


def rng(salt: int = 0) -> np.random.Generator:
    """The generator of one workload (`salt` keeps workloads independent of each other)."""
    return np.random.default_rng([SEED, salt])


def divide_dataset(gen: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` samples of the division task: X of shape (n, 2) and targets T of shape (n,)."""
    a = gen.uniform(0.0, 1.0, n)
    b = gen.uniform(1.0, 2.0, n)
    return np.stack([a, b], axis=1), a / b


def dense_weights(gen: np.random.Generator, sizes: list[int], scale: float = 1.0) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] for layers sizes[0] -> sizes[1] -> ...; W has shape (fan_in, fan_out).

    Uniform in [-scale, scale) (micrograd's initialisation for scale 1), biases included.
    """
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append(gen.uniform(-scale, scale, (fan_in, fan_out)))
        weights.append(gen.uniform(-scale, scale, fan_out))
    return weights


def copies(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Fresh copies, so that a framework that updates in place never touches the problem."""
    return [np.array(a, dtype=np.float64, copy=True) for a in arrays]

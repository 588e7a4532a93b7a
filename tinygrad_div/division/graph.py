"""The division network's graph: one training sample through a fresh network and the loss, ready to draw.

What the `graph` command draws. Same data, split and initial weights as `train` with
the same seed; every node keeps its gradient, so the picture shows them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygrad_div.division import data
from tinygrad_div.division.config import ConfigError, TrainConfig
from tinygrad_div.division.data import InputKind
from tinygrad_div.division.memory import graph_bytes, memory_problem
from tinygrad_div.engine.value import Value
from tinygrad_div.nn import MLP, mse_loss
from tinygrad_div.viz import draw, retain_all_grads


@dataclass
class Graph:
    """A Value to draw, with the names and title to draw it with."""

    value: Value
    labels: dict[str, Value]
    title: str

    def draw(self, path: str | Path) -> Path:
        return draw(self.value, path, labels=self.labels, title=self.title)


def division_graph(*, seed: int = 0, hidden: Sequence[int] = (), inputs: InputKind = "log") -> Graph:
    """The loss of one training sample through a freshly initialised division network, after backward.

    Raises `ConfigError` for what `train` would refuse (a negative seed, a zero layer size), and for
    layers too large for this machine's memory even for one sample.
    """
    config = TrainConfig(seed=seed, hidden=tuple(hidden), inputs=inputs)
    # train's memory estimate is for a whole run; the graph holds one sample, so it gets its own
    found = config.faults(memory=False)
    if not found and (problem := memory_problem(graph_bytes(config.samples, config.sizes), "this graph")):
        found.append(lambda n: f"{problem}: lower {n.hidden}")
    if found:
        raise ConfigError(found)
    pairs = data.make_pairs(config.samples, config.low, config.high, config.seed)
    train_pairs, _ = data.split(pairs, config.test_fraction, config.seed)
    a, b = float(train_pairs.a[0]), float(train_pairs.b[0])
    model = MLP(config.sizes, seed=config.seed)
    x = Value(data.features(np.array([a]), np.array([b]), inputs)[0], requires_grad=False)
    target = Value(data.encode(np.array([a]), np.array([b])), requires_grad=False)
    prediction = model(x)
    loss = mse_loss(prediction, target)
    retain_all_grads(loss)
    loss.backward()

    labels = {"x = (ln a, ln b)" if inputs == "log" else "x = (a, b)": x, "target t = a/(a+b)": target,
              "prediction": prediction, "loss": loss}
    for i, layer in enumerate(model.layers, start=1):
        labels[f"W{i}"], labels[f"b{i}"] = layer.weight, layer.bias
    sizes = " -> ".join(map(str, model.sizes))
    title = (f"one training sample, a = {a:.4g}, b = {b:.4g} (a/b = {a / b:.4g}), "
             f"through the {sizes} sigmoid network and the MSE loss")
    return Graph(loss, labels, title)

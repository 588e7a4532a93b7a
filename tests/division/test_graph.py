"""graph (division): one training sample through a fresh division network and the MSE loss, ready to draw."""

import re

import pytest

from tinygrad_div.division.config import ConfigError
from tinygrad_div.division.graph import division_graph
from tinygrad_div.viz import to_dot


def op_nodes(dot: str) -> list[str]:
    return re.findall(r"^\s+(op\d+) \[", dot, flags=re.MULTILINE)


def label_of(dot: str, node: str) -> str:
    return re.search(rf'^\s+{node} \[.*label="(.*)"', dot, flags=re.MULTILINE).group(1)


def test_the_division_network_graph_is_one_sample_through_the_model_and_the_loss():
    graph = division_graph(seed=0)
    dot = to_dot(graph.value, labels=graph.labels, title=graph.title)
    ops = [label_of(dot, op) for op in op_nodes(dot)]
    assert ops == ["Affine", "Sigmoid", "Sub", "Pow", "Mean"]  # σ(W·x + b), then mean((p − t)²)
    assert graph.value.shape == ()
    assert graph.labels["W1"].grad is not None and graph.labels["prediction"].grad is not None


def test_the_division_network_graph_grows_with_hidden_layers():
    graph = division_graph(seed=0, hidden=[3])
    assert len(op_nodes(to_dot(graph.value))) == 7  # two (Affine, Sigmoid) layers and the loss
    assert set(graph.labels) >= {"W1", "b1", "W2", "b2"}




def test_the_division_graph_refuses_what_train_refuses_in_python_words():
    with pytest.raises(ConfigError, match="seed must be >= 0, got -1") as info:
        division_graph(seed=-1)
    assert "--" not in str(info.value)

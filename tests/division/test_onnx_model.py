"""A trained divider exported to ONNX divides in plain onnxruntime exactly as `Divider.quotients` does."""

import numpy as np
import pytest

from tinygrad_div.division.config import TrainConfig
from tinygrad_div.division.data import make_pairs
from tinygrad_div.division.training import train

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from tinygrad_div.division.onnx_model import export_divider  # noqa: E402

#: onnxruntime's quotients against `Divider.quotients`: float64 export, and float32 export
RTOL_64, RTOL_32 = 1e-12, 1e-5


@pytest.fixture(scope="module")
def dividers():
    """The notes' one neuron (the default training run), a hidden layer of 8, and raw inputs."""
    return {
        "one neuron": train(TrainConfig()).divider,
        "hidden 8": train(TrainConfig(samples=2000, hidden=(8,))).divider,
        "raw, hidden 4": train(TrainConfig(samples=500, hidden=(4,), inputs="raw")).divider,
    }


def run(path, a, b):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (q,) = session.run(None, {"a": a, "b": b})
    return q


@pytest.mark.parametrize("name", ["one neuron", "hidden 8", "raw, hidden 4"])
def test_onnxruntime_gives_the_quotients_predict_gives(dividers, name, tmp_path):
    divider = dividers[name]
    export_divider(divider, tmp_path / "d.onnx")
    pairs = make_pairs(1000, 0.01, 10.0, seed=5)
    expected = divider.quotients(pairs.a, pairs.b)
    got = run(tmp_path / "d.onnx", pairs.a, pairs.b)
    assert got.shape == expected.shape == (1000,)
    assert np.max(np.abs(got - expected) / expected) <= RTOL_64


def test_ten_thousand_pairs_at_once_divide_to_1e_12(dividers, tmp_path):
    export_divider(dividers["one neuron"], tmp_path / "d.onnx")
    pairs = make_pairs(10_000, 0.1, 1.0, seed=9)
    q = run(tmp_path / "d.onnx", pairs.a, pairs.b)
    assert np.median(np.abs(q - pairs.quotient) / pairs.quotient) < 1e-12


def test_the_graph_holds_the_log_inputs_and_the_exp_decoding(dividers, tmp_path):
    proto = export_divider(dividers["one neuron"], tmp_path / "d.onnx")
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Log") == 2 and "Exp" in ops and "Sigmoid" not in ops
    assert [i.name for i in proto.graph.input] == ["a", "b"] and [o.name for o in proto.graph.output] == ["quotient"]
    batch = [d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert batch == ["batch"]
    raw = export_divider(dividers["raw, hidden 4"], tmp_path / "r.onnx")
    assert "Log" not in [n.op_type for n in raw.graph.node]


def test_a_float32_export_divides_to_1e_5(dividers, tmp_path):
    divider = dividers["one neuron"]
    export_divider(divider, tmp_path / "d32.onnx", dtype="float32")
    pairs = make_pairs(1000, 0.1, 1.0, seed=3)
    q = run(tmp_path / "d32.onnx", pairs.a.astype(np.float32), pairs.b.astype(np.float32))
    expected = divider.quotients(pairs.a, pairs.b)
    assert q.dtype == np.float32
    assert np.max(np.abs(q - expected) / expected) <= RTOL_32

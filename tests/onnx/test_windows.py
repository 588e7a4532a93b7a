"""Convolution and pooling export (onnx/windows.py): gathered windows in float64 (to 1e-12), native ops in float32."""

import numpy as np
import pytest

import tinygrad_div.nn.functional as F
from tinygrad_div import Value

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from tinygrad_div.onnx import export  # noqa: E402

rng = np.random.default_rng(0)
W, B = Value(rng.normal(size=(4, 2, 3, 2))), Value(rng.normal(size=4))
W1 = Value(rng.normal(size=(3, 4, 2)))


def model(x):
    y = F.conv2d(x, W, B, stride=(2, 1), padding=1, dilation=(1, 2), groups=2).relu()
    y = F.avg_pool2d(F.max_pool2d(y, 2, stride=1, padding=1), 2, stride=1, padding=1)
    return F.conv1d(y.flatten(2), W1, stride=2)  # (N, 4, H·W) -> (N, 3, ·), no bias


def run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_float64_uses_exact_operators_and_agrees_within_1e_12_at_any_batch(tmp_path):
    x = rng.normal(size=(3, 4, 7, 8))
    proto = export(model, x, tmp_path / "m.onnx")
    assert not {"Conv", "MaxPool", "AveragePool"} & {node.op_type for node in proto.graph.node}
    for batch in (3, 5):
        x = rng.normal(size=(batch, 4, 7, 8))
        expected = model(Value(x)).data
        assert np.max(np.abs(run(tmp_path / "m.onnx", x) - expected)) <= 1e-12 * np.max(np.abs(expected))


def test_float32_uses_the_native_operators_but_max_pool_gathered(tmp_path):
    x = rng.normal(size=(2, 4, 7, 8))
    proto = export(model, x, tmp_path / "m.onnx", dtype="float32")
    assert {"Conv", "AveragePool"} <= {node.op_type for node in proto.graph.node}
    assert "MaxPool" not in {node.op_type for node in proto.graph.node}
    expected = model(Value(x)).data
    np.testing.assert_allclose(run(tmp_path / "m.onnx", x.astype(np.float32)), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_max_pool_keeps_inf_and_nan(tmp_path, dtype):
    """onnxruntime's MaxPool gives the lowest float for a window of -inf and skips nan (as its ReduceMax)."""
    x = np.array([[[[0.0, -0.0, np.inf, -np.inf, np.nan], [1, -1, 0.5, -2, 3], [1e-300, -1e300, 40, -40, 710],
                    [-745.5, 800, -15, 1e-8, 37.5]]]])
    pool = lambda v: F.max_pool2d(v, 2, stride=1, padding=1)  # noqa: E731
    export(pool, np.ones((1, 1, 4, 5)), tmp_path / "p.onnx", dtype=dtype)
    with np.errstate(over="ignore"):
        x = x.astype(dtype)
    np.testing.assert_array_equal(run(tmp_path / "p.onnx", x), pool(Value(x.astype(np.float64))).data.astype(dtype))


def test_a_cnn_in_eval_mode_exports_within_1e_12(tmp_path):
    """conv, batch_norm (running statistics), gelu (erf as a series in float64), max_pool, layer_norm, dropout."""
    mean, var, gamma = rng.normal(size=4), rng.random(4) + 0.5, Value(rng.normal(size=4))

    def cnn(x):
        y = F.conv2d(x, W, B, padding=1, groups=2)
        y = F.gelu(F.batch_norm(y, mean, var, gamma, None, training=False))
        y = F.dropout(F.max_pool2d(y, 2), 0.5, training=False).flatten(1)
        return F.layer_norm(F.leaky_relu(y, 0.1), y.shape[1:])

    x = rng.normal(size=(3, 4, 6, 6))
    export(cnn, x, tmp_path / "cnn.onnx")
    for batch in (3, 6):
        x = rng.normal(size=(batch, 4, 6, 6)) * 3
        expected = cnn(Value(x)).data
        assert np.max(np.abs(run(tmp_path / "cnn.onnx", x) - expected)) <= 1e-12 * np.max(np.abs(expected))

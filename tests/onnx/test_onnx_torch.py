"""Train here, then run anywhere: eager forward, onnxruntime and PyTorch (loaded from the state_dict) agree."""

import numpy as np
import pytest

from tinygrad_div.nn import MLP, Linear, Sequential, Tanh, mse_loss
from tinygrad_div.optim import SGD

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from tinygrad_div.onnx import export  # noqa: E402


def trained_mlp() -> MLP:
    """A [2, 8, 1] sigmoid MLP after 50 full-batch steps on the division target."""
    net = MLP([2, 8, 1], seed=0)
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 1, (2, 256))
    x, t = np.log(np.stack([a, b], axis=1)), (a / (a + b))[:, None]
    optimizer = SGD(net.parameters(), lr=1.0)
    for _ in range(50):
        optimizer.zero_grad()
        mse_loss(net(x), t).backward()
        optimizer.step()
    return net


def test_a_trained_mlp_runs_alike_here_in_onnxruntime_and_in_pytorch(tmp_path):
    net = trained_mlp()
    x = np.random.default_rng(1).normal(size=(100, 2))
    eager = net(x).data
    export(net, x[:1], tmp_path / "m.onnx")
    (onnx_out,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input": x})
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 1),
                                 torch.nn.Sigmoid()).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    torch_out = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(onnx_out, eager, rtol=1e-12, atol=0)
    np.testing.assert_allclose(torch_out, eager, rtol=1e-12, atol=0)


def test_pytorch_weights_load_back_and_export(tmp_path):
    torch.manual_seed(0)  # torch's own initialization draws the weights
    ours = Sequential(Linear(3, 4, rng=np.random.default_rng(0)), Tanh(), Linear(4, 2, rng=np.random.default_rng(1)))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).normal(size=(10, 3))
    export(ours, x[:1], tmp_path / "s.onnx")
    (onnx_out,) = ort.InferenceSession(str(tmp_path / "s.onnx")).run(None, {"input": x})
    # the last layer's sums may cancel to near 0: compared relative to their terms (of order 1) there
    np.testing.assert_allclose(onnx_out, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-14)
    names = {t.name for t in onnx.load(str(tmp_path / "s.onnx")).graph.initializer}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= names  # the state_dict's names, PyTorch's

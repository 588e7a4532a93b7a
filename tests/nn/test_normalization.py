"""BatchNorm1d/2d and LayerNorm: the formulas written out (batch and running statistics), PyTorch's buffers, torch."""

import numpy as np
import pytest

from tinygrad_div import ShapeError, Value
from tinygrad_div.nn import BatchNorm1d, BatchNorm2d, LayerNorm, Sequential


def normalized(x, axes, eps=1e-5):
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def test_batch_norm_in_training_uses_the_batch_and_moves_the_running_statistics():
    rng = np.random.default_rng(0)
    bn = BatchNorm2d(3)
    bn.weight.data, bn.bias.data = rng.normal(size=3), rng.normal(size=3)
    x = rng.normal(2.0, 3.0, size=(4, 3, 5, 2))
    y = bn(x)
    expected = normalized(x, (0, 2, 3)) * bn.weight.data[:, None, None] + bn.bias.data[:, None, None]
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-13)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-13)
    assert bn.num_batches_tracked == 1 and bn.num_batches_tracked.dtype == np.int64
    y.sum().backward()
    assert bn.weight.grad.shape == (3,) and bn.bias.grad.tolist() == [40.0] * 3


def test_batch_norm_in_eval_uses_the_running_statistics_and_leaves_them():
    bn = BatchNorm1d(2, eps=1e-3).eval()
    bn.running_mean, bn.running_var = np.array([1.0, -1.0]), np.array([4.0, 0.25])
    x = np.array([[3.0, 0.0]])  # a batch of one is fine in eval
    np.testing.assert_allclose(bn(x).data, [[2 / np.sqrt(4.001), 1 / np.sqrt(0.251)]], rtol=1e-14)
    assert bn.running_mean.tolist() == [1.0, -1.0] and bn.num_batches_tracked == 0


def test_momentum_none_averages_every_batch_so_far():
    bn = BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).normal(i, 1.0, size=(5, 2, 3)) for i in range(3)]
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(axis=(0, 2)) for x in batches], axis=0), rtol=1e-13)
    assert bn.num_batches_tracked == 3


def test_without_running_statistics_eval_normalizes_by_the_batch():
    bn = BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert bn.parameters() == [] and bn.state_dict() == {}
    x = np.random.default_rng(0).normal(size=(3, 2, 2, 2))
    np.testing.assert_allclose(bn(x).data, normalized(x, (0, 2, 3)), rtol=1e-12, atol=1e-12)


def test_the_state_dict_has_pytorchs_names():
    assert list(Sequential(BatchNorm2d(4)).state_dict()) == [
        "0.weight", "0.bias", "0.running_mean", "0.running_var", "0.num_batches_tracked"]


def test_layer_norm_normalizes_the_last_axes():
    rng = np.random.default_rng(0)
    ln = LayerNorm((3, 4), eps=1e-6)
    ln.weight.data, ln.bias.data = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x = rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(ln(x).data, normalized(x, (1, 2), 1e-6) * ln.weight.data + ln.bias.data,
                               rtol=1e-12, atol=1e-12)
    assert LayerNorm(4, elementwise_affine=False).parameters() == [] and LayerNorm(4, bias=False).bias is None


@pytest.mark.parametrize("call, error, message", [
    (lambda: BatchNorm1d(3)(np.ones((1, 3))), ValueError, "expected more than 1 value per channel when training"),
    (lambda: BatchNorm2d(3)(np.ones((2, 3, 4))), ShapeError, "expected a 4-D input, got shape"),
    (lambda: BatchNorm2d(3)(np.ones((2, 4, 2, 2))), ShapeError, "input has 4 channels, the layer expects 3"),
    (lambda: BatchNorm1d(3, momentum=1.5), ValueError, r"momentum must be in \[0.0, 1.0\], got 1.5"),
    (lambda: BatchNorm1d(3, eps=0), ValueError, "eps must be in"),
    (lambda: BatchNorm1d(0), ValueError, "num_features must be >= 1"),
    (lambda: LayerNorm(0), ValueError, "normalized_shape must be >= 1"),
])
def test_bad_input_is_one_line(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_a_refused_batch_leaves_the_statistics_alone():
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError):
        bn(np.ones((1, 3)))
    assert bn.num_batches_tracked == 0 and not bn.running_mean.any()


def test_against_torch_in_training_and_in_eval():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for ours, theirs, shape in [(BatchNorm2d(3), torch.nn.BatchNorm2d(3), (4, 3, 5, 5)),
                                (BatchNorm1d(3, momentum=0.3), torch.nn.BatchNorm1d(3, momentum=0.3), (6, 3)),
                                (BatchNorm1d(3, momentum=None), torch.nn.BatchNorm1d(3, momentum=None), (6, 3, 2)),
                                (LayerNorm((5,)), torch.nn.LayerNorm(5), (2, 3, 5))]:
        theirs = theirs.double()
        for p in ours.parameters():
            p.data = rng.normal(size=p.shape)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
        for training in (True, True, False):
            ours.train(training)
            theirs.train(training)
            x = rng.normal(1.0, 2.0, size=shape)
            y, t = ours(Value(x)), theirs(torch.tensor(x, requires_grad=True))
            np.testing.assert_allclose(y.data, t.detach().numpy(), rtol=1e-12, atol=1e-12)
            weights = rng.normal(size=shape)
            (y * weights).sum().backward()
            (t * torch.from_numpy(weights)).sum().backward()
            for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
                np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
        for name, array in ours.state_dict().items():
            np.testing.assert_allclose(array, theirs.state_dict()[name].numpy(), rtol=1e-13, err_msg=name)

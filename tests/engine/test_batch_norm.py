"""batch_norm (the BatchNorm op): the formula, PyTorch's running-statistics rules, eval mode, errors, torch."""

import numpy as np
import pytest

import tinygrad_div.nn.functional as F
from tinygrad_div import ShapeError, Value, grad

rng = np.random.default_rng(0)


def test_training_normalises_each_channel_with_the_batch_statistics():
    x = rng.normal(size=(4, 3, 2, 2))
    w, b = rng.normal(size=3), rng.normal(size=3)
    y = F.batch_norm(Value(x), None, None, Value(w), Value(b), training=True, eps=1e-5)
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)  # biased
    expected = (x - mean) / np.sqrt(var + 1e-5) * w.reshape(1, 3, 1, 1) + b.reshape(1, 3, 1, 1)
    np.testing.assert_allclose(y.data, expected, rtol=1e-13, atol=1e-14)


def test_running_statistics_follow_pytorchs_update_in_place():
    x = rng.normal(size=(5, 2, 3))
    mean, var = np.zeros(2), np.ones(2)
    count = np.array(0)
    F.batch_norm(Value(x), mean, var, training=True, momentum=0.25, num_batches_tracked=count)
    np.testing.assert_allclose(mean, 0.25 * x.mean(axis=(0, 2)), rtol=1e-14)
    np.testing.assert_allclose(var, 0.75 + 0.25 * x.var(axis=(0, 2), ddof=1), rtol=1e-14)  # unbiased
    assert count == 1
    F.batch_norm(Value(x), mean, var, training=True, momentum=None, num_batches_tracked=count)
    np.testing.assert_allclose(mean, 0.5 * 0.25 * x.mean(axis=(0, 2)) + 0.5 * x.mean(axis=(0, 2)), rtol=1e-14)
    assert count == 2  # momentum None: the cumulative average, factor 1/2 on the second batch


def test_eval_uses_the_running_statistics_and_a_constant_scale():
    x = Value(rng.normal(size=(2, 3)))
    mean, var = rng.normal(size=3), rng.random(3) + 0.5
    y = F.batch_norm(x, mean, var, eps=0.0)
    np.testing.assert_allclose(y.data, (x.data - mean) / np.sqrt(var), rtol=1e-14)
    (gx,) = grad(y.sum(), [x])
    np.testing.assert_allclose(gx, np.broadcast_to(1 / np.sqrt(var), (2, 3)), rtol=1e-14)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: F.batch_norm(x[:1, :, :1], None, None, training=True), ValueError,
     r"^Expected more than 1 value per channel when training, got input size \(1, 3, 1\)$"),
    (lambda x: F.batch_norm(x, np.zeros(2), np.ones(3), training=True), ShapeError,
     r"^batch_norm: running_mean should contain 3 elements \(one per channel\), got shape \(2,\)$"),
    (lambda x: F.batch_norm(x, None, None), ValueError, r"^batch_norm: eval mode \(training=False\) needs running"),
    (lambda x: F.batch_norm(x, [0.0] * 3, np.ones(3)), TypeError, r"^batch_norm: running_mean must be a float64"),
    (lambda x: F.batch_norm(x, None, None, training=True, momentum=None), ValueError, r"needs num_batches_tracked$"),
])
def test_bad_input_is_a_one_line_error(call, error, message):
    with pytest.raises(error, match=message):
        call(Value(np.ones((2, 3, 2))))


def test_agrees_with_torch_in_both_modes():
    torch = pytest.importorskip("torch")
    x, w, b = rng.normal(size=(4, 3, 2, 2)), rng.normal(size=3), rng.normal(size=3)
    mean, var, count = np.zeros(3), np.ones(3), np.array(0)
    t_mean, t_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    ours, theirs = [Value(a) for a in (x, w, b)], [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    for training in (True, True, False):
        y = F.batch_norm(*ours[:1], mean, var, *ours[1:], training=training, num_batches_tracked=count)
        ty = torch.nn.functional.batch_norm(theirs[0], t_mean, t_var, *theirs[1:], training=training)
        seed = rng.normal(size=y.shape)
        for g, t in zip(grad(y, ours, seed), torch.autograd.grad(ty, theirs, torch.tensor(seed))):
            np.testing.assert_allclose(g, t.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(mean, t_mean.numpy(), rtol=1e-14, atol=1e-16)
        np.testing.assert_allclose(var, t_var.numpy(), rtol=1e-14)


def test_a_compiled_step_keeps_updating_the_running_statistics():
    """The op's own forward does the update, so the program (which replays it) does it on every call."""
    import tinygrad_div as td
    w = Value(np.ones(3))
    mean, var, count = np.zeros(3), np.ones(3), np.array(0)

    @td.compile
    def step(x):
        return (F.batch_norm(x, mean, var, w, None, training=True, num_batches_tracked=count) ** 2).sum()

    x = rng.normal(size=(4, 3))
    step(x)  # the first call traces (and may run the step more than once)
    before, mean_before = int(count), mean.copy()
    step(x)
    assert int(count) == before + 1
    np.testing.assert_allclose(mean, 0.9 * mean_before + 0.1 * x.mean(axis=0), rtol=1e-14)

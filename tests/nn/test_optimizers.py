"""SGD with momentum / weight decay / Nesterov, Adam and AdamW against PyTorch's documented update rules.

Each rule is written out here, in plain numpy, from the algorithm boxes of the PyTorch
documentation (torch.optim.SGD, Adam, AdamW), and run side by side with the optimizer for
20 steps on a gradient that changes with the parameters. Where torch is installed, the
optimizers are also run against torch.optim itself.
"""

import math

import numpy as np
import pytest

from tinygrad_div import Value
from tinygrad_div.optim import SGD, Adam, AdamW

STEPS = 20
START = np.array([[1.5, -0.5, 0.25], [-2.0, 0.75, 3.0]])


def loss_gradient(theta):
    """The gradient of L(θ) = Σ θ⁴/4 + sin θ: θ³ + cos θ (it changes as θ moves)."""
    return theta**3 + np.cos(theta)


def run(optimizer_class, **options):
    """θ after each of STEPS steps of the optimizer on L, starting at START."""
    theta = Value(START)
    optimizer = optimizer_class([theta], **options)
    path = []
    for _ in range(STEPS):
        theta.grad = loss_gradient(theta.data)  # g_t, set exactly (backward's own accuracy is tested elsewhere)
        optimizer.step()
        path.append(np.array(theta.data))
    return path


def sgd_reference(lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    theta, b, path = START.copy(), None, []
    for t in range(1, STEPS + 1):
        g = loss_gradient(theta)
        if weight_decay != 0:
            g = g + weight_decay * theta
        if momentum != 0:
            b = g if t == 1 else momentum * b + g  # dampening τ = 0
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        path.append(theta)
    return path


def adam_reference(lr, betas, eps, weight_decay, decoupled):
    beta1, beta2 = betas
    theta, m, v, path = START.copy(), np.zeros_like(START), np.zeros_like(START), []
    for t in range(1, STEPS + 1):
        g = loss_gradient(theta)
        if decoupled:
            theta = theta - lr * weight_decay * theta
        elif weight_decay != 0:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(theta)
    return path


SGD_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.005, momentum=0.9, weight_decay=0.1),
    dict(lr=0.005, momentum=0.8, weight_decay=0.01, nesterov=True),
]
ADAM_CASES = [
    dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    dict(lr=0.1, betas=(0.0, 0.5), eps=0.0, weight_decay=0.0),
]


@pytest.mark.parametrize("options", SGD_CASES, ids=str)
def test_sgd_follows_pytorchs_rule(options):
    for ours, reference in zip(run(SGD, **options), sgd_reference(**options)):
        np.testing.assert_allclose(ours, reference, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("options", ADAM_CASES, ids=str)
@pytest.mark.parametrize("optimizer, decoupled", [(Adam, False), (AdamW, True)], ids=["Adam", "AdamW"])
def test_adam_and_adamw_follow_pytorchs_rules(optimizer, decoupled, options):
    for ours, reference in zip(run(optimizer, **options), adam_reference(decoupled=decoupled, **options)):
        np.testing.assert_allclose(ours, reference, rtol=1e-14, atol=1e-15)


def test_adam_and_adamw_differ_exactly_by_where_the_weight_decay_goes():
    adam = run(Adam, lr=0.05, weight_decay=0.5)[-1]
    adamw = run(AdamW, lr=0.05, weight_decay=0.5)[-1]
    assert not np.allclose(adam, adamw)
    assert AdamW([Value(1.0)]).param_groups[0]["weight_decay"] == 0.01
    assert Adam([Value(1.0)]).param_groups[0]["weight_decay"] == 0.0


def test_plain_sgd_is_exactly_theta_minus_lr_times_gradient():
    """The division run's rule, bit for bit."""
    theta = Value(START)
    theta.grad = loss_gradient(START)
    SGD([theta], lr=0.3).step()
    np.testing.assert_array_equal(theta.data, START - 0.3 * loss_gradient(START))


def test_a_parameter_without_gradient_keeps_its_state():
    used, unused = Value(np.ones(2)), Value(np.ones(2))
    optimizer = Adam([used, unused], lr=0.1)
    used.grad = np.array([1.0, -1.0])
    optimizer.step()
    np.testing.assert_array_equal(unused.data, [1.0, 1.0])
    assert unused not in optimizer.state and optimizer.state[used]["step"] == 1


def test_scalar_parameters_stay_python_floats_under_every_optimizer():
    scalars = [Value(2.0), Value(2.0), Value(2.0)]
    optimizers = [SGD(scalars[:1], lr=0.1, momentum=0.9), Adam(scalars[1:2]), AdamW(scalars[2:])]
    for optimizer in optimizers:
        for _ in range(2):
            optimizer.param_groups[0]["params"][0].grad = 1.0
            optimizer.step()
    assert all(type(p.data) is float and p.data < 2.0 for p in scalars)


@pytest.mark.parametrize("options", SGD_CASES, ids=str)
def test_sgd_matches_torch(options):
    torch = pytest.importorskip("torch")
    theta = torch.tensor(START, requires_grad=True)
    optimizer = torch.optim.SGD([theta], **options)
    for ours in run(SGD, **options):
        theta.grad = torch.from_numpy(loss_gradient(theta.detach().numpy()))
        optimizer.step()
        np.testing.assert_allclose(ours, theta.detach().numpy(), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("options", ADAM_CASES, ids=str)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_and_adamw_match_torch(name, options):
    torch = pytest.importorskip("torch")
    theta = torch.tensor(START, requires_grad=True)
    optimizer = getattr(torch.optim, name)([theta], **options)
    for ours in run({"Adam": Adam, "AdamW": AdamW}[name], **options):
        theta.grad = torch.from_numpy(loss_gradient(theta.detach().numpy()))
        optimizer.step()
        np.testing.assert_allclose(ours, theta.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make, error, message", [
    (lambda p: SGD(p, lr=float("inf")), ValueError, "SGD: lr must be finite, got inf"),
    (lambda p: SGD(p, lr=float("nan")), ValueError, "SGD: lr must be finite, got nan"),
    (lambda p: SGD(p, lr="0.1"), TypeError, "SGD: lr must be a number, got str '0.1'"),
    (lambda p: SGD(p, lr=True), TypeError, "SGD: lr must be a number, got bool True"),
    (lambda p: SGD(p, lr=0.0), ValueError, "SGD: lr must be > 0, got 0.0"),
    (lambda p: SGD(p, lr=0.1, momentum=-0.5), ValueError, "SGD: momentum must be >= 0"),
    (lambda p: SGD(p, lr=0.1, weight_decay="0"), TypeError, "SGD: weight_decay must be a number"),
    (lambda p: SGD(p, lr=0.1, nesterov=1), TypeError, "SGD: nesterov must be True or False"),
    (lambda p: SGD(p, lr=0.1, nesterov=True), ValueError, "nesterov=True needs a momentum > 0"),
    (lambda p: Adam(p, lr=-1e-3), ValueError, "Adam: lr must be > 0"),
    (lambda p: Adam(p, betas=0.9), TypeError, "Adam: betas must be a pair"),
    (lambda p: Adam(p, betas=(0.9, 1.0)), ValueError, r"Adam: betas\[1\] must be in \[0, 1\), got 1.0"),
    (lambda p: Adam(p, betas=(0.9, "x")), TypeError, r"Adam: betas\[1\] must be a number"),
    (lambda p: Adam(p, eps=-1.0), ValueError, "Adam: eps must be >= 0"),
    (lambda p: AdamW(p, weight_decay=math.inf), ValueError, "AdamW: weight_decay must be finite"),
    (lambda p: SGD([], lr=0.1), ValueError, "SGD got no parameters"),
    (lambda p: SGD(p + p, lr=0.1), ValueError, "SGD got the same parameter twice"),
    (lambda p: Adam([Value(1.0) * 2]), ValueError, "Adam optimizes leaf Values"),
    (lambda p: Adam(p[0]), TypeError, "Adam takes an iterable of parameters, got Value"),
    (lambda p: SGD(None, lr=0.1), TypeError, "SGD takes an iterable of parameters, got NoneType"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_bad_arguments_get_a_one_line_error(make, error, message):
    with pytest.raises(error, match=message) as info:
        make([Value(np.ones(2))])
    assert "\n" not in str(info.value)


def test_passing_a_module_instead_of_its_parameters_says_so():
    from tinygrad_div.nn import MLP

    with pytest.raises(TypeError, match=r"pass module.parameters\(\)"):
        SGD(MLP([2, 1]), lr=0.1)

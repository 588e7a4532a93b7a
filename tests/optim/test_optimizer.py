"""Optimizer: frozen parameters, parameter groups, and a state_dict in torch's layout that resumes bit for bit."""

import pickle

import numpy as np
import pytest

from tinygrad_div import Value
from tinygrad_div.nn import MLP, StateDictError, load, mse_loss, save
from tinygrad_div.optim import SGD, Adam, AdamW
from tinygrad_div.optim.lr_scheduler import CosineAnnealingLR, StepLR

X = np.random.default_rng(1).standard_normal((16, 3))
Y = np.sin(X[:, :2])


def train(model, optimizer, scheduler, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        mse_loss(model(X), Y).backward()
        optimizer.step()
        scheduler.step()


def grouped(model, kind):
    """Two groups, each with its own lr and weight decay, the kind's other options from the defaults."""
    (w1, b1, w2, b2), options = model.parameters(), {"momentum": 0.9, "nesterov": True} if kind is SGD else {}
    groups = [{"params": [w1, b1]}, {"params": [w2, b2], "lr": 0.02, "weight_decay": 0.1}]
    return kind(groups, lr=0.05, **options)


def test_a_frozen_parameter_is_accepted_and_left_alone():
    net = MLP([3, 4, 2], seed=0)
    frozen = net.parameters()[0]
    frozen.requires_grad = False
    before = frozen.data.copy()
    optimizer = Adam(net.parameters(), lr=0.1)
    train(net, optimizer, StepLR(optimizer, 1), 2)
    np.testing.assert_array_equal(frozen.data, before)
    assert frozen.grad is None and frozen not in optimizer.state and len(optimizer.state) == 3


@pytest.mark.parametrize("kind", [SGD, Adam, AdamW])
def test_each_group_follows_its_own_options(kind):
    """Grouped, the parameters move exactly as under two optimizers, one per group's options."""
    net, reference = MLP([3, 4, 2], seed=0), MLP([3, 4, 2], seed=0)
    optimizer = grouped(net, kind)
    extra = {"momentum": 0.9, "nesterov": True} if kind is SGD else {}
    alone = [kind(reference.parameters()[:2], lr=0.05, **extra),
             kind(reference.parameters()[2:], lr=0.02, weight_decay=0.1, **extra)]
    assert optimizer.param_groups[0]["weight_decay"] == optimizer.defaults["weight_decay"]
    for _ in range(3):
        for model, optimizers in [(net, [optimizer]), (reference, alone)]:
            model.zero_grad()
            mse_loss(model(X), Y).backward()
            for opt in optimizers:
                opt.step()
    for ours, expected in zip(net.parameters(), reference.parameters()):
        np.testing.assert_array_equal(ours.data, expected.data)


@pytest.mark.parametrize("kind", [SGD, Adam, AdamW])
def test_resuming_from_a_checkpoint_is_bit_identical(kind, tmp_path):
    """N steps straight, against k steps, a checkpoint on disk, a new model and optimizer, and N − k more."""
    straight = MLP([3, 4, 2], seed=0)
    optimizer = grouped(straight, kind)
    train(straight, optimizer, CosineAnnealingLR(optimizer, T_max=4), 7)

    first = MLP([3, 4, 2], seed=0)
    optimizer = grouped(first, kind)
    scheduler = CosineAnnealingLR(optimizer, T_max=4)
    train(first, optimizer, scheduler, 3)
    save(first, tmp_path / "model.npz")
    (tmp_path / "rest.pkl").write_bytes(pickle.dumps((optimizer.state_dict(), scheduler.state_dict())))

    resumed = MLP([3, 4, 2], seed=5)  # other weights, overwritten by the checkpoint
    optimizer = grouped(resumed, kind)
    scheduler = CosineAnnealingLR(optimizer, T_max=4)
    load(resumed, tmp_path / "model.npz")
    optimizer_state, scheduler_state = pickle.loads((tmp_path / "rest.pkl").read_bytes())
    optimizer.load_state_dict(optimizer_state)
    scheduler.load_state_dict(scheduler_state)
    train(resumed, optimizer, scheduler, 4)
    for ours, reference in zip(resumed.parameters(), straight.parameters()):
        np.testing.assert_array_equal(ours.data, reference.data)


def test_state_dict_layout_is_torchs():
    net = MLP([3, 4, 2], seed=0)
    optimizer = grouped(net, Adam)
    net.parameters()[1].requires_grad = False  # never gets a gradient: no state
    train(net, optimizer, StepLR(optimizer, 2), 1)
    state = optimizer.state_dict()
    assert list(state) == ["state", "param_groups"]
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2, 3]]
    assert state["param_groups"][1] == {"lr": 0.02, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.1,
                                        "initial_lr": 0.02, "params": [2, 3]}
    assert sorted(state["state"]) == [0, 2, 3] and state["state"][0]["step"] == 1
    assert set(state["state"][3]) == {"step", "exp_avg", "exp_avg_sq"}
    kept = state["state"][0]["exp_avg"].copy()
    train(net, optimizer, StepLR(optimizer, 2), 1)
    np.testing.assert_array_equal(state["state"][0]["exp_avg"], kept)  # a copy: training on does not change it


def test_state_dict_matches_torchs():
    torch = pytest.importorskip("torch")
    start = np.array([[0.5, -1.0], [2.0, 0.25]])
    ours, theirs = Value(start), torch.tensor(start, requires_grad=True)
    other, other_torch = Value(1.5), torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    ours_opt = SGD([{"params": [ours]}, {"params": [other], "lr": 0.5}], lr=0.1, momentum=0.9)
    torch_opt = torch.optim.SGD([{"params": [theirs]}, {"params": [other_torch], "lr": 0.5}], lr=0.1, momentum=0.9)
    for _ in range(2):
        ours.grad, theirs.grad = start**2, torch.tensor(start**2)
        ours_opt.step()
        torch_opt.step()
    mine, torchs = ours_opt.state_dict(), torch_opt.state_dict()
    assert [g["params"] for g in mine["param_groups"]] == [g["params"] for g in torchs["param_groups"]]
    assert list(mine["state"]) == list(torchs["state"]) == [0]
    assert set(mine["state"][0]) == set(torchs["state"][0])
    np.testing.assert_array_equal(mine["state"][0]["momentum_buffer"], torchs["state"][0]["momentum_buffer"])
    for group, torch_group in zip(mine["param_groups"], torchs["param_groups"]):
        assert all(group[k] == torch_group[k] for k in group)


def test_a_checkpoint_that_does_not_fit_changes_nothing():
    net = MLP([3, 4, 2], seed=0)
    optimizer = grouped(net, Adam)
    train(net, optimizer, StepLR(optimizer, 2), 1)
    good = optimizer.state_dict()
    before = pickle.dumps(good)
    broken = pickle.loads(before)
    broken["state"][3]["exp_avg"] = np.zeros(7)
    with pytest.raises(StateDictError, match=r"Adam: state\[3\]\['exp_avg'\] has shape \(7,\), its parameter \(2,\)"):
        optimizer.load_state_dict(broken)
    assert pickle.dumps(optimizer.state_dict()) == before


@pytest.mark.parametrize("change, message", [
    (lambda s: s["param_groups"].pop(), "the state_dict has 1 parameter groups, this optimizer 2"),
    (lambda s: s["param_groups"][0]["params"].pop(), r"param_groups\[0\] holds 1 parameters in the state_dict, 2 here"),
    (lambda s: s["param_groups"][1].pop("eps"), r"param_groups\[1\] of the state_dict lacks 'eps'"),
    (lambda s: s["param_groups"][1].update(amsgrad=True), "has an unknown option 'amsgrad'"),
    (lambda s: s["param_groups"][1].update(lr="fast"), r"Adam param_groups\[1\]: lr must be a number"),
    (lambda s: s["state"][0].update(momentum_buffer=1.0), r"state\[0\]\['momentum_buffer'\] is not a buffer Adam"),
    (lambda s: s["state"][0].update(step=-1), r"state\[0\]\['step'\] must be a count"),
    (lambda s: s["state"].update({9: {}}), "state for parameter 9, which no group lists"),
    (lambda s: s.pop("state"), "takes a dict of 'state' and 'param_groups'"),
], ids=["groups", "params", "missing", "unknown", "lr", "buffer", "step", "index", "keys"])
def test_load_state_dict_refuses_a_misfit_in_one_line(change, message):
    net = MLP([3, 4, 2], seed=0)
    optimizer = grouped(net, Adam)
    train(net, optimizer, StepLR(optimizer, 2), 1)
    state = optimizer.state_dict()
    change(state)
    with pytest.raises((StateDictError, TypeError)) as info:
        optimizer.load_state_dict(state)
    assert info.match(message) and "\n" not in str(info.value)


@pytest.mark.parametrize("make, error, message", [
    (lambda p: SGD([{"params": p, "momentum": 0.5, "beta": 1}], lr=0.1), ValueError, "SGD: unknown option 'beta'"),
    (lambda p: SGD([{"params": p[:1]}, p[1]], lr=0.1), TypeError, "not a mix of both"),
    (lambda p: SGD([{"params": p}, {"params": p[:1]}], lr=0.1), ValueError, "the same parameter twice"),
    (lambda p: SGD([{"params": set(p)}], lr=0.1), TypeError, "a group's params must be a list"),
    (lambda p: SGD([{"lr": 0.1}], lr=0.1), TypeError, "a parameter group is a dict with a 'params' entry"),
    (lambda p: Adam([{"params": p, "lr": -1.0}]), ValueError, "Adam: lr must be > 0, got -1.0"),
], ids=["unknown", "mix", "twice", "set", "no-params", "group-lr"])
def test_bad_groups_get_a_one_line_error(make, error, message):
    with pytest.raises(error, match=message) as info:
        make([Value(np.ones(2)), Value(1.0)])
    assert "\n" not in str(info.value)

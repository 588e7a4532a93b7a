"""Learning-rate schedules: torch's formulas written out, torch itself (to the bit), state_dict, bad input."""

import math

import numpy as np
import pytest

from tinygrad_div import Value
from tinygrad_div.nn import StateDictError
from tinygrad_div.optim import SGD, Adam
from tinygrad_div.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LambdaLR, StepLR

EPOCHS = 25
LRS = (0.1, 0.03)


def optimizer():
    return SGD([{"params": [Value(1.0)]}, {"params": [Value(2.0)], "lr": LRS[1]}], lr=LRS[0])


def schedule(make):
    """The lr of every group at epochs 0..EPOCHS-1 (epoch 0: right after construction)."""
    scheduler = make(optimizer())
    found = []
    for _ in range(EPOCHS):
        found.append(scheduler.get_last_lr())
        scheduler.step()
    return found


class Halving:
    """A callable object: its attributes are saved in LambdaLR's state_dict (as torch does)."""

    def __init__(self):
        self.rate = 0.5

    def __call__(self, epoch):
        return self.rate ** (epoch // 3)


CASES = {
    "step": (lambda o: StepLR(o, step_size=4, gamma=0.5), lambda lr, e: lr * 0.5 ** (e // 4)),
    "exponential": (lambda o: ExponentialLR(o, gamma=0.9), lambda lr, e: lr * 0.9**e),
    "cosine": (lambda o: CosineAnnealingLR(o, T_max=6, eta_min=0.001),
               lambda lr, e: 0.001 + (lr - 0.001) * (1 + math.cos(math.pi * e / 6)) / 2),
    "lambda": (lambda o: LambdaLR(o, lambda e: 1 / (1 + e)), lambda lr, e: lr * (1 / (1 + e))),
}


@pytest.mark.parametrize("case", CASES)
def test_each_schedule_follows_its_closed_form(case):
    """The recursive updates stay on the closed form torch documents (cosine through its restarts, too)."""
    make, closed_form = CASES[case]
    expected = [[closed_form(lr, e) for lr in LRS] for e in range(EPOCHS)]
    np.testing.assert_allclose(schedule(make), expected, rtol=1e-12, atol=1e-15)


TORCH_CASES = {
    "step": lambda s, o: s.StepLR(o, step_size=4, gamma=0.5),
    "exponential": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "cosine": lambda s, o: s.CosineAnnealingLR(o, T_max=6, eta_min=0.001),
    "lambda": lambda s, o: s.LambdaLR(o, lambda e: 1 / (1 + e)),
}


@pytest.mark.parametrize("case", TORCH_CASES)
def test_each_schedule_matches_torch_to_the_bit(case):
    torch = pytest.importorskip("torch")
    params = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    torch_optimizer = torch.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": LRS[1]}], lr=LRS[0])
    scheduler = TORCH_CASES[case](torch.optim.lr_scheduler, torch_optimizer)
    theirs = []
    for _ in range(EPOCHS):
        theirs.append(scheduler.get_last_lr())
        torch_optimizer.step()
        scheduler.step()
    assert schedule(CASES[case][0]) == theirs


@pytest.mark.parametrize("case", CASES)
def test_a_schedule_resumes_from_its_state_dict(case):
    make = CASES[case][0] if case != "lambda" else (lambda o: LambdaLR(o, Halving()))
    first_optimizer = optimizer()
    first = make(first_optimizer)
    if case == "lambda":
        first.lr_lambdas[0].rate = 0.25
    for _ in range(7):
        first.step()
    second_optimizer = optimizer()
    second = make(second_optimizer)
    second_optimizer.load_state_dict(first_optimizer.state_dict())
    second.load_state_dict(first.state_dict())
    assert second.state_dict() == first.state_dict()
    for _ in range(5):
        first.step()
        second.step()
        assert second.get_last_lr() == first.get_last_lr()
    assert [g["lr"] for g in second_optimizer.param_groups] == first.get_last_lr()


def test_the_optimizer_steps_with_the_scheduled_lr():
    w = Value(1.0)
    opt = SGD([w], lr=1.0)
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    for expected in (0.0, -0.5, -0.75):  # steps of 1, 1/2, 1/4 along a gradient of 1
        w.grad = 1.0
        opt.step()
        scheduler.step()
        assert w.data == expected


def test_state_dict_uses_torchs_names():
    scheduler = StepLR(Adam([Value(1.0)], lr=0.1), step_size=2)
    scheduler.step()
    assert scheduler.state_dict() == {"step_size": 2, "gamma": 0.1, "base_lrs": [0.1], "last_epoch": 1,
                                      "_step_count": 2, "_last_lr": [0.1]}
    assert scheduler.optimizer.param_groups[0]["initial_lr"] == 0.1


@pytest.mark.parametrize("make, error, message", [
    (lambda: StepLR([Value(1.0)], step_size=2), TypeError, "StepLR schedules an optimizer .*, got list"),
    (lambda: LambdaLR("adam", lambda e: 1.0), TypeError, "LambdaLR schedules an optimizer .*, got str"),
    (lambda: StepLR(optimizer(), step_size=0), ValueError, "StepLR: step_size must be > 0, got 0"),
    (lambda: StepLR(optimizer(), step_size=2.5), TypeError, "StepLR: step_size must be an integer"),
    (lambda: ExponentialLR(optimizer(), gamma="0.9"), TypeError, "ExponentialLR: gamma must be a number"),
    (lambda: CosineAnnealingLR(optimizer(), T_max=-3), ValueError, "CosineAnnealingLR: T_max must be > 0"),
    (lambda: CosineAnnealingLR(optimizer(), T_max=3, eta_min=-1), ValueError, "eta_min must be >= 0"),
    (lambda: LambdaLR(optimizer(), [lambda e: 1.0]), ValueError, "LambdaLR: 1 lr_lambdas for 2 parameter groups"),
    (lambda: LambdaLR(optimizer(), 0.5), TypeError, "LambdaLR: lr_lambda must be a function of the epoch"),
    (lambda: LambdaLR(optimizer(), lambda e: "x"), TypeError, r"LambdaLR: lr_lambda\(0\) returned str 'x', not a"),
    (lambda: StepLR(optimizer(), 2).load_state_dict({"gamma": 0.1}), StateDictError, "lacks 'step_size'"),
    (lambda: StepLR(optimizer(), 2).load_state_dict({**StepLR(optimizer(), 2).state_dict(), "base_lrs": [0.1]}),
     StateDictError, "base_lrs must list 2 learning rates"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_bad_arguments_get_a_one_line_error(make, error, message):
    with pytest.raises(error, match=message) as info:
        make()
    assert "\n" not in str(info.value)


def test_a_state_dict_from_torch_loads_and_continues_as_torchs():
    torch = pytest.importorskip("torch")
    params = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    torch_optimizer = torch.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": LRS[1]}], lr=LRS[0])
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(torch_optimizer, T_max=6, eta_min=0.001)
    for _ in range(4):
        torch_optimizer.step()
        theirs.step()
    ours_optimizer = optimizer()
    ours = CosineAnnealingLR(ours_optimizer, T_max=6, eta_min=0.001)
    ours.load_state_dict(theirs.state_dict())  # torch's own flags included
    for group, torch_group in zip(ours_optimizer.param_groups, torch_optimizer.param_groups):
        group["lr"] = torch_group["lr"]
    for _ in range(10):
        torch_optimizer.step()
        theirs.step()
        ours.step()
        assert ours.get_last_lr() == theirs.get_last_lr()

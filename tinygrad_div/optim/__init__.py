"""Optimizers, each following PyTorch's documented update rule, and learning-rate schedules.

    opt = Adam(net.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()
    scheduler = lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)   # scheduler.step() once per epoch

`SGD` (momentum, weight decay, Nesterov), `Adam` and `AdamW` share `Optimizer`:
parameter groups with their own options, frozen parameters skipped, and a
`state_dict` in torch's layout that resumes training bit for bit.
"""

from tinygrad_div.optim import lr_scheduler
from tinygrad_div.optim.adam import Adam, AdamW
from tinygrad_div.optim.optimizer import Optimizer
from tinygrad_div.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]

"""Networks built from Value nodes, in PyTorch's shape: modules, layers, losses, saving.

    from tinygrad_div import nn
    net = nn.MLP([64, 128, 10], activation="relu", output=None)
    nn.save(net, "digits.npz"); nn.load(net, "digits.npz")
    net.eval()                                   # Dropout passes through, BatchNorm uses its running statistics
"""

from tinygrad_div.nn import functional, init, utils
from tinygrad_div.nn.conv import AvgPool2d, Conv1d, Conv2d, MaxPool2d
from tinygrad_div.nn.layers import (
    GELU,
    MLP,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from tinygrad_div.nn.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from tinygrad_div.nn.module import IncompatibleKeys, Module, ModuleList, StateDictError
from tinygrad_div.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from tinygrad_div.nn.saving import load, save

__all__ = [
    "Module", "ModuleList", "StateDictError", "IncompatibleKeys", "Linear", "Sigmoid", "Tanh", "ReLU",
    "Identity", "Flatten", "Sequential", "MLP",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
    "binary_cross_entropy_with_logits", "functional", "init", "utils", "save", "load",
    # layers of a CNN (nn16)
    "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout",
    "Embedding", "LeakyReLU", "GELU",
]

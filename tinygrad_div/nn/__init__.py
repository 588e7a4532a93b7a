"""Networks built from Value nodes, in PyTorch's shape: modules, layers, losses, saving.

    from tinygrad_div import nn
    net = nn.MLP([64, 128, 10], activation="relu", output=None)
    nn.save(net, "digits.npz"); nn.load(net, "digits.npz")
"""

from tinygrad_div.nn import functional
from tinygrad_div.nn.layers import MLP, Linear, ReLU, Sequential, Sigmoid, Tanh
from tinygrad_div.nn.losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from tinygrad_div.nn.module import Module, StateDictError
from tinygrad_div.nn.saving import load, save

__all__ = [
    "Module", "StateDictError", "Linear", "Sigmoid", "Tanh", "ReLU", "Sequential", "MLP",
    "mse_loss", "cross_entropy", "binary_cross_entropy_with_logits", "functional", "save", "load",
]

"""Networks built from Value nodes: layers, losses."""

from tinygrad_div.nn.layers import MLP, Layer, mse_loss

__all__ = ["Layer", "MLP", "mse_loss"]

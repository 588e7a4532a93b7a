"""Every built-in op, one small `Function` subclass each (forward and backward side by side).

    arithmetic   Add Sub Mul Div Neg Pow
    elementwise  Exp Log Sigmoid Tanh ReLU Abs
    reduce       Sum Mean
    shape        Reshape Transpose BroadcastTo SumTo GetItem
    linalg       MatMul
"""

from tinygrad_div.engine.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub
from tinygrad_div.engine.ops.elementwise import Abs, Exp, Log, ReLU, Sigmoid, Tanh
from tinygrad_div.engine.ops.linalg import MatMul
from tinygrad_div.engine.ops.reduce import Mean, Sum
from tinygrad_div.engine.ops.shape import BroadcastTo, GetItem, Reshape, SumTo, Transpose

__all__ = [
    "Add", "Sub", "Mul", "Div", "Neg", "Pow",
    "Exp", "Log", "Sigmoid", "Tanh", "ReLU", "Abs",
    "Sum", "Mean",
    "Reshape", "Transpose", "BroadcastTo", "SumTo", "GetItem",
    "MatMul",
]

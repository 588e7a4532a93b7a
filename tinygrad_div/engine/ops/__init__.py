"""Every built-in op, one small `Function` subclass each (forward and backward side by side).

    arithmetic   Add Sub Mul Div Neg Pow
    elementwise  Exp Log Sigmoid Tanh ReLU Abs Sqrt Sin Cos Log1p Expm1
    select       Where Maximum Minimum Clip Max Min
    normalize    LogSumExp Softmax LogSoftmax
    reduce       Sum Mean
    shape        Reshape Squeeze ExpandDims Flatten Transpose BroadcastTo SumTo GetItem
    join         Concatenate Stack
    linalg       MatMul
    conv         Conv               (conv1d, conv2d; on windows.py: im2col and its adjoint)
    pool         MaxPool AvgPool
    batch_norm   BatchNorm
    activation   LeakyReLU GELU

`compare` holds what is not recorded (comparison masks, argmax/argmin),
`functional` the ops as plain functions (`td.where`, `td.maximum`, ...), and
`numpy_protocol` maps numpy's functions on Values onto these ops.
"""

from tinygrad_div.engine.ops import compare as compare  # masks and argmax: what Value calls, never recorded
from tinygrad_div.engine.ops import numpy_protocol as numpy_protocol  # loaded with the ops: Value uses it
from tinygrad_div.engine.ops.activation import GELU, LeakyReLU
from tinygrad_div.engine.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub
from tinygrad_div.engine.ops.batch_norm import BatchNorm
from tinygrad_div.engine.ops.conv import Conv
from tinygrad_div.engine.ops.elementwise import Abs, Cos, Exp, Expm1, Log, Log1p, ReLU, Sigmoid, Sin, Sqrt, Tanh
from tinygrad_div.engine.ops.join import Concatenate, Stack
from tinygrad_div.engine.ops.linalg import MatMul
from tinygrad_div.engine.ops.normalize import LogSoftmax, LogSumExp, Softmax
from tinygrad_div.engine.ops.pool import AvgPool, MaxPool
from tinygrad_div.engine.ops.reduce import Mean, Sum
from tinygrad_div.engine.ops.select import Clip, Max, Maximum, Min, Minimum, Where
from tinygrad_div.engine.ops.shape import BroadcastTo, ExpandDims, Flatten, GetItem, Reshape, Squeeze, SumTo, Transpose

__all__ = [
    "Add", "Sub", "Mul", "Div", "Neg", "Pow",
    "Exp", "Log", "Sigmoid", "Tanh", "ReLU", "Abs", "Sqrt", "Sin", "Cos", "Log1p", "Expm1",
    "Where", "Maximum", "Minimum", "Clip", "Max", "Min",
    "LogSumExp", "Softmax", "LogSoftmax",
    "Sum", "Mean",
    "Reshape", "Squeeze", "ExpandDims", "Flatten", "Transpose", "BroadcastTo", "SumTo", "GetItem",
    "Concatenate", "Stack",
    "MatMul",
    "Conv", "MaxPool", "AvgPool", "BatchNorm", "LeakyReLU", "GELU",
]

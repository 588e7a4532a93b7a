"""tinygrad_div: a small, exact autograd engine on numpy, grown from a learner's notes on backprop."""

from tinygrad_div import testing  # td.testing.locate_wrong_gradient; check_op, strategies load hypothesis on use
from tinygrad_div.anomaly import AnomalyError, detect_anomaly
from tinygrad_div.compile import TraceError, compile  # noqa: A004  (td.compile, as jax.jit: the package's name)
from tinygrad_div.engine.autograd import grad
from tinygrad_div.engine.errors import BackwardError, DataError, ShapeError
from tinygrad_div.engine.function import Function, registered_ops
from tinygrad_div.engine.mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinygrad_div.engine.ops.functional import (
    amax,
    amin,
    argmax,
    argmin,
    clip,
    concatenate,
    cos,
    expand_dims,
    expm1,
    flatten,
    log1p,
    log_softmax,
    logsumexp,
    maximum,
    minimum,
    sin,
    softmax,
    sqrt,
    squeeze,
    stack,
    unsqueeze,
    where,
)
from tinygrad_div.engine.randomness import default_generator, manual_seed
from tinygrad_div.engine.value import Value
from tinygrad_div.explain import explain  # (td.explain is the function, as td.compile is)
from tinygrad_div.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Value", "Function", "registered_ops", "grad", "manual_seed", "default_generator",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "gradcheck", "gradgradcheck", "GradcheckError",
    "detect_anomaly", "AnomalyError",
    "DataError", "ShapeError", "BackwardError",
    # the ops as functions (also Value methods, and numpy functions on Values)
    "where", "maximum", "minimum", "clip", "amax", "amin", "argmax", "argmin",
    "sqrt", "sin", "cos", "log1p", "expm1", "softmax", "log_softmax", "logsumexp",
    "concatenate", "stack", "squeeze", "expand_dims", "unsqueeze", "flatten",
    "compile", "TraceError",
    "explain", "testing",
]

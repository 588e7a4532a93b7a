"""Layer 1, the engine: `Value`, `Function`, the ops, backpropagation. It imports nothing above itself.

    errors, mode     what bad input raises; the global state (recording, the anomaly observer)
    value            `Value` and the raw data it holds (a float, or a float64 ndarray)
    function         `Function`: how an op runs forward and records its node
    ops/             the built-in ops, one small `Function` subclass each
    autograd         `backward` and `grad`: the walk from an output back to the leaves

How the modules load (no import at the bottom of a file, no import inside a
function on the hot path). At import time the modules form a chain: value needs
only errors and mode; function builds on value; ops build on function; autograd
on ops. Only one thing points back up that chain: `Value`'s operators (`x + y`
runs `ops.Add`) and `Value.backward` (runs `autograd`). value.py reaches those
through this package object, `engine.ops.Add`, looked up when the operator runs,
not when value.py loads. This file imports `ops` and `autograd`, so whichever
engine module is imported first, the whole chain is loaded before any `Value` can
add. The alternative (function, ops and autograd reading `value.Value` through the
module object) would put that lookup three times into every `Function.apply` (two
isinstance tests and building the output); the operators pay it once instead.
"""

from tinygrad_div.engine import autograd, ops

__all__ = ["autograd", "ops"]

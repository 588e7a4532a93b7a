"""`td.compile`: trace a training step once, run it as straight-line Python, bit for bit like eager.

    tracer    runs the step once, recording every op the engine applies (Function.apply)
    lower     each built-in op's forward and backward as lines of code (others replayed)
    backward  the chain rule walked as autograd walks it, written as lines
    simplify  constant folding, no-op views, common subexpressions, dead code: never a changed bit
    emit      the Python source, a comment per line; compiled with compile()/exec
    compiled  the callable: a program per signature, checked against eager on its first call
"""

from tinygrad_div.compile.compiled import Compiled, compile
from tinygrad_div.compile.errors import TraceError
from tinygrad_div.compile.tracer import named

__all__ = ["compile", "Compiled", "TraceError", "named"]

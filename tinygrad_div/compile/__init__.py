"""`td.compile`: trace a training step once, run it as straight-line Python, bit for bit like eager.

    tracer    runs the step once, recording every op the engine applies (Function.apply)
    lower     the few ops written out as lines because that is measurably faster; every other op is
              replayed: the program calls its own forward and backward (engine/ops/)
    backward  the chain rule walked as autograd walks it, written as lines
    simplify  constant folding, no-op views, common subexpressions, dead code: never a changed bit
    emit      the Python source, a comment per line; compiled with compile()/exec
    compiled  the callable: a program per signature, checked against eager on its first call; guards
              (a mask's selection count) checked on every call, another program traced when one fails
"""

from tinygrad_div.compile.compiled import Compiled, compile
from tinygrad_div.compile.errors import TraceError
from tinygrad_div.compile.tracer import named

__all__ = ["compile", "Compiled", "TraceError", "named"]

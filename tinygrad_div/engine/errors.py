"""The errors the library raises on bad input; each message fits on one line and names the problem."""


class DataError(TypeError):
    """Data that is not a real number or a rectangular array of real numbers."""


class ShapeError(ValueError):
    """Operands whose shapes do not fit the op (no broadcast, no matmul, bad reshape...)."""


class BackwardError(RuntimeError):
    """A backward pass that cannot run: a broken `Function.backward`, a freed graph, no seed."""

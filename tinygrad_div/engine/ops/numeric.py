"""Python-float arithmetic with numpy's IEEE answers at the edges.

Scalars are Python floats for speed, but Python raises where numpy returns inf/nan
(1.0 / 0.0), and its ** returns a complex number for (-8.0) ** (1/3) and can differ
from np.power in the last bit. These helpers keep the fast float path where it gives
numpy's bits and use numpy elsewhere. They also accept arrays and Values, so
backward rules can use them unconditionally.
"""

from __future__ import annotations

import numpy as np

from tinygrad_div.engine.value import Value


def divide(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        return float(np.divide(a, b))


def power(a, b):
    if type(a) is float and type(b) is float:
        if b == 2.0:
            return a * a  # the same bits as np.power(a, 2.0), which squares
        # np.power, not Python's **: they differ in the last bit on some inputs, and a
        # scalar must give the same bits as a one-element array
        return float(np.power(a, b))
    if type(b) is np.ndarray and type(a) in (float, np.ndarray):
        return _power_elementwise(a, b)
    return np.power(a, b)


#: The exponents numpy computes by their exact formula when the exponent is one number
#: (the float path above, and arrays raised to a float), and by its general pow, which
#: differs in the last bit (and at -0.0 ** 0.5), when the exponent is an array.
_EXACT_POWERS = ((2.0, np.square), (0.5, np.sqrt), (-1.0, np.reciprocal))


def _power_elementwise(a, b):
    """np.power with an array exponent, giving each element the bits a single exponent would."""
    out = np.power(a, b)
    for exponent, formula in _EXACT_POWERS:
        where = b == exponent
        if where.any():
            np.copyto(out, formula(a), where=where)
    return out


def raw(x):
    """The data behind a Value, or x itself: for masks that must stay constants in a recorded rule.

    By type, not `getattr(x, "data", x)`: an ndarray's `.data` is its memoryview, which
    compares unequal to everything, so masks built from it silently never fire.
    """
    return x.data if isinstance(x, Value) else x


def call(ufunc, a):
    """`ufunc(a)` as engine data: a Python float for a float (numpy's bits, not `math`'s), else what
    numpy gives (an array, or a recorded op for a Value)."""
    return float(ufunc(a)) if type(a) is float else ufunc(a)

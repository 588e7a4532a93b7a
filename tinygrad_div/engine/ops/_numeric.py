"""Python-float arithmetic with numpy's IEEE answers at the edges.

Scalars are Python floats for speed, but Python raises where numpy returns inf/nan
(1.0 / 0.0), and its ** returns a complex number for (-8.0) ** (1/3) and can differ
from np.power in the last bit. These helpers keep the fast float path where it gives
numpy's bits and use numpy elsewhere. They also accept arrays and Values, so
backward rules can use them unconditionally.
"""

from __future__ import annotations

import numpy as np


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
    return np.power(a, b)


def raw(x):
    """The data behind a Value, or x itself: for masks that must stay constants in a recorded rule."""
    return getattr(x, "data", x)

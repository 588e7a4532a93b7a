"""Python-float arithmetic with numpy's IEEE answers at the edges.

Scalars are Python floats for speed, but Python raises where numpy returns
inf/nan (1.0 / 0.0, 0.0 ** -1.0) and returns a complex number for (-8.0) ** (1/3).
These helpers keep the fast float path and fall back to numpy exactly there. They
also accept arrays and Values, so backward rules can use them unconditionally.
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
        try:
            result = a ** b
        except (ZeroDivisionError, OverflowError):
            return float(np.power(a, b))
        return result if type(result) is float else float("nan")  # complex: numpy says nan
    return np.power(a, b)

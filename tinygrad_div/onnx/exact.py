"""The numpy functions no ONNX operator computes to numpy's precision, written once in exact ONNX operators.

Each takes and returns ONNX tensor names (the model's floats); `symbolic`'s table of numpy primitives
uses them for np.log1p, np.expm1, np.logaddexp, np.power, np.sin and np.cos.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from onnx import TensorProto

from tinygrad_div.onnx.builder import OnnxGraph


def log1p(g: OnnxGraph, x: str) -> str:
    """ln(1 + x) accurate for tiny x (no ONNX op is): with u = 1 + x, ln(u)·(x/(u − 1)), and x where u rounds
    to 1 (Goldberg's formula; within 1e-15 of numpy from 1e-300 to overflow)."""
    u = g.op("Add", x, g.constant(1.0))
    ratio = g.op("Mul", g.op("Log", u), g.op("Div", x, g.op("Sub", u, g.constant(1.0))))  # x/(u−1) ≈ 1: no overflow
    infinite = g.op("IsInf", u, detect_negative=0)  # ln(inf) = inf; −inf stays nan, as ln of any x < −1
    return g.op("Where", g.op("Equal", u, g.constant(1.0)), x, g.op("Where", infinite, u, ratio))


def expm1(g: OnnxGraph, x: str) -> str:
    """e^x − 1 accurate for tiny x: with u = e^x, (u − 1)·(x/ln u); x where u rounds to 1, u − 1 where that is
    −1 or u is inf (the ratio would be 0/0 or inf/inf there)."""
    u = g.op("Exp", x)
    um1 = g.op("Sub", u, g.constant(1.0))
    ratio = g.op("Mul", um1, g.op("Div", x, g.op("Log", u)))  # x/ln u ≈ 1: no overflow
    exact = g.op("Or", g.op("Equal", um1, g.constant(-1.0)), g.op("IsInf", u))
    return g.op("Where", g.op("Equal", u, g.constant(1.0)), x, g.op("Where", exact, um1, ratio))


#: π/2 in four parts (fdlibm's): k·P1 and k·P2 are exact for |k| < 2^20, so x − k·π/2 keeps every digit
PIO2 = (1.57079632673412561417e+00, 6.07710050630396597660e-11, 2.02226624871116645580e-21,
        8.47842766036889956997e-32)
#: |x| up to here is reduced so; beyond, onnxruntime's own reduction
REDUCED = 2.0 ** 19


def trigonometric(quarter: int) -> Callable[[OnnxGraph, str], str]:
    """sin (quarter 0) or cos (1) as numpy computes them near multiples of π: onnxruntime reduces the argument
    with one rounded π (sin(π) is 0 there, 1.2e-16 in numpy), so x is reduced here, in float64, to
    r = x − k·π/2 with |r| ≤ π/4, and the answer is ±sin r or ±cos r by k's quadrant."""
    def emit(g: OnnxGraph, x: str) -> str:
        narrow = g.dtype == np.float32
        x = g.op("Cast", x, to=TensorProto.DOUBLE) if narrow else x

        def c(value: float) -> str:
            return g.constant(value, np.float64)

        k = g.op("Round", g.op("Mul", x, c(2.0 / math.pi)))
        r = x
        for part in PIO2:
            r = g.op("Sub", r, g.op("Mul", k, c(part)))
        q = g.op("Add", k, c(float(quarter)))
        q = g.op("Sub", q, g.op("Mul", c(4.0), g.op("Floor", g.op("Div", q, c(4.0)))))  # k + quarter mod 4
        sin, cos = g.op("Sin", r), g.op("Cos", r)
        out = g.op("Neg", cos)
        for value, pick in ((2.0, g.op("Neg", sin)), (1.0, cos), (0.0, sin)):
            out = g.op("Where", g.op("Equal", q, c(value)), pick, out)
        plain = g.op("Cos" if quarter else "Sin", x)
        out = g.op("Where", g.op("Less", g.op("Abs", x), c(REDUCED)), out, plain)
        return g.op("Cast", out, to=g.float_type) if narrow else out
    return emit


#: the exponents numpy computes by their own formula (np.square, np.sqrt, np.reciprocal): −inf ** 0.5 is nan
#: there and inf in C's pow (and ONNX's Pow)
EXACT_POWERS = ((2.0, lambda g, x: g.op("Mul", x, x)), (0.5, lambda g, x: g.op("Sqrt", x)),
                (-1.0, lambda g, x: g.op("Reciprocal", x)))


def power(g: OnnxGraph, base: str, exponent: str, constant: float | None) -> str:
    """base ** exponent with numpy's formulas for the exponents 2, 0.5 and −1 (as the engine's `power` gives them
    for array exponents too), ONNX's Pow elsewhere; `constant`: the exponent when it is one known number."""
    if constant is not None:
        formula = dict(EXACT_POWERS).get(constant)
        return formula(g, base) if formula is not None else g.op("Pow", base, exponent)
    out = g.op("Pow", base, exponent)
    for value, formula in EXACT_POWERS:
        out = g.op("Where", g.op("Equal", exponent, g.constant(value)), formula(g, base), out)
    return out


def logaddexp(g: OnnxGraph, a: str, b: str) -> str:
    """ln(e^a + e^b) as numpy computes it: max(a, b) + log1p(e^−|a − b|), and a + ln 2 where a = b (so that
    inf and −inf stay themselves); nan passes through."""
    general = g.op("Add", g.op("Max", a, b), log1p(g, g.op("Exp", g.op("Neg", g.op("Abs", g.op("Sub", a, b))))))
    return g.op("Where", g.op("Equal", a, b), g.op("Add", a, g.constant(math.log(2.0))), general)

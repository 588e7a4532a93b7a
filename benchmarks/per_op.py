"""Per-op overhead, side by side with raw numpy and Python floats in one process.

    python -m benchmarks.per_op            # medians of 15 repeats, µs per op

One elementwise multiply on a 3-element array and on a scalar: raw (numpy / Python
float), tinygrad_div under no_grad (forward only, nothing recorded), and recorded
forward + backward (W4's measure), alone and amortized over a chain of ops (what a
recorded op costs inside a graph, without the fixed cost of one backward() call).
Ratios are taken against the raw row of the same size, measured in the same run.
"""

from __future__ import annotations

import statistics
import timeit

import numpy as np

import tinygrad_div as td
from tinygrad_div import Value

REPEATS = 15
NUMBER = 2_000
CHAIN = 100


def median_us(fn) -> float:
    times = timeit.repeat(fn, number=NUMBER, repeat=REPEATS)
    return statistics.median(times) / NUMBER * 1e6


def cases() -> dict[str, dict[str, float]]:
    seed = np.ones(3)
    results = {}
    for size, (x, y) in {"3-element array": (np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])),
                         "scalar": (1.5, 2.5)}.items():
        a, b = Value(x), Value(y)
        seed_for = seed if size != "scalar" else None

        def recorded(a=a, b=b, seed_for=seed_for):
            (a * b).backward(seed_for)

        def unrecorded(a=a, b=b):
            with td.no_grad():
                return a * b

        row = {"raw": median_us(lambda x=x, y=y: x * y)}
        with td.no_grad():
            row["no_grad forward"] = median_us(lambda a=a, b=b: a * b)
        row["no_grad block + forward"] = median_us(unrecorded)
        row["recorded forward"] = median_us(lambda a=a, b=b: a * b)
        row["recorded forward + backward"] = median_us(recorded)

        def chain(a=a, b=b, seed_for=seed_for):
            y = a
            for _ in range(CHAIN):
                y = y * b
            y.backward(seed_for)

        row[f"per op in a chain of {CHAIN}, forward + backward"] = median_us(chain) / CHAIN
        results[size] = row
    return results


def main() -> None:
    results = cases()
    print("| operand | measure | median µs | × raw |")
    print("|---|---|--:|--:|")
    for size, row in results.items():
        for name, value in row.items():
            print(f"| {size} | {name} | {value:.3f} | {value / row['raw']:.1f}x |")


if __name__ == "__main__":
    main()

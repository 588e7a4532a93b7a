"""What the registry found: disagreements with eager, refusals by name, and how much each path compared."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_div.crosspath.samples import Case, describe

#: every path, in the order they run; eager array is the reference they are held to
PATHS = ("eager scalar", "create_graph", "compile", "onnx float64", "onnx float32")


@dataclass
class Disagreement:
    """One path giving another answer than eager (or raising without naming the op)."""

    op: str
    path: str
    case: str
    detail: str

    def __str__(self) -> str:
        return f"{self.op} on {self.path}: {self.detail}; input {self.case}"


@dataclass
class Result:
    """What eager (or a path) gave on one case: forward outputs and one gradient per float input."""

    outputs: list
    grads: list


@dataclass
class Report:
    """`check_paths`'s answer for one op."""

    op: str
    paths: tuple[str, ...] = PATHS
    disagreements: list[Disagreement] = field(default_factory=list)
    #: path -> cases it ran and compared with eager
    compared: Counter = field(default_factory=Counter)
    #: path -> the first error by which it refused the op (naming it)
    refusals: dict[str, str] = field(default_factory=dict)
    #: cases eager itself refused (inputs outside what the op takes): no path is asked
    skipped: int = 0

    @property
    def ok(self) -> bool:
        return not self.disagreements

    def on(self, path: str) -> list[Disagreement]:
        return [d for d in self.disagreements if d.path == path]

    def compare(self, path: str, case: Case, got: Result, expected: Result) -> None:
        """Bit for bit: every output and every gradient."""
        self.compared[path] += 1
        for k, (a, b) in enumerate(zip(got.outputs, expected.outputs)):
            if not same(a, b):
                self.disagree(path, case, f"output {k}: {first_difference(a, b)}")
        for k, (a, b) in enumerate(zip(got.grads, expected.grads)):
            if (a is None) != (b is None) or (a is not None and not same(a, b)):
                what = f"{a!r:.40} where eager gives {b!r:.40}" if a is None or b is None else first_difference(a, b)
                whose = "the output (c's gradient)" if k == len(got.grads) - 1 else f"gradient of input {k}"
                self.disagree(path, case, f"{whose}: {what}")

    def disagree(self, path: str, case: Case, detail: str) -> None:
        self.disagreements.append(Disagreement(self.op, path, describe(case), detail))

    def refuse(self, path: str, case: Case, exc: BaseException) -> None:
        """A path raised: a refusal when the error names the op, a disagreement otherwise."""
        if self.op in str(exc):
            self.refusals.setdefault(path, f"{type(exc).__name__}: {exc}")
            return
        detail = f"raised {type(exc).__name__} without naming the op: {str(exc)[:300]}"
        if not any(d.path == path and d.detail == detail for d in self.disagreements):  # once per path
            self.disagree(path, case, detail)

    def __str__(self) -> str:
        lines = [f"{self.op}: " + ", ".join(
            f"{p} {self.compared[p]} compared" + (", refused" if p in self.refusals else "")
            + (f", {len(self.on(p))} DISAGREE" if self.on(p) else "") for p in self.paths)]
        lines += [f"  {d}" for d in self.disagreements[:20]]
        return "\n".join(lines)


def same(a: Any, b: Any) -> bool:
    """Bit for bit (shape and kind too), every nan equal to every nan."""
    if isinstance(a, np.ndarray) != isinstance(b, np.ndarray) or np.shape(a) != np.shape(b):
        return False
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return bool(np.all((a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))))


def at(k: int, shape: tuple) -> str:
    return str(tuple(int(i) for i in np.unravel_index(k, shape))) if len(shape) > 1 else f"[{k}]"


def first_difference(a: Any, b: Any) -> str:
    if np.shape(a) != np.shape(b) or isinstance(a, np.ndarray) != isinstance(b, np.ndarray):
        return f"{type(a).__name__} of shape {np.shape(a)} where eager gives {type(b).__name__} of shape {np.shape(b)}"
    shape = np.shape(a)
    a, b = np.atleast_1d(np.asarray(a, np.float64)), np.atleast_1d(np.asarray(b, np.float64))
    for k in range(a.size):
        x, y = a.flat[k], b.flat[k]
        if not (np.isnan(x) and np.isnan(y)) and x.view(np.int64) != y.view(np.int64):
            return f"{float(x)!r} at {at(k, shape)} where eager gives {float(y)!r}"
    return "equal"

"""The ONNX paths: the op exported (float64 and float32) and run in onnxruntime, held to eager.

One export per group and set of masks and labels (they are constants of a model): from
the group's base case (finite, as export needs), then every variant is fed to the model.

- float64: within RTOL of eager relative, plus SLACK times what a few ulps of input
  perturbation move eager's own answer by (a sum that cancels may round differently in
  another order; a sigmoid that underflows may not); inf and nan exactly where eager has them.
- float32: the inputs rounded to float32, eager run on those, and its answer rounded
  to float32 (overflowing to inf as float32 does), at RTOL32 and float32's ulps.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from tinygrad_div.crosspath.paths import eager, indices, quietly
from tinygrad_div.crosspath.report import Report, at
from tinygrad_div.crosspath.samples import Case, Group, is_float
from tinygrad_div.engine.function import Function

DTYPES = ("float64", "float32")
RTOL, RTOL32 = 1e-12, 1e-5
#: the relative input perturbation that measures how far an answer may move with rounding order
WIGGLE, WIGGLE32 = 2.0 ** -50, 2.0 ** -21
#: how many times that movement an ONNX result may be off
SLACK = 8.0
#: results below these magnitudes may flush to zero (subnormals)
FLOOR, FLOOR32 = 2.0 ** -1022, 2.0 ** -126


def check_onnx(report: Report, op: type[Function], group: Group, references: list, folder: str) -> None:
    dtypes = [d for d in DTYPES if f"onnx {d}" in report.paths]
    try:
        import onnxruntime  # noqa: PLC0415  (the onnx extra)

        from tinygrad_div.onnx import export  # noqa: PLC0415
    except ImportError:
        return
    models: dict[bytes, list] = {}
    for case, ref in zip(group.cases, references):
        if ref is None:
            continue
        key = b"".join(x.tobytes() + str(x.shape).encode() for x in indices(case))
        if key not in models:
            models[key] = [_session(op, case, export, onnxruntime, folder, d) for d in dtypes]
            for dtype, made in zip(dtypes, models[key]):
                if isinstance(made, BaseException):  # once per model: by name, or it is a disagreement
                    report.refuse(f"onnx {dtype}", case, made)
        for dtype, made in zip(dtypes, models[key]):
            if not isinstance(made, BaseException):
                _run(report, op, case, made, dtype)


def _model(op: type[Function], case: Case) -> Any:
    def model(*floats: Any) -> Any:
        given = iter(floats)
        return op.apply(*[next(given) if is_float(x) else x for x in case.inputs], **case.params)
    return model


def _session(op: type[Function], case: Case, export: Any, onnxruntime: Any, folder: str, dtype: str) -> Any:
    """An onnxruntime session of the op with this case's masks and labels, or the exception that stopped it."""
    path = os.path.join(folder, f"{op.__name__}.onnx")
    floats = tuple(np.asarray(x, dtype=np.float64) for x in case.inputs if is_float(x))
    try:
        proto = quietly(lambda: export(_model(op, case), floats, path, dynamic_batch=False, dtype=dtype))
        return onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001
        return exc


def _run(report: Report, op: type[Function], case: Case, session: Any, dtype: str) -> None:
    path, low = f"onnx {dtype}", dtype == "float32"
    floats = [np.asarray(x, dtype=np.float64) for x in case.inputs if is_float(x)]
    if low:
        floats = quietly(lambda: [x.astype(np.float32).astype(np.float64) for x in floats])
    given = iter(floats)
    rounded = Case([(float(next(given)) if type(x) is float else next(given)) if is_float(x) else x
                    for x in case.inputs], case.params, case.label)
    try:
        expected = eager(op, rounded).outputs
    except Exception:  # noqa: BLE001  (rounding to float32 made an input the op refuses)
        return
    feed = {i.name: x.astype(np.float32 if low else np.float64) for i, x in zip(session.get_inputs(), floats)}
    try:
        got = session.run(None, feed)
    except Exception as exc:  # noqa: BLE001
        report.refuse(path, case, exc)
        return
    report.compared[path] += 1
    spread = _spread(op, rounded, expected, WIGGLE32 if low else WIGGLE)
    for k, (o, e, s) in enumerate(zip(got, expected, spread)):
        problem = _close(np.asarray(o, np.float64), e, s, low)
        if problem:
            report.disagree(path, rounded, f"output {k}: {problem}")


def _spread(op: type[Function], case: Case, expected: list, wiggle: float) -> list:
    """How far eager's outputs move when every float input moves by `wiggle` (relative, two random directions)."""
    rng = np.random.default_rng(1)
    worst = [np.zeros(np.shape(e)) for e in expected]
    for _ in range(2):
        moved = []
        for x in case.inputs:
            if is_float(x):
                factor = 1.0 + wiggle * rng.choice([-1.0, 1.0], size=np.shape(x))
                x = float(x * factor) if type(x) is float else x * factor
            moved.append(x)
        try:
            outs = eager(op, Case(moved, case.params)).outputs
        except Exception:  # noqa: BLE001
            return [np.full(np.shape(e), np.inf) for e in expected]
        with np.errstate(all="ignore"):
            worst = [np.fmax(w, np.where(np.isnan(o) & ~np.isnan(e), np.inf, np.abs(np.subtract(o, e))))
                     for w, o, e in zip(worst, outs, expected)]
    return worst


def _close(got: np.ndarray, expected: Any, spread: Any, low: bool) -> str:
    """'' when onnxruntime's answer is eager's (to tolerance; inf and nan exactly), else the first difference."""
    e = np.asarray(expected, np.float64)
    if low:
        e = quietly(lambda: e.astype(np.float32).astype(np.float64))
    if got.shape != e.shape:
        return f"shape {got.shape} where eager gives {e.shape}"
    rtol, floor = (RTOL32, FLOOR32) if low else (RTOL, FLOOR)
    with np.errstate(all="ignore"):
        allowed = rtol * np.abs(e) + SLACK * np.asarray(spread) + floor
        ok = np.where(np.isfinite(e), np.isfinite(got) & (np.abs(got - e) <= allowed),
                      (np.isnan(e) & np.isnan(got)) | (got == e))
    if np.all(ok):
        return ""
    k = int(np.argmin(ok.ravel()))
    return f"{float(got.ravel()[k])!r} at {at(k, e.shape)} where eager gives {float(e.ravel()[k])!r}"

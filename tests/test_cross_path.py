"""The cross-path registry (tinygrad_div.crosspath): every registered op agrees with eager on every path, or refuses.

Registry-driven: every op in `registered_ops("tinygrad_div")` (engine/ops/ and nn's)
runs on every path (eager scalar, create_graph, td.compile, ONNX float64 and float32)
over cases derived from its declared metadata plus edge values, so an op added later
is covered without touching this file. A disagreement fails the test, unless it is
listed in KNOWN_GAPS with its reason; a listed gap that no longer shows fails too
("remove it from KNOWN_GAPS"), so the table only shrinks. The assertion message lists
the failures input by input. How an op adds cases of its own: docs/ops.md.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import tinygrad_div
from tinygrad_div import Function, registered_ops
from tinygrad_div.compile import lower
from tinygrad_div.crosspath import PATHS, Case, Group, Report, check_paths
from tinygrad_div.engine import ops

#: (op, path) -> why that path still gives another answer than eager on some edge case.
#: Checked strictly: an entry whose path agrees now fails the test. Fix, then remove the entry.
KNOWN_GAPS: dict[tuple[str, str], str] = {
}

#: Ops the eager scalar path cannot run (no scalar form at all), with the reason.
NO_SCALAR_FORM: dict[str, str] = {
    "MatMul": "numpy.matmul refuses 0-d operands",
    "GetItem": "a scalar cannot be indexed (it raises, by design)",
    "Concatenate": "numpy.concatenate refuses 0-d operands",
    "Stack": "scalars stack to shape (n,), one-element arrays to (n, 1): not the same element",
    "Affine": "its weight is (n_out, n_in) by definition, never a scalar",
    "BroadcastTo": "its example shapes are those of arrays: a one-element array broadcasts to more than one",
    "Where": "its condition is a mask, never a float",
    "Conv": "its input is (N, C, *spatial) by definition",
    "MaxPool": "its input is (N, C, *spatial) by definition",
    "AvgPool": "its input is (N, C, *spatial) by definition",
    "BatchNorm": "its input is (N, C, L) by definition",
}

#: Ops defined with register=False: internal ops that backward rules apply to Values (create_graph). The
#: registry runs them through the op whose create_graph path records them.
INTERNAL: dict[str, str] = {
    "ScatterAdd": "GetItem's backward on Values: checked through GetItem's create_graph path",
    "Unfold": "the window ops' backward on Values: checked through Conv, MaxPool and AvgPool",
    "Fold": "Unfold's adjoint: checked through Conv, MaxPool and AvgPool",
    "Erf": "GELU's derivative on Values: checked through GELU's create_graph path",
}

OPS = registered_ops("tinygrad_div")


def verdict(report: Report, gaps: dict[tuple[str, str], str], no_scalar_form: dict[str, str]) -> list[str]:
    """Every way the report breaks the registry's rule (empty: the op passes), in words."""
    problems = []
    for path in report.paths:
        found, gap = report.on(path), gaps.get((report.op, path))
        if found and gap is None:
            problems += [f"{path} disagrees with eager ({len(found)} cases), e.g.:"]
            problems += [f"    {d}" for d in found[:4]]
        if not found and gap is not None:
            problems.append(f"{path} agrees now: remove ({report.op!r}, {path!r}) from KNOWN_GAPS ({gap})")
        ran = report.compared[path] > 0 or path in report.refusals
        if path == "eager scalar":
            if ran == (report.op in no_scalar_form):
                problems.append(f"eager scalar {'ran' if ran else 'compared nothing'}: "
                                f"{'remove it from' if ran else 'name it with a reason in'} NO_SCALAR_FORM")
        elif not ran and not (path.startswith("onnx") and _onnx_missing()):
            problems.append(f"{path} compared nothing and refused nothing: the registry did not run it")
    return problems


def _onnx_missing() -> bool:
    try:
        importlib.import_module("onnxruntime")
        importlib.import_module("onnx")
    except ImportError:
        return True
    return False


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.__name__)
def test_every_path_agrees_with_eager_or_refuses_by_name(op):
    report = check_paths(op)
    problems = verdict(report, KNOWN_GAPS, NO_SCALAR_FORM)
    assert not problems, f"{op.__name__}:\n" + "\n".join(problems)
    for path, message in report.refusals.items():
        assert op.__name__ in message, (path, message)


def test_the_registry_covers_every_op_the_package_defines():
    """Every Function subclass of engine/ops/ and nn/ is registered (so checked above), and the tables name only ops."""
    defined = set()
    for package in ("tinygrad_div.engine.ops", "tinygrad_div.nn"):
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            module = importlib.import_module(info.name)
            defined |= {cls for _, cls in inspect.getmembers(module, inspect.isclass)
                        if issubclass(cls, Function) and cls is not Function and cls.__module__ == info.name}
    unregistered = {cls.__name__ for cls in defined} - {op.__name__ for op in OPS}
    assert unregistered == set(INTERNAL), f"ops the registry never sees: {sorted(unregistered - set(INTERNAL))}"
    names = {op.__name__ for op in OPS}
    assert {op for op, _ in KNOWN_GAPS} <= names and set(NO_SCALAR_FORM) <= names
    assert {path for _, path in KNOWN_GAPS} <= set(PATHS)
    assert len(OPS) >= 41 and tinygrad_div.crosspath.PATHS == PATHS


# -- the checker catches a wrong path, and accepts a refusal only by name ---------------------------
class OffByOneUlp(Function, register=False):
    """exp, with the scalar branch one ulp high above 0.5."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        if type(a) is float:
            return float(np.nextafter(np.exp(a), np.inf)) if a > 0.5 else float(np.exp(a))
        return np.exp(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * np.exp(a)


class TwiceOnValues(Function, register=False):
    """y = 2a, whose recorded backward (create_graph) doubles once more."""

    @staticmethod
    def forward(ctx, a):
        return 2.0 * a

    @staticmethod
    def backward(ctx, grad):
        return grad * (4.0 if isinstance(grad, tinygrad_div.Value) else 2.0)


class RaisesOnValues(Function, register=False):
    @staticmethod
    def forward(ctx, a):
        return a * 3.0

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, tinygrad_div.Value):
            raise RuntimeError("boom")
        return grad * 3.0


class AbsViaSquareRoot(Function, register=False):
    """|a|, exported as √(a·a): overflows at 1e300 (eager 1e300)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(np.sign(a))
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (sign,) = ctx.saved_tensors
        return grad * sign

    @staticmethod
    def to_onnx(ctx, g, x):
        return g.op("Sqrt", g.op("Mul", x, x))


class Cumulative(Function, register=False):
    """np.cumsum: no ONNX mapping and no to_onnx hook, so export refuses it by name."""

    @staticmethod
    def forward(ctx, a):
        return np.cumsum(a, axis=-1)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(np.cumsum(np.flip(grad, -1), axis=-1), -1)


class DoubleRoundedOff(Function, register=False):
    """y = 2a, exported as a · 2(1 + 1e-10): off by 1e-10 relative, everywhere."""

    @staticmethod
    def forward(ctx, a):
        return 2.0 * a

    @staticmethod
    def backward(ctx, grad):
        return 2.0 * grad

    @staticmethod
    def to_onnx(ctx, g, x):
        return g.op("Mul", x, g.constant(2.0 * (1.0 + 1e-10)))


class CopyAsRatio(Function, register=False):
    """y = a, exported as (a · a) / a: nan at 0 and at ±inf, where eager gives 0 and ±inf."""

    @staticmethod
    def forward(ctx, a):
        return 1.0 * a

    @staticmethod
    def backward(ctx, grad):
        return 1.0 * grad

    @staticmethod
    def to_onnx(ctx, g, x):
        return g.op("Div", g.op("Mul", x, x), x)


def test_bits_are_compared_signed_zeros_and_nans_included():
    from tinygrad_div.crosspath.report import same

    assert not same(-0.0, 0.0) and not same(np.array([0.0, -0.0]), np.array([0.0, 0.0]))
    assert same(np.nan, -np.nan) and not same(np.nan, 1.0) and not same(1.0, np.nan)
    assert not same(np.array([1.0]), 1.0) and not same(np.zeros(2), np.zeros((2, 1)))


def test_a_scalar_branch_off_by_one_ulp_is_caught():
    report = check_paths(OffByOneUlp, paths=("eager scalar",))
    assert report.on("eager scalar") and "element" in report.on("eager scalar")[0].case


def test_a_recorded_backward_that_differs_is_caught():
    report = check_paths(TwiceOnValues, paths=("create_graph", "compile"))
    assert report.on("create_graph") and not report.on("compile")
    assert "gradient of input 0" in report.on("create_graph")[0].detail


def test_an_error_that_does_not_name_the_op_is_a_disagreement():
    report = check_paths(RaisesOnValues, paths=("create_graph",))
    assert "raised RuntimeError without naming the op: boom" in report.on("create_graph")[0].detail


def test_a_compiled_rule_wrong_only_at_an_edge_is_caught(monkeypatch):
    """Issue 15's ReLU rule (mask a > 0, where eager's is out != 0): right on the traced data, wrong at nan.
    The tracer checks a rule on the data it traced only; the registry's edge values find the rest."""
    def relu_masking_with_a_greater_than_0(b, node):
        (a,) = node.ins
        if b.scalar(a):
            return None  # (replayed)
        node.saved["mask"] = b.line("{0} > 0.0", (a,), "ReLU", "mask")
        return b.line("np.maximum({0}, 0.0)", (a,), "ReLU", "relu")

    monkeypatch.setitem(lower.RULES, ops.ReLU, (relu_masking_with_a_greater_than_0, lower.RULES[ops.ReLU][1]))
    report = check_paths(ops.ReLU, paths=("compile",))
    assert report.on("compile") and "gradient of input 0" in str(report.on("compile")[0]), str(report)
    monkeypatch.undo()
    assert check_paths(ops.ReLU, paths=("compile",)).ok


def test_an_onnx_rule_wrong_only_at_an_edge_is_caught_and_a_refusal_by_name_is_not():
    pytest.importorskip("onnxruntime")
    wrong = check_paths(AbsViaSquareRoot, paths=("onnx float64",))
    assert any("where eager gives 1e-300" in d.detail for d in wrong.on("onnx float64")), str(wrong)
    off = check_paths(DoubleRoundedOff, paths=("onnx float64",))
    assert off.on("onnx float64") and not off.refusals, str(off)
    at_inf = Group(Case([np.array([1.0, 2.0])], {}), [Case([np.array([np.inf, 1.0])], {}, "inf")])
    ratio = check_paths(CopyAsRatio, paths=("onnx float64",), cases=[at_inf])
    assert [d.detail for d in ratio.on("onnx float64")] == ["output 0: nan at [0] where eager gives inf"]
    refused = check_paths(Cumulative, paths=("onnx float64", "onnx float32"))
    assert refused.ok and refused.refusals["onnx float64"].startswith("ExportError: Cumulative")


def test_the_known_gap_table_is_strict():
    """A gap that shows is tolerated only when listed; a listed gap that no longer shows fails."""
    case = Case([1.0], {})
    failing = Report("Exp", ("compile",))
    failing.compared["compile"] = 1
    failing.disagree("compile", case, "output 0: 1.0 where eager gives 2.0")
    passing = Report("Exp", ("compile",))
    passing.compared["compile"] = 1
    listed = {("Exp", "compile"): "a reason"}
    assert verdict(failing, {}, {}) and not verdict(failing, listed, {})
    assert "remove ('Exp', 'compile') from KNOWN_GAPS" in verdict(passing, listed, {})[0]
    assert not verdict(passing, {}, {})
    silent = Report("Exp", ("compile",))
    assert "compared nothing" in verdict(silent, {}, {})[0]


def test_cases_come_from_the_declared_metadata_and_the_edges():
    from tinygrad_div.crosspath import groups

    found = groups(ops.Clip)
    values = {float(v) for g in found for c in g.cases for x in c.inputs for v in np.ravel(x)}
    assert {0.0, np.inf, -np.inf, 710.0, -40.0} <= values and any(np.isnan(v) for v in values)
    assert any(c.label == "ties" and np.array_equal(c.inputs[0], c.inputs[1]) for g in found for c in g.cases)
    masks = [c.params["index"] for g in groups(ops.GetItem) for c in g.cases
             if isinstance(c.params.get("index"), np.ndarray) and c.params["index"].dtype == bool]
    assert len({int(m.sum()) for m in masks}) >= 3 and any(not m.any() for m in masks)  # counts change; empty
    one = Group(Case([np.array([1.0, 2.0])], {}), [Case([np.array([np.inf, -0.0])], {})])
    assert check_paths(ops.Exp, paths=("compile",), cases=[one]).compared["compile"] == 2

"""The cross-path registry (as PyTorch's OpInfo): every op, on every path, on the same inputs, held to eager.

    samples    the cases: derived from the op's declared metadata, plus edge values and masks
    paths      eager scalar, create_graph and td.compile, bit for bit
    onnx_path  ONNX float64 and float32 in onnxruntime, to tolerance; inf and nan exactly
    report     what was found: disagreements, refusals by name, how much each path compared

    from tinygrad_div.crosspath import check_paths
    print(check_paths(MyOp))      # a Report; .ok when every path agrees with eager or refuses the op by name

See docs/engine.md ("Paths"). Needs hypothesis (the `dev` extra); the ONNX paths need the `onnx` extra.
"""

from __future__ import annotations

import tempfile

from tinygrad_div.crosspath.onnx_path import check_onnx
from tinygrad_div.crosspath.paths import check_compile, check_create_graph, check_scalar, eager
from tinygrad_div.crosspath.report import PATHS, Disagreement, Report
from tinygrad_div.crosspath.samples import Case, Group, compile_groups, groups
from tinygrad_div.engine.function import Function

__all__ = ["check_paths", "PATHS", "Report", "Disagreement", "Case", "Group", "groups"]


def check_paths(op: type[Function], paths: tuple[str, ...] = PATHS, cases: list[Group] | None = None) -> Report:
    """Run `op` on every path in `paths` over its derived cases (or `cases`) and report where any differs from eager."""
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise ValueError(f"unknown path {unknown[0]!r}: the paths are {', '.join(PATHS)}")
    report = Report(op.__name__, tuple(paths))
    derived = groups(op) if cases is None else cases
    more = compile_groups(op, derived) if cases is None else []
    with tempfile.TemporaryDirectory(prefix="tinygrad_div_paths_") as folder:
        for k, group in enumerate(derived + more):
            references = []
            for case in group.cases:
                try:
                    references.append(eager(op, case))
                except Exception:  # noqa: BLE001  (an input the op itself refuses: no path is asked)
                    references.append(None)
                    report.skipped += 1
            if not any(r is not None for r in references):
                continue
            if k >= len(derived):  # scalars and captured constants: what compiled rules specialise on
                if "create_graph" in paths:
                    check_create_graph(report, op, group, references)
                if "compile" in paths:
                    check_compile(report, op, group, references)
                continue
            if "eager scalar" in paths:
                check_scalar(report, op, group, references)
            if "create_graph" in paths:
                check_create_graph(report, op, group, references)
            if "compile" in paths:
                check_compile(report, op, group, references)
            if "onnx float64" in paths or "onnx float32" in paths:
                check_onnx(report, op, group, references, folder)
    return report

"""Turn measured rows into the markdown report: machine, main table, W3 memory, targets.

A row is the dict `benchmarks.measure` prints (plus the runner's `case` label);
skipped rows carry only a status. Times are shown in µs per unit of work, ratios as
the median of the per-round ratios measured in the row's own process.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

PEERS = ("torch", "mygrad", "autograd", "micrograd")


def machine_info() -> dict[str, str]:
    """What the table's numbers depend on: CPU, versions, BLAS library."""
    import numpy as np

    info = {
        "nproc": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas_name(np),
        "engine": _engine_revision(),
    }
    for peer in PEERS:
        try:
            info[peer] = importlib.metadata.version(peer)
        except importlib.metadata.PackageNotFoundError:
            info[peer] = "not installed"
    return info


def _cpu_model() -> str:
    if shutil.which("lscpu"):
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _engine_revision() -> str:
    """The git commit the engine was measured at, marked when tinygrad_div/ has uncommitted changes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "tinygrad_div"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} + uncommitted changes in tinygrad_div/" if dirty else head


def _blas_name(np) -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # the layout of show_config differs across numpy versions
        return "unknown"


# -- formatting ----------------------------------------------------------------------------
def _us(seconds: float) -> str:
    us = seconds * 1e6
    if us >= 100:
        return f"{us:,.0f}"
    return f"{us:.1f}" if us >= 10 else f"{us:.2f}"


def _median(values: list[float]) -> float:
    return statistics.median(values)


def ratio(row: dict, floor: str) -> float | None:
    """Median of the row's per-round ratios to `floor`, or None when not measured."""
    measured = row.get("floors", {}).get(floor)
    return _median(measured["ratios"]) if measured else None


def median_us(row: dict) -> float | None:
    times = row.get("seconds_per_unit")
    return _median(times) * 1e6 if times else None


def _ratio_cell(row: dict, floor: str, applies: bool) -> str:
    if not applies:
        return ""
    if row["framework"] == floor and row["status"] == "ok":
        return "1 (floor)"
    value = ratio(row, floor)
    return f"{value:.2f}x" if value is not None else ""


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f}"


def main_table(rows: list[dict]) -> str:
    lines = [
        "| case | framework | median µs | min µs | max µs | rounds | × numpy floor | × float floor "
        "| max abs diff | peak RSS MiB | status |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        times = row.get("seconds_per_unit") or []
        has_float_floor = row["workload"] in ("W1", "W5")
        cells = [
            f"{row['case']} (µs/{row['unit']})" if "unit" in row else row["case"],
            row["framework"],
            _us(_median(times)) if times else "",
            _us(min(times)) if times else "",
            _us(max(times)) if times else "",
            str(len(times)) if times else "",
            _ratio_cell(row, "floor-numpy", True),
            _ratio_cell(row, "floor-python", has_float_floor),
            f"{row['max_abs_diff']:.1e}" if row.get("max_abs_diff") is not None else "",
            _mib(row["rss_kib"]["peak"]) if row.get("rss_kib") else "",
            row["status"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory_table(rows: list[dict]) -> str:
    """W3's memory: RSS before the first run, its peak, after the graph is dropped, after gc.collect()."""
    lines = [
        "| case | framework | RSS start MiB | peak MiB | after drop MiB | after gc.collect() MiB "
        "| after malloc_trim MiB | released (drop) | released (trim) |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        rss = row.get("rss_kib")
        if row["workload"] != "W3" or not rss or row["status"] != "ok":
            continue
        trimmed = rss.get("after_trim")
        small = rss["peak"] - rss["start"] < 8 * 1024  # a few MiB of growth: the shares would be noise
        after_drop = "—" if small else f"{released(rss):.0%}"
        after_trim = "—" if small or not trimmed else f"{released(rss, 'after_trim'):.0%}"
        lines.append(
            f"| {row['case']} | {row['framework']} | {_mib(rss['start'])} | {_mib(rss['peak'])} "
            f"| {_mib(rss['after_drop'])} | {_mib(rss['after_gc'])} | {_mib(trimmed) if trimmed else ''} "
            f"| {after_drop} | {after_trim} |"
        )
    return "\n".join(lines)


def released(rss: dict, when: str = "after_drop") -> float:
    """Share of the run's RSS growth given back at `when` (default: once its graph is dropped, no gc.collect())."""
    grown = rss["peak"] - rss["start"]
    return 1.0 if grown <= 0 else (rss["peak"] - rss[when]) / grown


# -- the targets for tinygrad_div ----------------------------------------------------
@dataclass(frozen=True)
class Target:
    case: str
    description: str
    #: the measured value from the case's tinygrad_div row (None when not measured)
    measure: Callable[[dict], float | None]
    limit: float
    unit: str
    #: met when the value is at most the limit (False: at least)
    at_most: bool = True
    #: the row measured: tinygrad_div's, or another of its rows (its compiled one)
    framework: str = "tinygrad_div"


TARGETS = (
    Target("W1", "W1 time ÷ numpy floor", lambda r: ratio(r, "floor-numpy"), 2.5, "x"),
    Target("W2", "W2 time ÷ numpy floor", lambda r: ratio(r, "floor-numpy"), 1.15, "x"),
    Target("W3 N=100,000", "W3 at 100k, per link ÷ numpy floor", lambda r: ratio(r, "floor-numpy"), 3.0, "x"),
    Target("W3 N=100,000", "W3 at 100k, RSS growth released when the graph is dropped",
           lambda r: released(r["rss_kib"]) * 100 if r.get("rss_kib") else None, 90.0, "%", at_most=False),
    Target("W3 N=100,000", "… and after malloc_trim(0) (pages glibc had kept returned)",
           lambda r: released(r["rss_kib"], "after_trim") * 100 if "after_trim" in r.get("rss_kib", {}) else None,
           90.0, "%", at_most=False),
    Target("W3 N=1,000,000", "W3 at 1M links runs", lambda r: 1.0 if r["status"] == "ok" else 0.0, 1.0, "",
           at_most=False),
    Target("W4", "W4 µs per op incl. backward", median_us, 2.5, " µs"),
    Target("W5", "W5 time ÷ plain-float floor", lambda r: ratio(r, "floor-python"), 30.0, "x"),
    Target("W6", "W6 epoch time ÷ torch's, side by side", lambda r: ratio(r, "torch"), 1.0, "x"),
    Target("W7", "W7 (CNN) epoch time ÷ torch's, side by side, compiled", lambda r: ratio(r, "torch"), 1.0, "x",
           framework="tinygrad_div-compiled"),
)


def targets_table(rows: list[dict], framework: str = "tinygrad_div") -> str:
    by_case = {(row["framework"], row["case"]): row for row in rows}
    lines = ["| target | measured | limit | verdict |", "|---|--:|--:|---|"]
    for target in TARGETS:
        row = by_case.get((framework if target.framework == "tinygrad_div" else target.framework, target.case))
        value = target.measure(row) if row is not None else None
        limit = ("≤ " if target.at_most else "≥ ") + f"{target.limit:g}{target.unit}" if target.unit else ""
        if row is None or row["status"].startswith("skipped"):
            lines.append(f"| {target.description} | not measured | {limit} | |")
            continue
        if not target.unit:  # a yes/no target
            measured = "yes" if value else f"no: {row['status']}"
        else:
            measured = f"{value:.2f}{target.unit}" if value is not None else row["status"]
        met = value is not None and (value <= target.limit if target.at_most else value >= target.limit)
        lines.append(f"| {target.description} | {measured} | {limit} | {'met' if met else '**missed**'} |")
    return "\n".join(lines)


#: What the tables measure and how to reproduce them; the top of every report (benchmarks/README.md).
INTRODUCTION = [
    "tinygrad_div against PyTorch, MyGrad, HIPS autograd and micrograd, each next to a hand-written floor",
    "(numpy with manual derivatives; plain Python floats for W1/W5). Workloads: W1 the notes' 2-8-1 network,",
    "per-sample SGD; W2 a 2-64-64-1 network, batches of 256; W3 a chain of N sigmoids; W4 one multiply of",
    "3-element arrays, forward and backward; W5 a micrograd-style scalar 2-16-16-1 MLP; W6 one epoch of a",
    "64-128-10 ReLU MLP on scikit-learn's digits (cross-entropy, Adam, batches of 64) and W7 one epoch of",
    "examples/digits_cnn.py's CNN (two conv-BatchNorm-ReLU blocks, max pool, linear), where torch is also timed",
    "side by side with every row as a second floor. A ratio is the median of",
    "per-round ratios to the floor, measured in alternation, so it holds on a busy machine where absolute times",
    "drift. Regenerate this page with `pip install -e \".[bench]\" && python -m benchmarks.run --output",
    "benchmarks/README.md`; `python -m benchmarks.per_op` prints the per-op overhead and",
    "`python -m benchmarks.profile W5` a profile.",
]


def render(rows: list[dict], info: dict[str, str], runtime: dict, command: str, elapsed: float) -> str:
    """The whole markdown report."""
    blas_env = ", ".join(f"{k}={runtime.get(k, 'unset')}" for k in
                         ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE"))
    peers = ", ".join(f"{peer} {info[peer]}" for peer in PEERS)
    return "\n".join([
        "# Benchmark results",
        "",
        *INTRODUCTION,
        "",
        f"Command: `{command}` (wall time {elapsed / 60:.1f} min)" if elapsed >= 120
        else f"Command: `{command}` (wall time {elapsed:.0f} s)",
        "",
        f"- machine: nproc = {info['nproc']}, CPU: {info['cpu']}; engine at commit {info['engine']}",
        f"- Python {info['python']}, numpy {info['numpy']} (BLAS: {info['blas']}); {peers}",
        f"- BLAS threads pinned in every measuring process: {blas_env}",
        f"- cyclic GC during timed runs: {'enabled (default)' if runtime.get('gc_enabled', True) else 'disabled'}",
        "- each row is its own process: the framework and its floor(s) alternate for the rounds shown, the ratio is "
        "the median of the per-round ratios; weights (or gradients) are compared with the numpy floor's",
        "",
        "## Time per unit of work",
        "",
        main_table(rows),
        "",
        "## W3 memory (first run of each row; peak includes the interpreter and imports)",
        "",
        memory_table(rows),
        "",
        "## Issue 4 targets for tinygrad_div",
        "",
        targets_table(rows),
        "",
    ])

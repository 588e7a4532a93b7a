"""Time one (workload, framework) pair against the workload's floors, inside this one process.

`python -m benchmarks.run` starts this module once per row, as
`python -m benchmarks.measure --workload W1 --framework torch --params '{"samples": 5000}' ...`,
and reads the one JSON line it prints after `RESULT_PREFIX`.

What one row measures:
- rounds: each round runs the framework and every floor once (setup untimed, the run
  timed), alternating which goes first, so that the framework-to-floor ratio is
  measured pair by pair under the same machine load; the table shows the median of
  those per-round ratios. An optional first warm-up round is not timed.
- correctness: the framework's final weights from its first run are compared with the
  reference floor's (the workload's first floor); a difference above the workload's
  tolerance fails the row, whatever its speed.
- memory: the framework runs first in the process, so `ru_maxrss` read right after its
  first run is its peak RSS (interpreter and imports included); RSS is also read
  before that run, after it returns (its graph dropped by reference counting alone),
  after an explicit `gc.collect()`, and after glibc's `malloc_trim(0)` (freed memory
  that the allocator had kept: what remains then is memory still in use).

BLAS threads are pinned to 1 before numpy is imported (the parent pins them too).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import resource
import sys
import time
import traceback
from typing import Any

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
RESULT_PREFIX = "BENCH-RESULT "


def pin_blas_threads(threads: str = "1") -> None:
    """Set the BLAS thread variables (only effective before numpy is first imported)."""
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, threads)


def rss_kib() -> int:
    """Current resident set size of this process in KiB (from /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") // 1024


def trim_malloc() -> bool:
    """Ask glibc to return freed heap pages to the OS (malloc_trim(0)); False where unavailable."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def peak_rss_kib() -> int:
    """Peak resident set size of this process so far, in KiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def max_abs_diff(got: list, want: list) -> float:
    """Largest |got - want| over all weight arrays; inf if their number or shapes differ, nan if any is nan."""
    import numpy as np

    if len(got) != len(want):
        return float("inf")
    worst = 0.0
    for g, w in zip(got, want):
        g, w = np.asarray(g, dtype=np.float64), np.asarray(w, dtype=np.float64)
        if g.shape != w.shape:
            return float("inf")
        if g.size:
            worst = max(worst, float(np.max(np.abs(g - w))))
    return worst


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:100]}" if text else type(exc).__name__


def _timed(setup, problem) -> tuple[float, list]:
    gc.collect()  # garbage from the previous run is not charged to this one
    run = setup(problem)
    start = time.perf_counter()
    weights = run()
    seconds = time.perf_counter() - start
    return seconds, weights


def measure(
    workload: str,
    framework: str,
    params: dict,
    *,
    rounds: int,
    warmup: bool = True,
    budget: float = 60.0,
    setup_override: Any = None,
) -> dict:
    """Measure one row and return it as a JSON-ready dict (see the module docstring).

    `setup_override` replaces the framework's setup (tests use it to check that a
    wrong answer fails the row).
    """
    from benchmarks.workload import FRAMEWORK_MODULES, load

    wl = load(workload)
    row: dict[str, Any] = {"workload": workload, "framework": framework, "params": params, "unit": wl.unit}
    if framework in wl.unsupported:
        return {**row, "status": f"skipped: {wl.unsupported[framework]}"}
    if setup_override is None and importlib.util.find_spec(FRAMEWORK_MODULES[framework]) is None:
        return {**row, "status": "skipped: not installed"}
    setups = dict(wl.setups)
    if setup_override is not None:
        setups[framework] = setup_override
    floors = [f for f in wl.floors if f != framework]
    reference = wl.floors[0]
    problem = wl.make_problem(**params)
    units = wl.units(problem)

    per_round: list[dict[str, float]] = []
    weights: dict[str, list] = {}
    started = time.perf_counter()
    for index in range(rounds + int(warmup)):
        order = [framework, *floors] if index % 2 == 0 else [*floors, framework]
        seconds: dict[str, float] = {}
        for name in order:
            first_framework_run = index == 0 and name == framework
            if first_framework_run:
                gc.collect()
                rss_start = rss_kib()
            try:
                seconds[name], got = _timed(setups[name], problem)
            except Exception as exc:
                status = f"failed: {_describe(exc)}" if name == framework else f"failed: floor {name}: {_describe(exc)}"
                return {**row, "status": status, "traceback": traceback.format_exc(limit=-3)}
            if first_framework_run:
                row["rss_kib"] = {"start": rss_start, "peak": peak_rss_kib(), "after_drop": rss_kib()}
                gc.collect()
                row["rss_kib"]["after_gc"] = rss_kib()
                if trim_malloc():  # what is left now is live memory, not pages the allocator kept
                    row["rss_kib"]["after_trim"] = rss_kib()
            weights.setdefault(name, got)
        if index == 0:
            failure = _check(row, wl, framework, reference, weights)
            if failure:
                return {**row, "status": failure}
        if index >= int(warmup):
            per_round.append(seconds)
        if time.perf_counter() - started > budget and per_round:
            break

    row["rounds"] = len(per_round)
    row["seconds_per_unit"] = [r[framework] / units for r in per_round]
    row["floors"] = {
        floor: {
            "seconds_per_unit": [r[floor] / units for r in per_round],
            "ratios": [r[framework] / r[floor] for r in per_round],
        }
        for floor in wl.floors
        if floor != framework
    }
    row["status"] = "ok"
    return row


def _check(row: dict, wl, framework: str, reference: str, weights: dict) -> str | None:
    """Compare the framework's (and every floor's) first answer with the reference floor's."""
    want = weights[reference]
    worst = 0.0
    for name, got in weights.items():
        if name == reference:
            continue
        diff = max_abs_diff(got, want)
        if not diff <= wl.tolerance:  # also catches nan
            who = "" if name == framework else f"floor {name} "
            return f"failed: {who}weights differ from {reference} by {diff:.3g} (tolerance {wl.tolerance:g})"
        worst = max(worst, diff) if name == framework else worst
    row["max_abs_diff"] = worst
    return None


def runtime_info() -> dict:
    """Thread settings and library versions as this process sees them."""
    import numpy as np

    info = {variable: os.environ.get(variable, "unset") for variable in BLAS_THREAD_VARIABLES}
    info["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE", "unset")
    info["gc_enabled"] = gc.isenabled()
    info["python"] = sys.version.split()[0]
    info["numpy"] = np.__version__
    if "torch" in sys.modules:
        info["torch_threads"] = sys.modules["torch"].get_num_threads()
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure one (workload, framework) row (run by benchmarks.run).")
    parser.add_argument("--workload", required=True)
    parser.add_argument("--framework", required=True)
    parser.add_argument("--params", default="{}", help="JSON keyword arguments of the workload's make_problem")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, choices=(0, 1), default=1)
    parser.add_argument("--budget", type=float, default=60.0, help="stop adding rounds after this many seconds")
    parser.add_argument("--no-gc", action="store_true", help="run with the cyclic garbage collector disabled")
    args = parser.parse_args(argv)
    pin_blas_threads()
    if args.no_gc:
        gc.disable()
    row = measure(args.workload, args.framework, json.loads(args.params),
                  rounds=args.rounds, warmup=bool(args.warmup), budget=args.budget)
    row["runtime"] = runtime_info()
    print(RESULT_PREFIX + json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

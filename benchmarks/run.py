"""Run the benchmark suite: one subprocess per (workload, framework), then print the markdown report.

    python -m benchmarks.run                              # everything (~10 min on 2 cores)
    python -m benchmarks.run --quick                      # tiny sizes, one round: a smoke run
    python -m benchmarks.run --only W1,W4 --frameworks tinygrad_div,torch
    python -m benchmarks.run --output benchmarks/README.md

Every measuring process gets OMP/OPENBLAS/MKL_NUM_THREADS=1 (see --blas-threads)
before numpy loads; OPENBLAS_CORETYPE is passed through as found and recorded.
Peers that are not installed are reported as skipped (install them with
`pip install -e '.[bench]'`).

Exit status: 1 when a tinygrad_div or floor row failed (an exception, or final
weights that disagree with the floor); a peer's failure (micrograd's RecursionError
on W3) is a measurement, reported in the table, not a failure of the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import report
from benchmarks.measure import BLAS_THREAD_VARIABLES, RESULT_PREFIX, pin_blas_threads
from benchmarks.workload import FRAMEWORKS, WORKLOAD_MODULES, Case, load

ROOT = Path(__file__).resolve().parent.parent
OWN = ("tinygrad_div", "tinygrad_div-compiled", "floor-numpy", "floor-python")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round, no warm-up (smoke run)")
    parser.add_argument("--only", default=",".join(WORKLOAD_MODULES), help="workloads, e.g. W1,W4 (default: all)")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                        help=f"comma-separated subset of {','.join(FRAMEWORKS)} (default: all)")
    parser.add_argument("--w3-sizes", default=None, help="only these W3 chain lengths, e.g. 1000,100000")
    parser.add_argument("--rounds", type=int, default=None, help="paired rounds per row (default: per workload)")
    parser.add_argument("--budget", type=float, default=40.0,
                        help="seconds after which a row stops adding rounds (default 40; at least one round runs)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a row's process is killed")
    parser.add_argument("--blas-threads", default="1", help="value of OMP/OPENBLAS/MKL_NUM_THREADS (default 1)")
    parser.add_argument("--no-gc", action="store_true", help="disable the cyclic GC in the measuring processes")
    parser.add_argument("--output", type=Path, help="also write the markdown report to this file")
    parser.add_argument("--json", type=Path, help="also write the raw rows as JSON to this file")
    args = parser.parse_args(argv)
    args.only = _choices(parser, "--only", args.only, WORKLOAD_MODULES)
    args.frameworks = _choices(parser, "--frameworks", args.frameworks, FRAMEWORKS)
    if args.w3_sizes is not None:
        try:
            args.w3_sizes = {int(n.replace("_", "")) for n in args.w3_sizes.split(",")}
        except ValueError:
            parser.error(f"--w3-sizes: expected comma-separated integers, got {args.w3_sizes!r}")
    return args


def _choices(parser: argparse.ArgumentParser, option: str, text: str, allowed) -> list[str]:
    chosen = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in allowed]
    if unknown or not chosen:
        parser.error(f"{option}: unknown {', '.join(unknown) or '(empty)'}; choose from {', '.join(allowed)}")
    return [item for item in allowed if item in chosen]  # table order


def selected_cases(args: argparse.Namespace) -> list[Case]:
    cases = []
    for name in args.only:
        for case in load(name).cases(args.quick):
            if name == "W3" and args.w3_sizes is not None and case.params["n"] not in args.w3_sizes:
                continue
            cases.append(case)
    return cases


def child_environment(blas_threads: str) -> dict[str, str]:
    env = dict(os.environ)
    for variable in BLAS_THREAD_VARIABLES:
        env[variable] = blas_threads
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def measure_row(case: Case, framework: str, args: argparse.Namespace, env: dict[str, str]) -> dict:
    """Run one row in a fresh process and return its result dict (with the case label added)."""
    wl = load(case.workload)
    base = {"case": case.label, "workload": case.workload, "framework": framework, "unit": wl.unit}
    reason = case.skip.get(framework) or wl.unsupported.get(framework)
    if not reason and framework not in wl.setups:
        reason = "not written for this workload"
    if reason:
        return {**base, "status": f"skipped: {reason}"}
    command = [
        sys.executable, "-m", "benchmarks.measure", "--workload", case.workload, "--framework", framework,
        "--params", json.dumps(case.params), "--rounds", str(args.rounds or case.rounds),
        "--warmup", str(int(case.warmup and not args.quick)), "--budget", str(args.budget),
    ]
    if args.no_gc:
        command.append("--no-gc")
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {**base, "status": f"failed: timeout after {args.timeout:g} s"}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return {**json.loads(line[len(RESULT_PREFIX):]), **base}
    return {**base, "status": f"failed: {_exit_reason(done)}"}


def _exit_reason(done: subprocess.CompletedProcess) -> str:
    if done.returncode < 0:
        try:
            what = signal.Signals(-done.returncode).name
        except ValueError:
            what = f"signal {-done.returncode}"
        hint = " (out of memory?)" if what == "SIGKILL" else ""
        return f"killed by {what}{hint}"
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return f"exit {done.returncode}: {last[:120]}"


def _progress(index: int, total: int, row: dict, seconds: float) -> None:
    median = report.median_us(row)
    timing = f"{median:,.2f} µs/{row['unit']}" if median is not None else ""
    floor = report.ratio(row, "floor-numpy")
    ratio = f" {floor:.2f}x numpy floor" if floor is not None else ""
    print(f"[{index}/{total}] {row['case']:<16} {row['framework']:<13} {row['status']:<8} {timing}{ratio}"
          f"  ({seconds:.1f} s)", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pin_blas_threads(args.blas_threads)
    env = child_environment(args.blas_threads)
    jobs = [(case, framework) for case in selected_cases(args) for framework in args.frameworks]
    started = time.perf_counter()
    rows = []
    for index, (case, framework) in enumerate(jobs, 1):
        row_started = time.perf_counter()
        row = measure_row(case, framework, args, env)
        rows.append(row)
        _progress(index, len(jobs), row, time.perf_counter() - row_started)
    elapsed = time.perf_counter() - started

    runtime = next((row["runtime"] for row in rows if "runtime" in row), {})
    command = "python -m benchmarks.run" + "".join(" " + shlex.quote(a) for a in (argv or sys.argv[1:]))
    text = report.render(rows, report.machine_info(), runtime, command, elapsed)
    print(text)
    if args.output:
        args.output.write_text(text + kept_sections(args.output))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    failed = [row for row in rows if row["framework"] in OWN and row["status"].startswith("failed")]
    for row in failed:
        print(f"FAILED: {row['case']} {row['framework']}: {row['status']}", file=sys.stderr)
    return 1 if failed else 0


#: sections of the report file written by other tools (benchmarks.instructions), kept when it is rewritten
KEPT_HEADINGS = ("## Instructions per unit",)


def kept_sections(path: Path) -> str:
    """The sections of an existing report that this run does not produce, from their heading to the end."""
    old = path.read_text() if path.exists() else ""
    starts = [old.find("\n" + heading) for heading in KEPT_HEADINGS if "\n" + heading in old]
    return "\n" + old[min(starts) + 1:] if starts else ""


if __name__ == "__main__":
    sys.exit(main())

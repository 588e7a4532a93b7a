"""Machine instructions per unit of work (W4 per op, W1 per step, W5 per sample), counted under callgrind.

    python -m benchmarks.instructions                      # W4, W1, W5 for tinygrad_div (eager)
    python -m benchmarks.instructions --only W1 --framework tinygrad_div-compiled

Wall-clock ratios on a shared 2-core machine drift by about 10%; instruction counts do
not, once four things are fixed: the cyclic GC is off, BLAS runs one thread (its
spin-waits are what varies), PYTHONHASHSEED is fixed, and address randomisation is
off (`setarch -R`). Under those, a count repeats to the instruction.

Each workload runs in a child process under `valgrind --tool=callgrind`: the problem
is built and set up, then its timed part runs `runs` times. The parent runs the child
twice, with LOW and HIGH runs, and reports the slope (I_high - I_low) / ((HIGH - LOW) ·
units per run): the cost of steady-state work only, since start-up, imports, setup and
the first run's one-time costs cancel. Needs valgrind and setarch (Debian's valgrind,
util-linux).
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile

from benchmarks.measure import BLAS_THREAD_VARIABLES

#: per workload: the problem's size, small enough for callgrind (about 50x slower than native)
SIZES = {"W4": {"iterations": 2_000}, "W1": {"samples": 200}, "W5": {"samples": 30}}
LOW, HIGH = 1, 3  # runs after setup; the first is also where one-time costs land


def child(workload_name: str, framework: str, runs: int) -> None:
    """Set up the workload and run its timed part `runs` times (what callgrind counts)."""
    from benchmarks.workload import load

    gc.disable()
    workload = load(workload_name)
    problem = workload.make_problem(**SIZES[workload_name])
    run = workload.setups[framework](problem)
    for _ in range(runs):
        run()


def count(workload: str, framework: str, runs: int) -> int:
    """Total instructions of one child process under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        env = dict(os.environ, PYTHONHASHSEED="0", **{v: "1" for v in BLAS_THREAD_VARIABLES})
        command = ["setarch", "-R", "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                   sys.executable, "-m", "benchmarks.instructions", "--child", workload,
                   "--framework", framework, "--runs", str(runs)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{workload} under callgrind failed:\n{done.stderr[-2000:]}")
        with open(out) as f:
            totals = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
        if totals is None:
            raise RuntimeError(f"{workload}: no totals line in callgrind's output")
        return int(totals.group(1))


def per_unit(workload_name: str, framework: str) -> float:
    from benchmarks.workload import load

    units = load(workload_name).units(load(workload_name).make_problem(**SIZES[workload_name]))
    low, high = count(workload_name, framework, LOW), count(workload_name, framework, HIGH)
    return (high - low) / ((HIGH - LOW) * units)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="W4,W1,W5", help="workloads, e.g. W4,W1 (default: W4,W1,W5)")
    parser.add_argument("--framework", default="tinygrad_div", help="a framework of benchmarks.workload")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.framework, args.runs)
        return 0
    names = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in names if w not in SIZES]
    if unknown:
        print(f"error: no instruction count for {', '.join(unknown)}; choose from {', '.join(SIZES)}",
              file=sys.stderr)
        return 2
    missing = [tool for tool in ("valgrind", "setarch") if shutil.which(tool) is None]
    if missing:
        print(f"error: {' and '.join(missing)} not found (apt-get install valgrind)", file=sys.stderr)
        return 2
    print("| workload | framework | instructions per unit |\n|---|---|--:|")
    for name in names:
        print(f"| {name} | {args.framework} | {per_unit(name, args.framework):,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

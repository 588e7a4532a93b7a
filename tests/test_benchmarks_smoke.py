"""The benchmark suite can't rot: its quick mode runs for tinygrad_div and agrees with the floors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks import w4_one_op
from benchmarks.measure import measure
from benchmarks.workload import WORKLOAD_MODULES, load

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_of_tinygrad_div_matches_the_floors(tmp_path):
    out = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--frameworks", "tinygrad_div", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(out.read_text())
    assert {row["workload"] for row in rows} == set(WORKLOAD_MODULES)
    for row in rows:
        assert row["status"] == "ok", row
        assert row["max_abs_diff"] <= load(row["workload"]).tolerance, row
        assert row["seconds_per_unit"] and all(t > 0 for t in row["seconds_per_unit"]), row
        assert row["runtime"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "| W1 (µs/step) | tinygrad_div |" in done.stdout


def test_weights_that_disagree_with_the_floor_fail_the_row():
    """The negative control: a framework that is fast but slightly wrong must not pass."""

    def slightly_wrong(problem):
        run = w4_one_op.setup_tinygrad_div(problem)
        return lambda: [np.asarray(w) + 1e-9 for w in run()]

    row = measure("W4", "tinygrad_div", {"iterations": 10}, rounds=1, warmup=False, setup_override=slightly_wrong)
    assert row["status"].startswith("failed: weights differ from floor-numpy"), row
    assert "seconds_per_unit" not in row


def test_an_exception_in_a_framework_is_reported_as_its_status():
    def recursive(problem):
        def run():
            raise RecursionError("maximum recursion depth exceeded")
        return run

    row = measure("W3", "tinygrad_div", {"n": 10}, rounds=1, warmup=False, setup_override=recursive)
    assert row["status"] == "failed: RecursionError: maximum recursion depth exceeded"


def test_instruction_counts_run_each_workload_child_and_refuse_unknown_ones():
    """`benchmarks.instructions` runs the child part (what callgrind counts) without valgrind; a workload
    it has no size for is refused in one line."""
    from benchmarks import instructions

    instructions.child("W4", "tinygrad_div", runs=2)  # the counted part itself runs
    done = subprocess.run([sys.executable, "-m", "benchmarks.instructions", "--only", "W9"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: no instruction count for W9")


def test_rewriting_the_report_keeps_the_instruction_counts(tmp_path):
    from benchmarks.run import kept_sections

    page = tmp_path / "README.md"
    assert kept_sections(page) == ""
    page.write_text("# Benchmark results\n\n| old |\n\n## Instructions per unit\n\n| W4 | 1 |\n")
    assert kept_sections(page) == "\n## Instructions per unit\n\n| W4 | 1 |\n"

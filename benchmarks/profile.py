"""Profile one framework on one workload: cProfile's top functions, and the garbage collector's share.

    python -m benchmarks.profile W1                           # tinygrad_div, full size
    python -m benchmarks.profile W3 --params '{"n": 100000}' --gc
    python -m benchmarks.profile W5 --framework micrograd --top 20 --no-cprofile --gc

The cProfile table is sorted by own time (tottime). `--gc` times the same run with
the cyclic garbage collector enabled and disabled (alternating, fresh setup each
time) and, with it enabled, adds up the time spent inside collections (via
`gc.callbacks`), per generation.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import statistics
import sys
import time

from benchmarks.measure import pin_blas_threads
from benchmarks.workload import FRAMEWORKS, load


class GCClock:
    """Adds up the wall time spent in cyclic-GC collections while installed, per generation."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.perf_counter() - self._started
            self.count[generation] += 1

    def __enter__(self) -> GCClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)


def _time_once(setup, problem, gc_enabled: bool) -> tuple[float, GCClock]:
    gc.collect()
    run = setup(problem)
    was_enabled = gc.isenabled()
    (gc.enable if gc_enabled else gc.disable)()
    try:
        with GCClock() as clock:
            start = time.perf_counter()
            run()
            seconds = time.perf_counter() - start
    finally:
        (gc.enable if was_enabled else gc.disable)()
    return seconds, clock


def gc_share(setup, problem, rounds: int) -> str:
    """Median run time with the GC on and off, and the time measured inside collections."""
    on, off, inside, collections = [], [], [], None
    for index in range(rounds):
        for enabled in ((True, False) if index % 2 == 0 else (False, True)):
            seconds, clock = _time_once(setup, problem, enabled)
            if enabled:
                on.append(seconds)
                inside.append(sum(clock.seconds))
                collections = clock
            else:
                off.append(seconds)
    t_on, t_off, t_in = statistics.median(on), statistics.median(off), statistics.median(inside)
    per_generation = ", ".join(
        f"gen{g}: {collections.count[g]} collections, {collections.seconds[g]:.3f} s" for g in range(3)
    )
    return (
        f"GC enabled: {t_on:.3f} s, disabled: {t_off:.3f} s (median of {rounds}); "
        f"disabling saves {1 - t_off / t_on:.0%}; time inside collections: {t_in:.3f} s = {t_in / t_on:.0%} "
        f"of the enabled run ({per_generation})"
    )


def profile_table(setup, problem, top: int, sort: str) -> str:
    gc.collect()
    run = setup(problem)
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="W1 ... W5")
    parser.add_argument("--framework", default="tinygrad_div", choices=FRAMEWORKS)
    parser.add_argument("--params", default=None, help="JSON make_problem arguments (default: the first full case)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default tottime)")
    parser.add_argument("--no-cprofile", action="store_true", help="skip the cProfile table")
    parser.add_argument("--gc", action="store_true", help="measure the cyclic GC's share of the run time")
    parser.add_argument("--rounds", type=int, default=3, help="rounds for --gc (default 3)")
    args = parser.parse_args(argv)
    pin_blas_threads()

    wl = load(args.workload)
    params = json.loads(args.params) if args.params else wl.cases(False)[0].params
    setup = wl.setups.get(args.framework)
    if setup is None:
        parser.error(f"{args.framework} cannot run {args.workload}: {wl.unsupported.get(args.framework, '')}")
    problem = wl.make_problem(**params)
    print(f"{args.workload} {json.dumps(params)} with {args.framework}: {wl.units(problem):,} {wl.unit}s per run")
    setup(problem)()  # warm-up: imports, first-call caches
    if not args.no_cprofile:
        print(profile_table(setup, problem, args.top, args.sort))
    if args.gc:
        print(gc_share(setup, problem, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())

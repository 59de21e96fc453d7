"""Median wall-clock timer (time.perf_counter) with warm-up."""
import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    median: float        # seconds
    runs: int            # timed runs (warm-up excluded)
    best: float          # fastest run, seconds

    def as_dict(self):
        return {"median_s": self.median, "runs": self.runs, "min_s": self.best}


def measure(fn, *, min_time=0.2, min_runs=5, max_runs=10_000, warmup=1,
            slow_call=1.0, slow_runs=3):
    """Median of repeated calls of fn() after `warmup` untimed calls.

    Repeats until the timed runs add up to `min_time` seconds and there are at
    least `min_runs` of them.  A call slower than `slow_call` seconds in the
    warm-up caps the repeats at `slow_runs` (e.g. torch's Hessian at n = 1000).
    """
    first = 0.0
    for _ in range(max(warmup, 0)):
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
    if warmup and first > slow_call:
        min_runs, max_runs, min_time = min(min_runs, slow_runs), slow_runs, 0.0
    times = []
    total = 0.0
    while len(times) < max_runs and (len(times) < min_runs or total < min_time):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
    return Timing(statistics.median(times), len(times), min(times))


def one_shot(make_and_call, runs=3):
    """Median of `runs` timings of make_and_call(), which must start from scratch
    every time (e.g. build and jit-compile a fresh function, then call it once)."""
    times = []
    for _ in range(max(runs, 1)):
        t0 = time.perf_counter()
        make_and_call()
        times.append(time.perf_counter() - t0)
    return Timing(statistics.median(times), len(times), min(times))


def paired_ratio(fn, baseline, *, min_time=0.5, min_rounds=15, max_rounds=5_000):
    """Median over rounds of time(fn) / time(baseline), the two called back to back in each
    round (in alternating order), so that drift of the machine's speed — which on a shared
    VM moves a single median by tens of percent — cancels in every ratio."""
    fn()
    baseline()
    ratios = []
    total = 0.0
    while len(ratios) < max_rounds and (len(ratios) < min_rounds or total < min_time):
        pair = []
        for f in ((fn, baseline) if len(ratios) % 2 == 0 else (baseline, fn)):
            t0 = time.perf_counter()
            f()
            pair.append(time.perf_counter() - t0)
        if len(ratios) % 2:
            pair.reverse()
        ratios.append(pair[0] / pair[1])
        total += pair[0] + pair[1]
    return statistics.median(ratios), len(ratios)

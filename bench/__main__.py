"""python -m bench [--quick] [--threads N] [--sections grad,hess,cold,depth]

Pins the thread counts in the environment BEFORE numpy, jax or torch is imported
(all of them are imported inside main(), after _pin_threads), runs the sections
and writes bench/RESULTS.md and bench/results.json (bench/RESULTS.quick.md and
bench/results.quick.json for --quick).
"""
import argparse
import os
import sys
import time
from pathlib import Path

SECTIONS = ("grad", "hess", "cold", "depth")
HERE = Path(__file__).resolve().parent

FULL = {"grad_sizes": [100, 1000], "hess_sizes": [100, 500, 1000],
        "timer": {"min_time": 0.2, "min_runs": 5, "warmup": 1, "slow_call": 1.0, "slow_runs": 3},
        "one_shot_runs": 3, "process_runs": 5, "depth_runs": 3,
        "depths": [1, 2, 4, 8, 16, 32, 64], "depth_timeout": 120.0}
QUICK = {"grad_sizes": [50], "hess_sizes": [50],
         "timer": {"min_time": 0.01, "min_runs": 3, "warmup": 1, "slow_call": 0.5, "slow_runs": 1},
         "one_shot_runs": 1, "process_runs": 1, "depth_runs": 1,
         "depths": [1, 2, 4, 8], "depth_timeout": 30.0}


def _parse(argv):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: small sizes, few repeats (well under a minute)")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for BLAS / XLA / torch, the same for all (default 1)")
    ap.add_argument("--stock", action="store_true",
                    help="leave glibc malloc untuned (see bench/README.md)")
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help="comma-separated subset of " + ",".join(SECTIONS))
    args = ap.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown or args.threads < 1:
        ap.error(f"unknown section(s) {sorted(unknown)}" if unknown else "--threads must be ≥ 1")
    return args


def _pin_threads(n):
    """Same thread count for every library, and the process (so also XLA's own thread
    pool, which ignores the flags, and every subprocess) bound to n CPUs."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:n])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)
    xla = ("--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" if n == 1
           else f"intra_op_parallelism_threads={n}")
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + xla).strip()
    os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"


def _tune_allocation(stock):
    """Keep glibc from handing every large temporary back to the OS: otherwise each
    n×n temporary of NumPy (and torch, which also uses malloc) costs a storm of
    page faults on every call, while jax has its own caching allocator."""
    tuned = {}
    if stock:
        return tuned
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        if libc.mallopt(m_mmap_threshold, 32 << 20) and libc.mallopt(m_trim_threshold, 512 << 20):
            tuned["mallopt"] = "M_MMAP_THRESHOLD=32 MiB, M_TRIM_THRESHOLD=512 MiB"
    except (OSError, AttributeError):
        pass
    return tuned


# Set on this machine because older OpenBLAS builds misbehave on it; they pin a current
# numpy to slower kernels (a 1000² product 1.6× slower), which would make the comparison
# with jax/torch unfair. Only the bench unsets them (never the tests or CI).
PINNED_KERNELS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _unpin_kernels(argv):
    """Re-execute this command with PINNED_KERNELS unset (they are read when OpenBLAS
    loads, so unsetting them inside the process would be too late); what was unset goes
    into the report."""
    pinned = [v for v in PINNED_KERNELS if v in os.environ]
    if not pinned:
        return
    os.environ["MATGRAD_BENCH_UNSET"] = "unset for this run: " + ", ".join(
        f"{v}={os.environ.pop(v)}" for v in pinned)
    os.execv(sys.executable, [sys.executable, "-m", "bench",
                              *(sys.argv[1:] if argv is None else argv)])


def main(argv=None):
    _unpin_kernels(argv)
    args = _parse(argv)
    _pin_threads(args.threads)           # before anything imports numpy / jax / torch
    tuning = _tune_allocation(args.stock)

    import torch
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)
    from bench import cli_bench, machine, problems, report, suite  # imports numpy, jax

    cfg = QUICK if args.quick else FULL
    started = time.time()
    res = {"meta": {"mode": "quick" if args.quick else "full",
                    "command": "python -m bench" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
                    "threads": args.threads, "tuning": tuning, "timer": cfg["timer"],
                    "one_shot_runs": cfg["one_shot_runs"], "process_runs": cfg["process_runs"]},
           "machine": machine.info(), "failures": []}
    fails = res["failures"]
    if "grad" in args.sections:
        res["gradients"] = suite.run_section(
            problems.GRADIENTS, cfg["grad_sizes"], {**cfg, "one_shot_runs": 0}, fails, "grad")
    if "hess" in args.sections:
        res["hessians"] = suite.run_section(
            problems.HESSIANS, cfg["hess_sizes"], cfg, fails, "hess")
    if "cold" in args.sections:
        res["eval_n"] = cli_bench.EVAL_N
        res["cold_start"] = cli_bench.cold_start(cfg["process_runs"], fails)
    if "depth" in args.sections:
        res["depth"] = cli_bench.depth(cfg["depths"], cfg["depth_runs"], cfg["depth_timeout"])
    res["meta"]["runtime_s"] = time.time() - started

    suffix = ".quick" if args.quick else ""
    md, js = HERE / f"RESULTS{suffix}.md", HERE / f"results{suffix}.json"
    report.write(res, md, js)
    print(f"wrote {md} and {js} in {res['meta']['runtime_s']:.0f} s", file=sys.stderr)
    for f in fails:
        print(f"FAILURE: {f}", file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

"""Machine and software description for the report."""
import os
import platform
import sys
from importlib import metadata

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "XLA_FLAGS", "JAX_PLATFORMS",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _proc_field(path, key):
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.split(":")[0].strip() == key:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _blas():
    import numpy as np
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]
        return ", ".join(f"{k}: {v.get('name')} {v.get('version', '')}".strip()
                         for k, v in deps.items() if k in ("blas", "lapack"))
    except Exception:  # noqa: BLE001 - reported, not raised
        return "unknown"


def _openblas_core():
    """The kernel set OpenBLAS picked (from the library numpy loaded)."""
    import ctypes
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            paths = {ln.split()[-1] for ln in fh if "openblas" in ln.lower()}
    except OSError:
        return "unknown"
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for sym in ("openblas_get_corename", "scipy_openblas_get_corename64_",
                    "openblas_get_corename64_", "scipy_openblas_get_corename"):
            fn = getattr(lib, sym, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return "unknown"


def _threadpool():
    """What threadpoolctl sees: each BLAS loaded, its version, kernels and threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('prefix')}): "
                     f"kernels {i.get('architecture')}, {i.get('num_threads')} thread(s)"
                     for i in threadpool_info()) or "none"


def _load():
    try:
        with open("/proc/loadavg", encoding="utf-8") as fh:
            one, five, fifteen = fh.read().split()[:3]
    except OSError:
        return None
    return f"load average {one} / {five} / {fifteen} (1 / 5 / 15 min) when the run started"


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def info():
    import jax
    import numpy as np
    import torch
    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name"),
        "logical_cores": os.cpu_count(),
        "memory": _proc_field("/proc/meminfo", "MemTotal"),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "numpy_blas": _blas(),
        "openblas_core": _openblas_core(),
        "threadpool": _threadpool(),
        "load": _load(),
        "unset": os.environ.get("MATGRAD_BENCH_UNSET") or
        "OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE not set",
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "jax": jax.__version__,
        "jaxlib": _version("jaxlib"),
        "jax_enable_x64": bool(jax.config.jax_enable_x64),
        "torch": torch.__version__,
        "matgrad": _version("matgrad"),
        "threads": {
            **{v: os.environ.get(v, "(unset)") for v in THREAD_VARS},
            "torch.get_num_threads()": torch.get_num_threads(),
            "torch.get_num_interop_threads()": torch.get_num_interop_threads(),
        },
    }

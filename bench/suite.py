"""In-process sections: gradients (§1) and Hessians (§2), every framework side by side."""
import sys

import numpy as np

from bench.frameworks import FRAMEWORKS, Unavailable
from bench.timing import measure, one_shot, paired_ratio


# (framework, baseline) pairs timed back to back, alternating, for their ratio: matgrad's
# NumPy evaluation against the hand-written form, its jax backend against jax's own autodiff
PAIRED = (("matgrad", "numpy"), ("matgrad_jax", "jax"))


class BenchError(AssertionError):
    """A baseline framework disagrees with the hand-written closed form."""


def mismatch(got, ref):
    """None when got equals ref (tuple of arrays), else a short description."""
    if len(got) != len(ref):
        return f"{len(got)} outputs, expected {len(ref)}"
    for i, (g, r) in enumerate(zip(got, ref)):
        g = np.asarray(g, dtype=np.float64)
        if g.shape != r.shape:
            return f"output {i}: shape {g.shape}, expected {r.shape}"
        scale = max(1.0, float(np.max(np.abs(r))))
        if not np.allclose(g, r, rtol=1e-6, atol=1e-8 * scale):
            err = float(np.max(np.abs(g - r))) / scale
            return f"output {i}: max abs error {err:.2e} relative to max |entry|"
    return None


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def _run_framework(name, prepare, p, n, arrays, ref, cfg, failures):
    try:
        prep = prepare(p, arrays)
        out = prep.call()
    except Unavailable as exc:
        return {"status": f"n/a: {exc}"}
    except Exception as exc:
        if not name.startswith("matgrad"):
            raise
        failures.append(f"{name} {p.key} n={n} (order {p.order}): {type(exc).__name__}: {exc}")
        return {"status": f"error: {type(exc).__name__}: {exc}"}
    bad = mismatch(prep.extract(out), ref)
    if bad:
        msg = f"{name} disagrees with the hand-written {p.key} n={n} (order {p.order}): {bad}"
        if not name.startswith("matgrad"):
            raise BenchError(msg)
        _log("!!! WRONG: " + msg)
        failures.append(msg)
        return {"status": f"WRONG: {bad}"}
    if prep.positional is not None:
        bad = mismatch(tuple(np.asarray(v) for v in prep.positional()), ref)
        if bad:
            msg = f"{name} (positional) disagrees with the hand-written {p.key} n={n}: {bad}"
            _log("!!! WRONG: " + msg)
            failures.append(msg)
            return {"status": f"WRONG (positional): {bad}"}
    t = measure(prep.call, **cfg["timer"])
    res = {"status": "ok", **t.as_dict(), "setup_s": prep.setup_s, "_call": prep.call,
           "_positional": prep.positional}
    if prep.xla_cost is not None:
        try:
            res["xla_cost"] = prep.xla_cost()
        except Exception as exc:  # noqa: BLE001 - a jax without cost analysis: the row stays
            res["xla_cost_error"] = f"{type(exc).__name__}: {exc}"
    if cfg["one_shot_runs"] and prep.one_shot is not None:
        res["one_shot"] = one_shot(prep.one_shot, cfg["one_shot_runs"]).as_dict()
    return res


def run_section(problems, sizes, cfg, failures, label):
    """Rows of one table: each problem at each size, each framework."""
    rows = []
    for p in problems:
        for n in sizes:
            arrays = p.inputs(n)
            ref = tuple(np.asarray(r) for r in p.numpy(*p.positional(arrays)))
            row = {"problem": p.key, "title": p.title, "n": n, "expr": p.expr,
                   "wrt": list(p.wrt), "order": p.order,
                   "shapes": {k: list(np.shape(v)) for k, v in arrays.items()},
                   "results": {}}
            for name, prepare in FRAMEWORKS.items():
                res = _run_framework(name, prepare, p, n, arrays, ref, cfg, failures)
                row["results"][name] = res
                shown = (f"{res['median_s'] * 1e3:.3f} ms ({res['runs']} runs)"
                         if res["status"] == "ok" else res["status"][:90])
                _log(f"[{label}] {p.key} n={n} {name}: {shown}")
            results = row["results"]
            for fn_name, base_name in PAIRED:
                if not all(results.get(k, {}).get("status") == "ok"
                           for k in (fn_name, base_name)):
                    continue
                calls = {"": results[fn_name]["_call"]}
                if results[fn_name].get("_positional") is not None:
                    calls["_positional"] = results[fn_name]["_positional"]
                for how, call in calls.items():
                    ratio, rounds = paired_ratio(call, results[base_name]["_call"],
                                                 min_time=cfg["timer"].get("min_time", 0.2) * 2)
                    row[f"paired_{fn_name}{how}_over_{base_name}"] = {"median_ratio": ratio,
                                                                      "rounds": rounds}
                    _log(f"[{label}] {p.key} n={n} {fn_name}{how}/{base_name} paired: "
                         f"{ratio:.3f} ({rounds} rounds)")
            for res in results.values():
                res.pop("_call", None)
                res.pop("_positional", None)
            rows.append(row)
    return rows

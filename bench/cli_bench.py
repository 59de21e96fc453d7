"""Whole-process sections (§3): cold start of `matgrad derive` / `matgrad eval`, and
derive time and printed size against network depth L."""
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import problems as P
from bench.suite import mismatch

EVAL_N = 20        # size of the eval inputs: cold start measures the process, not the maths

# a dsl token: ||, .* ./ .^, a number, a name, or any other single character
TOKEN = re.compile(r"\|\||\.[*/^]|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|[^\W\d]\w*|\S")


def matgrad_command():
    """The installed `matgrad` script; else, when the package is importable from the
    working directory (repo root, not pip-installed), the same entry point via -c."""
    beside = Path(sys.executable).with_name("matgrad")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("matgrad")
    if found:
        return [found]
    try:
        if importlib.util.find_spec("matgrad_cli.cli") is not None:
            return [sys.executable, "-c",
                    "import sys; from matgrad_cli.cli import main; sys.exit(main())"]
    except ImportError:
        pass
    return None


def _last_line(text):
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:160] if lines else ""


def time_cmd(cmd, runs, warmup=1, timeout=120.0):
    """Median wall time of whole processes; status 'ok' or why not."""
    times, proc = [], None
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            return {"status": f"timeout (> {timeout:.0f} s)"}, None
        dt = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"status": f"error (exit {proc.returncode}): {_last_line(proc.stderr)}"}, proc
        if i >= warmup:
            times.append(dt)
    return {"status": "ok", "median_s": statistics.median(times), "runs": len(times),
            "min_s": min(times)}, proc


def _save_inputs(arrays, folder):
    opts = []
    for name, a in arrays.items():
        if np.ndim(a) == 0:
            opts += ["-i", f"{name}={float(a)!r}"]
        else:
            path = Path(folder) / f"{name}.npy"
            np.save(path, a)
            opts += ["-i", f"{name}={path}"]
    return opts


def _gauss_inputs(shapes):
    rng = np.random.default_rng(7)
    return {k: rng.standard_normal(s) for k, s in shapes.items()}


def _problem_ref(p):
    return lambda a: dict(zip(("grad_" + w for w in p.wrt), p.numpy(*p.positional(a))))


def _relu_chain_ref(a):
    # f = A (B V relu(W z))^2 with A 1×l: g = 2 a ⊙ u, u = B V r, r = relu(W z)
    h = a["W"] @ a["z"]
    r = np.maximum(h, 0.0)
    g = 2.0 * a["A"][0] * (a["B"] @ (a["V"] @ r))
    bg = a["B"].T @ g
    return {"grad_V": np.outer(bg, r), "grad_W": np.outer((h > 0) * (a["V"].T @ bg), a["z"])}


def _sign_ref(a):
    m, n = a["X"].shape         # d(X + A .* sign(X))/dX = identity, shaped f.shape + X.shape
    return {"grad_X": np.eye(m * n).reshape(m, n, m, n)}


def cold_cases():
    n = EVAL_N
    cases = [(p.title, p.expr, list(p.wrt), [], p.inputs(n), _problem_ref(p))
             for p in P.GRADIENTS[:3]]
    cases.append(("(d) A*(B*V*relu(W*z)).^2", "A*(B*V*relu(W*z)).^2", ["V", "W"],
                  ["--shape", "A=1,l"],
                  _gauss_inputs({"A": (1, n), "B": (n, n), "V": (n, n), "W": (n, n), "z": (n,)}),
                  _relu_chain_ref))
    cases.append(("(e) X + A .* sign(X)", "X + A .* sign(X)", ["X"], [],
                  _gauss_inputs({"X": (10, 10), "A": (10, 10)}), _sign_ref))
    return cases


def working_command():
    """(command, 'ok') when `matgrad derive` answers a trivial input, else (cmd, why not)."""
    cmd = matgrad_command()
    if cmd is None:
        return None, "n/a: matgrad CLI not installed (no `matgrad` command)"
    probe, _ = time_cmd(cmd + ["derive", "x'*x", "--wrt", "x", "--format", "dsl"], 1, 0)
    if probe["status"] != "ok":
        return cmd, f"n/a: matgrad CLI not working ({probe['status']})"
    return cmd, "ok"


def _check_eval(out_path, ref, arrays):
    """Compare the derivatives eval wrote with -o against a closed form."""
    want = ref(arrays)
    try:
        with np.load(out_path) as z:
            got = tuple(z[k] for k in want)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"cannot read -o output: {exc}"
    bad = mismatch(got, tuple(want.values()))
    return f"WRONG: {bad}" if bad else "matches closed form"


def cold_start(runs, failures):
    cmd, status = working_command()
    out = {"reference": _references(runs), "cases": [], "command": cmd, "status": status}
    if status != "ok":
        return out
    with tempfile.TemporaryDirectory(prefix="matgrad-bench-") as tmp:
        for i, (title, expr, wrt, extra, arrays, ref) in enumerate(cold_cases()):
            wrt_opts = [o for w in wrt for o in ("--wrt", w)]
            derive, _ = time_cmd(cmd + ["derive", expr] + wrt_opts + extra, runs)
            out_npz = os.path.join(tmp, f"out{i}.npz")
            inputs = _save_inputs(arrays, tmp)
            ev, _ = time_cmd(cmd + ["eval", expr] + wrt_opts + inputs + ["-o", out_npz], runs)
            check = _check_eval(out_npz, ref, arrays) if ev["status"] == "ok" else "-"
            if check.startswith("WRONG"):
                failures.append(f"matgrad eval {title}: {check}")
            out["cases"].append({"title": title, "expr": expr, "wrt": wrt, "extra": extra,
                                 "derive": derive, "eval": ev, "check": check})
            print(f"[cold] {title}: derive {derive['status']} eval {ev['status']} {check}",
                  file=sys.stderr, flush=True)
    return out


def _references(runs):
    py = sys.executable
    refs = [("python -c pass", [py, "-c", "pass"]),
            ("python -c 'import numpy'", [py, "-c", "import numpy"]),
            ("python -c 'import sympy'", [py, "-c", "import sympy"]),
            ("python -c 'import jax'", [py, "-c", "import jax"]),
            ("python -c 'import torch'", [py, "-c", "import torch"])]
    return [{"command": label, **time_cmd(cmd, runs)[0]} for label, cmd in refs]


def chain_expr(L):
    return "||" + "*".join(f"W{i}" for i in range(L, 0, -1)) + "*x - y||^2"


def tanh_expr(L):
    inner = "W1*x"
    for i in range(2, L + 1):
        inner = f"W{i}*tanh({inner})"
    return f"||{inner} - y||^2"


FAMILIES = (("linear chain ||W_L⋯W_1 x − y||²", chain_expr),
            ("tanh MLP ||W_L tanh(⋯tanh(W_1 x)) − y||²", tanh_expr))


def depth(depths, runs, timeout):
    cmd, status = working_command()
    out = {"families": [], "status": status}
    for label, make in FAMILIES:
        fam = {"family": label, "example": make(3), "rows": []}
        stop = None
        for L in depths:
            row = {"L": L}
            if stop:
                row["status"] = f"skipped ({stop} at a smaller L)"
            elif status != "ok":
                row["status"] = "n/a (see above)"
            else:
                t, proc = time_cmd(cmd + ["derive", make(L), "--wrt", "W1", "--format", "dsl"],
                                   runs, 0, timeout)
                row.update(t)
                if t["status"] == "ok":
                    text = proc.stdout.strip()
                    row["chars"] = len(text)
                    row["tokens"] = len(TOKEN.findall(text))
                elif t["status"].startswith("timeout"):
                    stop = "timeout"
            fam["rows"].append(row)
            print(f"[depth] {label[:12]} L={L}: {row.get('status')} {row.get('chars', '')}",
                  file=sys.stderr, flush=True)
        out["families"].append(fam)
    return out

"""RESULTS.md (markdown tables, ratios against the hand-written NumPy baseline) and
results.json (everything, in seconds)."""
import json
import math

FRAMEWORKS = ("numpy", "matgrad", "matgrad_jax", "jax", "torch")
OTHERS = ("matgrad", "matgrad_jax", "jax", "torch")
LABELS = {"numpy": "hand NumPy", "matgrad": "matgrad (numpy)",
          "matgrad_jax": "matgrad (jax backend)", "jax": "jax.jit(grad)", "torch": "torch"}


def fmt_time(s):
    if s is None or not isinstance(s, (int, float)) or math.isnan(s):
        return "–"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1.0:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


class Notes:
    """Footnotes for cells that hold no time (n/a, error, WRONG)."""

    def __init__(self):
        self.items = []

    def cell(self, res):
        status = res.get("status", "n/a")
        if status == "ok":
            return fmt_time(res["median_s"])
        if status not in self.items:
            self.items.append(status)
        mark = self.items.index(status) + 1
        word = "**WRONG**" if status.startswith("WRONG") else status.split(":")[0].split(" (")[0]
        return f"{word} [{mark}]"

    def render(self):
        return "\n".join(f"[{i}] {s}  " for i, s in enumerate(self.items, 1))


def _ratio(res, base):
    if res.get("status") != "ok" or base.get("status") != "ok":
        return "–"
    return f"{res['median_s'] / base['median_s']:.2f}"


def xla_work(row, measure):
    """matgrad's jax program over jax's own, in XLA's cost analysis (``flops`` or
    ``bytes``, ``transcendentals``), or None where either is missing (1 where both are 0)."""
    r = row["results"]
    try:
        ours, theirs = (r[f]["xla_cost"][measure] for f in ("matgrad_jax", "jax"))
    except KeyError:
        return None
    if ours == theirs == 0:
        return 1.0
    return ours / theirs if theirs > 0 and not math.isnan(ours / theirs) else None


def _work(row):
    flops, moved = xla_work(row, "flops"), xla_work(row, "bytes")
    return "–" if flops is None or moved is None else f"{flops:.2f} / {moved:.2f}"


def _timed_table(rows, extra_header, extra_cells, labels=LABELS):
    notes = Notes()
    body = []
    for row in rows:
        r = row["results"]
        body.append([row["title"], row["n"]]
                    + [notes.cell(r[f]) for f in FRAMEWORKS]
                    + [_ratio(r[f], r["numpy"]) for f in OTHERS]
                    + [_paired(row), _paired(row, "matgrad_jax", "jax"),
                       _paired(row, "matgrad_positional"),
                       _paired(row, "matgrad_jax_positional", "jax"), _work(row)]
                    + extra_cells(r))
    header = (["problem", "n"] + [labels[f] for f in FRAMEWORKS]
              + [f"{labels[f]} / hand" for f in OTHERS]
              + ["matgrad (numpy) / hand, paired", f"matgrad (jax) / {labels['jax']}, paired",
                 "positional: matgrad (numpy) / hand, paired",
                 f"positional: matgrad (jax) / {labels['jax']}, paired",
                 f"XLA work, matgrad (jax) / {labels['jax']}: flops / bytes"]
              + extra_header)
    text = _table(header, body)
    return text + ("\n\n" + notes.render() if notes.items else "")


def _worst(rows, value) -> str:
    """'1.07 (problem n=100)' for the largest value(row) over the rows that have one."""
    found = [(v, row) for row in rows if (v := value(row)) is not None]
    if not found:
        return "–"
    v, row = max(found, key=lambda item: item[0])
    return f"{v:.2f} ({row['title']}, n = {row['n']})"


def summary(rows, jax_label="jax.jit(grad)") -> str:
    """One line: the worst ratios of the table."""
    def paired(row, fn="matgrad", base="numpy"):
        return (row.get(f"paired_{fn}_over_{base}") or {}).get("median_ratio")

    def over(f, base):
        def ratio(row):
            r = row["results"]
            if r.get(f, {}).get("status") == "ok" and r.get(base, {}).get("status") == "ok":
                return r[f]["median_s"] / r[base]["median_s"]
            return None
        return ratio

    return ("**Worst ratios**: matgrad (numpy) / hand NumPy, paired "
            f"{_worst(rows, paired)}; matgrad (jax backend) / {jax_label}, paired "
            f"{_worst(rows, lambda row: paired(row, 'matgrad_jax', 'jax'))}; "
            "matgrad (jax backend) / hand NumPy "
            f"{_worst(rows, over('matgrad_jax', 'numpy'))}. Called positionally "
            "(`fn.positional(*arrays)`, as the hand-written form and jax.jit are): "
            f"matgrad (numpy) / hand NumPy, paired "
            f"{_worst(rows, lambda row: paired(row, 'matgrad_positional'))}; "
            f"matgrad (jax backend) / {jax_label}, paired "
            f"{_worst(rows, lambda row: paired(row, 'matgrad_jax_positional', 'jax'))}."
            + work_summary(rows, jax_label))


def work_summary(rows, jax_label) -> str:
    """The XLA cost analysis of the two jax programs: where matgrad's does the same work
    (flops, bytes and transcendentals within 1 %), a timed ratio measures noise, not
    formulas."""
    measures = ("flops", "bytes", "transcendentals")
    costed = [row for row in rows if xla_work(row, "flops") is not None
              and xla_work(row, "bytes") is not None]
    if not costed:
        return ""
    same = [row for row in costed
            if all(abs((xla_work(row, m) or 1) - 1) <= 0.01 for m in measures)]
    less = [row for row in costed if row not in same
            and all((xla_work(row, m) or 1) <= 1.01 for m in measures)]
    return (f" XLA's cost analysis of the compiled programs, matgrad (jax backend) / "
            f"{jax_label}: worst flops {_worst(costed, lambda row: xla_work(row, 'flops'))}, "
            f"worst bytes {_worst(costed, lambda row: xla_work(row, 'bytes'))}; "
            f"{len(less)} of {len(costed)} rows do less work, {len(same)} the same work "
            "(a tie by construction: there the timed ratio measures noise)"
            + (f", {more} more" if (more := len(costed) - len(less) - len(same)) else "") + ".")


def _paired(row, fn="matgrad", base="numpy"):
    paired = row.get(f"paired_{fn}_over_{base}")
    return f"**{paired['median_ratio']:.2f}**" if paired else "–"


def _setup(res):
    return fmt_time(res.get("setup_s")) if res.get("status") == "ok" else "–"


def _one_shot(res):
    return fmt_time(res.get("one_shot", {}).get("median_s")) if res.get("status") == "ok" else "–"


def gradients_md(rows):
    return _timed_table(rows, ["matgrad compile", "jax compile + 1st call"],
                        lambda r: [_setup(r["matgrad"]), _setup(r["jax"])])


def hessians_md(rows):
    return _timed_table(rows, ["matgrad one-shot", "jax one-shot"],
                        lambda r: [_one_shot(r["matgrad"]), _one_shot(r["jax"])],
                        {**LABELS, "jax": "jax.jit(hessian)", "torch": "torch hessian"})


def cold_md(cold):
    parts = []
    if cold["status"] != "ok":
        parts.append(f"matgrad: {cold['status']}")
    else:
        notes = Notes()
        body = [[c["title"], f"`{c['expr']}`", " ".join(f"--wrt {w}" for w in c["wrt"])
                 + (" " + " ".join(c["extra"]) if c["extra"] else ""),
                 notes.cell(c["derive"]), notes.cell(c["eval"]), c["check"]]
                for c in cold["cases"]]
        parts.append(f"matgrad command: `{' '.join(cold['command'])}`")
        parts.append(_table(["problem", "expression", "options", "matgrad derive",
                             "matgrad eval", "eval -o checked"], body))
        if notes.items:
            parts.append(notes.render())
    notes = Notes()
    ref = _table(["reference process", "median"],
                 [[f"`{r['command']}`", notes.cell(r)] for r in cold["reference"]])
    parts.append(ref + ("\n\n" + notes.render() if notes.items else ""))
    return "\n\n".join(parts)


def depth_md(dep):
    parts = [] if dep.get("status", "ok") == "ok" else [f"matgrad: {dep['status']}"]
    for fam in dep["families"]:
        body, prev = [], None
        for row in fam["rows"]:
            if row.get("status") != "ok":
                body.append([row["L"], row.get("status", "–"), "", "", "", "", ""])
                prev = None
                continue
            L, c, t = row["L"], row["chars"], row["tokens"]
            marginal = f"{(c - prev[1]) / (L - prev[0]):.1f}" if prev else "–"
            body.append([L, fmt_time(row["median_s"]), c, t, f"{c / L:.1f}", f"{t / L:.1f}",
                         marginal])
            prev = (L, c)
        parts.append(f"**{fam['family']}** (e.g. L = 3: `{fam['example']}`), `--wrt W1`\n\n"
                     + _table(["L", "derive (whole process)", "chars", "tokens", "chars / L",
                               "tokens / L", "Δchars per added layer"], body))
    return "\n\n".join(parts)


def machine_md(m, meta):
    t = m["threads"]
    lines = [
        (f"- CPU: {m['cpu']} — {m['logical_cores']} logical cores, memory {m['memory']}; "
        f"this run bound to CPU(s) {m['affinity']} (sched_setaffinity, inherited by every "
        "subprocess)"),
        f"- Platform: {m['platform']}",
        (f"- Python {m['python']}, numpy {m['numpy']} ({m['numpy_blas']}), jax {m['jax']} / "
        f"jaxlib {m['jaxlib']} (jax_enable_x64 = {m['jax_enable_x64']}), "
        f"torch {m['torch']}, matgrad {m['matgrad']}"),
        f"- OpenBLAS kernels in use: {m['openblas_core']}",
        "- BLAS libraries loaded (threadpoolctl): " + m.get("threadpool", "unknown"),
        "- Environment: " + m.get("unset", "OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE not set"),
        *([f"- Load: {m['load']}"] if m.get("load") else []),
        "- Threads: " + ", ".join(f"{k}={v}" for k, v in t.items()),
        "- Allocator: " + (", ".join(f"{k}: {v}" for k, v in meta["tuning"].items())
                           + " (`--stock` leaves glibc's defaults)"
                           if meta.get("tuning") else "glibc defaults (`--stock`)"),
        (f"- Timer: time.perf_counter, median of ≥ {meta['timer']['min_runs']} runs and "
        f"≥ {meta['timer']['min_time']} s of runs after {meta['timer']['warmup']} warm-up "
        f"call(s); a call slower than {meta['timer']['slow_call']} s in warm-up is repeated "
        f"{meta['timer']['slow_runs']} times only. One-shot: median of "
        f"{meta['one_shot_runs']}. Processes: median of {meta['process_runs']} after one "
        "warm-up run. All arithmetic in float64."),
        (f"- Run: `{meta['command']}` — {meta['mode']} mode, started {meta['started']}, "
        f"took {meta['runtime_s']:.0f} s"),
    ]
    return "\n".join(lines)


def markdown(res):
    meta = res["meta"]
    quick = ("\n> **Quick smoke run** (`--quick`): small sizes, few repeats — "
             "not representative.\n" if meta["mode"] == "quick" else "")
    out = [f"# matgrad benchmark results\n{quick}", "## Machine\n", machine_md(res["machine"], meta)]
    load = res["machine"].get("load") or ""
    try:
        busy = float(load.split()[2]) > (res["machine"].get("logical_cores") or 1) - 0.5
    except (IndexError, ValueError):
        busy = False
    if busy:
        out.append("\n> **A shared machine**: other work was running during this run (the load "
                   "average above). Single medians drift by tens of percent between runs and "
                   "rows; the paired matgrad / hand ratios, timed back to back, cancel most of "
                   "that drift and are the figures to judge by.")
    if "gradients" in res:
        out += ["\n## 1. Gradients (evaluation only: matgrad's compile and jax's jit excluded)\n",
                ("Times are medians per gradient evaluation; ratios are against the hand-written "
                "NumPy closed form (below 1 = faster than it). *Paired*: the median of "
                "per-round ratios with matgrad and NumPy (its jax backend and jax's own "
                "autodiff) called back to back, alternating; on this shared VM a single median "
                "drifts by tens of percent between runs, the paired ratio much less, so it is "
                "the figure to judge matgrad by.\n"),
                summary(res["gradients"]) + "\n", gradients_md(res["gradients"])]
    if "hessians" in res:
        out += ["\n## 2. Hessians\n",
                ("One-shot = from scratch: matgrad's compile_derivatives + one evaluation; "
                "jax's trace + XLA compile + one evaluation (what a command-line user pays, "
                "less `import jax`).\n"), summary(res["hessians"], "jax.jit(hessian)") + "\n",
                hessians_md(res["hessians"])]
    if "cold_start" in res:
        out += ["\n## 3a. Whole-process cold start\n",
                (f"Wall time of the whole `matgrad` process (eval inputs of size {res['eval_n']}, "
                "written as .npy files, result written with `-o`).\n"), cold_md(res["cold_start"])]
    if "depth" in res:
        out += ["\n## 3b. Derivative size against depth\n",
                ("`matgrad derive EXPR --wrt W1 --format dsl`: whole-process time and size of "
                "the printed derivative (tokens: names, numbers, operators). Linear growth "
                "shows as a constant chars / L and Δchars per added layer.\n"),
                depth_md(res["depth"])]
    if res.get("failures"):
        out += ["\n## Failures\n", "\n".join(f"- {f}" for f in res["failures"])]
    return "\n".join(out) + "\n"


def write(res, md_path, json_path):
    with open(md_path, "w", encoding="utf-8") as fh:
        fh.write(markdown(res))
    with open(json_path, "w", encoding="utf-8") as fh:
        json.dump(res, fh, indent=1, ensure_ascii=False, default=str)
        fh.write("\n")

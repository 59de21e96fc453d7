"""LaTeX that compiles everywhere (issue 13, item 3): every formula `--format latex` prints
for every sample command and every row of the derivative rule tables, `--steps` included,
in both layouts and as a standalone document, is ASCII and renders in KaTeX
(`throwOnError`, strict) and in pdflatex. Renders are batched: one node process and one
pdflatex document for all of them (tests/renderers)."""
from __future__ import annotations

import functools
import os
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import derive_for, split_shapes
from renderers import katex_errors, pdflatex_errors

from matgrad_cli.app import render
from matgrad_cli.app.steps import derivation_steps
from matgrad_cli.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _without_format(words: list[str]) -> list[str]:
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
        elif w == "--format":
            skip = True
        elif not w.startswith("--format="):
            out.append(w)
    return out


def _sample_commands() -> list[tuple[Path, list[str]]]:
    found = []
    for readme in sorted(SAMPLES.glob("*/README.md")):
        for line in readme.read_text(encoding="utf-8").splitlines():
            if line.startswith("$ matgrad derive "):
                words = _without_format(shlex.split(line[2:])[1:])
                if (readme.parent, words) not in found:
                    found.append((readme.parent, words))
    return found


def _run(folder: Path, args: list[str]) -> str:
    here = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(here)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout.rstrip("\n")


def _rule_cases():
    import test_derivative_rules as rules

    return [(c, 1) for c in rules.RULES] + [(c, 2) for c in rules.HESSIANS]


@functools.lru_cache(maxsize=None)
def formulas() -> tuple[tuple[str, str], ...]:
    """(where it comes from, one formula or a document) for everything to render."""
    found = []
    for folder, words in _sample_commands():
        where = f"{folder.name}: {' '.join(words)}"
        for extra in ([], ["--steps"]):
            text = _run(folder, words + ["--format", "latex", *extra])
            found += [(f"{where} {' '.join(extra)}", line) for line in text.split("\n")]
        found.append((f"{where} aligned", _run(folder, words + [
            "--format", "latex", "--steps", "--layout", "aligned"])))
        found.append((f"{where} standalone", _run(folder, words + [
            "--format", "latex", "--standalone"])))
    for c, order in _rule_cases():
        arrays = c.inputs(c.shapes[0], 0)
        _, dims = split_shapes(c.shapes[0])
        derivation = derive_for(c.expr, c.wrt, arrays, dims, order=order)
        steps = derivation_steps(derivation, latex=True)
        lines = render.latex_lines(derivation, steps)
        found += [(f"rule {c.id} (order {order})", line) for line in lines]
    return tuple(found)


def _report(items, errors) -> str:
    bad = [(where, tex, err) for (where, tex), err in zip(items, errors) if err]
    return "\n\n".join(f"{where}\n  {tex[:300]}\n  -> {err}" for where, tex, err in bad[:8]) + \
        f"\n\n({len(bad)} of {len(items)} failed)"


def test_there_is_much_to_render():
    kinds = {where.split(":")[0].split(" ")[0] for where, _ in formulas()}
    assert len(formulas()) > 500 and "rule" in kinds and "02-relu-network" in kinds


def test_every_formula_is_ascii():
    bad = [(where, tex) for where, tex in formulas() if not tex.isascii()]
    assert not bad, bad[:5]


def test_katex_renders_every_formula():
    items = [(w, t) for w, t in formulas() if not t.startswith(r"\documentclass")]
    errors = katex_errors([t for _, t in items])
    assert not any(errors), _report(items, errors)


def test_pdflatex_renders_every_formula():
    items = list(formulas())
    errors = pdflatex_errors([t for _, t in items])
    assert not any(errors), _report(items, errors)


def test_the_renderers_catch_what_does_not_compile():
    """The checks above can fail: what issue 13 found on main is rejected."""
    bad = [r"\det X \quad \text{(valid where det X ≠ 0)}", r"A^{\top} B"]
    assert katex_errors(bad) == [pytest.approx(katex_errors(bad)[0]), None]
    assert katex_errors(bad)[0] is not None
    latex_bad = [r"x ≠ y", r"A^{\top} B", r"\Rightarrow \frac{a}", r"\sum_{i} x_{i}"]
    results = pdflatex_errors(latex_bad)
    assert results[0] is not None and results[2] is not None
    assert results[1] is None and results[3] is None


@pytest.mark.parametrize("layout", ["lines", "aligned"])
def test_standalone_is_a_whole_document(layout):
    result = CliRunner().invoke(main, ["derive", "beta*||W2*x||^2", "--wrt", "W2",
                                       "--format", "latex", "--standalone", "--layout",
                                       layout, "--steps"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    assert (r"\begin{aligned}" in text) == (layout == "aligned")
    assert r"\partial W_{2}" in text and r"\beta" in text and text.isascii()
    assert pdflatex_errors([text]) == [None]

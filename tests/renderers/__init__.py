"""Render matgrad's LaTeX with the two engines a user pastes it into, in batches: KaTeX
(the npm package, one node process for every formula) and pdflatex (one document for every
formula). Each returns, per formula, None when it rendered and the engine's error when not.

Where an engine is missing the tests skip, saying which and how to install it; with
MATGRAD_REQUIRE_RENDERERS=1 (CI, `.ci/run`) a missing engine is a failure instead.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KATEX_SCRIPT = Path(__file__).with_name("katex_check.js")
REQUIRED = os.environ.get("MATGRAD_REQUIRE_RENDERERS") == "1"


def katex_dir() -> Path | None:
    """Where katex is installed: $MATGRAD_KATEX_DIR, else .ci/katex (what .ci/run makes)."""
    for candidate in (os.environ.get("MATGRAD_KATEX_DIR"), ROOT / ".ci" / "katex"):
        if candidate and (Path(candidate) / "node_modules" / "katex").is_dir():
            return Path(candidate)
    return None


def _missing(what: str, how: str):
    message = f"{what} is not installed ({how})"
    if REQUIRED:
        pytest.fail(f"MATGRAD_REQUIRE_RENDERERS=1 but {message}")
    pytest.skip(message)


def require_katex() -> Path:
    folder = katex_dir()
    if shutil.which("node") is None or folder is None:
        _missing("KaTeX", "needs node and `npm install --prefix .ci/katex katex`")
    return folder


def require_pdflatex() -> str:
    exe = shutil.which("pdflatex")
    if exe is None or not _has_amsmath():
        _missing("pdflatex with amsmath",
                 "apt-get install texlive-latex-base texlive-latex-recommended")
    return exe


def _has_amsmath() -> bool:
    kpsewhich = shutil.which("kpsewhich")
    if kpsewhich is None:
        return False
    found = subprocess.run([kpsewhich, "amsmath.sty", "amssymb.sty"], capture_output=True,
                           text=True)
    return len(found.stdout.split()) == 2


def katex_errors(formulas: list[str]) -> list[str | None]:
    folder = require_katex()
    done = subprocess.run(["node", str(KATEX_SCRIPT)], input=json.dumps(formulas),
                          capture_output=True, text=True, encoding="utf-8", timeout=300,
                          env=dict(os.environ, KATEX_DIR=str(folder)))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


PREAMBLE = [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}",
            r"\usepackage[margin=1cm,paperwidth=200cm,paperheight=100cm]{geometry}",
            r"\begin{document}"]


def pdflatex_errors(formulas: list[str]) -> list[str | None]:
    """Every formula as a display (``\\[ … \\]``) of one document; a TeX error is mapped back
    to the formula whose lines it points at. Documents (``\\documentclass``) are compiled
    on their own."""
    exe = require_pdflatex()
    results: list[str | None] = [None] * len(formulas)
    lines = list(PREAMBLE)
    owner: dict[int, int] = {}  # line number in the document -> formula index
    for k, tex in enumerate(formulas):
        if tex.lstrip().startswith(r"\documentclass"):
            results[k] = _compile(exe, tex.split("\n"))[0]
            continue
        lines.append(r"\[")
        for piece in tex.split("\n"):
            lines.append(piece)
            owner[len(lines)] = k
        lines.append(r"\]")
        owner[len(lines)] = k
    lines.append(r"\end{document}")
    _, errors = _compile(exe, lines)
    for line_number, message in errors:
        k = owner.get(line_number)
        if k is None:  # an error outside any formula: the document itself
            k = max((i for n, i in owner.items() if n <= line_number), default=0)
        results[k] = results[k] or message
    return results


def _compile(exe: str, lines: list[str]) -> tuple[str | None, list[tuple[int, str]]]:
    """(the first error, every (line, error)) of compiling the document ``lines``."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "doc.tex").write_text("\n".join(lines) + "\n", encoding="utf-8")
        done = subprocess.run([exe, "-interaction=nonstopmode", "-no-shell-escape",
                               "doc.tex"], cwd=tmp, capture_output=True, timeout=600)
        log = (Path(tmp) / "doc.log").read_text(encoding="latin-1") \
            if (Path(tmp) / "doc.log").exists() else done.stdout.decode("latin-1")
    errors = []
    for m in re.finditer(r"^! (.*?)$(?:.*?^l\.(\d+))?", log, flags=re.M | re.S):
        errors.append((int(m.group(2)) if m.group(2) else 0, m.group(1)))
    if done.returncode != 0 and not errors:
        errors.append((0, f"pdflatex exited {done.returncode}"))
    return (errors[0][1] if errors else None), errors

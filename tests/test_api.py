"""The Python API as a notebook uses it: what ``derive`` returns shows itself as text,
LaTeX and Markdown; ``evaluate`` takes sizes from the arrays (keywords or a dict) and a
backend; ``python -m matgrad_cli`` is the command; ``eval --backend`` on the command line."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import assert_close

from matgrad_cli import derive, evaluate, parse
from matgrad_cli.cli import main


def _derivation():
    return derive(parse("||A*sigmoid(x)||^2 + y'*A*x"), ["x", "A"])


def test_derivation_shows_as_text_latex_and_markdown():
    d = _derivation()
    assert repr(d) == d.text()
    assert "∂f/∂x = " in d.text()
    latex = d._repr_latex_()
    assert latex.startswith("$$\\begin{gathered}") and latex.endswith("\\end{gathered}$$")
    assert "\\frac{\\partial f}{\\partial A}" in latex
    markdown = d._repr_markdown_()
    assert markdown.startswith("```text\n") and d.text() in markdown
    assert len(d.dsl()) == 2 and "def f_and_grad(" in d.code()


def test_evaluate_takes_the_sizes_from_the_arrays():
    d = _derivation()  # symbolic: A m×n, x n, y m
    rng = np.random.default_rng(3)
    for m, n in [(2, 3), (4, 4)]:
        A, x, y = rng.standard_normal((m, n)), rng.standard_normal(n), rng.standard_normal(m)
        got = evaluate(d, A=A, x=x, y=y)
        s = 1 / (1 + np.exp(-x))
        assert_close(got["grad_x"], 2 * s * (1 - s) * (A.T @ (A @ s)) + A.T @ y, "grad_x")
        assert_close(got["grad_A"], 2 * np.outer(A @ s, s) + np.outer(y, x), "grad_A")
        same = evaluate(d, {"A": A, "x": x, "y": y})
        assert_close(same["grad_A"], got["grad_A"], "dict form")


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_evaluate_with_a_backend(backend):
    pytest.importorskip(backend)
    d = _derivation()
    rng = np.random.default_rng(4)
    arrays = {"A": rng.standard_normal((3, 2)), "x": rng.standard_normal(2),
              "y": rng.standard_normal(3)}
    want = evaluate(d, arrays)
    got = evaluate(d, arrays, backend=backend)
    for key in want:
        assert_close(got[key], want[key], f"{backend}: {key}")


def test_python_dash_m_is_the_command():
    out = subprocess.run([sys.executable, "-m", "matgrad_cli", "derive", "x'*A*x", "--wrt",
                          "x", "--format", "dsl"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(A + A')*x"


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_eval_backend_on_the_command_line(backend, tmp_path):
    pytest.importorskip(backend)
    rng = np.random.default_rng(5)
    np.save(tmp_path / "A.npy", rng.standard_normal((3, 3)))
    np.save(tmp_path / "x.npy", rng.standard_normal(3))
    args = ["eval", "||A*sigmoid(x)||^2", "--wrt", "x", "-i", f"A={tmp_path / 'A.npy'}",
            "-i", f"x={tmp_path / 'x.npy'}", "--check", "--format", "json"]
    plain = CliRunner().invoke(main, args)
    other = CliRunner().invoke(main, args + ["--backend", backend])
    assert plain.exit_code == other.exit_code == 0, other.output
    import json

    want, got = json.loads(plain.output), json.loads(other.output)
    assert_close(np.array(got["grad_x"]), np.array(want["grad_x"]), backend)


def test_eval_backend_refuses_hvp():
    result = CliRunner().invoke(main, ["eval", "x'*x", "--wrt", "x", "-i", "x=1", "--order",
                                       "2", "--hvp", "x=1", "--backend", "numpy"])
    assert result.exit_code == 0
    pytest.importorskip("torch")
    result = CliRunner().invoke(main, ["eval", "x'*x", "--wrt", "x", "-i", "x=1", "--order",
                                       "2", "--hvp", "x=1", "--backend", "torch"])
    assert result.exit_code == 2 and "--hvp is evaluated by numpy only" in result.output

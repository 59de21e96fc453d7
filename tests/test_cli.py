"""The command-line contract (SPEC §5), through click's CliRunner: output formats and
colour, exit codes, -o files, '--', '-' and '@file' expressions, warnings; the five worked
problems of the issue, checked against their textbook forms (values and printed size);
and one run of the installed ``matgrad`` console script.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from helpers import assert_close, cli_derive_dsl, cli_eval_value, input_args, invoke

from matgrad_cli import cli as cli_module
from matgrad_cli.language.tokens import END, tokenize

ESC = "\x1b["


@pytest.fixture
def rng():
    return np.random.default_rng(11)


@pytest.fixture
def xA(tmp_path, rng):
    """x ∈ ℝ³, A 3×3 saved as .npy, with their -i options."""
    arrays = {"x": rng.standard_normal(3), "A": rng.standard_normal((3, 3))}
    return arrays, input_args(arrays, tmp_path)


# ---------------------------------------------------------------- text output and colour

def test_text_output_to_a_pipe_is_plain():
    result = invoke(["derive", "||A*sigmoid(x)||^2", "--wrt", "x"])
    assert result.exit_code == 0, result.output
    assert ESC not in result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("f = ")
    assert any(line.startswith("∂f/∂x = ") for line in lines)
    assert "where s = σ(x)" in result.stdout


def _terminal_output(monkeypatch):
    """Make the commands believe standard output is a terminal (Output is injectable)."""
    real = cli_module.Output
    monkeypatch.setattr(cli_module, "Output", lambda is_terminal=None: real(True))


def test_terminal_output_is_coloured(monkeypatch):
    _terminal_output(monkeypatch)
    env = {"FORCE_COLOR": "1", "NO_COLOR": None, "TERM": "xterm-256color"}
    result = invoke(["derive", "||A*sigmoid(x)||^2", "--wrt", "x"], env=env)
    assert result.exit_code == 0, result.output
    assert ESC in result.stdout
    assert "∂f/∂x" in result.stdout


def test_no_color_disables_colour_on_a_terminal(monkeypatch):
    _terminal_output(monkeypatch)
    env = {"FORCE_COLOR": "1", "NO_COLOR": "1", "TERM": "xterm-256color"}
    result = invoke(["derive", "||A*sigmoid(x)||^2", "--wrt", "x"], env=env)
    assert result.exit_code == 0, result.output
    assert ESC not in result.stdout
    assert "∂f/∂x = 2 (s ⊙ (1 − s) ⊙ (Aᵀ A s))" in result.stdout


def test_output_decides_colour_from_terminal_and_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli_module.Output(is_terminal=True).fancy
    assert not cli_module.Output(is_terminal=False).fancy
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli_module.Output(is_terminal=True).fancy


def test_eval_text_output_is_plain(xA):
    _, args = xA
    result = invoke(["eval", "x'*A*x", "--wrt", "x", *args])
    assert result.exit_code == 0, result.output
    assert ESC not in result.output
    assert result.stdout.startswith("f = ")


# ---------------------------------------------------------------- json

def test_json_is_one_object_with_per_variable_forms():
    result = invoke(["derive", "||A*sigmoid(x)||^2", "--wrt", "x", "--wrt", "A", "--format",
                     "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)  # one JSON object, nothing else on stdout
    assert isinstance(payload, dict)
    assert list(payload["derivatives"]) == ["x", "A"]
    for name, shape in (("x", ["n"]), ("A", ["m", "n"])):
        entry = payload["derivatives"][name]
        for key in ("dsl", "text", "latex", "shape", "conditions"):
            assert key in entry, (name, key)
        assert entry["shape"] == shape
        assert isinstance(entry["conditions"], list)
    assert payload["derivatives"]["A"]["dsl"] == cli_derive_dsl("||A*sigmoid(x)||^2", ["A"])[0]


def test_json_lists_validity_conditions():
    result = invoke(["derive", "X + A .* sign(X)", "--wrt", "X", "--format", "json"])
    payload = json.loads(result.stdout)
    assert payload["derivatives"]["X"]["conditions"] == ["where X has no zero entries"]


def test_eval_json_is_one_object(xA):
    arrays, args = xA
    result = invoke(["eval", "x'*A*x", "--wrt", "x", *args, "--check", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    x, A = arrays["x"], arrays["A"]
    assert_close(payload["value"], x @ A @ x)
    assert_close(payload["grad_x"], (A + A.T) @ x)
    assert payload["shapes"] == {"value": [], "grad_x": [3]}
    assert payload["check"]["grad_x"]["ok"] is True


def test_dsl_format_prints_one_line_per_wrt_and_nothing_else(tmp_path, rng):
    result = invoke(["derive", "x'*A*y", "--wrt", "y", "--wrt", "A", "--wrt", "x", "--format",
                     "dsl"])
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and result.stdout.endswith("\n")
    v = {"x": rng.standard_normal(2), "A": rng.standard_normal((2, 3)),
         "y": rng.standard_normal(3)}
    for line, expected in zip(lines, [v["A"].T @ v["x"], np.outer(v["x"], v["y"]),
                                      v["A"] @ v["y"]]):
        assert_close(cli_eval_value(line, v, tmp_path), expected, line)


# ---------------------------------------------------------------- exit codes

@pytest.mark.parametrize("args, message", [
    pytest.param(["derive", "x + * y", "--wrt", "x"], "expected an operand", id="parse-error"),
    pytest.param(["derive", "x + y", "--wrt", "x", "--shape", "x=3", "--shape", "y=4"],
                 "shape conflict in '+'", id="shape-conflict"),
    pytest.param(["derive", "A*x", "--wrt", "x", "--order", "2"], "--order 2 needs a scalar f",
                 id="order-2-of-non-scalar"),
    pytest.param(["derive", "x'*x", "--wrt", "q"], "no variable 'q'", id="unknown-wrt"),
    pytest.param(["derive", "x'*x", "--wrt", "x", "--shape", "x=3x"], "bad shape '3x'",
                 id="bad-shape-spec"),
    pytest.param(["derive", "x'*x", "--wrt", "x", "--shape", "x=2x3x4"],
                 "x is a tensor (2×3×4): a transpose needs a matrix", id="three-axis-shape"),
    pytest.param(["derive", "x'*x"], "", id="missing-wrt"),
    pytest.param(["derive", "@/nonexistent/f.txt", "--wrt", "x"], "cannot read", id="bad-@file"),
    pytest.param(["eval", "x'*x", "-i", "x=/nonexistent.npy"], "cannot read", id="missing-file"),
    pytest.param(["eval", "x'*y", "-i", "x=1"], "missing input y", id="missing-input"),
    pytest.param(["check", "x'*A*x", "--wrt", "x", "--claim", "2*A*"], "", id="bad-claim"),
])
def test_bad_usage_exits_2_with_one_message(args, message):
    result = invoke(args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert message in result.stderr


def test_parse_error_has_a_caret_under_the_place():
    result = invoke(["derive", "x + * y", "--wrt", "x"])
    assert result.stderr.splitlines() == [
        "matgrad: error: expected an operand, found '*' (column 5)", "  x + * y", "      ^"]


def test_unreadable_npy_exits_2(tmp_path):
    bad = tmp_path / "bad.npy"
    bad.write_text("not an array")
    result = invoke(["eval", "x'*x", "-i", f"x={bad}"])
    assert result.exit_code == 2
    assert "not a NumPy .npy file" in result.stderr


def test_success_exits_0(xA):
    _, args = xA
    assert invoke(["eval", "x'*A*x", "--wrt", "x", *args, "--check"]).exit_code == 0
    assert invoke(["derive", "x'*A*x", "--wrt", "x"]).exit_code == 0


def test_failing_check_exits_1(monkeypatch, xA):
    """A wrong symbolic derivative (the engine made to double it) fails --check: exit 1."""
    from matgrad_cli import algebra
    from matgrad_cli.app import api

    real_derive = api.derive

    def doubled(program, wrt, order=1, **options):
        derivation = real_derive(program, wrt, order, **options)
        for name, node in derivation.derivatives.items():
            derivation.derivatives[name] = algebra.scale(algebra.num(2), node)
        return derivation

    monkeypatch.setattr(api, "derive", doubled)
    _, args = xA
    result = invoke(["eval", "x'*A*x", "--wrt", "x", *args, "--check"])
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.stdout


def test_check_command_exit_codes():
    wrong = invoke(["check", "x'*A*x", "--wrt", "x", "--claim", "2*A*x"])
    assert wrong.exit_code == 1 and "WRONG" in wrong.stdout
    right = invoke(["check", "x'*A*x", "--wrt", "x", "--claim", "(A + A')*x"])
    assert right.exit_code == 0 and "CORRECT" in right.stdout


# ---------------------------------------------------------------- -o files

@pytest.mark.parametrize("expr, wrt, shapes, order", [
    pytest.param("x'*A*x", ["x", "A"], {"x": (3,), "A": (3, 3)}, 1, id="scalar-f"),
    pytest.param("A*x", ["x", "A"], {"x": (3,), "A": (2, 3)}, 1, id="vector-f"),
    pytest.param("A*X", ["X"], {"A": (2, 3), "X": (3, 4)}, 1, id="matrix-f-wrt-matrix"),
    pytest.param("x'*X", ["X", "x"], {"x": (3,), "X": (3, 2)}, 1, id="row-f"),
    pytest.param("beta*X", ["beta"], {"beta": (), "X": (2, 3)}, 1, id="matrix-f-wrt-scalar"),
    pytest.param("tr(X'*A*X)", ["X"], {"X": (3, 2), "A": (3, 3)}, 2, id="hessian-matrix"),
    pytest.param("x'*A*x", ["x"], {"x": (3,), "A": (3, 3)}, 2, id="hessian-vector"),
])
def test_output_file_has_spec_shapes(tmp_path, rng, expr, wrt, shapes, order):
    arrays = {k: rng.standard_normal(s) for k, s in shapes.items()}
    out = tmp_path / "out.npz"
    args = ["eval", expr, *input_args(arrays, tmp_path), "-o", out, "--order", str(order)]
    result = invoke(args + [a for w in wrt for a in ("--wrt", w)])
    assert result.exit_code == 0, result.output
    with np.load(out) as data:
        f_shape = data["value"].shape
        expected = {"value"} | {f"grad_{w}" for w in wrt}
        if order == 2:
            expected |= {f"hess_{w}" for w in wrt}
        assert set(data.files) == expected
        for w in wrt:
            assert data[f"grad_{w}"].shape == f_shape + shapes[w]
            if order == 2:
                assert data[f"hess_{w}"].shape == shapes[w] + shapes[w]
    if expr == "A*X":
        with np.load(out) as data:
            G = data["grad_X"]
        A = arrays["A"]
        # ∂(AX)_ij/∂X_kl = A_ik δ_jl
        assert_close(G, np.einsum("ik,jl->ijkl", A, np.eye(4)))


# ---------------------------------------------------------------- how EXPR is given

def test_double_dash_before_an_expression_starting_with_minus(xA, tmp_path):
    arrays, args = xA
    result = invoke(["eval", *args, "--wrt", "x", "--format", "json", "--", "-x'*A*x"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    x, A = arrays["x"], arrays["A"]
    assert_close(payload["value"], -(x @ A @ x))
    assert_close(payload["grad_x"], -(A + A.T) @ x)
    derived = invoke(["derive", "--wrt", "x", "--format", "dsl", "--", "-x'*x"])
    assert derived.exit_code == 0, derived.output
    assert_close(cli_eval_value(derived.stdout.strip(), {"x": x}, tmp_path), -2 * x)


def test_expression_from_stdin():
    result = invoke(["derive", "-", "--wrt", "x", "--format", "dsl"], stdin="x'*A*x\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == invoke(["derive", "x'*A*x", "--wrt", "x", "--format", "dsl"]).stdout
    assert result.stdout.strip()


def test_expression_from_file_with_definitions(tmp_path):
    source = tmp_path / "f.mg"
    source.write_text("# a comment\ns = sigmoid(x)\n||A*s||^2\n", encoding="utf-8")
    via_file = invoke(["derive", f"@{source}", "--wrt", "x", "--format", "dsl"])
    inline = invoke(["derive", "s = sigmoid(x); ||A*s||^2", "--wrt", "x", "--format", "dsl"])
    assert via_file.exit_code == 0, via_file.output
    assert via_file.stdout == inline.stdout


def test_unused_input_is_a_warning_not_an_error(tmp_path, xA):
    arrays, args = xA
    extra = input_args({"y": np.ones(2)}, tmp_path)
    result = invoke(["eval", "x'*x", *args, *extra, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr and "y" in result.stderr
    assert_close(json.loads(result.stdout)["value"], arrays["x"] @ arrays["x"])


# ---------------------------------------------------------------- the five worked problems

def _tokens(text: str) -> int:
    return sum(1 for t in tokenize(text) if t.kind != END)


def _sigmoid(t):
    return 1 / (1 + np.exp(-t))


def _relu_inputs(rng):
    """Inputs of problem 2 with W z away from the kink of relu."""
    for _ in range(100):
        v = {"A": rng.standard_normal((1, 4)), "B": rng.standard_normal((4, 3)),
             "V": rng.standard_normal((3, 5)), "W": rng.standard_normal((5, 2)),
             "z": rng.standard_normal(2)}
        wz = v["W"] @ v["z"]
        if np.min(np.abs(wz)) > 0.1 and np.any(wz > 0):
            return v
    raise AssertionError("no inputs away from the kink")


def _problem_2_y(v):
    return v["B"] @ v["V"] @ np.maximum(v["W"] @ v["z"], 0)


def _pos_sign_inputs(rng):
    P = rng.standard_normal((4, 3))
    return {"P": P, "beta": np.asarray(0.7)}


WORKED = [
    pytest.param(
        "||A*sigmoid(x)||^2", [], "x",
        lambda r: {"A": r.standard_normal((3, 4)), "x": r.standard_normal(4)},
        lambda v: 2 * (_sigmoid(v["x"]) * (1 - _sigmoid(v["x"])))
        * (v["A"].T @ v["A"] @ _sigmoid(v["x"])),
        "s = sigmoid(x); 2*(s .* (1 - s)) .* (A'*A*s)", id="sigmoid-least-squares"),
    pytest.param(
        "A*(B*V*relu(W*z)).^2", ["--shape", "A=1,l"], "V", _relu_inputs,
        lambda v: 2 * v["B"].T @ np.outer(v["A"].ravel() * _problem_2_y(v),
                                          np.maximum(v["W"] @ v["z"], 0)),
        "r = relu(W*z); y = B*V*r; 2*B'*(A' .* y)*r'", id="two-layer-net-wrt-V"),
    pytest.param(
        "A*(B*V*relu(W*z)).^2", ["--shape", "A=1,l"], "W", _relu_inputs,
        lambda v: 2 * np.outer((v["W"] @ v["z"] > 0)
                               * (v["V"].T @ v["B"].T @ (v["A"].ravel() * _problem_2_y(v))),
                               v["z"]),
        "y = B*V*relu(W*z); 2*(step(W*z) .* (V'*B'*(A' .* y)))*z'", id="two-layer-net-wrt-W"),
    pytest.param(
        "beta*sum(abs(P'P - I))", [], "P", _pos_sign_inputs,
        lambda v: 2 * v["beta"] * v["P"] @ np.sign(v["P"].T @ v["P"] - np.eye(3)),
        "2*beta*P*sign(P'*P - I)", id="sum-abs-gram"),
    pytest.param(
        "0.5*||W3*W2*W1*X - Y||_F^2 + lambda*(||W1||_F^2 + ||W2||_F^2 + ||W3||_F^2)", [], "W2",
        lambda r: {"W3": r.standard_normal((2, 3)), "W2": r.standard_normal((3, 4)),
                   "W1": r.standard_normal((4, 3)), "X": r.standard_normal((3, 5)),
                   "Y": r.standard_normal((2, 5)), "lambda": np.asarray(0.3)},
        lambda v: v["W3"].T @ (v["W3"] @ v["W2"] @ v["W1"] @ v["X"] - v["Y"]) @ v["X"].T
        @ v["W1"].T + 2 * v["lambda"] * v["W2"],
        "W3'*(W3*W2*W1*X - Y)*X'*W1' + 2*lambda*W2", id="deep-linear-network"),
    pytest.param(
        "X + A .* sign(X)", ["--shape", "X=2x3"], "X",
        lambda r: {"X": r.uniform(0.5, 1.5, (2, 3)) * r.choice([-1, 1], (2, 3)),
                   "A": r.standard_normal((2, 3))},
        lambda v: np.eye(6), "eye(6)", id="identity-plus-sign"),
]


@pytest.mark.parametrize("expr, derive_args, wrt, make_inputs, textbook, textbook_dsl", WORKED)
def test_worked_problem(tmp_path, rng, expr, derive_args, wrt, make_inputs, textbook,
                        textbook_dsl):
    """The printed dsl evaluates to the textbook form, and is about as short as it."""
    values = make_inputs(rng)
    (line,) = cli_derive_dsl(expr, [wrt], derive_args)
    expected = textbook(values)
    assert_close(cli_eval_value(line, values, tmp_path), expected, f"{expr}: {line!r}",
                 rtol=1e-9, atol_scale=1e-11)
    # the textbook form written in the language is right too (guards the table itself)
    assert_close(cli_eval_value(textbook_dsl, values, tmp_path), expected, textbook_dsl,
                 rtol=1e-9, atol_scale=1e-11)
    assert _tokens(line) <= 1.3 * _tokens(textbook_dsl), (line, textbook_dsl)


def test_worked_problem_with_a_condition_prints_it():
    result = invoke(["derive", "X + A .* sign(X)", "--wrt", "X"])
    assert result.exit_code == 0
    assert "∂vec(f)/∂vec(X)ᵀ = I_{mn}" in result.stdout
    assert "valid where X has no zero entries" in result.stdout


# ---------------------------------------------------------------- the installed script

def test_installed_console_script(tmp_path):
    exe = shutil.which("matgrad") or os.path.join(os.path.dirname(sys.executable), "matgrad")
    if not os.path.exists(exe):
        pytest.skip("the matgrad console script is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    done = subprocess.run([exe, "derive", "||A*sigmoid(x)||^2", "--wrt", "x", "--format", "dsl"],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr
    in_process = invoke(["derive", "||A*sigmoid(x)||^2", "--wrt", "x", "--format", "dsl"])
    assert done.stdout == in_process.stdout and done.stdout.count("\n") == 1
    text = subprocess.run([exe, "derive", "||A*sigmoid(x)||^2", "--wrt", "x"],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert text.returncode == 0 and ESC not in text.stdout  # a pipe: plain text
    bad = subprocess.run([exe, "derive", "x + * y", "--wrt", "x"], capture_output=True,
                         text=True, timeout=60, env=env, check=False)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and "^" in bad.stderr

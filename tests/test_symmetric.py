"""Symmetric and SPD matrix variables (SPEC §1, §3, §4): the gradient on symmetric
matrices sym(G) = (G + Gᵀ)/2, the Matrix Cookbook's independent-entries form, Hessians on
the symmetric space, and what eval and check do with such variables.

Every row of SYMMETRIC_TABLE is checked three independent ways: against central finite
differences along random *symmetric* directions (df = sym(G) : V), against the symmetric
part of the plain gradient of f as written (finite differences in every entry of a general
matrix: what jax.grad gives), and with the printed dsl line read back and evaluated.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from matgrad_cli.app import api
from matgrad_cli.app.claims import check_claim
from matgrad_cli.numeric.evaluator import compile_plan, run_plan
from matgrad_cli.app.render import derive_json

from helpers import invoke, input_args

N = 4

# (id, f, the symmetric variable, its structure, other variables: name -> (shape, domain))
SYMMETRIC_TABLE = [
    ("logdet", "logdet(S)", "S", "spd", {}),
    ("log_det", "log(det(S))", "S", "spd", {}),
    ("det", "det(S)", "S", "spd", {}),
    ("trace_of_inverse", "tr(inv(S))", "S", "spd", {}),
    ("trace_inverse_times_A", "tr(inv(S)*A)", "S", "spd", {"A": ((N, N), "real")}),
    ("quadratic_form", "x'*S*x", "S", "sym", {"x": ((N,), "real")}),
    ("bilinear_form", "a'*S*b", "S", "sym", {"a": ((N,), "real"), "b": ((N,), "real")}),
    ("inverse_quadratic_form", "x'*inv(S)*x", "S", "spd", {"x": ((N,), "real")}),
    ("inverse_power_quadratic_form", "x'*S^-1*x", "S", "spd", {"x": ((N,), "real")}),
    ("trace_SASB", "tr(S*A*S*B)", "S", "sym", {"A": ((N, N), "real"), "B": ((N, N), "real")}),
    ("trace_AS", "tr(A*S)", "S", "sym", {"A": ((N, N), "real")}),
    ("trace_StransposeA", "tr(S'*A)", "S", "sym", {"A": ((N, N), "real")}),
    ("frobenius_with_A", "sum(S .* A)", "S", "sym", {"A": ((N, N), "real")}),
    ("frobenius_norm", "||S||^2", "S", "sym", {}),
    ("cube_trace", "tr(S^3)", "S", "sym", {}),
    ("entrywise_exp", "sum(exp(S))", "S", "sym", {}),
    ("least_squares", "||A*S - B||^2", "S", "sym",
     {"A": ((N, N), "real"), "B": ((N, N), "real")}),
    ("gaussian_nll_covariance", "1/2*logdet(Σ) + 1/2*(x - m)'*inv(Σ)*(x - m)", "Σ", "spd",
     {"x": ((N,), "real"), "m": ((N,), "real")}),
    ("gaussian_nll_precision", "-1/2*logdet(L) + 1/2*(x - m)'*L*(x - m)", "L", "spd",
     {"x": ((N,), "real"), "m": ((N,), "real")}),
    ("gaussian_nll_samples", "3*logdet(S) + 1/2*tr(inv(S)*X*X')", "S", "spd",
     {"X": ((N, 6), "real")}),
    ("logdet_congruence", "logdet(A*S*A')", "S", "spd", {"A": ((N, N), "wc")}),
]


def _point(row, seed=0):
    _, _, name, structure, others = row
    rng = np.random.default_rng(seed)
    b = rng.standard_normal((N, N))
    point = {name: b @ b.T / N + np.eye(N) if structure == "spd" else (b + b.T) / 2}
    for other, (shape, domain) in others.items():
        value = rng.standard_normal(shape)
        if domain == "wc":
            value = np.eye(N) + 0.3 * value / np.sqrt(N)
        point[other] = value
    return point


def _derivation(row, point, order=1):
    _, source, name, structure, _ = row
    program = api.parse(source, {name: [N, N, structure]},
                        array_shapes={k: np.shape(v) for k, v in point.items()})
    return api.derive(program, [name], order)


def _f(derivation):
    plan = compile_plan({"f": derivation.program.expr})
    return lambda arrays: float(run_plan(plan, arrays)["f"])


def _evaluate(node, point):
    return np.asarray(run_plan(compile_plan({"v": node}), point)["v"])


def _random_symmetric(rng):
    v = rng.standard_normal((N, N))
    return (v + v.T) / np.linalg.norm(v + v.T)


def _directional(f, point, name, v, h=1e-5):
    return (f({**point, name: point[name] + h * v}) - f({**point, name: point[name] - h * v})) \
        / (2 * h)


def _plain_fd_gradient(f, point, name, h=1e-5):
    """The plain gradient of f as written: every entry of S moved on its own (S then is
    not symmetric), as jax.grad of the same formula gives."""
    g = np.zeros((N, N))
    for i in range(N):
        for j in range(N):
            e = np.zeros((N, N))
            e[i, j] = h
            g[i, j] = (f({**point, name: point[name] + e}) -
                       f({**point, name: point[name] - e})) / (2 * h)
    return g


ids = [row[0] for row in SYMMETRIC_TABLE]


def test_the_table_has_at_least_fifteen_functions():
    assert len(SYMMETRIC_TABLE) >= 15


@pytest.mark.parametrize("row", SYMMETRIC_TABLE, ids=ids)
def test_gradient_on_symmetric_matrices_matches_differences_along_symmetric_directions(row):
    point = _point(row)
    name = row[2]
    derivation = _derivation(row, point)
    g = _evaluate(derivation.derivatives[name], point)
    np.testing.assert_allclose(g, g.T, atol=1e-12 * (1 + np.abs(g).max()))
    f = _f(derivation)
    rng = np.random.default_rng(1)
    for _ in range(6):
        v = _random_symmetric(rng)
        np.testing.assert_allclose(np.sum(g * v), _directional(f, point, name, v),
                                   rtol=1e-6, atol=1e-7 * (1 + np.abs(g).max()))


@pytest.mark.parametrize("row", SYMMETRIC_TABLE, ids=ids)
def test_gradient_is_the_symmetric_part_of_the_plain_gradient(row):
    point = _point(row)
    name = row[2]
    derivation = _derivation(row, point)
    g = _evaluate(derivation.derivatives[name], point)
    plain = _plain_fd_gradient(_f(derivation), point, name)
    np.testing.assert_allclose(g, (plain + plain.T) / 2, rtol=1e-6,
                               atol=1e-7 * (1 + np.abs(g).max()))
    # the plain G derive reports is a plain gradient of f: its symmetric part is sym(G)
    reported = _evaluate(derivation.plain[name], point)
    np.testing.assert_allclose((reported + reported.T) / 2, g, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("row", SYMMETRIC_TABLE, ids=ids)
def test_printed_forms_evaluate_to_the_gradient_and_the_cookbook_form(row):
    """The dsl lines (gradient, plain G, Cookbook form) read back and evaluated; the
    Cookbook form against finite differences in the independent entries S_ij, i ≥ j
    (moving S_ij moves S_ji too)."""
    point = _point(row)
    name = row[2]
    derivation = _derivation(row, point)
    entry = json.loads(derive_json(derivation))["derivatives"][name]
    assert entry["convention"]["form"] == "sym(G)"
    assert entry["convention"]["structure"] == row[3]
    shapes = {k: np.shape(v) for k, v in point.items()}

    def read_back(line):
        program = api.parse(line, array_shapes=shapes)
        return np.asarray(run_plan(compile_plan({"v": program.expr}),
                                   {k: point[k] for k in program.variables})["v"])

    g = _evaluate(derivation.derivatives[name], point)
    np.testing.assert_allclose(read_back(entry["dsl"]), g, rtol=1e-10, atol=1e-12)
    cookbook = read_back(entry["convention"]["cookbook"]["dsl"])
    f = _f(derivation)
    for i in range(N):
        for j in range(i + 1):
            e = np.zeros((N, N))
            e[i, j] = e[j, i] = 1.0
            np.testing.assert_allclose(cookbook[i, j], _directional(f, point, name, e),
                                       rtol=1e-6, atol=1e-7 * (1 + np.abs(g).max()))
    np.testing.assert_allclose(cookbook, 2 * g - np.diag(np.diag(g)), rtol=1e-10, atol=1e-12)


HESSIAN_ROWS = [r for r in SYMMETRIC_TABLE if r[0] in (
    "logdet", "trace_of_inverse", "trace_SASB", "cube_trace", "gaussian_nll_covariance",
    "inverse_quadratic_form")]


@pytest.mark.parametrize("row", HESSIAN_ROWS, ids=[r[0] for r in HESSIAN_ROWS])
def test_hessian_on_the_symmetric_space(row):
    """H = P H P: symmetric, zero on antisymmetric directions, and H vec(V) the
    derivative of sym(G) along symmetric V."""
    point = _point(row)
    name = row[2]
    derivation = _derivation(row, point, order=2)
    H = _evaluate(derivation.hessians[name], point)
    np.testing.assert_allclose(H, H.T, atol=1e-10 * (1 + np.abs(H).max()))
    rng = np.random.default_rng(2)
    gradient = compile_plan({"g": derivation.derivatives[name]})
    for _ in range(4):
        v = _random_symmetric(rng)
        h = 1e-5
        gp = run_plan(gradient, {**point, name: point[name] + h * v})["g"]
        gm = run_plan(gradient, {**point, name: point[name] - h * v})["g"]
        fd = np.ravel((gp - gm) / (2 * h), order="F")
        np.testing.assert_allclose(H @ np.ravel(v, order="F"), fd, rtol=1e-5,
                                   atol=1e-6 * (1 + np.abs(H).max()))
        w = rng.standard_normal((N, N))
        np.testing.assert_allclose(H @ np.ravel(w - w.T, order="F"), 0,
                                   atol=1e-10 * (1 + np.abs(H).max()))


# ---------------------------------------------------------------- the simplifier's Sᵀ = S

@pytest.mark.parametrize("source, wrt, shapes, expected", [
    ("x'*S*x", "x", {"S": ["n", "n", "sym"]}, "2 S x"),
    ("x'*S*x", "S", {"S": ["n", "n", "sym"]}, "x xᵀ"),
    ("logdet(S)", "S", {"S": ["n", "n", "spd"]}, "S⁻¹"),
    ("logdet(S)", "S", {"S": ["n", "n", "sym"]}, "S⁻¹"),
    ("tr(inv(S))", "S", {"S": ["n", "n", "spd"]}, "−S⁻²"),
    ("1/2*logdet(Σ) + 1/2*(x - m)'*inv(Σ)*(x - m)", "Σ", {"Σ": ["n", "n", "spd"]},
     "0.5 Σ⁻¹ (Σ − (x − m) (x − m)ᵀ) Σ⁻¹"),
])
def test_simplifier_uses_that_S_is_symmetric(source, wrt, shapes, expected):
    from matgrad_cli.printers import to_text

    derivation = api.derive(api.parse(source, shapes), [wrt])
    assert to_text(derivation.derivatives[wrt]) == expected


def test_shape_spec_forms():
    from matgrad_cli.errors import UsageError
    from matgrad_cli.language.shapes import parse_shape_spec

    assert parse_shape_spec("n,n,sym") == ["n", "n", "sym"]
    assert parse_shape_spec("4x4,spd") == [4, 4, "spd"]
    assert parse_shape_spec("4,4,SPD") == [4, 4, "spd"]
    for bad in ("m,n,sym", "n,sym", "3x4,spd"):
        with pytest.raises(UsageError, match="square"):
            parse_shape_spec(bad)


def test_a_symmetric_variable_under_a_conflicting_array_is_a_shape_error(tmp_path):
    np.save(tmp_path / "S.npy", np.ones((3, 4)))
    result = invoke(["eval", "logdet(S)", "--wrt", "S", "--shape", "S=n,n,spd",
                     "-i", f"S={tmp_path / 'S.npy'}"])
    assert result.exit_code == 2


# ---------------------------------------------------------------- derive output

def test_derive_text_says_which_gradient_and_shows_the_cookbook_form():
    result = invoke(["derive", "logdet(S)", "--wrt", "S", "--shape", "S=n,n,spd"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "  S: n×n symmetric positive definite" in lines
    assert "∂f/∂S = S⁻¹    (n×n)" in lines
    assert any("sym(G) = (G + Gᵀ)/2" in line for line in lines)
    assert any(line.startswith("  Matrix Cookbook form 2 sym(G) − I ⊙ sym(G)") and
               line.endswith(": 2 S⁻¹ − I ⊙ S⁻¹") for line in lines)
    assert not any("det S ≠ 0" in line for line in lines)  # spd: known to hold


def test_sym_keeps_the_det_condition_that_spd_drops():
    result = invoke(["derive", "logdet(S)", "--wrt", "S", "--shape", "S=n,n,sym"])
    assert "  valid where det S ≠ 0" in result.stdout.splitlines()


def test_derive_shows_the_plain_gradient_when_it_differs():
    result = invoke(["derive", "tr(A*S)", "--wrt", "S", "--shape", "S=n,n,sym"])
    assert "∂f/∂S = 0.5 (A + Aᵀ)    (n×n)" in result.stdout
    assert "G = Aᵀ" in result.stdout
    assert result.stdout.rstrip().endswith(": A + Aᵀ − I ⊙ A")  # I ⊙ ½(A + Aᵀ) = I ⊙ A
    latex = invoke(["derive", "tr(A*S)", "--wrt", "S", "--shape", "S=n,n,sym", "--format",
                    "latex"]).stdout
    assert r"matrixcalculus.org): } G = A^{\top}" in latex  # as the text format says


def test_derive_latex_labels_the_cookbook_form():
    result = invoke(["derive", "logdet(S)", "--wrt", "S", "--shape", "S=4x4,spd",
                     "--format", "latex"])
    assert r"\frac{\partial f}{\partial S} = S^{-1}" in result.stdout
    assert r"\text{Matrix Cookbook form } " in result.stdout
    assert result.stdout.rstrip().endswith(r"2 S^{-1} - I \odot S^{-1}")


def test_derive_dsl_is_only_the_gradient_line():
    result = invoke(["derive", "logdet(S)", "--wrt", "S", "--shape", "S=n,n,spd",
                     "--format", "dsl"])
    assert result.stdout == "inv(S)\n"


def test_derive_json_carries_the_convention_also_for_the_hessian():
    result = invoke(["derive", "logdet(S)", "--wrt", "S", "--shape", "S=n,n,spd",
                     "--format", "json", "--order", "2"])
    payload = json.loads(result.stdout)
    assert payload["structures"] == {"S": "spd"}
    assert payload["derivatives"]["S"]["convention"]["form"] == "P H P"


# ---------------------------------------------------------------- eval

def _spd(seed=0):
    rng = np.random.default_rng(seed)
    b = rng.standard_normal((3, 3))
    return b @ b.T + np.eye(3)


def test_eval_writes_sym_G_and_checks_along_symmetric_directions(tmp_path):
    rng = np.random.default_rng(3)
    arrays = {"S": _spd(), "A": rng.standard_normal((3, 3))}
    out = tmp_path / "out.npz"
    result = invoke(["eval", "tr(A*S)", "--wrt", "S", "--shape", "S=n,n,sym", "--check",
                     "-o", out, *input_args(arrays, tmp_path)])
    assert result.exit_code == 0, result.output
    assert "symmetric directions" in result.stdout
    with np.load(out) as saved:
        np.testing.assert_allclose(saved["grad_S"], (arrays["A"] + arrays["A"].T) / 2)


def test_eval_warns_about_asymmetry_and_evaluates_the_symmetric_part(tmp_path):
    S = _spd()
    S[0, 2] += 0.25
    out = tmp_path / "out.npz"
    result = invoke(["eval", "logdet(S)", "--wrt", "S", "--shape", "S=n,n,spd", "-o", out,
                     *input_args({"S": S}, tmp_path)])
    assert result.exit_code == 0
    assert "largest asymmetry is |S[0,2] − S[2,0]| = 0.25" in result.stderr
    with np.load(out) as saved:
        np.testing.assert_allclose(saved["grad_S"], np.linalg.inv((S + S.T) / 2))


def test_eval_warns_about_a_matrix_that_is_not_positive_definite(tmp_path):
    S = np.diag([2.0, 1.0, -0.5])
    result = invoke(["eval", "tr(inv(S))", "--wrt", "S", "--shape", "S=n,n,spd",
                     *input_args({"S": S}, tmp_path)])
    assert "smallest eigenvalue is -0.5" in result.stderr
    assert "not symmetric" not in result.stderr


def test_eval_hvp_uses_the_symmetric_part_of_the_direction(tmp_path):
    S = _spd()
    v = np.arange(9.0).reshape(3, 3)
    np.save(tmp_path / "v.npy", v)
    out = tmp_path / "out.npz"
    result = invoke(["eval", "logdet(S)", "--wrt", "S", "--shape", "S=n,n,spd", "--order",
                     "2", "--hvp", f"S={tmp_path / 'v.npy'}", "--check", "-o", out,
                     *input_args({"S": S}, tmp_path)])
    assert result.exit_code == 0, result.output
    inv = np.linalg.inv(S)
    with np.load(out) as saved:
        np.testing.assert_allclose(saved["hvp_S"], -inv @ ((v + v.T) / 2) @ inv)


# ---------------------------------------------------------------- check

@pytest.mark.parametrize("source, claim, structure", [
    ("logdet(S)", "inv(S)", "spd"),
    ("logdet(S)", "inv(S)'", "spd"),
    ("tr(A*S)", "(A + A')/2", "sym"),
    ("x'*S*x", "x*x'", "sym"),
    ("1/2*logdet(S) + 1/2*(x - m)'*inv(S)*(x - m)",
     "1/2*inv(S)*(S - (x - m)*(x - m)')*inv(S)", "spd"),
    ("-1/2*logdet(L) + 1/2*(x - m)'*L*(x - m)", "-1/2*inv(L) + 1/2*(x - m)*(x - m)'", "spd"),
])
def test_check_accepts_the_gradient_on_symmetric_matrices(source, claim, structure):
    name = "L" if "L" in source else "S"
    verdict = check_claim(source, name, claim, {name: ["n", "n", structure]})
    assert verdict.correct, verdict.to_text()
    assert "sym(G)" in verdict.convention


@pytest.mark.parametrize("source, claim, structure", [
    ("tr(A*S)", "A'", "sym"),  # plain G of tr(A S)
    ("tr(A*S)", "A", "sym"),  # plain G of tr(Sᵀ A), the same f
    ("tr(S*A*S*B)", "A'*S*B' + B'*S*A'", "sym"),
    ("a'*S*b", "a*b'", "sym"),
])
def test_check_names_a_plain_gradient(source, claim, structure):
    verdict = check_claim(source, "S", claim, {"S": ["n", "n", structure]})
    assert not verdict.correct
    assert verdict.kind == "plain", verdict.to_text()
    assert "plain (unsymmetrised) gradient G of one way of writing f" in verdict.diagnosis
    assert f"= sym(G) = {verdict.derivative_text}" in verdict.diagnosis


@pytest.mark.parametrize("source, claim, structure", [
    ("logdet(S)", "2*inv(S) - I .* inv(S)", "spd"),
    ("x'*S*x", "2*x*x' - Diag(x.^2)", "sym"),
    ("tr(inv(S))", "-2*inv(S)^2 + I .* inv(S)^2", "spd"),
])
def test_check_names_the_cookbook_form(source, claim, structure):
    verdict = check_claim(source, "S", claim, {"S": ["n", "n", structure]})
    assert not verdict.correct
    assert verdict.kind == "cookbook", verdict.to_text()
    assert verdict.diagnosis.startswith(
        "this is the Matrix Cookbook's independent-entries form 2G − I ⊙ G")


def test_check_cli_exit_codes_and_json_convention():
    ok = invoke(["check", "logdet(S)", "--wrt", "S", "--claim", "inv(S)", "--shape",
                 "S=n,n,spd", "--format", "json"])
    assert ok.exit_code == 0
    assert "sym(G)" in json.loads(ok.stdout)["derivative"]["convention"]
    wrong = invoke(["check", "logdet(S)", "--wrt", "S", "--claim", "2*inv(S) - I.*inv(S)",
                    "--shape", "S=n,n,spd"])
    assert wrong.exit_code == 1
    assert "Matrix Cookbook" in wrong.stdout


def test_check_samples_symmetric_positive_definite_inputs():
    """A claim true only for symmetric S passes once S is declared symmetric; sqrt of the
    determinant needs det S > 0, which spd sampling gives."""
    assert check_claim("sqrt(det(S))", "S", "1/2*sqrt(det(S))*inv(S)",
                       {"S": ["n", "n", "spd"]}).correct
    undeclared = check_claim("x'*S*x", "S", "x*x'", {})
    assert undeclared.correct  # plain gradient of a general S is x xᵀ as well
    assert check_claim("x'*S*x", "x", "2*S*x", {"S": ["n", "n", "sym"]}).correct
    general = check_claim("x'*S*x", "x", "2*S*x", {})
    assert not general.correct and general.kind == "symmetric"
    assert "right only when S is symmetric" in general.diagnosis
    assert "declare it (a shape n,n,sym)" in general.diagnosis


def test_steps_end_with_the_symmetrisation():
    result = invoke(["derive", "tr(A*S)", "--wrt", "S", "--shape", "S=n,n,sym", "--steps"])
    assert ("    ⇒ ∂f/∂S = 0.5 (A + Aᵀ)    [dS symmetric: G : dS = sym(G) : dS ⇒ "
            "∂f/∂S = sym(G)]") in result.stdout.splitlines()


def test_eval_json_and_text_name_the_convention(tmp_path):
    args = ["eval", "logdet(S)", "--wrt", "S", "--shape", "S=n,n,spd", "--order", "2",
            *input_args({"S": _spd()}, tmp_path)]
    payload = json.loads(invoke(args + ["--format", "json"]).stdout)
    assert "sym(G)" in payload["conventions"]["grad_S"]
    assert "P H P" in payload["conventions"]["hess_S"]
    text = invoke(args + ["--check"])
    assert text.exit_code == 0, text.output
    assert "∂f/∂S =    (sym(G): the gradient on symmetric matrices)" in text.stdout
    inv = np.linalg.inv(_spd())
    with np.load(_saved(args, tmp_path)) as saved:
        # hess_S = P (−S⁻¹ ⊗ S⁻¹) P, shaped S.shape + S.shape
        K = np.zeros((9, 9))
        for i in range(3):
            for j in range(3):
                K[i * 3 + j, j * 3 + i] = 1.0
        P = (np.eye(9) + K) / 2
        expected = P @ (-np.kron(inv, inv)) @ P
        np.testing.assert_allclose(saved["hess_S"].reshape(9, 9, order="F"), expected,
                                   atol=1e-12)


def _saved(args, tmp_path):
    out = tmp_path / "out.npz"
    assert invoke(args + ["-o", out]).exit_code == 0
    return out


def test_the_readme_worked_example_is_what_derive_prints():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Symmetric matrices: two conventions"):]
    command = '$ matgrad derive "logdet(S)" --wrt S --shape S=n,n,spd\n'
    shown = section[section.index(command) + len(command):].split("```")[0]
    result = invoke(["derive", "logdet(S)", "--wrt", "S", "--shape", "S=n,n,spd"])
    assert result.stdout == shown


@pytest.mark.parametrize("source, wrt, order", [
    ("S*x", "S", 1),  # a vector f: the vec-form Jacobian J P
    ("inv(S)", "S", 1),  # a matrix f
    ("x'*S*x + logdet(S)", ("x", "S"), 2),  # the mixed block ∂²f/∂x∂vec(S)ᵀ
])
def test_derivatives_along_S_are_J_P(source, wrt, order):
    rng = np.random.default_rng(5)
    b = rng.standard_normal((N, N))
    point = {"S": b @ b.T / N + np.eye(N), "x": rng.standard_normal(N)}
    program = api.parse(source, {"S": [N, N, "spd"]},
                        array_shapes={k: np.shape(v) for k, v in point.items()})
    wrt = list(wrt) if isinstance(wrt, tuple) else [wrt]
    derivation = api.derive(program, wrt, order, mixed=order == 2)
    if order == 2:
        J = _evaluate(derivation.mixed[("x", "S")], point)
        moving = compile_plan({"v": derivation.derivatives["x"]})
    else:
        J = _evaluate(derivation.derivatives["S"], point)
        moving = compile_plan({"v": program.expr})
    for _ in range(3):
        v = _random_symmetric(rng)
        h = 1e-5
        fd = (np.ravel(run_plan(moving, {**point, "S": point["S"] + h * v})["v"], order="F") -
              np.ravel(run_plan(moving, {**point, "S": point["S"] - h * v})["v"], order="F")
              ) / (2 * h)
        np.testing.assert_allclose(J @ np.ravel(v, order="F"), fd, rtol=1e-5, atol=1e-7)
        w = rng.standard_normal((N, N))
        np.testing.assert_allclose(J @ np.ravel(w - w.T, order="F"), 0, atol=1e-10)


@pytest.mark.parametrize("source, text", [
    ("tr((X - m*ones(5)')'*A*(X - m*ones(5)'))", "(X − m 𝟏ᵀ) (X − m 𝟏ᵀ)ᵀ"),
    ("(x - m)'*A*(x - m)", "(x − m) (x − m)ᵀ"),
    ("(x - m)'*(x - m)*(y - z)'*A*(y - z)", "(xᵀ − mᵀ) (x − m) (y − z) (y − z)ᵀ"),
])
def test_an_outer_product_of_a_sum_prints_as_u_u_transposed(source, text, tmp_path):
    """The printer shows u uᵀ for a sum u; the dsl line reads back to the same numbers."""
    from matgrad_cli.printers import to_dsl, to_text

    program = api.parse(source, {"X": [N, 5]} if "X" in source else {}, {"n": N, "k": N})
    gradient = api.derive(program, ["A"]).derivatives["A"]
    assert to_text(gradient) == text
    rng = np.random.default_rng(6)
    point = {name: rng.standard_normal(tuple(int(d) if isinstance(d, int) else N
                                             for d in shape))
             for name, shape in program.variables.items()}
    line = to_dsl(gradient)
    back = api.parse(line, array_shapes={k: np.shape(v) for k, v in point.items()})
    np.testing.assert_allclose(
        run_plan(compile_plan({"v": back.expr}), {k: point[k] for k in back.variables})["v"],
        _evaluate(gradient, point), rtol=1e-12)

"""The matrix functions (ops/matrix_functions.py): each kernel against an independent
reference, the printed forms with their named operators, the norms a subscript selects,
the convention for a symmetric argument, and the clear errors where matgrad has no rule.

The derivative rules themselves are checked against finite differences in
test_derivative_rules.py and through the command line in test_cookbook.py."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from helpers import assert_close, cli_eval_value, invoke

from matgrad_cli.app import api
from matgrad_cli.ops import matrix_functions as mf

RNG = np.random.default_rng(7)


def _spd(n, rng=RNG):
    r = rng.standard_normal((n, n))
    return r @ r.T / n + np.eye(n)


# ---------------------------------------------------------------- the kernels

def test_expm_is_the_exponential_series():
    x = 0.5 * RNG.standard_normal((4, 4))
    series = sum(np.linalg.matrix_power(x, k) / math.factorial(k) for k in range(30))
    assert_close(mf._expm(x), series, "expm", rtol=1e-12)
    assert mf._expm(np.float64(0.3)) == pytest.approx(math.exp(0.3))


def test_expm_frechet_is_the_directional_derivative_of_expm():
    x, e = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
    h = 1e-6
    central = (mf._expm(x + h * e) - mf._expm(x - h * e)) / (2 * h)
    assert_close(mf._expm_frechet(x, e), central, "L(X, E)", rtol=1e-6)


def test_expm_frechet_kron_is_van_loans_block_formula():
    """vec L(X, E) = K vec E with K the top-right block of expm([[Xᵀ⊗I, I], [0, I⊗X]])
    (Van Loan 1978): an independent way to the same matrix."""
    n = 3
    x = RNG.standard_normal((n, n))
    p, q, i = np.kron(x.T, np.eye(n)), np.kron(np.eye(n), x), np.eye(n * n)
    block = mf._expm(np.block([[p, i], [np.zeros_like(i), q]]))
    assert_close(mf._expm_frechet_kron(x), block[:n * n, n * n:], "K", rtol=1e-10)


def test_adjoint_of_the_frechet_derivative_is_at_the_transpose():
    """G : L(X, E) = L(Xᵀ, G) : E — the reverse rule of expm."""
    x, e, g = (RNG.standard_normal((4, 4)) for _ in range(3))
    assert np.vdot(g, mf._expm_frechet(x, e)) == pytest.approx(
        np.vdot(mf._expm_frechet(x.T, g), e), rel=1e-10)


def test_chol_reads_the_symmetric_part():
    s = _spd(4)
    skew = RNG.standard_normal((4, 4))
    skew = skew - skew.T
    lower = mf._chol(s + 0.1 * skew)
    assert np.allclose(lower, np.tril(lower)) and np.all(np.diag(lower) > 0)
    assert_close(lower @ lower.T, s, "L Lᵀ = (S + Sᵀ)/2", rtol=1e-12)


def test_tril_half_is_the_lower_triangle_with_half_the_diagonal():
    x = np.arange(9.0).reshape(3, 3)
    assert np.array_equal(mf._tril_half(x), [[0, 0, 0], [3, 2, 0], [6, 7, 4]])


def test_eigvecs_diagonalise_with_ascending_eigenvalues_and_a_fixed_sign():
    s = _spd(5)
    lam, q = mf._eigvals(s), mf._eigvecs(s)
    assert np.all(np.diff(lam) > 0)
    assert_close(q.T @ q, np.eye(5), "QᵀQ = I", rtol=1e-12, atol_scale=1e-12)
    assert_close(s @ q, q * lam, "S Q = Q Λ", rtol=1e-10)
    lead = q[np.argmax(np.abs(q), axis=0), np.arange(5)]
    assert np.all(lead > 0)
    assert np.array_equal(mf._eigvecs(s), mf._eigvecs(s.copy()))


def test_singular_vectors_polar_factor_and_norms():
    x = RNG.standard_normal((4, 3))
    sigma = np.linalg.svd(x, compute_uv=False)
    u, v = mf._svd_u1(x), mf._svd_v1(x)
    assert_close(x @ v, sigma[0] * u, "X v₁ = σ₁ u₁", rtol=1e-10)
    assert_close(x.T @ u, sigma[0] * v, "Xᵀ u₁ = σ₁ v₁", rtol=1e-10)
    assert u[np.argmax(np.abs(u))] > 0
    p = mf._polar(x)
    assert_close(p.T @ p, np.eye(3), "orthonormal columns", rtol=1e-10, atol_scale=1e-12)
    h = p.T @ x  # X = P H with H symmetric positive definite
    assert_close(h, h.T, "H symmetric", rtol=1e-10)
    assert np.all(np.linalg.eigvalsh((h + h.T) / 2) > 0)
    assert mf._spectral_norm(x) == pytest.approx(sigma[0])
    assert mf._nuclear_norm(x) == pytest.approx(sigma.sum())


# ---------------------------------------------------------------- norms a subscript selects

@pytest.mark.parametrize("expr, shapes, entry", [
    ("||X||_2", {"X": ["m", "n"]}, "spectral_norm"),
    ("||X||_*", {"X": ["m", "n"]}, "nuclear_norm"),
    ("||x||_2", {"x": ["n"]}, "norm"),
    ("||x||_*", {"x": ["n"]}, "norm"),
    ("||x'||_2", {"x": ["n"]}, "norm"),
    ("||X||_F", {"X": ["m", "n"]}, "norm"),
    ("||X||", {"X": ["m", "n"]}, "norm"),
])
def test_a_norm_subscript_selects_the_norm(expr, shapes, entry):
    program = api.parse(expr, shapes=shapes)
    assert program.expr.name == entry


def test_spectral_and_nuclear_norms_evaluate(tmp_path):
    x = RNG.standard_normal((3, 4))
    got = cli_eval_value("||X||_2 + 10*||X||_*", {"X": x}, tmp_path)
    assert got == pytest.approx(np.linalg.norm(x, 2) + 10 * np.linalg.norm(x, "nuc"))
    v = RNG.standard_normal(4)
    assert cli_eval_value("||v||_2 - ||v||_*", {"v": v}, tmp_path) == pytest.approx(0)


# ---------------------------------------------------------------- printed forms

def _derive(*args):
    result = invoke(["derive", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_gradient_of_trace_of_expm_prints_as_its_transpose():
    out = _derive("tr(expm(X))", "--wrt", "X")
    assert "∂f/∂X = expm(X)ᵀ    (m×m)" in out
    assert "expm_frechet" not in out
    assert _derive("tr(expm(X))", "--wrt", "X", "--format", "dsl") == "expm(X)'\n"


def test_the_frechet_derivative_is_named_and_defined_under_the_result():
    out = _derive("tr(expm(A)*B)", "--wrt", "A")
    assert "∂f/∂A = expm_frechet(Aᵀ, Bᵀ)" in out
    assert "  where expm_frechet(X, E) = d/dt expm(X + t E) at t = 0, the Fréchet " \
           "derivative of expm" in out
    latex = _derive("tr(expm(A)*B)", "--wrt", "A", "--format", "latex")
    assert r"\operatorname{expm\_frechet}\left(A^{\top}, B^{\top}\right)" in latex
    assert r"\text{expm\_frechet(X, E) = d/dt" in latex


def test_the_jacobian_of_expm_is_the_kronecker_form_of_the_frechet_derivative():
    out = _derive("expm(X)", "--wrt", "X")
    assert "∂vec(f)/∂vec(X)ᵀ = expm_frechet_kron(X)    (mm×mm)" in out
    assert "expm_frechet_kron(X) = the n²×n² matrix K with vec(expm_frechet(X, E)) = " \
           "K vec(E)" in out


def test_cholesky_gradient_names_phi():
    out = _derive("A : chol(S)", "--wrt", "S", "--shape", "S=n,n,spd")
    assert "∂f/∂S = 0.5 Yᵀ (M + Mᵀ) Y    (n×n)" in out and "M = tril_half(Lᵀ A)" in out
    assert "where L = chol(S)" in out
    assert "tril_half(X) = the lower triangle of X with its diagonal halved" in out
    assert "valid" not in out  # S declared SPD: chol(S) exists, and diag(L) > 0 always
    plain = _derive("Y : chol(S)", "--wrt", "S")
    assert "valid where S is positive definite" in plain


def test_logdet_through_cholesky_is_the_inverse():
    """2 Σ log diag(chol S) = logdet S, so its gradient prints S⁻¹: Φ of an upper-triangular
    matrix is half its diagonal, and L⁻ᵀ L⁻¹ = S⁻¹."""
    out = _derive("2*sum(log(diag(chol(S))))", "--wrt", "S", "--shape", "S=n,n,spd")
    assert "∂f/∂S = S⁻¹    (n×n)" in out
    assert "valid" not in out  # S declared SPD: chol(S) exists, and diag(L) > 0 always


def test_eigenvalue_gradient_reads_q_diag_q_transposed():
    out = _derive("a'*eigvals(S)", "--wrt", "S")
    assert "∂f/∂S = Q Diag(a) Qᵀ    (n×n)" in out
    assert "where Q = eigvecs(S)" in out
    assert "valid where the eigenvalues of S are distinct" in out


def test_norm_gradients_read_u_v_transposed():
    out = _derive("||X||_2", "--wrt", "X")
    assert "f = ‖X‖₂    (scalar)" in out
    assert "∂f/∂X = svd_u1(X) svd_v1(X)ᵀ    (m×n)" in out
    assert "valid where the largest singular value of X is simple" in out
    out = _derive("||X||_*", "--wrt", "X")
    assert "f = ‖X‖_*    (scalar)" in out
    assert "∂f/∂X = polar(X)    (m×n)" in out
    assert "polar(X) = U Vᵀ for the thin SVD X = U Σ Vᵀ" in out
    assert "valid where X has full rank" in out
    latex = _derive("||X||_2 + ||X||_*", "--wrt", "X", "--format", "latex")
    assert r"\left\|X\right\|_{2} + \left\|X\right\|_{*}" in latex
    assert _derive("||X||_2*||X||_*", "--wrt", "X", "--format", "dsl").startswith(
        "||X||_*")


def test_json_lists_the_operators_a_derivative_uses():
    import json

    payload = json.loads(_derive("tr(expm(A)*B)", "--wrt", "A", "--format", "json"))
    (operator,) = payload["derivatives"]["A"]["operators"]
    assert operator.startswith("expm_frechet(X, E) = ")


# ---------------------------------------------------------------- the symmetric convention

def test_plain_gradient_of_chol_is_symmetric_and_agrees_with_any_direction():
    """S is read as (S + Sᵀ)/2 (as jax.numpy.linalg.cholesky does), so the plain gradient
    is symmetric and the directional derivative along a non-symmetric V is G : V."""
    s, g, v = _spd(4), RNG.standard_normal((4, 4)), RNG.standard_normal((4, 4))
    program = api.parse("G : chol(S)", array_shapes={"S": (4, 4), "G": (4, 4)})
    derivation = api.derive(program, ["S"])
    grad = api.evaluate(derivation, {"S": s, "G": g})["grad_S"]
    assert_close(grad, grad.T, "symmetric", rtol=1e-12)
    h = 1e-6
    f = lambda m: np.vdot(g, mf._chol(m))  # noqa: E731
    assert np.vdot(grad, v) == pytest.approx((f(s + h * v) - f(s - h * v)) / (2 * h), rel=1e-6)


# ---------------------------------------------------------------- check, eval, errors

def test_check_samples_spd_matrices_for_chol():
    result = invoke(["check", "2*sum(log(diag(chol(S))))", "--wrt", "S", "--claim", "inv(S)"])
    assert result.exit_code == 0, result.output
    wrong = invoke(["check", "2*sum(log(diag(chol(S))))", "--wrt", "S", "--claim", "S"])
    assert wrong.exit_code == 1, wrong.output


def test_check_confirms_the_trace_of_expm_identity():
    result = invoke(["check", "tr(expm(X))", "--wrt", "X", "--claim", "expm(X')"])
    assert result.exit_code == 0, result.output


def test_chol_of_an_indefinite_matrix_is_an_evaluation_error(tmp_path):
    np.save(tmp_path / "S.npy", -np.eye(3))
    result = invoke(["eval", "sum(chol(S))", "--wrt", "S", "-i", f"S={tmp_path / 'S.npy'}"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "evaluation failed" in result.stderr


@pytest.mark.parametrize("args, what", [
    (["sum(expm_frechet(X, E))", "--wrt", "X", "--order", "2"],
     "expm_frechet2_kron(X, E) (a third derivative of expm)"),
    (["sum(expm_frechet_kron(X))", "--wrt", "X"],
     "expm_frechet_kron(X) (a third derivative of expm)"),
    (["sum(svd_u1(X))", "--wrt", "X"], "svd_u1(X) (a singular vector)"),
    (["||X||_2", "--wrt", "X", "--order", "2"], "svd_u1(X) (a singular vector)"),
    (["||X||_*", "--wrt", "X", "--order", "2"], "polar(X) (the polar factor)"),
    (["tr(polar(X))", "--wrt", "X"], "polar(X) (the polar factor)"),
])
def test_a_derivative_without_a_rule_is_a_clear_error(args, what):
    result = invoke(["derive", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"matgrad: error: matgrad has no derivative rule for {what}")
    assert "Traceback" not in result.output


def test_the_frechet_derivative_is_differentiated_in_both_arguments():
    out = _derive("sum(expm_frechet(A, E))", "--wrt", "E")
    assert "∂f/∂E = expm_frechet(Aᵀ, 𝟏)" in out
    out = _derive("Y : expm_frechet(X, E)", "--wrt", "X")
    assert "expm_frechet2_kron(X, E)" in out
    assert "expm_frechet2_kron(X, E) = the n²×n² matrix K with vec(d/ds expm_frechet(X + s D, " \
           "E) at s = 0) = K vec(D)" in out


def test_second_frechet_kron_is_the_derivative_of_the_frechet_derivative():
    x, e, d = (RNG.standard_normal((3, 3)) for _ in range(3))
    h = 1e-6
    central = (mf._expm_frechet(x + h * d, e) - mf._expm_frechet(x - h * d, e)) / (2 * h)
    got = (mf._expm_frechet2_kron(x, e) @ d.ravel(order="F")).reshape(3, 3, order="F")
    assert_close(got, central, "K₂ vec(D)", rtol=1e-6)


def test_derive_never_imports_scipy():
    """SciPy is imported by the kernels that evaluate, never to derive or print."""
    code = ("import sys; from matgrad_cli.cli import main; "
            "from click.testing import CliRunner; "
            "r = CliRunner().invoke(main, ['derive', 'tr(expm(X)*B) + ||X||_2 + "
            "sum(chol(X*X'' + I))', '--wrt', 'X']); "
            "assert r.exit_code == 0, r.output; print('scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_every_matrix_function_and_named_operator_is_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for entry in mf.ENTRIES:
        spelled = {"spectral_norm": "`||X||_2`", "nuclear_norm": "`||X||_*`"}.get(
            entry.name, f"`{entry.name}(")
        assert spelled in readme, entry.name
        if entry.definition:
            assert entry.definition.split(" = ")[0].split(",")[0] in readme, entry.name


@pytest.mark.parametrize("expr, wrt, printed", [
    ("expm(beta*X)", "beta", "∂f/∂β = X expm(β X)    (m×m)"),  # βX commutes with X
    ("tr(expm(X)) + tr(expm(X'))", "X", "∂f/∂X = 2 expm(X)ᵀ    (m×m)"),  # via simplify
    ("tr(2*expm(X))", "X", "∂f/∂X = 2 expm(X)ᵀ    (m×m)"),
])
def test_frechet_derivative_in_a_commuting_direction_is_written_out(expr, wrt, printed):
    assert printed in _derive(expr, "--wrt", wrt)


@pytest.mark.parametrize("expr, value, warning", [
    ("sum(eigvals(S))", np.eye(3), "the eigenvalues of the argument of eigvals are not distinct"),
    ("||X||_2", np.diag([2.0, 2.0, 1.0]), "the largest singular value of the argument of "
                                          "||·||_2 is not simple"),
    ("||X||_*", np.outer([1.0, 2.0, 3.0], [1.0, 1.0]), "the argument of ||·||_* does not have "
                                                       "full rank"),
])
def test_eval_warns_where_a_spectral_gap_closes(expr, value, warning, tmp_path):
    name = "S" if "S" in expr else "X"
    np.save(tmp_path / "a.npy", value)
    result = invoke(["eval", expr, "--wrt", name, "-i", f"{name}={tmp_path / 'a.npy'}"])
    assert result.exit_code == 0, result.output
    assert f"warning: {warning} at this point: the derivative does not exist there" \
        in result.stderr
    np.save(tmp_path / "a.npy", value + 0.1 * RNG.standard_normal(value.shape))
    result = invoke(["eval", expr, "--wrt", name, "-i", f"{name}={tmp_path / 'a.npy'}"])
    assert "warning" not in result.stderr


def test_check_accepts_the_textbook_norm_gradients():
    for expr, claim in (("||X||_2", "svd_u1(X)*svd_v1(X)'"), ("||X||_*", "polar(X)")):
        result = invoke(["check", expr, "--wrt", "X", "--claim", claim])
        assert result.exit_code == 0, result.output
    # u₁(Xᵀ) = ±v₁(X), v₁(Xᵀ) = ±u₁(X) with one sign: the same matrix
    same = invoke(["check", "||X||_2", "--wrt", "X", "--claim", "svd_v1(X')*svd_u1(X')'"])
    assert same.exit_code == 0, same.output
    wrong = invoke(["check", "||X||_*", "--wrt", "X", "--claim", "svd_u1(X)*svd_v1(X)'"])
    assert wrong.exit_code == 1, wrong.output


@pytest.mark.parametrize("expr, differential", [
    ("tr(expm(X)*B)", "du = expm_frechet(X, dX)    [d expm(X) = expm_frechet(X, dX)]"),
    ("Y : chol(S)", "du = u tril_half(0.5 u⁻¹ (dS + dSᵀ) u⁻ᵀ)    [dL = L Φ(L⁻¹ dS L⁻ᵀ), "
                    "Φ = tril_half]"),
    ("a'*eigvals(S)", "du = diag(eigvecs(S)ᵀ dS eigvecs(S))    [dλᵢ = qᵢᵀ dS qᵢ]"),
])
def test_steps_show_the_textbook_differential(expr, differential):
    wrt = "X" if "X" in expr else "S"
    assert f"    {differential}\n" in _derive(expr, "--wrt", wrt, "--steps")


@pytest.mark.parametrize("args, message", [
    (["sum(expm_frechet(A, B))", "--wrt", "A", "--shape", "A=3x3", "--shape", "B=2x2"],
     ["matgrad: error: shape conflict in expm_frechet(X, E): A is 3×3 but B is 2×2 (E must "
      "have the shape of the square X) (column 5)", "  sum(expm_frechet(A, B))",
      "      ^^^^^^^^^^^^^^^^^^"]),
    (["sum(chol(x))", "--wrt", "x"],
     ["matgrad: error: chol needs a square matrix, but x is a vector of length n (column 5)",
      "  sum(chol(x))", "      ^^^^^^^"]),
    (["eigvals(X)", "--wrt", "X", "--shape", "X=2x3"],
     ["matgrad: error: eigvals needs a square matrix, but X is 2×3 (column 1)",
      "  eigvals(X)", "  ^^^^^^^^^^"]),
    (["||X||_3", "--wrt", "X"],
     ["matgrad: error: a norm subscript must be _1, _2, _F or _* (column 6)", "  ||X||_3",
      "       ^^"]),
])
def test_bad_input_to_a_matrix_function_is_one_line_with_a_caret(args, message):
    result = invoke(["derive", *args])
    assert result.exit_code == 2
    assert result.stderr.rstrip("\n").split("\n") == message


@pytest.mark.parametrize("expr, wrt", [
    ("sum(expm(B))", ["--wrt", "B"]), ("sum(expm_frechet_kron(B))", []),
    ("sum(expm_frechet(B, B))", ["--wrt", "B"]), ("sum(expm_frechet2_kron(B, B))", []),
    ("sum(eigvals(B))", ["--wrt", "B"]), ("||B||_2", ["--wrt", "B"])])
def test_a_non_finite_argument_is_nan_or_a_failed_evaluation_never_an_internal_error(
        expr, wrt, tmp_path):
    """SciPy raises ValueError on NaN: the kernels answer NaN instead (found by fuzzing)."""
    np.save(tmp_path / "B.npy", np.array([[np.nan, 1.0], [2.0, 3.0]]))
    result = invoke(["eval", expr, *wrt, "-i", f"B={tmp_path / 'B.npy'}"])
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.output

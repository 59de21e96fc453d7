"""Regressions from the hardening pass: each test runs the command line and asserts the
exact exit status and message (the caret line included where there is a place)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import input_args, invoke


def _eval_json(args, arrays, tmp_path):
    result = invoke(["eval", "--format", "json", *input_args(arrays, tmp_path), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ---------------------------------------------------------------- 1. plan sharing

@pytest.mark.parametrize("expr, wrt, grads", [
    ("x'x + sum(h + x)", ["h", "x"], {"h": [1, 1, 1], "x": [1, 3, 5]}),
    ("sum(A*x) + sum(h) + sum(x)", ["h", "x"], {"h": [1, 1, 1], "x": [2, 2, 2]}),
])
def test_a_ones_vector_output_is_not_the_broadcast_scalar_one(tmp_path, expr, wrt, grads):
    arrays = {"x": np.arange(3.0), "h": np.ones(3), "A": np.eye(3)}
    arrays = {k: v for k, v in arrays.items() if k in expr}
    out = _eval_json([a for w in wrt for a in ("--wrt", w)] + ["--", expr], arrays, tmp_path)
    for name, expected in grads.items():
        np.testing.assert_allclose(out["grad_" + name], expected)


# ---------------------------------------------------------------- 4. clear errors

def _error_lines(args):
    result = invoke(args)
    return result.exit_code, result.stdout, result.stderr.splitlines()


def test_division_by_a_literal_zero_is_a_caret_error():
    assert _error_lines(["derive", "x/0", "--wrt", "x"]) == (2, "", [
        "matgrad: error: division by zero (column 2)", "  x/0", "   ^"])


def test_division_by_a_constant_that_is_zero_is_a_caret_error():
    assert _error_lines(["derive", "x./(1-1)", "--wrt", "x"]) == (2, "", [
        "matgrad: error: division by zero (column 2)", "  x./(1-1)", "   ^^"])


def test_an_empty_input_array_is_refused(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(0))
    assert _error_lines(["eval", "softmax(x)", "-i", f"x={tmp_path / 'x.npy'}"]) == (2, "", [
        "matgrad: error: input x is empty (shape (0,)): every input needs at least one entry"])


def test_a_size_that_would_be_its_own_factor_is_a_shape_error():
    assert _error_lines(["derive", "t'*K*vec(K)", "--wrt", "K"]) == (2, "", [
        "matgrad: error: shape conflict in the product: t'*K is a row vector (1×m) but "
        "vec(K) is a vector of length m·n (column 5)", "  t'*K*vec(K)", "      ^"])


def test_trace_of_a_kronecker_product_unifies_the_factor_sizes(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"A": rng.standard_normal((2, 2)), "X": rng.standard_normal((3, 3))}
    result = invoke(["derive", "tr(kron(A, X))", "--wrt", "X"])
    assert result.exit_code == 0, result.output
    assert "A: m×m, X: n×n" in result.stdout
    out = _eval_json(["--wrt", "X", "--", "tr(kron(A, X))"], arrays, tmp_path)
    np.testing.assert_allclose(out["grad_X"], np.trace(arrays["A"]) * np.eye(3), atol=1e-12)


# ---------------------------------------------------------------- 5. dsl lines read back

@pytest.mark.parametrize("expr, wrt, shapes, line", [
    ("tr(C)*tr(C - W)", "C", ["C=2x2", "W=2x2"], "tr(C - W)*eye(2) + tr(C)*eye(2)"),
    ("tr(tr(tr(A)*A)*A)", "A", ["A=2x2"],
     "c = tr(A); (c*I : A)*eye(2) + c^2*eye(2) + tr(c*A)*eye(2)"),
])
def test_a_dsl_line_sizes_an_identity_that_nothing_beside_it_fixes(tmp_path, expr, wrt,
                                                                    shapes, line):
    args = ["derive", expr, "--wrt", wrt, "--format", "dsl"]
    for s in shapes:
        args += ["--shape", s]
    result = invoke(args)
    assert (result.exit_code, result.stdout) == (0, line + "\n")
    rng = np.random.default_rng(3)
    arrays = {name: rng.standard_normal((2, 2)) for name in ("A", "C", "W") if name in expr}
    expected = _eval_json(["--wrt", wrt, "--", expr], arrays, tmp_path)["grad_" + wrt]
    again = _eval_json(["--", line], arrays, tmp_path)["value"]
    np.testing.assert_allclose(again, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- 6. typos are not products

@pytest.mark.parametrize("expr, message, caret", [
    ("sofmax(x)", "unknown function 'sofmax' — did you mean softmax? (column 1)", "  ^^^^^^"),
    ("tr(expmm(A))", "unknown function 'expmm' — did you mean expm or expm1? (column 4)",
     "     ^^^^^"),
    ("eig(X)", "unknown function 'eig' — did you mean eigvals? (column 1)", "  ^^^"),
    ("cholesky(S)", "unknown function 'cholesky' — did you mean chol? (column 1)",
     "  ^^^^^^^^"),
    ("trace(X)", "unknown function 'trace' — did you mean tr? (column 1)", "  ^^^^^"),
    ("2*sigmod(x)", "unknown function 'sigmod' — did you mean sigmoid or sign? (column 3)",
     "    ^^^^^^"),
])
def test_an_unknown_function_name_is_an_error_with_suggestions(expr, message, caret):
    assert _error_lines(["derive", expr, "--wrt", "x"]) == (2, "", [
        "matgrad: error: " + message, "  " + expr, caret])


@pytest.mark.parametrize("expr, args", [
    ("A(x+y)", []), ("W1(x)", []), ("x_1(2) + x", ["--shape", "x_1=3"]), ("beta(x)", []),
    ("sum(x(2))", []), ("Wout(x)", ["--shape", "Wout=3x4"]), ("hid = A*x; hid'(x)", []),
])
def test_a_declared_or_single_letter_name_before_a_parenthesis_is_a_product(expr, args):
    result = invoke(["derive", expr, "--wrt", "x", *args])
    assert result.exit_code == 0, result.output


def test_an_eval_input_name_before_a_parenthesis_is_a_product(tmp_path):
    arrays = {"Wout": np.eye(3), "x": np.arange(3.0)}
    out = _eval_json(["--", "sum(Wout(x))"], arrays, tmp_path)
    assert out["value"] == 3.0


# ---------------------------------------------------------------- 9. rough edges

@pytest.mark.parametrize("expr, expected", [
    ("det(A)", [[4.0, -2.0], [-2.0, 1.0]]),  # the adjugate (transposed)
    ("det(A)*sum(A)", [[36.0, -18.0], [-18.0, 9.0]]),  # sum(A) adj(A)ᵀ + det(A) 𝟏
    ("log(1 + det(A)^2)", [[0.0, 0.0], [0.0, 0.0]]),
])
def test_the_gradient_of_det_at_a_singular_matrix_is_the_adjugate(tmp_path, expr, expected):
    out = _eval_json(["--wrt", "A", "--check", "--", expr],
                     {"A": np.array([[1.0, 2.0], [2.0, 4.0]])}, tmp_path)
    np.testing.assert_allclose(out["grad_A"], expected, atol=1e-12)


def test_the_adjugate_is_det_times_the_inverse_where_that_exists():
    from matgrad_cli.numeric.evaluator import _adjugate

    a = np.random.default_rng(3).standard_normal((4, 4))
    np.testing.assert_allclose(_adjugate(a, False), np.linalg.det(a) * np.linalg.inv(a))
    rank_two = a[:, :2] @ a[:2, :]  # adj of a rank-2 4×4 matrix is 0; of rank 3, rank 1
    np.testing.assert_allclose(_adjugate(rank_two, True), np.zeros((4, 4)), atol=1e-10)
    rank_three = a[:, :3] @ a[:3, :]
    adj = _adjugate(rank_three, False)
    np.testing.assert_allclose(adj @ rank_three, np.zeros((4, 4)), atol=1e-9)
    assert np.linalg.matrix_rank(adj, tol=1e-8) == 1


def test_no_zero_norm_warning_when_the_gradient_is_finite(tmp_path):
    result = invoke(["eval", "norm(x)^2", "--wrt", "x", "--format", "json",
                     *input_args({"x": np.zeros(3)}, tmp_path)])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert json.loads(result.stdout)["grad_x"] == [0.0, 0.0, 0.0]
    result = invoke(["eval", "norm(x)", "--wrt", "x", "--format", "json",
                     *input_args({"x": np.zeros(3)}, tmp_path)])
    assert result.stderr.splitlines()[0] == (
        "warning: the argument of a norm is zero at this point: the derivative does not "
        "exist there (the gradient is NaN there)")


@pytest.mark.parametrize("expr, name, array, declared, grad_shape", [
    ("sum(y)", "y", np.ones(1), [], [1]),
    ("y'*y", "y", np.ones(1), [], [1]),
    ("sum(Y)", "Y", np.ones((3, 1)), [], [3, 1]),
    ("sum(Y)", "Y", np.ones((3, 1)), ["--shape", "Y=3x1"], [3, 1]),
    ("sum(Y)", "Y", np.ones((1, 1)), [], [1, 1]),
    ("sum(y)", "y", np.ones((3, 1)), [], [3]),  # an n×1 array given for a vector
    ("alpha*2", "alpha", np.ones(1), [], []),  # a one-entry array for a scalar
])
def test_a_variable_keeps_its_shape(tmp_path, expr, name, array, declared, grad_shape):
    out = _eval_json(["--wrt", name, "--order", "2", *declared, "--", expr], {name: array},
                     tmp_path)
    assert out["shapes"]["grad_" + name] == grad_shape
    assert out["shapes"]["hess_" + name] == grad_shape * 2


def test_a_number_given_for_a_vector_is_a_length_one_vector(tmp_path):
    result = invoke(["eval", "x'*x", "--wrt", "x", "-i", "x=3", "-o", tmp_path / "o.npz"])
    assert result.exit_code == 0
    assert np.load(tmp_path / "o.npz")["grad_x"].tolist() == [6.0]


def test_an_unexpected_exception_is_one_line_naming_it_an_internal_error(monkeypatch):
    from matgrad_cli.app import pipeline

    def broken(*args, **kwargs):
        raise ValueError("a bug\nwith a second line")

    monkeypatch.setattr(pipeline, "run_eval", broken)
    result = invoke(["eval", "x*2", "-i", "x=1"])
    assert result.exit_code == 1
    assert result.stderr == ("matgrad: error: internal error: ValueError: a bug; please "
                             "report this at the matgrad issue tracker\n")


def test_the_inverse_of_a_zero_constant_is_numpys_not_a_python_error():
    """Found by the 100,000-line fuzz run: inv(0) and pinv(0) of a constant zero raised
    Python's ZeroDivisionError. inv(0) is inf (with eval's warning, as 1/x at x = 0) and
    the Moore–Penrose inverse of 0 is 0."""
    result = invoke(["eval", "--", "pinv(0)"])
    assert (result.exit_code, result.stdout.strip()) == (0, "f = 0")
    result = invoke(["eval", "--", "inv(tr(0))"])
    assert (result.exit_code, result.stdout.strip()) == (0, "f = inf")
    assert "NaN or infinite" in result.stderr


@pytest.mark.parametrize("expr, message, caret", [
    # a constant divisor made of functions of numbers: caught where it is parsed
    ("x'x - 1/Diag(0)", "division by zero (column 8)", "         ^"),
    ("x/tr(0)", "division by zero (column 2)", "   ^"),
    # found only while simplifying (the fuzz run's ZeroDivisionError): the whole quotient
    ("x'x/(sum(y) - sum(y))", "division by zero: the divisor is identically 0 (column 1)",
     "  " + "^" * 21),
    ("sum(x./(y - y))", "division by zero: the divisor is identically 0 (column 5)",
     "      " + "^" * 10),
])
def test_a_divisor_that_is_identically_zero_is_a_caret_error(expr, message, caret):
    assert _error_lines(["derive", "--wrt", "x", "--", expr]) == (2, "", [
        f"matgrad: error: {message}", f"  {expr}", caret])

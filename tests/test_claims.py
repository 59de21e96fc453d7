"""`matgrad check` / claims.check_claim: is a claimed formula ∂f/∂X?

Every claim in the tables runs twice: through the Python API (check_claim → Verdict) and
through the command line (CliRunner on matgrad_cli.cli.main), asserting the verdict, the
kind of diagnosis, words of the diagnosis and the exit code (0 correct, 1 wrong, 2 bad
input)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from matgrad_cli.app.claims import TOLERANCE, Verdict, check_claim
from matgrad_cli.cli import main
from matgrad_cli.errors import MatgradError, ParseError, ShapeError, UsageError

DLN = "0.5*||W3*W2*W1*X - Y||_F^2 + lambda*(||W1||_F^2 + ||W2||_F^2 + ||W3||_F^2)"
DLN_GRADIENT = "W2'*W3'*(W3*W2*W1*X - Y)*X'"


def run(args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def check_args(expr, wrt, claim, *extra):
    return ["check", expr, "--wrt", wrt, "--claim", claim, *extra]


# ---------------------------------------------------------------- right claims

CORRECT = [
    # quadratic forms: equivalent ways of writing the same gradient
    ("x'*A*x", "x", "(A+A')*x"),
    ("x'*A*x", "x", "A'*x + A*x"),
    ("||A*x||^2", "x", "2*A'*A*x"),
    ("||A*x||^2", "x", "A'*(2*A*x)"),
    ("||A*x - b||^2", "x", "2*A'*(A*x - b)"),
    # the symmetric-argument example of the README
    ("beta*sum(abs(P'P - I))", "P", "2*beta*P*sign(P'*P - I)"),
    # logdet / inv / det (unsymmetrised gradients)
    ("logdet(X)", "X", "inv(X)'"),
    ("logdet(A'*A)", "A", "2*A*inv(A'*A)"),  # needs A tall: sizes where A'A is singular are skipped
    ("a'*inv(X)*b", "X", "-inv(X)'*a*b'*inv(X)'"),
    ("det(X)", "X", "det(X)*inv(X)'"),
    ("tr(X^-1)", "X", "-(X^-2)'"),
    # sigmoid, softmax, logsumexp
    ("sum(log(sigmoid(A*x)))", "x", "A'*(1 - sigmoid(A*x))"),
    ("logsumexp(A*x)", "x", "A'*softmax(A*x)"),
    ("softmax(x)", "x", "Diag(softmax(x)) - softmax(x)*softmax(x)'"),
    ("s = sigmoid(x); ||A*s||^2", "x", "2*(s - s.^2) .* (A'*A*s)"),  # f's definition reused
    # trace forms from the Matrix Cookbook
    ("tr(A*X*B)", "X", "A'*B'"),
    ("tr(A*X'*B)", "X", "B*A"),
    ("tr(X'*A*X)", "X", "(A + A')*X"),
    ("tr(X*X)", "X", "2*X'"),
    ("x'*A*y", "A", "x*y'"),
    # norms, kinks, Jacobians
    ("sqrt(x'*x)", "x", "x/||x||"),
    ("sum(relu(A*x))", "x", "A'*step(A*x)"),
    ("A*x", "x", "A"),
    ("X'", "X", "commutation(m, n)"),
    ("alpha*x", "alpha", "x"),
    # an I sized by the shape a gradient has (its variable's)
    ("tr(A)*tr(X)", "X", "tr(A)*I"),
    ("exp(tr(X))", "X", "exp(tr(X))*I"),
    # the deep linear network, with the right regulariser coefficient
    (DLN, "W1", "2*lambda*W1 + " + DLN_GRADIENT),
]


@pytest.mark.parametrize("expr, wrt, claim", CORRECT)
def test_correct_claims_api(expr, wrt, claim):
    verdict = check_claim(expr, wrt, claim)
    assert verdict.correct, verdict.to_text()
    assert verdict.error <= TOLERANCE
    assert verdict.diagnosis is None
    assert verdict.counterexample is None
    assert verdict.points >= 3


@pytest.mark.parametrize("expr, wrt, claim", CORRECT)
def test_correct_claims_cli(expr, wrt, claim):
    result = run(check_args(expr, wrt, claim))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("CORRECT")
    assert "largest relative error" in result.stdout


def test_several_sizes_are_tried():
    verdict = check_claim("||A*x||^2", "x", "2*A'*A*x")
    assert len(verdict.sizes) == 3
    assert len({tuple(s.items()) for s in verdict.sizes}) == 3
    for sizes in verdict.sizes:
        assert sizes["m"] != sizes["n"]  # never square by accident
    assert verdict.points == 9


def test_tall_only_expression_skips_sizes_without_a_valid_point():
    verdict = check_claim("logdet(A'*A)", "A", "2*A*inv(A'*A)")
    assert all(s["m"] >= s["n"] for s in verdict.sizes)


# ---------------------------------------------------------------- wrong claims

WRONG = [
    # (expr, wrt, claim, kind, words in the diagnosis)
    ("tr(A*X*B)", "X", "B*A", "transpose",
     ["transpose of the gradient", "the claim is k×n but ∂f/∂X is n×k (shaped like X)"]),
    ("logdet(X)", "X", "inv(X)", "transpose", ["transpose of the gradient"]),
    ("x'*A*x", "x", "x'*(A+A')", "transpose",
     ["transpose of the gradient", "row vector (1×n)", "vector of length n"]),
    ("A*x", "x", "A'", "transpose", ["transpose of the Jacobian", "denominator"]),
    ("||A*x||^2", "x", "A'*A*x", "factor", ["0.5 × the correct derivative"]),
    ("x'*x", "x", "-2*x", "factor", ["wrong sign"]),
    ("beta*x'*x", "x", "2*x", "factor", ["misses a factor beta"]),
    (DLN, "W1", "(lambda/2)*W1 + " + DLN_GRADIENT, "term",
     ["coefficient of the term lambda*||W1||_F^2 is off", "0.25 ×",
      "∂(lambda*||W1||_F^2)/∂W1 = 2*lambda*W1", "0.5*lambda*W1 (0.25 × that)",
      "differs from the correct derivative by -1.5*lambda*W1"]),
    ("x'*x + alpha*sum(x)", "x", "2*x", "term", ["leaves out the term alpha*sum(x)"]),
    ("x'*x - 3*sum(sin(x))", "x", "2*x + 3*cos(x)", "term",
     ["sign of the term -3*sum(sin(x)) flipped"]),
    ("||A*x||^2", "x", "2*A'*A*x + x", "variable", ["differs from the correct derivative by x"]),
    ("x'*A*x", "x", "3", "shape",
     ["the claim is a scalar but ∂f/∂x is a vector of length n (shaped like x)"]),
    ("||A*x||^2", "x", "A'*A", "shape", ["the claim is n×n but ∂f/∂x is a vector of length n"]),
    # K_{n,m} = K_{m,n}ᵀ: right only for square X
    ("X'", "X", "commutation(n, m)", "sizes", ["right only when m = n", "matches at m=3, n=3"]),
    # the classic mistake: 2Ax is the gradient of x'Ax only for a symmetric A
    ("x'*A*x", "x", "2*A*x", "symmetric", ["right only when A is symmetric"]),
    ("sum(log(x))", "x", "log(x)", "other", ["largest relative error"]),
    ("sum(log(x))", "x", "1 ./ (x - x)", "undefined", ["not finite"]),
]


@pytest.mark.parametrize("expr, wrt, claim, kind, words", WRONG)
def test_wrong_claims_api(expr, wrt, claim, kind, words):
    verdict = check_claim(expr, wrt, claim)
    assert not verdict.correct
    assert verdict.kind == kind, verdict.diagnosis
    for word in words:
        assert word in verdict.diagnosis
    assert verdict.counterexample is not None
    assert "WRONG" in verdict.to_text()


@pytest.mark.parametrize("expr, wrt, claim, kind, words", WRONG)
def test_wrong_claims_cli(expr, wrt, claim, kind, words):
    result = run(check_args(expr, wrt, claim))
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("WRONG")
    for word in words:
        assert word in result.stdout


def test_constant_factor_is_reported():
    verdict = check_claim("||A*x||^2", "x", "A'*A*x")
    assert verdict.kind == "factor"
    assert verdict.factor == pytest.approx(0.5)
    assert verdict.error == pytest.approx(0.5)
    verdict = check_claim("tr(X'*A*X)", "X", "3*(A + A')*X")
    assert verdict.factor == pytest.approx(3.0)
    assert "3 × the correct derivative" in verdict.diagnosis


def test_deep_linear_network_regulariser():
    verdict = check_claim(DLN, "W1", "(lambda/2)*W1 + " + DLN_GRADIENT)
    assert verdict.kind == "term"
    assert verdict.diagnosis == (
        "the coefficient of the term lambda*||W1||_F^2 is off: ∂(lambda*||W1||_F^2)/∂W1 = "
        "2*lambda*W1, but the claim's matching term is 0.5*lambda*W1 (0.25 × that); the claim "
        "differs from the correct derivative by -1.5*lambda*W1")
    # matgrad's own derivative is shown beside the claim
    text = verdict.to_text()
    assert "2*lambda*W1" in text
    assert "(lambda/2)*W1" in text
    assert "k×p" in text


# ---------------------------------------------------------------- bad input: exit 2

ERRORS = [
    # (expr, wrt, claim, error type, words, caret text)
    ("x'*A*x", "x", "(A+A'*x", ParseError, "unclosed", "(A+A'*x"),
    ("x'*A*x", "x", "A*x + z", UsageError, "the claim uses 'z'", "A*x + z"),
    ("x'*A*y", "x", "A'*y", ShapeError, "shape conflict", "A'*y"),
    ("sum(A*x)", "x", "A'*ones(n)", ShapeError, "shape conflict", "A'*ones(n)"),
    ("x'*A*x", "y", "A*x", UsageError, "no variable 'y'", None),
]


@pytest.mark.parametrize("expr, wrt, claim, error, words, line", ERRORS)
def test_bad_claims_api(expr, wrt, claim, error, words, line):
    with pytest.raises(error) as info:
        check_claim(expr, wrt, claim)
    assert words in info.value.message
    if line is not None:
        # the caret points into the claim's text
        rendered = info.value.render()
        assert f"\n  {line}\n" in rendered
        assert "^" in rendered.splitlines()[-1]


@pytest.mark.parametrize("expr, wrt, claim, error, words, line", ERRORS)
def test_bad_claims_cli(expr, wrt, claim, error, words, line):
    result = run(check_args(expr, wrt, claim))
    assert result.exit_code == 2
    assert words in result.stderr
    assert "Traceback" not in result.output
    if line is not None:
        assert f"  {line}\n" in result.stderr


def test_unknown_variable_caret_points_at_it():
    with pytest.raises(UsageError) as info:
        check_claim("x'*A*x", "x", "A*x + z")
    assert info.value.render().splitlines()[-1] == "  " + " " * 6 + "^"


def test_claim_error_is_a_matgrad_error():
    with pytest.raises(MatgradError):
        check_claim("x'*A*x", "x", "A*x +")


# ---------------------------------------------------------------- sizes, inputs, output

def test_declared_shapes_and_dims_are_respected():
    verdict = check_claim("x'*A*x", "x", "(A+A')*x", {"A": ["n", "n"]}, {"n": 4})
    assert verdict.correct
    assert verdict.sizes == [{}]
    assert verdict.points == 6


def test_partly_bound_dims_keep_their_size(tmp_path):
    verdict = check_claim("||A*x||^2", "x", "A'*A*x", {"A": ["m", "n"]}, {"m": 7})
    assert not verdict.correct
    assert all(set(s) == {"n"} for s in verdict.sizes)
    assert verdict.counterexample["A"].shape[0] == 7


def test_cli_shape_and_dim_options():
    result = run(check_args("x'*A*x", "x", "(A+A')*x", "--shape", "A=n,n", "--dim", "n=4"))
    assert result.exit_code == 0
    assert "fixed sizes" in result.stdout


def test_given_inputs(tmp_path):
    A = np.array([[2.0, 1.0], [0.0, 3.0]])
    x = np.array([1.0, -2.0])
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "x.npy", x)
    inputs = [f"A={tmp_path / 'A.npy'}", f"x={tmp_path / 'x.npy'}"]
    verdict = check_claim("x'*A*x", "x", "(A+A')*x", inputs=inputs)
    assert verdict.correct and verdict.inputs_given and verdict.points == 1
    verdict = check_claim("x'*A*x", "x", "2*A*x", inputs=inputs)
    assert not verdict.correct
    expected = np.max(np.abs(2 * A @ x - (A + A.T) @ x)) / np.max(np.abs((A + A.T) @ x))
    assert verdict.error == pytest.approx(expected)
    np.testing.assert_array_equal(verdict.counterexample["A"], A)
    result = run(check_args("x'*A*x", "x", "2*A*x", "-i", inputs[0], "-i", inputs[1]))
    assert result.exit_code == 1
    assert "the given inputs" in result.stdout


def test_given_inputs_missing_one_is_a_usage_error(tmp_path):
    np.save(tmp_path / "A.npy", np.eye(2))
    result = run(check_args("x'*A*x", "x", "2*A*x", "-i", f"A={tmp_path / 'A.npy'}"))
    assert result.exit_code == 2
    assert "missing input x" in result.stderr


def test_counterexample_saved_with_o(tmp_path):
    out = tmp_path / "worst.npz"
    result = run(check_args(DLN, "W1", "(lambda/2)*W1 + " + DLN_GRADIENT, "-o", str(out)))
    assert result.exit_code == 1
    saved = np.load(out)
    assert set(saved.files) == {"W1", "W2", "W3", "X", "Y", "lambda"}
    # the saved point really is a counterexample: re-check on it
    result = run(check_args(DLN, "W1", "(lambda/2)*W1 + " + DLN_GRADIENT, "-i", str(out)))
    assert result.exit_code == 1
    assert "the given inputs" in result.stdout


def test_no_counterexample_when_correct(tmp_path):
    out = tmp_path / "none.npz"
    result = run(check_args("x'*A*x", "x", "(A+A')*x", "-o", str(out)))
    assert result.exit_code == 0
    assert not out.exists()


def test_json_output():
    result = run(check_args(DLN, "W1", "(lambda/2)*W1 + " + DLN_GRADIENT, "--format", "json"))
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["verdict"] == "WRONG"
    assert payload["diagnosis_kind"] == "term"
    assert "lambda*||W1||_F^2" in payload["diagnosis"]
    assert payload["error"] > TOLERANCE
    assert payload["claim"]["source"].startswith("(lambda/2)*W1")
    assert "2*lambda*W1" in payload["derivative"]["dsl"]
    # a shape is a list of sizes, as in every JSON output (derive, eval)
    assert payload["derivative"]["shape"] == ["k", "p"]
    assert payload["claim"]["shape"] == ["k", "p"]
    assert len(payload["sizes"]) == 3

    result = run(check_args("||A*x||^2", "x", "A'*A*x", "--format", "json"))
    payload = json.loads(result.stdout)
    assert payload["factor"] == pytest.approx(0.5)

    result = run(check_args("x'*A*x", "x", "3", "--format", "json"))
    payload = json.loads(result.stdout)
    assert payload["error"] is None and payload["diagnosis_kind"] == "shape"

    result = run(check_args("x'*A*x", "x", "(A+A')*x", "--format", "json"))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["correct"] is True


def test_text_shows_both_formulas_and_sizes():
    verdict = check_claim("tr(A*X*B)", "X", "A'*B'")
    text = verdict.to_text()
    assert text.startswith("CORRECT: the claim is ∂f/∂X")
    assert "claim:    A'*B'    (n×k)" in text
    assert "∂f/∂X = Aᵀ Bᵀ" in text
    assert "as input: A'*B'" in text
    assert "sizes tried: m=3, n=4, k=5;" in text


def test_verdict_is_deterministic():
    a = check_claim("x'*A*x", "x", "2*A*x")
    b = check_claim("x'*A*x", "x", "2*A*x")
    assert a.error == b.error
    assert isinstance(a, Verdict)


# ---------------------------------------------------------------- in-domain sampling

def test_sampling_rules():
    from matgrad_cli.app import api
    from matgrad_cli.numeric.sampling import analyse, draw, inadmissible

    program = api.parse("sum(log(x)) + sum(abs(y)) + logdet(X) + sum(z ./ w) + a'*b")
    domains = analyse([program.expr])
    assert domains.positive == {"x"}
    assert domains.nonzero == {"y", "w"}
    assert domains.conditioned == {"X"}
    shapes = {"x": (5,), "y": (5,), "X": (4, 4), "z": (3,), "w": (3,), "a": (2,), "b": (2,)}
    rng = np.random.default_rng(1)
    for attempt in range(5):
        point = draw(shapes, domains, rng, attempt)
        assert np.all(point["x"] >= 0.5) and np.all(point["x"] <= 2)
        assert np.all(np.abs(point["y"]) >= 0.2) and np.all(np.abs(point["y"]) <= 1)
        assert np.linalg.cond(point["X"]) < 10
        assert inadmissible(point, domains) is None


def test_sampling_rejects_points_near_a_kink():
    from matgrad_cli.app import api
    from matgrad_cli.numeric.sampling import analyse, inadmissible

    program = api.parse("sum(abs(x - y))")
    domains = analyse([program.expr])
    x = np.array([0.5, -0.3])
    assert inadmissible({"x": x, "y": x + np.array([1e-4, 0.5])}, domains) is not None
    assert inadmissible({"x": x, "y": x + np.array([0.5, 0.5])}, domains) is None


def test_domain_needs_a_second_range():
    # log(1 - x) needs x < 1: the [0.5, 2] draws fail half the time, [0.1, 0.9] works
    assert check_claim("sum(log(1 - x))", "x", "-1 ./ (1 - x)").correct


def test_no_valid_input_at_all_is_an_evaluation_failure():
    from matgrad_cli.errors import EvaluationError

    with pytest.raises(EvaluationError):
        check_claim("sum(log(-x.^2))", "x", "2 ./ x")

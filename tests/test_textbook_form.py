"""Printed derivatives in the textbook's form: for each row, the text `derive` prints is
the textbook answer (exactly), its conditions are only those that can fail, and the
printed dsl line evaluates to the same numbers as central differences of f.

Sources: [MC] Petersen & Pedersen, The Matrix Cookbook (2012), by equation number;
[MN] Magnus & Neudecker, Matrix Differential Calculus (3rd ed.); [B] Bishop, Pattern
Recognition and Machine Learning (2006)."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_close, evaluate_line, fd_jacobian, invoke, value_function

ROWS = [  # id, expression, wrt, the printed derivative, conditions printed, source
    ("half-quadratic-form", "0.5*x'*A*x", "x", "0.5 (A + Aᵀ) x", [], "[MC] (89)"),
    ("negated-quadratic", "-x'*A*x", "x", "−(A + Aᵀ) x", [], "[MC] (89)"),
    ("low-rank-residual", "||X - U*V'||_F^2", "U", "2 (U Vᵀ − X) V", [], "[MC] (115)"),
    ("softplus-sum", "log(1+exp(x))'*ones(n)", "x", "σ(x)", [], "[B] (4.88)"),
    ("logdet-of-inverse", "log(det(inv(X)))", "X", "−X⁻ᵀ", ["where det X ≠ 0"],
     "[MC] (57) with logdet X⁻¹ = −logdet X"),
    ("trace-of-kron", "tr(kron(X, X))", "X", "2 tr(X) I_m", [], "[MC] (511): tr(A ⊗ B) = tr A tr B"),
    ("sum-of-softmax", "sum(softmax(x))", "x", "0", [], "Σ softmax = 1"),
    ("gaussian-constant", "(2*3.141592653589793)^(-3/2)*exp(-x'*x/2)", "x",
     "−exp(−0.5 xᵀ x) 6.283185307179586^−1.5 x", [], "[B] (2.43), isotropic"),
    ("logdet-of-sum", "logdet(X + A)", "X", "(X + A)⁻ᵀ", ["where det(X + A) ≠ 0"],
     "[MC] (57)"),
    ("ones-row", "sum(X*ones(n)*ones(n)')", "X", "𝟏 𝟏 𝟏ᵀ", [], "[MC] (69)"),
    ("sqrt-of-positive", "sum(sqrt(x.^2 + 1))", "x", "x ./ √(x.^2 + 1)", [], "chain rule"),
    ("logistic-log-likelihood", "sum(y.*log(sigmoid(X*w)) + (1-y).*log(1-sigmoid(X*w)))", "w",
     "Xᵀ (y − s)", [], "[B] (4.91); s = σ(X w), named in f's line, keeps its name"),
    ("mean-log-softmax", "sum(log(softmax(X*w)))", "w", "Xᵀ (1 − m softmax(X w))", [],
     "Σᵢ ∂ log pᵢ = Xᵀ(𝟏 − m p)"),
    ("ridge", "lambda*||w||^2 + ||X*w - y||^2", "w", "2 (λ w + Xᵀ (X w − y))", [],
     "[B] (3.28)"),
    ("logsumexp", "logsumexp(x)", "x", "softmax(x)", [], "—"),
    ("trace-of-inverse-product", "tr(inv(X)*A)", "X", "−X⁻ᵀ Aᵀ X⁻ᵀ", ["where det X ≠ 0"],
     "[MC] (63)"),
    ("log-sum-exp-written-out", "log(sum(exp(x)))", "x", "softmax(x)", [],
     "exp(x) / sum(exp(x)) = softmax(x); sum(exp(x)) > 0 always"),
    ("log-sum-exp-of-affine", "log(sum(exp(W*x)))", "W", "softmax(W x) xᵀ", [],
     "the outer product of logsumexp′"),
    ("log-cosh-loss", "sum(log(cosh(A*x - m)))", "x", "Aᵀ tanh(A x − m)", [],
     "robust regression: (log cosh)′ = sinh / cosh = tanh"),
    ("temperature-softmax-loss", "logsumexp(A*x/sigma) - y'*x/sigma", "x",
     "(1 / σ) (Aᵀ softmax(A x / σ) − y)", [], "InfoNCE with temperature σ: 1/σ factored out"),
    ("sum-of-sine-times-cosine", "sum(sin(x).*cos(x))", "x", "w.^2 − v.^2", [],
     "(sin cos)′ = cos² − sin²; w ⊙ w printed as w.^2"),
    ("sum-of-hadamard-product", "sum(x.*y)^2", "x", "2 xᵀ y y", [], "sum(x ⊙ y) = xᵀ y"),
    ("norm-ratio", "||x||/||y||", "y", "−(‖x‖ / ‖y‖³) y", ["where y ≠ 0"],
     "chain rule; the powers of ‖y‖ added up"),
    ("inverse-of-det", "det(X)^(-1)", "X", "−(1 / det(X)) X⁻ᵀ", ["where det X ≠ 0"],
     "[MC] (49), det(X)⁻² det(X) = det(X)⁻¹"),
    ("log-of-det", "log(det(X))", "X", "X⁻ᵀ", ["where det X > 0"],
     "[MC] (51); log det X is log|det X| only where det X > 0"),
    ("inverse-squared-norm", "1/(x'*x)", "x", "−(2 / (xᵀ x)²) x", ["where x ≠ 0"],
     "chain rule; a quotient needs its divisor ≠ 0"),
    ("rayleigh-quotient", "x'*A*x/(x'*x)", "x", "(1 / c) (A + Aᵀ) x − 2 (xᵀ A x / c²) x",
     ["where x ≠ 0"],
     "[MC] (89) and the quotient rule, c = xᵀ x named"),
    ("gaussian-kernel", "exp(-||x - m||^2/(2*sigma^2))", "x", "−(exp(−‖u‖² / (2 c)) / c) u", [],
     "RBF kernel: −(k / σ²)(x − m), u = x − m and c = σ² named"),
    ("log-needs-positive", "sum(log(x))", "x", "1 ./ x", ["where x > 0 entrywise"], "—"),
    ("inverse-cancels", "tr(B*X*inv(X)*A)", "A", "Bᵀ", [],
     "X X⁻¹ = I inside a chain"),
    ("inverse-transposed-cancels", "tr(X'*inv(X)'*A)", "A", "I_m", [],
     "Xᵀ X⁻ᵀ = (X⁻¹ X)ᵀ = I"),
    ("logdet-of-cholesky", "logdet(chol(S))", "S", "0.5 S⁻¹", ["where S is positive definite"],
     "logdet L = ½ logdet S: Lᵀ L⁻ᵀ = I, Φ(I) = ½ I, L⁻ᵀ L⁻¹ = S⁻¹"),
    ("diagonal-weights", "x'*Diag(y)*x", "y", "x.^2", [], "diag(x xᵀ) = x ⊙ x = x.^2"),
    ("scale-of-a-quadratic", "α*x'*x + λ", "α", "‖x‖²", [], "—"),
    ("mean-squared-error", "sum((X*w - y).^2)/ν", "w", "(2 / ν) Xᵀ (X w − y)", [],
     "[B] (3.13), 2 (1 / ν) = 2 / ν"),
    ("negative-scale-over-nu", "-x'*x/ν", "x", "−(2 / ν) x", [], "—"),
    ("row-softmax-cross-entropy", "sum(Y .* log(softmax(X, 2)))", "X",
     "Y − softmax(X, 2) ⊙ (Y 𝟏 𝟏ᵀ)", [], "softmax > 0: no condition; S ⊙ (Y ./ S) = Y"),
]


HESSIAN_ROWS = [  # expression, wrt, the printed Hessian (mixed-product layout)
    ("logsumexp(W*x) - y'*W*x", "W", "(x xᵀ) ⊗ (Diag(p) − p pᵀ)"),
    ("sum(sigmoid(X*x))", "X", "(x xᵀ) ⊗ Diag((1 − 2 s) ⊙ s ⊙ (1 − s))"),
    ("||X*x - b||^2", "X", "2 ((x xᵀ) ⊗ I_m)"),
]


@pytest.mark.parametrize("expr, wrt, expected", HESSIAN_ROWS)
def test_a_hessian_of_f_of_a_matrix_times_a_vector_is_a_kronecker_product(expr, wrt, expected):
    """(x ⊗ I) M (xᵀ ⊗ I) = (x xᵀ) ⊗ M and Diag(a) Diag(b) = Diag(a ⊙ b) (the mixed-product rule, [MN] ch. 2)."""
    result = invoke(["derive", "--wrt", wrt, "--order", "2", "--", expr])
    line = next(x for x in result.stdout.split("\n") if x.startswith("∂²f"))
    assert line.split(" = ", 1)[1].rsplit("    (", 1)[0] == expected


def test_the_sum_of_a_row_is_not_named_as_row_sums():
    lines = _derive("log(1+exp(x))'*ones(n)", "x").split("\n")
    assert lines[0] == "f = log(1 + exp(x))ᵀ 𝟏    (scalar)"
    assert not any("where" in line for line in lines)


def _derive(expr, wrt, fmt="text"):
    result = invoke(["derive", "--wrt", wrt, "--format", fmt, "--", expr])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("expr, wrt, expected, conditions",
                         [pytest.param(e, w, t, c, id=i) for i, e, w, t, c, _ in ROWS])
def test_printed_form_is_the_textbook_answer(expr, wrt, expected, conditions):
    lines = _derive(expr, wrt).rstrip("\n").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"∂f/∂{wrt} = "))
    printed = lines[start][len(f"∂f/∂{wrt} = "):].rsplit("    (", 1)[0]
    assert printed == expected
    valid = [line.strip()[len("valid "):] for line in lines[start + 1:]
             if line.strip().startswith("valid ")]
    assert valid == (["; ".join(conditions)] if conditions else [])


@pytest.mark.parametrize("expr, wrt", [pytest.param(e, w, id=i) for i, e, w, *_ in ROWS])
def test_printed_form_has_the_right_value(expr, wrt):
    rng = np.random.default_rng(3)
    n = 3
    arrays = {"x": rng.uniform(0.5, 1.5, n), "A": rng.standard_normal((n, n)),
              "X": np.eye(n) + 0.2 * rng.standard_normal((n, n)),
              "U": rng.standard_normal((n, 2)), "V": rng.standard_normal((n, 2)),
              "w": rng.standard_normal(n), "y": rng.uniform(0.1, 0.9, n),
              "W": rng.standard_normal((n, n)), "m": rng.standard_normal(n),
              "sigma": np.array(1.3),
              "lambda": np.array(0.7), "B": rng.standard_normal((n, n)),
              "α": np.array(0.4), "λ": np.array(0.7), "ν": np.array(4.0), "Y": rng.uniform(0.1, 1, (n, n))}
    arrays["S"] = arrays["B"] @ arrays["B"].T + n * np.eye(n)
    dims = {"n": n} if "ones(n)" in expr else {}
    used = {k: v for k, v in arrays.items() if k in _names(expr)}
    f = value_function(expr, used, dims)
    shapes = [f"{k}=" + "x".join(map(str, np.shape(v))) for k, v in used.items()]
    args = [a for s in shapes for a in ("--shape", s)]
    result = invoke(["derive", "--wrt", wrt, "--format", "dsl", *args, "--", expr])
    assert result.exit_code == 0, result.output
    got = evaluate_line(result.stdout.strip(), used, dims)
    assert_close(np.reshape(got, np.shape(used[wrt])), fd_jacobian(f, used, wrt), expr)


def _names(expr: str) -> set:
    import re

    return set(re.findall(r"[^\W\d]\w*", expr))


def test_log_softmax_jacobian_is_identity_minus_ones_times_softmax():
    """Diag(1 ./ p) (Diag(p) − p pᵀ) = I − 𝟏 pᵀ, and that is what evaluates."""
    assert "∂f/∂x = I − 𝟏 softmax(x)ᵀ    (n×n)" in _derive("log(softmax(x))", "x")
    x = np.array([0.3, -1.2, 2.0, 0.5])
    [line] = invoke(["derive", "log(softmax(x))", "--wrt", "x", "--shape", "x=4",
                     "--format", "dsl"]).stdout.split("\n")[:1]
    f = value_function("log(softmax(x))", {"x": x}, {})
    assert_close(evaluate_line(line, {"x": x}), fd_jacobian(f, {"x": x}, "x"), line)

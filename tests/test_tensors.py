"""Tensors and index notation (SPEC §2b): the worked problem end to end, index expressions
against finite differences with every printed dsl line evaluated by ``matgrad eval``, the
index sums that must print in matrix notation, and the errors (with carets)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import input_args

from matgrad_cli.app import api, render
from matgrad_cli.cli import main
from matgrad_cli.numeric.evaluator import evaluate
from matgrad_cli.printers import to_text
from matgrad_cli.simplify import simplify

SEED = "beta*sum(i: sum(abs(Phi[:, i, :]'*Phi[:, i, :] - I)))"
SEED_DSL = "G[:, i, :] = 2*beta*Phi[:, i, :]*sign(Phi[:, i, :]'*Phi[:, i, :] - I); G"


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def save(tmp_path, arrays: dict) -> list[str]:
    return input_args(arrays, tmp_path)


def seed_gradient_by_loop(phi: np.ndarray, beta: float) -> np.ndarray:
    """The textbook answer, ∂L/∂Φᵢ = 2β Φᵢ sign(ΦᵢᵀΦᵢ − I), one slice at a time."""
    grad = np.zeros_like(phi)
    for i in range(phi.shape[1]):
        p = phi[:, i, :]
        grad[:, i, :] = 2 * beta * p @ np.sign(p.T @ p - np.eye(p.shape[1]))
    return grad


def seed_value_by_loop(phi: np.ndarray, beta: float) -> float:
    return beta * sum(np.abs(phi[:, i, :].T @ phi[:, i, :] - np.eye(phi.shape[2])).sum()
                      for i in range(phi.shape[1]))


# ---------------------------------------------------------------- the worked problem

def test_seed_derive_text_is_the_slice_form():
    result = run("derive", SEED, "--wrt", "Phi", "--shape", "Phi=l,m,n")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "∂f/∂Φ[:, i, :] = 2 β Φᵢ sign(Φᵢᵀ Φᵢ − I)    (l×n, for each i)" in lines
    assert "  where Φᵢ = Φ[:, i, :]" in lines
    assert "  β: scalar, Φ: l×m×n" in lines


def test_seed_derive_latex():
    result = run("derive", SEED, "--wrt", "Phi", "--shape", "Phi=l,m,n", "--format", "latex")
    assert result.exit_code == 0, result.output
    assert (r"\frac{\partial f}{\partial \Phi_{:,i,:}} = 2 \beta \Phi_{i} \operatorname{sign}"
            r"\left(\Phi_{i}^{\top} \Phi_{i} - I\right) \quad \text{(for each i)}"
            in result.output)
    assert r"\sum_{i}" in result.output


def test_seed_derive_dsl_is_an_indexed_definition():
    result = run("derive", SEED, "--wrt", "Phi", "--shape", "Phi=l,m,n", "--format", "dsl")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == SEED_DSL


def test_seed_eval_matches_a_numpy_loop_and_the_dsl_line(tmp_path):
    rng = np.random.default_rng(1)
    phi, beta = rng.standard_normal((4, 3, 5)), 0.7
    inputs = save(tmp_path, {"Phi": phi}) + ["-i", f"beta={beta}"]
    out = tmp_path / "out.npz"
    result = run("eval", SEED, "--wrt", "Phi", *inputs, "-o", str(out))
    assert result.exit_code == 0, result.output
    with np.load(out) as z:
        value, grad = float(z["value"]), z["grad_Phi"]
    assert grad.shape == phi.shape
    assert value == pytest.approx(seed_value_by_loop(phi, beta), rel=1e-12)
    np.testing.assert_allclose(grad, seed_gradient_by_loop(phi, beta), rtol=1e-12, atol=1e-12)
    # what derive printed, evaluated: the whole gradient
    rt = tmp_path / "rt.npz"
    result = run("eval", SEED_DSL, *inputs, "-o", str(rt))
    assert result.exit_code == 0, result.output
    with np.load(rt) as z:
        np.testing.assert_allclose(z["value"], grad, rtol=1e-12, atol=1e-12)


def test_seed_eval_check_passes(tmp_path):
    phi = np.random.default_rng(2).standard_normal((3, 4, 2))
    result = run("eval", SEED, "--wrt", "Phi", *save(tmp_path, {"Phi": phi}), "-i",
                 "beta=1.3", "--check")
    assert result.exit_code == 0, result.output
    assert "check grad_Phi" in result.output and ": ok" in result.output


def test_seed_check_claim_textbook_answer_is_correct():
    result = run("check", SEED, "--wrt", "Phi", "--shape", "Phi=l,m,n", "--claim", SEED_DSL)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("CORRECT")


def test_seed_check_claim_without_the_two_is_wrong():
    wrong = SEED_DSL.replace("2*beta", "beta")
    result = run("check", SEED, "--wrt", "Phi", "--shape", "Phi=l,m,n", "--claim", wrong)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("WRONG")


def test_seed_check_claim_with_the_transposed_product_is_wrong():
    wrong = SEED_DSL.replace("sign(Phi[:, i, :]'*Phi[:, i, :] - I)",
                             "sign(Phi[:, i, :]*Phi[:, i, :]' - I)")
    result = run("check", SEED, "--wrt", "Phi", "--shape", "Phi=4,3,4", "--claim", wrong)
    assert result.exit_code == 1, result.output


def test_seed_steps_show_slice_variables_differentials_and_result():
    result = run("derive", SEED, "--wrt", "Phi", "--shape", "Phi=l,m,n", "--steps")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "    Φᵢ = Φ[:, i, :]    (for each i)" in out
    assert "dμᵢ = dΦᵢᵀ Φᵢ + Φᵢᵀ dΦᵢ" in out
    assert "⇒ ∂f/∂Φᵢ = 2 β Φᵢ sign(νᵢ)" in out
    assert "⇒ ∂f/∂Φ[:, i, :] = ∂fᵢ/∂Φᵢ = 2 β Φᵢ sign(Φᵢᵀ Φᵢ − I)    (for each i)" in out


def test_seed_json_has_the_slice_form():
    result = run("derive", SEED, "--wrt", "Phi", "--shape", "Phi=l,m,n", "--format", "json")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)["derivatives"]["Phi"]
    assert entry["label"] == "∂f/∂Φ[:, i, :]"
    assert entry["dsl"] == SEED_DSL
    assert entry["shape"] == ["l", "m", "n"]


def test_json_of_a_form_the_language_cannot_write_still_has_text_and_latex():
    """A tensor's vec-form Jacobian has no dsl line: json says so with null, not exit 2."""
    result = run("derive", "G[:, i, :] = Phi[:, i, :]*W; G", "--wrt", "W", "--shape",
                 "Phi=l,m,n", "--format", "json")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)["derivatives"]["W"]
    assert entry["dsl"] is None and entry["text"] and entry["latex"]


# ---------------------------------------------------------------- index expressions

def _r(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def _pos(*shape, seed=0):
    return np.random.default_rng(seed + 7).uniform(0.5, 2.0, shape)


# (expression, wrt, inputs): batched least squares, 3-d Frobenius norm, a trilinear
# form, per-head attention with weights as slices of a tensor, A : log(X) in indices …
CASES = [
    ("sum of squared column products (a slice of a value with a free index in its dsl)",
     "sum(i, j: (X[:, i]'*X[:, j])^2)", "X", dict(X=_r(3, 4))),
    ("bilinear form of each slice (a gradient that does not depend on the index)",
     "sum(i: x'*T[:, :, i]*y)", "T", dict(T=_r(3, 2, 4), x=_r(3), y=_r(2))),
    ("batched least squares, w.r.t. the batch of matrices",
     "sum(i: ||A[:, :, i]*x[:, i] - b[:, i]||^2)", "A",
     dict(A=_r(3, 2, 4), x=_r(2, 4), b=_r(3, 4))),
    ("batched least squares, w.r.t. the batch of solutions",
     "sum(i: ||A[:, :, i]*x[:, i] - b[:, i]||^2)", "x",
     dict(A=_r(3, 2, 4), x=_r(2, 4), b=_r(3, 4))),
    ("squared 3-d Frobenius norm", "sum(i, j, k: T[i, j, k]^2)", "T", dict(T=_r(2, 3, 4))),
    ("3-d Frobenius norm", "sqrt(sum(i, j, k: T[i, j, k]^2))", "T", dict(T=_r(2, 3, 4))),
    ("trilinear form w.r.t. the tensor", "sum(i, j, k: T[i, j, k]*x[i]*y[j]*z[k])", "T",
     dict(T=_r(2, 3, 4), x=_r(2), y=_r(3), z=_r(4))),
    ("trilinear form w.r.t. a vector", "sum(i, j, k: T[i, j, k]*x[i]*y[j]*z[k])", "y",
     dict(T=_r(2, 3, 4), x=_r(2), y=_r(3), z=_r(4))),
    ("per-head attention, weights as slices of a tensor",
     "sum(h: v[:, h]'*softmax(W[:, :, h]*x))", "W", dict(W=_r(3, 4, 2), x=_r(4), v=_r(3, 2))),
    ("per-head attention, w.r.t. the input", "sum(h: v[:, h]'*softmax(W[:, :, h]*x))", "x",
     dict(W=_r(3, 4, 2), x=_r(4), v=_r(3, 2))),
    ("per-head attention matrices",
     "sum(h: sum(softmax(Q[:, :, h]*K[:, :, h]', 2)*V[:, :, h]))", "K",
     dict(Q=_r(3, 2, 2), K=_r(4, 2, 2), V=_r(4, 3, 2))),
    ("A : log(X) in indices, w.r.t. X", "sum(i, j: A[i,j]*log(X[i,j]))", "X",
     dict(A=_r(3, 4), X=_pos(3, 4))),
    ("A : log(X) in indices, w.r.t. A", "sum(i, j: A[i,j]*log(X[i,j]))", "A",
     dict(A=_r(3, 4), X=_pos(3, 4))),
    ("squares of a contraction", "sum(j: sum(i: A[i, j]*x[i])^2)", "x",
     dict(A=_r(3, 4), x=_r(3))),
    ("squares of a contraction, w.r.t. the matrix", "sum(i: sum(j: A[i, j]*x[j])^2)", "A",
     dict(A=_r(3, 4), x=_r(4))),
    ("trace in indices", "sum(i: A[i,i])", "A", dict(A=_r(3, 3))),
    ("a Kronecker delta", "sum(i, j: A[i,j]*delta(i,j)*x[i])", "A", dict(A=_r(3, 3), x=_r(3))),
    ("inner product", "sum(i: x[i]*y[i])", "x", dict(x=_r(4), y=_r(4))),
    ("quadratic forms of rows, w.r.t. the weight", "sum(i: X[i, :]'*W*X[i, :])", "W",
     dict(X=_r(5, 3), W=_r(3, 3))),
    ("quadratic forms of rows, w.r.t. the rows", "sum(i: X[i, :]'*W*X[i, :])", "X",
     dict(X=_r(5, 3), W=_r(3, 3))),
    ("trace of Gram matrices of slices", "sum(i: tr(Phi[:, i, :]'*Phi[:, i, :]))", "Phi",
     dict(Phi=_r(3, 4, 2))),
    ("log-determinants of slices", "sum(i: logdet(Phi[:, i, :]'*Phi[:, i, :] + I))", "Phi",
     dict(Phi=_r(3, 4, 2))),
    ("logistic loss over columns", "sum(i: log(1 + exp(-y[i]*w'*X[:, i])))", "w",
     dict(w=_r(3), X=_r(3, 5), y=_r(5))),
    ("least squares over columns, w.r.t. the columns", "sum(i: ||A*X[:, i] - B[:, i]||^2)",
     "X", dict(A=_r(4, 3), X=_r(3, 5), B=_r(4, 5))),
    ("an indexed definition used by slices",
     "G[:, i, :] = Phi[:, i, :]'*Phi[:, i, :]; sum(i: sum(G[:, i, :].^2))", "Phi",
     dict(Phi=_r(3, 4, 2))),
    ("two slice patterns of one tensor (index form)", "sum(i, j: Phi[:, i, j]'*Phi[:, j, i])",
     "Phi", dict(Phi=_r(2, 3, 3))),
    ("one slice pattern under two indices", "sum(i: sum(T[:, i, :]))*sum(j: sum(T[:, j, :].^2))",
     "T", dict(T=_r(2, 3, 2))),
    ("a tensor weighted by a vector", "sum(i: sigmoid(x[i])*sum(T[:, :, i].^2))", "x",
     dict(T=_r(2, 2, 3), x=_r(3))),
    ("a layer norm over the last axis of a 3-d input",
     "sum(i, j: ||X[i, j, :] - sum(X[i, j, :])/4||^2)", "X", dict(X=_r(2, 3, 4))),
]


def _finite_differences(program, name: str, arrays: dict, eps: float = 1e-6) -> np.ndarray:
    x = np.asarray(arrays[name], dtype=float)
    grad = np.zeros(x.shape)
    for k in np.ndindex(*x.shape):
        total = 0.0
        for sign in (1, -1):
            moved = dict(arrays)
            y = x.copy()
            y[k] += sign * eps
            moved[name] = y
            total += sign * float(evaluate({"value": program.expr}, moved)["value"])
        grad[k] = total / (2 * eps)
    return grad


@pytest.mark.parametrize("title, expr, wrt, arrays", CASES, ids=[c[0] for c in CASES])
def test_index_expression_gradient_against_finite_differences_and_its_dsl_line(
        tmp_path, title, expr, wrt, arrays):
    shapes = {k: np.shape(v) for k, v in arrays.items()}
    program = api.parse(expr, array_shapes=shapes)
    derivation = api.derive(program, [wrt])
    grad = api.evaluate(derivation, arrays)[f"grad_{wrt}"]
    numeric = _finite_differences(program, wrt, arrays)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)
    dsl = render.derive_dsl(derivation)
    out = tmp_path / "rt.npz"
    result = run("eval", dsl, *save(tmp_path, arrays), "-o", str(out))
    assert result.exit_code == 0, (dsl, result.output)
    with np.load(out) as z:
        np.testing.assert_allclose(np.reshape(z["value"], grad.shape), grad, rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("title, expr, wrt, arrays", CASES, ids=[c[0] for c in CASES])
def test_index_expression_numpy_code_equals_eval(title, expr, wrt, arrays):
    """--format numpy writes the same batched steps (einsum, matmul over index axes)."""
    from matgrad_cli.printers.numpy_code import to_numpy_code

    shapes = {k: np.shape(v) for k, v in arrays.items()}
    program = api.parse(expr, array_shapes=shapes)
    derivation = api.derive(program, [wrt])
    expected = api.evaluate(derivation, arrays)
    namespace: dict = {}
    exec(to_numpy_code(derivation), namespace)  # noqa: S102 (our own generated code)
    params = list(program.variables)
    value, grads = namespace["f_and_grad"](*[arrays[name] for name in params])
    np.testing.assert_allclose(value, expected["value"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads[wrt], expected[f"grad_{wrt}"], rtol=1e-10, atol=1e-12)
    body = to_numpy_code(derivation).split('"""')[-1]
    assert not re.search(r"^\s*for ", body, re.MULTILINE)  # no loop over index values


def test_enough_index_expressions():
    assert len(CASES) >= 20


def test_trilinear_form_value_against_einsum():
    T, x, y, z = _r(2, 3, 4), _r(2), _r(3), _r(4)
    program = api.parse("sum(i, j, k: T[i, j, k]*x[i]*y[j]*z[k])",
                        array_shapes={"T": T.shape, "x": x.shape, "y": y.shape, "z": z.shape})
    value = evaluate({"v": program.expr}, dict(T=T, x=x, y=y, z=z))["v"]
    assert float(value) == pytest.approx(np.einsum("ijk,i,j,k->", T, x, y, z), rel=1e-12)


def test_batched_least_squares_value_against_a_loop():
    A, x, b = _r(3, 2, 4), _r(2, 4), _r(3, 4)
    program = api.parse("sum(i: ||A[:, :, i]*x[:, i] - b[:, i]||^2)",
                        array_shapes={"A": A.shape, "x": x.shape, "b": b.shape})
    value = evaluate({"v": program.expr}, dict(A=A, x=x, b=b))["v"]
    loop = sum(np.sum((A[:, :, i] @ x[:, i] - b[:, i]) ** 2) for i in range(4))
    assert float(value) == pytest.approx(loop, rel=1e-12)


def test_index_form_when_a_tensor_has_two_slice_patterns():
    result = run("derive", "sum(i, j: Phi[:, i, j]'*Phi[:, j, i])", "--wrt", "Phi",
                 "--shape", "Phi=2,3,3")
    assert result.exit_code == 0, result.output
    assert "∂f/∂Φ[a, b, c] = 2 Φ_{acb}    (scalar, for each a, b, c)" in result.output


def test_index_form_latex_has_sums_and_deltas():
    result = run("derive", "sum(i, j, k: T[i, j, k]*x[i]*y[j]*z[k])", "--wrt", "y",
                 "--shape", "T=l,m,n", "--format", "latex")
    assert result.exit_code == 0, result.output
    assert r"\sum_{i,k} T_{ijk} x_{i} z_{k}" in result.output
    result = run("derive", "sum(i, j: A[i,j]*delta(i,j)*x[i])", "--wrt", "A",
                 "--format", "latex")
    assert r"\delta_{ij}" in result.output


def test_index_form_text_has_subscripts_and_sigma():
    result = run("derive", "sum(i, j, k: T[i, j, k]*x[i]*y[j]*z[k])", "--wrt", "y",
                 "--shape", "T=l,m,n")
    assert "∂f/∂y[j] = Σᵢₖ Tᵢⱼₖ xᵢ zₖ    (scalar, for each j)" in result.output


def test_jacobian_of_a_vector_valued_index_expression(tmp_path):
    """Non-scalar f: the vec-form Jacobian, column-major over all axes (SPEC §4)."""
    Phi, x = _r(2, 3, 4), _r(2)
    expr = "sum(i: Phi[:, i, :]'*x)"
    program = api.parse(expr, array_shapes={"Phi": Phi.shape, "x": x.shape})
    derivation = api.derive(program, ["Phi", "x"])
    values = api.evaluate(derivation, dict(Phi=Phi, x=x))
    # ∂f[p]/∂Phi[a, i, b] = δ_pb x_a ; ∂f[p]/∂x[a] = Σᵢ Phi[a, i, p]
    expected_phi = np.einsum("pb,a,i->paib", np.eye(4), x, np.ones(3))
    np.testing.assert_allclose(values["grad_Phi"], expected_phi, atol=1e-12)
    np.testing.assert_allclose(values["grad_x"], Phi.sum(axis=1).T, atol=1e-12)
    result = run("eval", expr, "--wrt", "Phi", "--wrt", "x", *save(tmp_path, dict(Phi=Phi, x=x)),
                 "--check")
    assert result.exit_code == 0, result.output


def test_jacobian_wrt_a_tensor_prints_its_entries():
    result = run("derive", "sum(i: Phi[:, i, :]'*x)", "--wrt", "Phi", "--shape", "Phi=2,3,4")
    assert result.exit_code == 0, result.output
    assert ("∂fₚ/∂Φ[a, b, c] = xₐ δ_{cp}    (scalar, for each p, a, b, c; J = ∂vec(f)/∂vec(X)ᵀ "
            "is its column-major reshape)") in result.output


def test_jacobian_rows_dsl_round_trip(tmp_path):
    A, x = _r(3, 4), _r(4)
    expr = "g[i] = exp(sum(j: A[i, j]*x[j])); g"
    program = api.parse(expr, array_shapes={"A": A.shape, "x": x.shape})
    derivation = api.derive(program, ["A"])
    J = api.evaluate(derivation, dict(A=A, x=x))["grad_A"]
    dsl = render.derive_dsl(derivation)
    out = tmp_path / "j.npz"
    result = run("eval", dsl, *save(tmp_path, dict(A=A, x=x)), "-o", str(out))
    assert result.exit_code == 0, (dsl, result.output)
    with np.load(out) as z:  # the printed matrix form: len(vec f) × len(vec A)
        np.testing.assert_allclose(z["value"], J.reshape(3, 12, order="F"), atol=1e-12)


# ---------------------------------------------------------------- matrix notation

MATRIX_NOTATION = [
    ("sum(i: x[i]*y[i])", "xᵀ y"),
    ("sum(i, j: y[i]*A[i,j]*x[j])", "yᵀ A x"),
    ("sum(i: A[i,i])", "tr(A)"),
    ("sum(i, j: A[i,j]*B[i,j])", "A : B"),
    ("sum(i, j: A[i,j]*log(X[i,j]))", "A : log(X)"),
    ("sum(i, j: A[i,j]*delta(i,j))", "tr(A)"),
    ("sum(i: sum(j: A[i,j]*x[j])^2)", "xᵀ Aᵀ A x"),
    ("sum(i: x[i])", "sum(x)"),
    ("G[i] = sum(j: A[i, j]*x[j]); G", "A x"),
    ("G[k] = sum(j: x[j]*A[j, k]); G", "Aᵀ x"),
    ("G[i, k] = sum(j: A[i, j]*B[j, k]); G", "A B"),
    ("G[i, j] = sum(k: A[i, k]*B[j, k]); G", "A Bᵀ"),
    ("G[i, j] = A[i, j]*B[i, j]; G", "A ⊙ B"),
    ("G[i, j] = exp(A[i, j]); G", "exp(A)"),
    ("G[i] = A[i, i]; G", "diag(A)"),
    ("G[i, j] = A[j, i]; G", "Aᵀ"),
    ("G[i, j] = x[i]*y[j]; G", "x yᵀ"),
]


@pytest.mark.parametrize("expr, printed", MATRIX_NOTATION)
def test_index_sum_prints_in_matrix_notation(expr, printed):
    program = api.parse(expr)
    assert to_text(simplify(program.expr)) == printed


@pytest.mark.parametrize("expr, wrt, printed", [
    ("sum(i, j: y[i]*A[i,j]*x[j])", "A", "∂f/∂A = y xᵀ"),
    ("sum(i: sum(j: A[i, j]*x[j])^2)", "A", "∂f/∂A = 2 A x xᵀ"),
    ("sum(i: A[i,i])", "A", "∂f/∂A = I"),
    ("sum(i, j: A[i,j]*log(X[i,j]))", "A", "∂f/∂A = log(X)"),
    ("sum(j: sum(i: A[i, j]*x[i])^2)", "x", "∂f/∂x = 2 A Aᵀ x"),
    ("sum(i: sigmoid(w'*X[:, i]))", "w", "∂f/∂w = X (s ⊙ (1 − s))"),
    ("sum(i: log(1 + exp(-y[i]*w'*X[:, i])))", "w", "∂f/∂w = −X (y ⊙ σ(−(y ⊙ (Xᵀ w))))"),
    ("G[i, :] = A[i, :]*x[i]; sum(G)", "x", "∂f/∂x = A 𝟏"),
    ("sum(i: X[i, :]'*W*X[i, :])", "X", "∂f/∂X = X (W + Wᵀ)"),
    ("sum(i: ||A*X[:, i] - B[:, i]||^2)", "X", "∂f/∂X = 2 Aᵀ (A X − B)"),
    ("sum(i: ||A*X[:, i] - B[:, i]||^2)", "A", "∂f/∂A = 2 (A X − B) Xᵀ"),
])
def test_gradient_of_index_sum_prints_in_matrix_notation(expr, wrt, printed):
    result = run("derive", expr, "--wrt", wrt)
    assert result.exit_code == 0, result.output
    assert any(line.startswith(printed + "    (") or line.startswith(printed + "_")
               for line in result.output.splitlines()), result.output


# ---------------------------------------------------------------- parsing and errors

def test_sum_with_a_colon_that_is_not_a_binder_is_the_frobenius_product():
    program = api.parse("sum(A : B)")
    assert to_text(program.expr) == "sum(A : B)"


def test_delta_without_parenthesis_is_a_greek_name():
    program = api.parse("delta*x'*x")
    assert "delta" in program.variables


def test_a_space_before_the_bracket_does_not_index():
    result = run("derive", "sum(i: x [i])", "--wrt", "x")
    assert result.exit_code == 2


def test_tensor_given_to_eval_needs_no_declaration(tmp_path):
    T = _r(2, 3, 4)
    result = run("eval", "sum(i, j, k: T[i, j, k]^2)", *save(tmp_path, {"T": T}))
    assert result.exit_code == 0, result.output
    assert float(result.output.split("=")[1]) == pytest.approx(np.sum(T ** 2), rel=1e-8)


@pytest.mark.parametrize("args, message", [
    (["derive", "sum(j: A[i, j]*x[j])", "--wrt", "x"],
     "matgrad: error: index 'i' is not bound: sum over it (sum(i: ...)) or use it in an "
     "indexed definition (G[..., i, ...] = ...) (column 10)\n"
     "  sum(j: A[i, j]*x[j])\n"
     "           ^"),
    (["derive", "sum(i: A[i, i])", "--wrt", "A", "--shape", "A=3x4"],
     "matgrad: error: shape conflict in index 'i': it ranges over 3 elsewhere but axis 2 of A "
     "has 4 (column 13)\n"
     "  sum(i: A[i, i])\n"
     "              ^"),
    (["derive", "sum(i: Phi[:, i, :])", "--wrt", "Phi"],
     "matgrad: error: Phi is m×n (2 axes) but is indexed with 3: declare a tensor with "
     "--shape Phi=l,m,n (column 8)\n"
     "  sum(i: Phi[:, i, :])\n"
     "         ^^^^^^^^^^^^"),
    (["derive", "sum(i: x[1])", "--wrt", "x"],
     "matgrad: error: an index must be an index name or ':', not '1' (column 10)\n"
     "  sum(i: x[1])\n"
     "           ^"),
    (["derive", "sum(i: x[i)", "--wrt", "x"],
     "matgrad: error: expected ',' or ']' in the index of x, found ')' (column 11)\n"
     "  sum(i: x[i)\n"
     "            ^"),
    (["derive", "G[:, i] = x[i]; sum(G)", "--wrt", "x"],
     "matgrad: error: the pattern of G has 1 ':' but the body is a scalar (0 axes) "
     "(column 1)\n"
     "  G[:, i] = x[i]; sum(G)\n"
     "  ^^^^^^^"),
    (["derive", "sum(i: sum(i: x[i]))", "--wrt", "x"],
     "matgrad: error: index 'i' is already bound by an enclosing sum: use another name "
     "(column 12)\n"
     "  sum(i: sum(i: x[i]))\n"
     "             ^"),
])
def test_index_errors_point_at_the_place(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.output.strip() == message


@pytest.mark.parametrize("expr, wrt, shapes, order", [
    ("sum(i: T[:, :, i] : S)", "T", {"S": (3, 3), "T": (3, 3, 4)}, 1),
    ("g[i] = X[:, i]'*A*X[:, i]; g", "X", {"X": (3, 4), "A": (3, 3)}, 1),
    ("G[:, i, :] = Phi[:, i, :]*W; G", "W", {"Phi": (2, 3, 4), "W": (4, 2)}, 1),
    ("sum(i: (a'*X[:, i])^4)", "X", {"a": (3,), "X": (3, 4)}, 2),
    ("sum(i, j: delta(i, j)*X[i, j]^2)", "X", {"X": (3, 3)}, 1),
])
def test_jax_code_of_index_notation_builds_tensors_without_writing_into_them(
        expr, wrt, shapes, order):
    """jax arrays are immutable: a tensor built from its slices (or its diagonal) is one
    einsum of the broadcast body and identity matrices, and the code runs under jax.jit with
    matgrad's own numbers."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(11)
    arrays = {k: rng.standard_normal(s) for k, s in shapes.items()}
    program = api.parse(expr, array_shapes={k: v.shape for k, v in arrays.items()})
    derivation = api.derive(program, [wrt], order)
    code = derivation.code("jax")
    assert "[...] =" not in code
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)  # noqa: S102 - our own output
    out = jax.jit(namespace["f_and_grad"])(*(arrays[k] for k in program.variables))
    key = ("grad_" if order == 1 else "hess_") + wrt
    want, got = np.asarray(api.evaluate(derivation, arrays)[key]), np.asarray(out[order][wrt])
    assert got.shape == want.shape and np.allclose(got, want)

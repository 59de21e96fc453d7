"""Textbook identities of the entrywise functions, max/min and the functions along a
dimension (SPEC §2), checked end to end through the command line, as test_cookbook.py
does for The Matrix Cookbook: ``matgrad derive f --wrt X --format dsl`` prints a line,
``matgrad eval LINE`` evaluates it on random inputs, and the numbers must equal the
closed form computed in NumPy (not by matgrad).

Then the printed forms themselves: the row-wise softmax's backward pass with its row sums
named, the N×C cross-entropy's softmax(Z, 2) − Y, the errors for a matrix softmax without
its dimension, and eval's warning at a tie of max.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from helpers import (
    assert_close,
    cli_derive_dsl,
    cli_eval_value,
    input_args,
    invoke,
    random_inputs,
    shape_args,
)


def _softmax(Z, axis):
    e = np.exp(Z - Z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _attention_upstream(v):
    """S = softmax(Q Kᵀ / γ, 2), G = 2 (S V − Y) Vᵀ, and the scores' adjoint
    S ⊙ (G − (G ⊙ S) 𝟏 𝟏ᵀ) (the row-wise softmax's backward pass)."""
    S = _softmax(v["Q"] @ v["K"].T / v["gamma"], 1)
    G = 2 * (S @ v["V"] - v["Y"]) @ v["V"].T
    return S, S * (G - (G * S).sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class Identity:
    name: str
    doc: str
    expr: str
    wrt: str
    closed_form: Callable[[dict], np.ndarray]
    sizes: tuple
    domain: dict | None = None
    concrete: bool = False  # derive with the concrete shapes (a sized constant alone)


def vec(n, **extra):
    return {"x": (n,), "y": (n,), **extra}


IDENTITIES = [
    # ---- entrywise functions: ∂ sum(f(x))/∂x = f′(x)
    Identity("arcsin", "arcsin′(t) = 1/√(1 − t²)", "sum(arcsin(x))", "x",
             lambda v: 1 / np.sqrt(1 - v["x"] ** 2), (vec(3), vec(5)), {"x": "unit"}),
    Identity("arccos", "arccos′(t) = −1/√(1 − t²)", "sum(arccos(x))", "x",
             lambda v: -1 / np.sqrt(1 - v["x"] ** 2), (vec(3),), {"x": "unit"}),
    Identity("arctan", "arctan′(t) = 1/(1 + t²)", "sum(arctan(x))", "x",
             lambda v: 1 / (1 + v["x"] ** 2), (vec(4),)),
    Identity("sinh", "sinh′ = cosh", "sum(sinh(x))", "x", lambda v: np.cosh(v["x"]), (vec(3),)),
    Identity("cosh", "cosh′ = sinh", "sum(cosh(x))", "x", lambda v: np.sinh(v["x"]), (vec(3),)),
    Identity("tan", "tan′ = 1 + tan²", "sum(tan(x))", "x", lambda v: 1 / np.cos(v["x"]) ** 2,
             (vec(3),), {"x": "small"}),
    Identity("log1p", "log1p′(t) = 1/(1 + t)", "sum(log1p(x))", "x",
             lambda v: 1 / (1 + v["x"]), (vec(4),), {"x": "unit"}),
    Identity("expm1", "expm1′ = exp", "sum(expm1(x))", "x", lambda v: np.exp(v["x"]),
             (vec(3),)),
    Identity("erf", "erf′(t) = 2/√π e^{−t²}", "sum(erf(x))", "x",
             lambda v: 2 / math.sqrt(math.pi) * np.exp(-v["x"] ** 2), (vec(3), vec(6))),
    Identity("softsign", "softsign′(t) = 1/(1 + |t|)²", "sum(softsign(x))", "x",
             lambda v: 1 / (1 + np.abs(v["x"])) ** 2, (vec(4),)),
    Identity("erf_of_linear", "∂ 1ᵀ erf(A x)/∂x = Aᵀ (2/√π e^{−(Ax)²})", "sum(erf(A*x))", "x",
             lambda v: v["A"].T @ (2 / math.sqrt(math.pi) * np.exp(-(v["A"] @ v["x"]) ** 2)),
             ({"x": (3,), "A": (2, 3)},)),
    # ---- max and min: the derivative goes to the larger (smaller) operand
    Identity("max_first", "∂ 1ᵀ max(x, y)/∂x = [x ≥ y]", "sum(max(x, y))", "x",
             lambda v: (v["x"] >= v["y"]).astype(float), (vec(5), vec(7))),
    Identity("max_second", "∂ 1ᵀ max(x, y)/∂y = [x < y]", "sum(max(x, y))", "y",
             lambda v: (v["x"] < v["y"]).astype(float), (vec(5),)),
    Identity("min_first", "∂ aᵀ min(x, y)/∂x = a ⊙ [x ≤ y]", "a'*min(x, y)", "x",
             lambda v: v["a"] * (v["x"] <= v["y"]), (vec(5, a=(5,)),)),
    Identity("max_zero_is_relu", "∂ 1ᵀ max(x, 0)/∂x = step(x) = relu′(x)", "sum(max(x, 0))",
             "x", lambda v: (v["x"] > 0).astype(float), (vec(6),), {"x": "away"}),
    Identity("max_broadcast_scalar", "∂ 1ᵀ max(X, β)/∂β = #{entries of X below β}",
             "sum(max(X, beta))", "beta", lambda v: np.sum(v["X"] < v["beta"]),
             ({"X": (3, 4), "beta": ()},)),
    # ---- along a dimension (k = 1 down each column, k = 2 along each row)
    Identity("column_sums", "∂ sum(X, 1) b/∂X = 𝟏 bᵀ", "sum(X, 1)*b", "X",
             lambda v: np.outer(np.ones(v["X"].shape[0]), v["b"]),
             ({"X": (3, 4), "b": (4,)},), concrete=True),
    Identity("row_sums", "∂ aᵀ sum(X, 2)/∂X = a 𝟏ᵀ", "a'*sum(X, 2)", "X",
             lambda v: np.outer(v["a"], np.ones(v["X"].shape[1])),
             ({"X": (3, 4), "a": (3,)},), concrete=True),
    Identity("mean_all", "∂ mean(X)/∂X = 𝟏 𝟏ᵀ/(mn)", "mean(X)", "X",
             lambda v: np.full(v["X"].shape, 1 / v["X"].size), ({"X": (3, 4)},),
             concrete=True),
    Identity("column_means", "∂ mean(X, 1) b/∂X = 𝟏 bᵀ/m", "mean(X, 1)*b", "X",
             lambda v: np.outer(np.ones(v["X"].shape[0]), v["b"]) / v["X"].shape[0],
             ({"X": (3, 4), "b": (4,)},), concrete=True),
    Identity("row_logsumexp", "∂ 1ᵀ logsumexp(Z, 2)/∂Z = softmax(Z, 2)",
             "sum(logsumexp(Z, 2))", "Z", lambda v: _softmax(v["Z"], 1),
             ({"Z": (3, 4)}, {"Z": (5, 2)})),
    Identity("column_logsumexp", "∂ logsumexp(Z, 1) b/∂Z = softmax(Z, 1) Diag(b)",
             "logsumexp(Z, 1)*b", "Z", lambda v: _softmax(v["Z"], 0) * v["b"],
             ({"Z": (3, 4), "b": (4,)},)),
    Identity("cross_entropy_rows", "∂ [1ᵀ logsumexp(Z, 2) − 1ᵀ(Y ⊙ Z)1]/∂Z = softmax(Z, 2) − Y",
             "sum(logsumexp(Z, 2)) - sum(Y .* Z)", "Z", lambda v: _softmax(v["Z"], 1) - v["Y"],
             ({"Z": (4, 3), "Y": (4, 3)}, {"Z": (2, 5), "Y": (2, 5)})),
    Identity("cross_entropy_linear_layer", "Z = X W: ∂/∂W = Xᵀ (softmax(X W, 2) − Y)",
             "Z = X*W; sum(logsumexp(Z, 2)) - sum(Y .* Z)", "W",
             lambda v: v["X"].T @ (_softmax(v["X"] @ v["W"], 1) - v["Y"]),
             ({"X": (5, 3), "W": (3, 4), "Y": (5, 4)},)),
    Identity("softmax_rows_backward", "∂ Y : softmax(Z, 2)/∂Z = S ⊙ (Y − (Y ⊙ S) 𝟏 𝟏ᵀ)",
             "Y : softmax(Z, 2)", "Z",
             lambda v: _softmax(v["Z"], 1) * (v["Y"] - (v["Y"] * _softmax(v["Z"], 1)).sum(
                 axis=1, keepdims=True)), ({"Z": (3, 4), "Y": (3, 4)},)),
    Identity("softmax_columns_backward", "∂ Y : softmax(Z, 1)/∂Z = S ⊙ (Y − 𝟏 𝟏ᵀ (Y ⊙ S))",
             "Y : softmax(Z, 1)", "Z",
             lambda v: _softmax(v["Z"], 0) * (v["Y"] - (v["Y"] * _softmax(v["Z"], 0)).sum(
                 axis=0, keepdims=True)), ({"Z": (3, 4), "Y": (3, 4)},)),
    Identity("attention_wrt_Q", "∂‖softmax(Q Kᵀ/γ, 2) V − Y‖²/∂Q = (1/γ) (S ⊙ (G − (G ⊙ S)𝟏𝟏ᵀ)) K",
             "||softmax(Q*K'/gamma, 2)*V - Y||_F^2", "Q",
             lambda v: _attention_upstream(v)[1] @ v["K"] / v["gamma"],
             ({"Q": (4, 3), "K": (5, 3), "V": (5, 2), "Y": (4, 2), "gamma": ()},),
             {"gamma": "pos"}),
    Identity("attention_wrt_K", "… ∂/∂K = (1/γ) (S ⊙ (G − (G ⊙ S)𝟏𝟏ᵀ))ᵀ Q",
             "||softmax(Q*K'/gamma, 2)*V - Y||_F^2", "K",
             lambda v: _attention_upstream(v)[1].T @ v["Q"] / v["gamma"],
             ({"Q": (4, 3), "K": (5, 3), "V": (5, 2), "Y": (4, 2), "gamma": ()},),
             {"gamma": "pos"}),
    Identity("attention_wrt_V", "… ∂/∂V = 2 Sᵀ (S V − Y)",
             "||softmax(Q*K'/gamma, 2)*V - Y||_F^2", "V",
             lambda v: 2 * _attention_upstream(v)[0].T @ (_attention_upstream(v)[0] @ v["V"]
                                                          - v["Y"]),
             ({"Q": (4, 3), "K": (5, 3), "V": (5, 2), "Y": (4, 2), "gamma": ()},),
             {"gamma": "pos"}),
]

assert len({i.name for i in IDENTITIES}) == len(IDENTITIES)


@pytest.mark.parametrize("identity", IDENTITIES, ids=[i.name for i in IDENTITIES])
def test_identity(identity: Identity, tmp_path):
    """derive --format dsl, then eval of the printed line == the closed form."""
    for seed, shapes in enumerate(identity.sizes):
        values = random_inputs(shapes, identity.domain, seed)
        extra = shape_args(shapes) if identity.concrete else []
        (line,) = cli_derive_dsl(identity.expr, [identity.wrt], extra)
        got = cli_eval_value(line, values, tmp_path)
        assert_close(got, identity.closed_form(values), f"{identity.doc}; dsl {line!r}",
                     rtol=1e-8, atol_scale=1e-10)


# ---------------------------------------------------------------- the printed forms

def _derive(*args) -> str:
    result = invoke(["derive", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_attention_prints_the_row_sums_named():
    out = _derive("||softmax(Q*K'/c, 2)*V - Y||_F^2", "--shape", "c=scalar", "--wrt", "Q",
                  "--wrt", "K", "--wrt", "V")
    # one where-block for the three gradients: what ∂f/∂Q and ∂f/∂K share is named once
    assert "∂f/∂Q = (2 / c) N K    (m×n)" in out  # the scalar in front, as (1/√d) dS K
    assert "∂f/∂K = (2 / c) Nᵀ Q    (k×n)" in out
    assert "∂f/∂V = 2 Sᵀ M    (k×p)" in out
    assert "  where S = softmax(Q Kᵀ / c, 2)\n" in out
    assert "        M = S V − Y\n" in out  # the forward residual, named once for all three
    assert "        r = (M Vᵀ ⊙ S) 𝟏\n" in out
    assert "        N = S ⊙ (M Vᵀ − r 𝟏ᵀ)\n" in out


def test_cross_entropy_is_softmax_minus_labels_in_every_format():
    f = "sum(logsumexp(Z, 2)) - sum(Y .* Z)"
    assert "∂f/∂Z = softmax(Z, 2) − Y    (m×n)" in _derive(f, "--wrt", "Z")
    assert _derive(f, "--wrt", "Z", "--format", "dsl") == "softmax(Z, 2) - Y\n"
    latex = _derive(f, "--wrt", "Z", "--format", "latex")
    assert r"\operatorname{softmax}\left(Z, 2\right) - Y" in latex


def test_erf_prints_its_closed_form():
    out = _derive("sum(erf(x))", "--wrt", "x")
    assert "∂f/∂x = (2 / √π) exp(−x.^2)    (n)" in out
    assert _derive("sum(erf(x))", "--wrt", "x", "--format", "dsl") == \
        "(2 / sqrt(arccos(-1)))*exp(-x.^2)\n"
    assert r"\sqrt{\pi}" in _derive("sum(erf(x))", "--wrt", "x", "--format", "latex")


def test_max_states_where_it_is_valid():
    out = _derive("sum(max(x, y))", "--wrt", "x")
    assert "∂f/∂x = 1 − step(y − x)    (n)\n  valid where x ≠ y entrywise" in out
    out = _derive("sum(min(X, 0))", "--wrt", "X")
    assert "valid where X ≠ 0 entrywise" in out
    assert "valid where β ≠ γ" in _derive("max(beta, gamma)", "--wrt", "beta")


def test_domain_conditions_of_the_inverse_functions():
    assert "valid where −1 < x < 1 entrywise" in _derive("sum(arcsin(x))", "--wrt", "x")
    assert "valid where A x > −1 entrywise" in _derive("sum(log1p(A*x))", "--wrt", "x")


@pytest.mark.parametrize("expr,message,column", [
    ("softmax(X)", "softmax needs a vector, but X is m×n: give the dimension, softmax(X, 1) "
                   "down each column or softmax(X, 2) along each row", 1),
    ("logsumexp(X) + 1", "logsumexp needs a vector, but X is m×n: give the dimension, "
                         "logsumexp(X, 1) down each column or logsumexp(X, 2) along each row",
     1),
    ("sum(X, k)", "the dimension k in sum(X, k) must be the number 1 (down each column) or 2 "
                  "(along each row)", 8),
    ("mean(X, 0)", "the dimension k in mean(X, k) must be the number 1 (down each column) or "
                   "2 (along each row)", 9),
    ("max(X, x)", "shape conflict in max(a, b): X is", 1),
])
def test_errors_point_at_the_place(expr, message, column):
    result = invoke(["derive", expr, "--wrt", "X"])
    assert result.exit_code == 2
    first, source, caret = result.stderr.rstrip("\n").split("\n")
    assert first.startswith("matgrad: error: " + message)
    assert first.endswith(f"(column {column})") and source == "  " + expr
    assert caret.index("^") - 2 == column - 1


def test_along_a_dimension_of_vectors_and_rows_reads_as_matlab(tmp_path):
    """sum(x, 1) of a column is its total and sum(x, 2) the column itself; for a row the
    other way round; softmax along a single entry is 1."""
    x = np.array([1.0, -2.0, 0.5])
    cases = {"sum(x, 1)": x.sum(), "sum(x, 2)": x, "sum(x', 2)": x.sum(),
             "sum(x', 1)": x[None, :], "mean(x, 1)": x.mean(), "softmax(x, 2)": np.ones(3),
             "logsumexp(x', 2)": np.log(np.exp(x).sum()), "softmax(x', 2)": _softmax(x, 0)[None, :]}
    for expr, expected in cases.items():
        assert_close(cli_eval_value(expr, {"x": x}, tmp_path), expected, expr)


def test_logsumexp_along_rows_does_not_overflow(tmp_path):
    Z = np.array([[1000.0, 1000.0], [-1000.0, 0.0]])
    got = cli_eval_value("logsumexp(Z, 2)", {"Z": Z}, tmp_path)
    assert_close(got, np.array([1000 + math.log(2), 0.0]), "shifted logsumexp")
    got = cli_eval_value("softmax(Z, 2)", {"Z": Z}, tmp_path)
    assert_close(got, np.array([[0.5, 0.5], [0.0, 1.0]]), "shifted softmax")


def test_eval_warns_at_a_tie_of_max(tmp_path):
    arrays = {"x": np.array([1.0, 2.0, 3.0]), "y": np.array([1.0, 0.0, 5.0])}
    result = invoke(["eval", "sum(max(x, y))", "--wrt", "x", *input_args(arrays, tmp_path)])
    assert result.exit_code == 0, result.output
    assert "the two arguments of max are equal in some entries" in result.stderr
    assert "∂f/∂x =\n  [1. 1. 0.]" in result.stdout  # at the tie: to the first argument
    result = invoke(["eval", "sum(max(x, y))", "--wrt", "x",
                     *input_args({"x": arrays["x"], "y": arrays["y"] + 0.5}, tmp_path)])
    assert "max" not in result.stderr


def test_check_samples_inside_the_domains_and_ignores_constants():
    """arcsin's argument is drawn inside (−1, 1); the π = arccos(−1) of erf′ is a constant
    on the edge of arccos's domain, which no draw can move, so it is not checked."""
    from matgrad_cli.app import api
    from matgrad_cli.numeric import sampling

    program = api.parse("(2 / sqrt(arccos(-1)))*exp(-x.^2) + arcsin(x) + log1p(y)")
    domains = sampling.analyse([program.expr])
    assert [kind for kind, _ in domains.checks] == ["unit", "above_minus_one"]
    assert domains.small == {"x", "y"}
    point = sampling.draw({"x": (50,), "y": (50,)}, domains, np.random.default_rng(0))
    assert sampling.inadmissible(point, domains) is None
    assert np.max(np.abs(point["x"])) <= 0.5

"""Every operator, function, sized constant, number form and spelling of the language
(SPEC §2), evaluated through ``matgrad eval --format json`` and compared with the same
computation written by hand in NumPy.

Inputs come from one fixed-seed pool: lower-case names are vectors of length 4 (p, q
positive), upper-case names matrices (A, C, P are 3×4; B, X, Y are 4×4; S is symmetric
positive definite; Q is positive), a, b, c and the Greek names are scalars.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

N, M = 4, 3


def _pool() -> dict:
    rng = np.random.default_rng(20240607)
    g = lambda *shape: rng.standard_normal(shape)
    root = g(N, N)
    return {
        "x": g(N), "y": g(N), "z": g(N),
        "p": rng.uniform(0.5, 2.0, N), "q": rng.uniform(0.5, 2.0, N),
        "A": g(M, N), "C": g(M, N), "P": g(M, N),
        "B": g(N, N), "X": g(N, N) + 3 * np.eye(N), "Y": g(N, N),
        "S": root @ root.T + N * np.eye(N),
        "Q": rng.uniform(0.5, 2.0, (N, N)),
        "a": np.float64(1.7), "b": np.float64(0.6), "c": np.float64(-0.9),
        "alpha": np.float64(0.7), "beta": np.float64(1.3), "λ": np.float64(0.4),
    }


V = _pool()


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def row(v):
    return v[None, :]


def vec(m):
    return m.ravel(order="F")


def kron_cols(a, b):
    """kron with vectors read as columns, a column result read back as a vector."""
    out = np.kron(a[:, None] if a.ndim == 1 else a, b[:, None] if b.ndim == 1 else b)
    return out[:, 0] if out.shape[1] == 1 else out


def commutation(m, n):
    k = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            k[i * n + j, j * m + i] = 1.0
    return k


def case(expr, names, expected, id=None):
    return pytest.param(expr, names.split(), expected, id=id or expr)


CASES = [
    # ---- sums, negation, scalar broadcasting
    case("x + y", "x y", lambda v: v["x"] + v["y"]),
    case("x - y", "x y", lambda v: v["x"] - v["y"]),
    case("x − y", "x y", lambda v: v["x"] - v["y"], id="unicode-minus"),
    case("1 - sigmoid(x)", "x", lambda v: 1 - sigmoid(v["x"])),
    case("A + 2", "A", lambda v: v["A"] + 2),
    case("-x", "x", lambda v: -v["x"]),
    case("a - b - c", "a b c", lambda v: (v["a"] - v["b"]) - v["c"], id="minus-left-assoc"),
    # ---- Frobenius product
    case("A : C", "A C", lambda v: np.sum(v["A"] * v["C"])),
    case("x : y", "x y", lambda v: v["x"] @ v["y"]),
    case("A : C + 1", "A C", lambda v: np.sum(v["A"] * v["C"]) + 1, id="frob-tighter-than-plus"),
    case("A : 2*C", "A C", lambda v: np.sum(v["A"] * 2 * v["C"]), id="frob-looser-than-times"),
    # ---- matrix products and juxtaposition
    case("A * x", "A x", lambda v: v["A"] @ v["x"]),
    case("A x", "A x", lambda v: v["A"] @ v["x"], id="juxtapose-space"),
    case("A·x", "A x", lambda v: v["A"] @ v["x"], id="middle-dot"),
    case("x' * y", "x y", lambda v: v["x"] @ v["y"]),
    case("x'y", "x y", lambda v: v["x"] @ v["y"], id="juxtapose-x'y"),
    case("x*y'", "x y", lambda v: np.outer(v["x"], v["y"])),
    case("P'P", "P", lambda v: v["P"].T @ v["P"], id="juxtapose-P'P"),
    case("2x", "x", lambda v: 2 * v["x"], id="juxtapose-2x"),
    case("A(x+y)", "A x y", lambda v: v["A"] @ (v["x"] + v["y"]), id="juxtapose-A(x+y)"),
    case("2||x||^2", "x", lambda v: 2 * np.sum(v["x"] ** 2), id="juxtapose-2||x||^2"),
    case("||x|| ||y||", "x y", lambda v: np.linalg.norm(v["x"]) * np.linalg.norm(v["y"]),
         id="juxtapose-two-norms"),
    case("B x.^2", "B x", lambda v: v["B"] @ v["x"] ** 2, id="juxtapose-binds-looser-than-.^"),
    case("alpha x", "alpha x", lambda v: v["alpha"] * v["x"], id="scalar-name-juxtaposed"),
    case("x'A'A x", "x A", lambda v: v["x"] @ v["A"].T @ v["A"] @ v["x"]),
    # ---- Hadamard products and divisions
    case("x .* y", "x y", lambda v: v["x"] * v["y"]),
    case("x ⊙ y", "x y", lambda v: v["x"] * v["y"], id="odot"),
    case("x ∘ y", "x y", lambda v: v["x"] * v["y"], id="circ"),
    case("2 .* A", "A", lambda v: 2 * v["A"], id="scalar-.*-broadcasts"),
    case("2.*x", "x", lambda v: 2 * v["x"], id="2.*x-is-dot-times"),
    case("x ./ p", "x p", lambda v: v["x"] / v["p"]),
    case("2 ./ p", "p", lambda v: 2 / v["p"], id="scalar-./-vector"),
    case("x ./ p ./ q", "x p q", lambda v: (v["x"] / v["p"]) / v["q"], id="./-left-assoc"),
    case("A / 2", "A", lambda v: v["A"] / 2),
    case("x / beta", "x beta", lambda v: v["x"] / v["beta"]),
    case("A*B.*C", "A B C", lambda v: (v["A"] @ v["B"]) * v["C"], id="*-then-.*-left-to-right"),
    case("A.*C*B", "A B C", lambda v: (v["A"] * v["C"]) @ v["B"], id=".*-then-*-left-to-right"),
    # ---- powers
    case("alpha^2", "alpha", lambda v: v["alpha"] ** 2),
    case("a^b", "a b", lambda v: v["a"] ** v["b"], id="scalar-variable-exponent"),
    case("-alpha^2", "alpha", lambda v: -(v["alpha"] ** 2), id="neg-binds-looser-than-^"),
    case("2^-alpha^2", "alpha", lambda v: 2.0 ** (-(v["alpha"] ** 2)), id="2^-alpha^2"),
    case("2^3^2", "", lambda v: 2.0 ** 9, id="^-right-assoc"),
    case("p.^0.5", "p", lambda v: np.sqrt(v["p"])),
    case("p.^beta", "p beta", lambda v: v["p"] ** v["beta"], id=".^-variable-exponent"),
    case("x.^-2", "x", lambda v: v["x"] ** -2.0, id=".^-negative-exponent"),
    case("p.^2.^0.5", "p", lambda v: v["p"] ** (2 ** 0.5), id=".^-right-assoc"),
    case("X^2", "X", lambda v: v["X"] @ v["X"]),
    case("X^3", "X", lambda v: v["X"] @ v["X"] @ v["X"]),
    case("X^-1", "X", lambda v: np.linalg.inv(v["X"])),
    case("X^-2", "X", lambda v: np.linalg.inv(v["X"] @ v["X"])),
    case("X^0", "X", lambda v: np.eye(N)),
    case("X'^2", "X", lambda v: v["X"].T @ v["X"].T, id="transpose-before-^"),
    case("(x'y)^2", "x y", lambda v: (v["x"] @ v["y"]) ** 2),
    # ---- transposes
    case("A'", "A", lambda v: v["A"].T),
    case("Aᵀ", "A", lambda v: v["A"].T, id="superscript-T"),
    case("A.T", "A", lambda v: v["A"].T, id="dot-T"),
    case("A’", "A", lambda v: v["A"].T, id="right-quote"),
    case("x'", "x", lambda v: row(v["x"]), id="row-vector"),
    case("xᵀ*B", "x B", lambda v: row(v["x"] @ v["B"])),
    case("A''", "A", lambda v: v["A"]),
    case("(A*x)'", "A x", lambda v: row(v["A"] @ v["x"])),
    case("2x'", "x", lambda v: 2 * row(v["x"]), id="transpose-binds-tighter-than-juxtapose"),
    case("-x'y", "x y", lambda v: -(v["x"] @ v["y"])),
    # ---- numbers
    case("2*x", "x", lambda v: 2 * v["x"]),
    case("0.5*x", "x", lambda v: 0.5 * v["x"]),
    case(".5*x", "x", lambda v: 0.5 * v["x"]),
    case("1e-3*x", "x", lambda v: 1e-3 * v["x"]),
    case("2.5E+4*x", "x", lambda v: 2.5e4 * v["x"]),
    case("2exp(x)", "x", lambda v: 2 * np.exp(v["x"]), id="2exp(x)-is-a-product"),
    case("3e2", "", lambda v: 300.0),
    # ---- norms
    case("||x||", "x", lambda v: np.linalg.norm(v["x"])),
    case("‖x‖", "x", lambda v: np.linalg.norm(v["x"]), id="double-vertical-line"),
    case("||x||_2", "x", lambda v: np.linalg.norm(v["x"])),
    case("||x||_1", "x", lambda v: np.sum(np.abs(v["x"]))),
    case("‖x‖_1", "x", lambda v: np.sum(np.abs(v["x"]))),
    case("||x||_F", "x", lambda v: np.linalg.norm(v["x"])),
    case("||x'||", "x", lambda v: np.linalg.norm(v["x"]), id="norm-of-row"),
    case("||X||", "X", lambda v: np.linalg.norm(v["X"], "fro"), id="matrix-norm-is-frobenius"),
    case("||X||_F", "X", lambda v: np.linalg.norm(v["X"], "fro")),
    case("||X||_1", "X", lambda v: np.sum(np.abs(v["X"])), id="matrix-1-norm-entrywise"),
    case("||x||^2", "x", lambda v: np.sum(v["x"] ** 2)),
    case("-||x||^2", "x", lambda v: -np.sum(v["x"] ** 2)),
    case("||A*x - y_||^2", "A x y_", lambda v: np.sum((v["A"] @ v["x"] - v["y_"]) ** 2)),
    case("norm(x)", "x", lambda v: np.linalg.norm(v["x"])),
    case("norm(X)", "X", lambda v: np.linalg.norm(v["X"], "fro")),
    case("||norm(x) y||", "x y", lambda v: np.linalg.norm(v["x"]) * np.linalg.norm(v["y"]),
         id="norm-inside-norm-via-norm()"),
    # ---- entrywise functions
    case("exp(x)", "x", lambda v: np.exp(v["x"])),
    case("log(p)", "p", lambda v: np.log(v["p"])),
    case("log(Q)", "Q", lambda v: np.log(v["Q"])),
    case("sqrt(p)", "p", lambda v: np.sqrt(v["p"])),
    case("sin(x)", "x", lambda v: np.sin(v["x"])),
    case("cos(A)", "A", lambda v: np.cos(v["A"])),
    case("tanh(x)", "x", lambda v: np.tanh(v["x"])),
    case("sigmoid(x)", "x", lambda v: sigmoid(v["x"])),
    case("softplus(x)", "x", lambda v: np.log1p(np.exp(v["x"]))),
    case("relu(x)", "x", lambda v: np.maximum(v["x"], 0)),
    case("abs(A)", "A", lambda v: np.abs(v["A"])),
    case("sign(x)", "x", lambda v: np.sign(v["x"])),
    case("step(x)", "x", lambda v: (v["x"] > 0).astype(float)),
    case("exp(alpha)", "alpha", lambda v: np.exp(v["alpha"])),
    case("exp(1)", "", lambda v: math.e),
    # ---- structural functions
    case("sum(A)", "A", lambda v: np.sum(v["A"])),
    case("sum(x)", "x", lambda v: np.sum(v["x"])),
    case("tr(B)", "B", lambda v: np.trace(v["B"])),
    case("det(X)", "X", lambda v: np.linalg.det(v["X"])),
    case("logdet(S)", "S", lambda v: np.linalg.slogdet(v["S"])[1]),
    case("logdet(-S)", "S", lambda v: np.linalg.slogdet(-v["S"])[1], id="logdet-is-log-abs-det"),
    case("inv(S)", "S", lambda v: np.linalg.inv(v["S"])),
    case("diag(B)", "B", lambda v: np.diag(v["B"])),
    case("Diag(x)", "x", lambda v: np.diag(v["x"])),
    case("vec(A)", "A", lambda v: vec(v["A"])),
    case("kron(A, B)", "A B", lambda v: np.kron(v["A"], v["B"])),
    case("kron(x, y)", "x y", lambda v: kron_cols(v["x"], v["y"]), id="kron-of-vectors"),
    case("kron(x', A)", "x A", lambda v: np.kron(row(v["x"]), v["A"])),
    case("softmax(x)", "x", lambda v: np.exp(v["x"]) / np.sum(np.exp(v["x"]))),
    case("logsumexp(x)", "x", lambda v: np.log(np.sum(np.exp(v["x"])))),
    # ---- sized constants and I
    case("eye(4)", "", lambda v: np.eye(4)),
    case("ones(4)", "", lambda v: np.ones(4)),
    case("ones(3, 4)", "", lambda v: np.ones((3, 4))),
    case("zeros(4)", "", lambda v: np.zeros(4)),
    case("zeros(3, 4) + A", "A", lambda v: v["A"]),
    case("ones(4, 1)", "", lambda v: np.ones(4), id="ones(n,1)-is-a-vector"),
    case("eye(1)", "", lambda v: 1.0, id="eye(1)-is-a-scalar"),
    case("commutation(3, 4)*vec(A)", "A", lambda v: vec(v["A"].T),
         id="commutation-times-vec"),
    case("commutation(2, 3)", "", lambda v: commutation(2, 3)),
    case("x'*ones(n)", "x", lambda v: np.sum(v["x"]), id="dim-unified-from-x"),
    case("X + I", "X", lambda v: v["X"] + np.eye(N), id="I-sized-by-context"),
    case("sum(abs(P'P - I))", "P", lambda v: np.sum(np.abs(v["P"].T @ v["P"] - np.eye(N)))),
    case("beta*sum(abs(P'P - I))", "beta P",
         lambda v: v["beta"] * np.sum(np.abs(v["P"].T @ v["P"] - np.eye(N)))),
    # ---- definitions
    case("s = sigmoid(x); ||A*s||^2", "x A", lambda v: np.sum((v["A"] @ sigmoid(v["x"])) ** 2)),
    case("s = sigmoid(x)\n||A*s||^2", "x A", lambda v: np.sum((v["A"] @ sigmoid(v["x"])) ** 2),
         id="definition-newline"),
    case("u = A*x; w = u .* u; sum(w) + λ", "A x λ",
         lambda v: np.sum((v["A"] @ v["x"]) ** 2) + v["λ"], id="two-definitions-greek"),
    case("r = x - y;\n\nr'r\n", "x y", lambda v: (v["x"] - v["y"]) @ (v["x"] - v["y"]),
         id="blank-lines-and-trailing-newline"),
    case("(x +\n y)'z", "x y z", lambda v: (v["x"] + v["y"]) @ v["z"],
         id="newline-inside-parentheses"),
    case("x'y # a comment", "x y", lambda v: v["x"] @ v["y"], id="comment"),
]

# Constant-only entrywise arithmetic on sized constants (the evaluator once folded
# ones(3)/2 into the number 0.5 and crashed on (2 + ones(3))*0.5).
CASES += [
    case(expr, names, expected) for expr, names, expected in [
        ("ones(3)/2", "", lambda v: np.full(3, 0.5)),
        ("2 + ones(3)", "", lambda v: np.full(3, 3.0)),
        ("alpha + ones(4)", "alpha", lambda v: v["alpha"] + np.ones(4)),
        ("ones(3) .* ones(3)", "", lambda v: np.ones(3)),
        ("ones(1, 3) ./ 0.5", "", lambda v: np.full((1, 3), 2.0)),
        ("(ones(3) + ones(3))'", "", lambda v: np.full((1, 3), 2.0)),
        ("(2 + ones(3))*0.5", "", lambda v: np.full(3, 1.5)),
        ("x'*(ones(4)/2)", "x", lambda v: v["x"].sum() / 2),
    ]
]

assert len(CASES) >= 60


def _inputs(names):
    pool = dict(V, y_=V["y"][:M])
    return {name: pool[name] for name in names}


@pytest.mark.parametrize("expr, names, expected", CASES)
def test_eval_matches_numpy(eval_json, expr, names, expected):
    value, shape = eval_json(expr, _inputs(names))
    want = np.asarray(expected(dict(V, y_=V["y"][:M])), dtype=float)
    assert shape == want.shape
    assert np.allclose(value, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("extra, expected", [
    (["--dim", "n=5"], 5.0),
    (["--dim", "n=2"], 2.0),
], ids=["n=5", "n=2"])
def test_dim_option_sizes_a_constant(eval_json, extra, expected):
    value, shape = eval_json("sum(ones(n))", {}, *extra)
    assert shape == ()
    assert value == expected


@pytest.mark.parametrize("expr", ["x'*y", "x'*B*x", "sum(x)", "A : C"])
def test_one_by_one_result_prints_as_a_scalar(cli, tmp_path, expr):
    args = ["eval", expr]
    for name in ("x", "y", "B", "A", "C"):
        if name in expr:
            np.save(tmp_path / f"{name}.npy", V[name])
            args += ["-i", f"{name}={tmp_path / name}.npy"]
    result = cli(args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    head, _, number = lines[0].partition(" = ")
    assert head == "f"
    assert "[" not in number
    assert float(number) == pytest.approx(float(
        {"x'*y": V["x"] @ V["y"], "x'*B*x": V["x"] @ V["B"] @ V["x"], "sum(x)": V["x"].sum(),
         "A : C": np.sum(V["A"] * V["C"])}[expr]))


@pytest.mark.parametrize("layout", ["column", "row"])
@pytest.mark.parametrize("expr, expected", [
    ("A*x", lambda x: V["A"] @ x),
    ("x'x", lambda x: x @ x),
    ("x + y", lambda x: x + V["y"]),
], ids=["A*x", "x'x", "x+y"])
def test_2d_array_is_accepted_for_a_vector(eval_json, layout, expr, expected):
    x = V["x"][:, None] if layout == "column" else V["x"][None, :]
    inputs = {"x": x}
    for name in ("A", "y"):
        if name in expr:
            inputs[name] = V[name]
    value, shape = eval_json(expr, inputs)
    want = np.asarray(expected(V["x"]))
    assert shape == want.shape
    assert np.allclose(value, want)


def test_number_literal_input(cli, tmp_path):
    np.save(tmp_path / "x.npy", V["x"])
    result = cli(["eval", "beta*x", "-i", f"x={tmp_path / 'x.npy'}", "-i", "beta=0.5",
                  "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    assert np.allclose(json.loads(result.stdout)["value"], 0.5 * V["x"])


def test_a_number_minus_ones_keeps_the_shape_of_the_ones():
    """c − ones(3, 2) is a 3×2 array: the scaled ones carry the shape, not a scalar."""
    from helpers import evaluate_line

    got = evaluate_line("1 / (2 + beta^2) - ones(3, 2)", {"beta": np.array(0.5)})
    assert got.shape == (3, 2)
    assert np.allclose(got, 1 / 2.25 - 1)

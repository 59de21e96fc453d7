"""Printers: exact strings per format, the precedence rules, the naming pass, and that the
DSL form re-parses to the same value.

Nodes are built with the smart constructors of ``algebra`` (what the derivative engine
produces) or, to pin one structure, with the ``ir`` classes directly. Values are checked
with a small NumPy reference evaluator of the IR written here, so these tests depend on no
other layer than the parser (for the round trips).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from matgrad_cli import algebra as alg
from matgrad_cli.ops import ENTRYWISE, STRUCTURAL
from matgrad_cli.ir import (
    Add, Call, Commutation, Div, Eye, Fill, Frob, Func, Had, MatMul, MatPow, Num, Ones, Pow,
    Reshape, Scale, T, Var, Zeros,
)
from matgrad_cli.printers import (
    name_subexpressions, render_definitions, to_dsl, to_dsl_line, to_latex, to_text,
)
from matgrad_cli.printers import precedence as P
from matgrad_cli.printers.latex import latex_name
from matgrad_cli.language.shapes import parse_program

N = "n"
A = Var("A", (N, N))
B = Var("B", (N, N))
C = Var("C", (N, N))
X = Var("X", (N, N))
S = Var("S", (N, N))
P_ = Var("P", (N, N))
x = Var("x", (N,))
y = Var("y", (N,))
a = Var("a", ())
b = Var("b", ())
beta = Var("β", ())
gamma = Var("γ", ())
p = Var("p", ())
s = Func("sigmoid", x)
NAMES = {s: "s"}


def num(v):
    return Num(Fraction(v))


def neg(node):
    return Scale(num(-1), node)


# ---------------------------------------------------------------- a reference evaluator

DIMS = {"n": 3, "m": 2}


def _dim(d):
    if isinstance(d, int):
        return d
    out = 1
    for part in d.split("*"):
        out *= int(part) if part.isdigit() else DIMS[part]
    return out


def _shape(shape):
    return tuple(_dim(d) for d in shape)


def _m2(v):
    v = np.asarray(v, dtype=float)
    return v.reshape(-1, 1) if v.ndim == 1 else (v.reshape(1, 1) if v.ndim == 0 else v)


def _commutation(m, n):
    k = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            k[i * n + j, j * m + i] = 1.0  # A[i, j] sits at j*m+i in vec(A), i*n+j in vec(Aᵀ)
    return k


def ref_eval(node, env):
    """The value of an IR node with NumPy, straight from the definitions of the nodes."""
    shape = _shape(node.shape)

    def ev(n):
        return ref_eval(n, env)

    def fit(v):
        return np.asarray(v, dtype=float).reshape(shape)

    if isinstance(node, Num):
        return np.array(float(node.value))
    if isinstance(node, Var):
        return env[node.name]
    if isinstance(node, Eye):
        return np.eye(_dim(node.n))
    if isinstance(node, Ones):
        return np.ones(shape)
    if isinstance(node, Zeros):
        return np.zeros(shape)
    if isinstance(node, Commutation):
        return _commutation(_dim(node.m), _dim(node.n))
    if isinstance(node, Fill):
        return np.full(shape, float(ev(node.value)))
    if isinstance(node, Add):
        return fit(sum(ev(t) for t in node.terms))
    if isinstance(node, Scale):
        return fit(ev(node.factor) * ev(node.operand))
    if isinstance(node, MatMul):
        return fit(_m2(ev(node.left)) @ _m2(ev(node.right)))
    if isinstance(node, Had):
        return fit(ev(node.left) * ev(node.right))
    if isinstance(node, Div):
        return fit(ev(node.left) / ev(node.right))
    if isinstance(node, Pow):
        return fit(ev(node.base) ** ev(node.exponent))
    if isinstance(node, MatPow):
        return np.linalg.matrix_power(ev(node.base), node.k)
    if isinstance(node, T):
        return fit(_m2(ev(node.operand)).T)
    if isinstance(node, Frob):
        return np.array(float(np.sum(ev(node.left) * ev(node.right))))
    if isinstance(node, Func):
        return fit(ENTRYWISE[node.name].numpy(ev(node.operand)))
    if isinstance(node, Call):
        args = [ev(arg) for arg in node.args]
        if node.name == "kron":
            return fit(np.kron(_m2(args[0]), _m2(args[1])))
        return fit(STRUCTURAL[node.name].numpy(*args))
    if isinstance(node, Reshape):
        return ev(node.operand).reshape(shape, order="F")
    raise TypeError(type(node).__name__)


def random_env(variables, rng):
    env = {}
    for name, shape in variables.items():
        env[name] = rng.uniform(0.5, 1.5, _shape(shape))
        if len(shape) == 2 and shape[0] == shape[1]:  # well-conditioned square matrices
            env[name] = env[name] + 3 * np.eye(_shape(shape)[0])
    return env


# ---------------------------------------------------------------- the precedence table

def test_table_levels_follow_the_language():
    assert (P.ADD, P.FROB, P.PRODUCT, P.NEG, P.POWER, P.TRANSPOSE, P.ATOM) == tuple(range(1, 8))
    assert P.level(Add((x, y))) == P.ADD
    assert P.level(Frob(A, B)) == P.FROB
    assert {P.level(n) for n in (MatMul(A, B), Had(A, B), Div(A, B), Scale(a, A))} == {P.PRODUCT}
    assert P.level(Pow(a, num(2))) == P.level(MatPow(A, 3)) == P.POWER
    assert P.level(T(A)) == P.TRANSPOSE
    assert P.level(Call("tr", (A,))) == P.level(A) == P.ATOM


def test_needs_parens_right_operand_of_another_level3_kind():
    assert P.needs_parens(P.PRODUCT, "mul", False, P.PRODUCT, "had", P.RIGHT)
    # X ⊙ (a bᵀ ⊙ Z): the inner left product would regroup with X without them
    assert P.needs_parens(P.PRODUCT, "had", False, P.PRODUCT, "had", P.RIGHT)
    assert not P.needs_parens(P.PRODUCT, "mul", False, P.PRODUCT, "mul", P.RIGHT)  # A (B C)
    assert P.needs_parens(P.PRODUCT, "div", False, P.PRODUCT, "div", P.RIGHT)  # a/(b/c)
    assert not P.needs_parens(P.PRODUCT, "mul", False, P.PRODUCT, "had", P.LEFT)  # A B ⊙ C
    assert P.needs_parens(P.PRODUCT, "had", False, P.PRODUCT, "mul", P.LEFT)  # (a ⊙ b) C
    assert P.needs_parens(P.NEG, "", True, P.POWER, "", P.BASE)  # (−x)²
    assert not P.needs_parens(P.NEG, "", True, P.POWER, "", P.EXPONENT)  # x.^-2


# ---------------------------------------------------------------- text

def test_text_sigmoid_gradient_form_from_nodes():
    one_minus_s = Add((Fill(num(1), (N,)), neg(s)))
    node = Had(Scale(num(2), Had(s, one_minus_s)), MatMul(MatMul(T(A), A), s))
    assert to_text(node, NAMES) == "2 (s ⊙ (1 − s)) ⊙ (Aᵀ A s)"
    assert to_text(node) == "2 (σ(x) ⊙ (1 − σ(x))) ⊙ (Aᵀ A σ(x))"
    assert to_dsl(node, NAMES) == "2*(s .* (1 - s)) .* (A'*A*s)"


def test_text_sigmoid_gradient_form_from_smart_constructors():
    node = alg.scale(alg.num(2), alg.had(alg.had(s, alg.sub(alg.ones((N,)), s)),
                                         alg.matmul(alg.matmul(alg.transpose(A), A), s)))
    assert to_text(node, NAMES) == "2 (s ⊙ (1 − s) ⊙ (Aᵀ A s))"


def test_hadamard_of_a_product_on_the_right_is_parenthesised():
    assert to_text(Had(x, MatMul(A, y))) == "x ⊙ (A y)"
    assert to_dsl(Had(x, MatMul(A, y))) == "x .* (A*y)"
    assert to_text(Had(A, MatMul(B, C))) == "A ⊙ (B C)"


def test_product_on_the_left_of_hadamard_needs_no_parentheses():
    assert to_text(Had(MatMul(A, y), x)) == "A y ⊙ x"
    assert to_dsl(Had(MatMul(A, y), x)) == "A*y .* x"


def test_hadamard_inside_a_product_is_parenthesised_on_either_side():
    assert to_text(MatMul(Had(A, B), C)) == "(A ⊙ B) C"
    assert to_text(MatMul(C, Had(A, B))) == "C (A ⊙ B)"
    assert to_dsl(MatMul(Had(A, B), C)) == "(A .* B)*C"


def test_hadamard_chain_is_flat_and_division_is_not_associative():
    assert to_text(Had(Had(x, y), s)) == "x ⊙ y ⊙ σ(x)"
    assert to_text(Div(x, Div(y, s))) == "x ./ (y ./ σ(x))"
    assert to_text(Div(Div(x, y), s)) == "x ./ y ./ σ(x)"
    assert to_text(Div(Had(x, y), s)) == "(x ⊙ y) ./ σ(x)"


def test_matrix_product_chains_need_no_parentheses():
    node = MatMul(A, MatMul(B, MatMul(C, x)))
    assert to_text(node) == "A B C x"
    assert to_dsl(node) == "A*B*C*x"
    assert to_text(MatMul(MatMul(T(A), A), s)) == "Aᵀ A σ(x)"


def test_one_minus_s_prints_the_broadcast_scalar():
    assert to_text(alg.sub(alg.ones((N,)), s), NAMES) == "1 − s"
    assert to_dsl(alg.sub(alg.ones((N,)), s), NAMES) == "1 - s"
    assert to_text(alg.sub(alg.fill(num(2), (N,)), s), NAMES) == "2 − s"
    assert to_dsl(Had(Fill(beta, (N,)), x)) == "β .* x"


def test_fill_outside_a_broadcast_position_prints_with_ones():
    assert to_text(Fill(num(3), (N,))) == "3 𝟏"
    assert to_dsl(Fill(num(3), (N,))) == "3*ones(n)"
    assert to_dsl(Fill(beta, ("m", N))) == "β*ones(m, n)"
    assert to_dsl(MatMul(A, Fill(num(2), (N,)))) == "2*A*ones(n)"
    # two broadcast constants side by side: neither carries the size alone
    assert to_dsl(Add((Fill(num(2), (N,)), Ones((N,))))) == "2*ones(n) + ones(n)"


def test_coefficient_prints_first():
    node = alg.scale(alg.num(2), alg.scale(beta, alg.matmul(
        P_, alg.func("sign", alg.sub(alg.matmul(alg.transpose(P_), P_), alg.eye(N))))))
    assert to_text(node) == "2 β P sign(Pᵀ P − I)"
    assert to_dsl(node) == "2*β*P*sign(P'*P - I)"
    assert to_text(MatMul(A, Scale(num(3), MatMul(B, Scale(beta, x))))) == "3 β A B x"


def test_negative_coefficients_print_as_subtraction():
    node = alg.add(x, alg.neg(Had(x, y)), alg.scale(alg.num(-2), alg.matmul(A, x)))
    assert to_text(node) == "x − x ⊙ y − 2 A x"
    assert to_dsl(node) == "x - x .* y - 2*A*x"
    assert to_text(alg.add(a, alg.neg(Add((b, p))))) == "a − (b + p)"
    assert to_text(alg.neg(x)) == "−x"
    assert to_text(alg.scale(alg.num(-2), x)) == "−2 x"
    assert to_dsl(alg.scale(alg.num(-2), x)) == "-2*x"
    assert to_text(alg.add(x, alg.fill(num(-1), (N,)))) == "x − 1"


def test_negation_is_parenthesised_where_a_sign_would_be_ambiguous():
    assert to_text(Had(x, neg(y))) == "x ⊙ (−y)"
    assert to_text(neg(Had(x, y))) == "−(x ⊙ y)"
    assert to_text(Pow(neg(a), num(2))) == "(−a)²"
    assert to_dsl(Pow(neg(a), num(2))) == "(-a)^2"
    assert to_text(T(neg(MatMul(A, B)))) == "(−A B)ᵀ"


def test_transpose_of_a_product():
    assert to_text(T(MatMul(A, B))) == "(A B)ᵀ"
    assert to_dsl(T(MatMul(A, B))) == "(A*B)'"
    assert to_text(T(A)) == "Aᵀ"
    assert to_dsl(MatMul(T(x), y)) == "x'*y"


def test_numbers_print_as_decimals_when_they_terminate():
    assert to_text(alg.scale(num(Fraction(1, 2)), x)) == "0.5 x"
    assert to_text(alg.scale(num(Fraction(1, 3)), x)) == "(1/3) x"
    assert to_dsl(alg.scale(num(Fraction(1, 3)), x)) == "(1/3)*x"
    assert to_dsl(alg.scale(num(Fraction(-1, 3)), x)) == "-(1/3)*x"
    assert to_text(num(Fraction(1, 3))) == "1/3"
    assert to_text(num(Fraction(5, 8))) == "0.625"
    assert to_text(num(12)) == "12"
    assert to_latex(alg.scale(num(Fraction(1, 3)), x)) == r"\frac{1}{3} x"


def test_powers():
    assert to_text(Pow(a, num(2))) == "a²"
    assert to_text(Pow(Call("norm", (x,)), num(2))) == "‖x‖²"
    assert to_text(Pow(a, num(-1))) == "a⁻¹"
    assert to_text(Pow(a, p)) == "a^p"
    assert to_text(Pow(a, num(Fraction(1, 2)))) == "a^0.5"
    assert to_text(Pow(a, Add((p, num(1))))) == "a^(p + 1)"
    assert to_text(Pow(x, num(2))) == "x.^2"
    assert to_dsl(Pow(x, num(-2))) == "x.^-2"
    assert to_dsl(Pow(a, num(2))) == "a^2"
    assert to_text(MatPow(X, 3)) == "X³"
    assert to_text(MatPow(X, -2)) == "X⁻²"
    assert to_dsl(MatPow(X, -2)) == "X^-2"
    assert to_text(MatPow(MatMul(A, B), 2)) == "(A B)²"
    assert to_text(Pow(Pow(a, b), num(2))) == "(a^b)²"
    assert to_dsl(Pow(Pow(a, b), p)) == "(a^b)^p"  # ^ is right-associative
    assert to_dsl(Pow(a, Pow(b, p))) == "a^b^p"
    assert to_dsl(Pow(num(2), neg(Pow(a, num(2))))) == "2^-a^2"


def test_functions_and_calls_in_text():
    assert to_text(Func("sigmoid", x)) == "σ(x)"
    assert to_text(Func("exp", Add((x, y)))) == "exp(x + y)"
    assert to_text(Call("norm", (X,))) == "‖X‖"
    assert to_text(Call("norm1", (X,))) == "‖X‖₁"
    assert to_text(Frob(A, B)) == "A : B"
    assert to_text(Call("kron", (A, B))) == "A ⊗ B"
    Z = Var("Z", ("n*n", "n*n"))
    assert to_text(MatMul(Call("kron", (A, B)), Z)) == "(A ⊗ B) Z"
    assert to_text(Call("kron", (MatMul(A, B), C))) == "(A B) ⊗ C"
    assert to_text(Call("inv", (X,))) == "X⁻¹"
    assert to_text(Call("inv", (MatMul(A, B),))) == "(A B)⁻¹"
    assert to_text(T(Call("inv", (S,)))) == "S⁻ᵀ"
    assert to_text(Call("logdet", (X,))) == "log|det X|"
    assert to_text(Call("logdet", (MatMul(A, B),))) == "log|det(A B)|"
    assert to_text(Call("tr", (X,))) == "tr(X)"
    assert to_text(Call("det", (X,))) == "det(X)"
    assert to_text(Call("Diag", (x,))) == "Diag(x)"
    assert to_text(Call("diag", (X,))) == "diag(X)"
    assert to_text(Call("vec", (X,))) == "vec(X)"
    assert to_text(Reshape(Var("g", ("m*n",)), ("m", N))) == "unvec(g)"


def test_constants_in_text():
    assert to_text(Eye(N)) == "I_n"
    assert to_text(Eye("m*n")) == "I_{mn}"
    assert to_text(Add((A, Eye(N)))) == "A + I"  # its size follows from A
    assert to_text(Ones((N,))) == "𝟏"
    assert to_text(Zeros((N, N))) == "0"
    assert to_text(Commutation("m", N)) == "K_{m,n}"
    assert to_text(Call("kron", (Eye("m"), A))) == "I_m ⊗ A"


def test_frobenius_operands():
    assert to_text(Frob(A, Add((B, C)))) == "A : (B + C)"
    assert to_text(Frob(MatMul(A, B), C)) == "A B : C"
    assert to_text(Add((a, Frob(A, B)))) == "a + A : B"
    assert to_text(MatMul(T(x), Scale(Frob(A, B), y))) == "(A : B) xᵀ y"
    assert to_dsl(Frob(A, Add((B, C)))) == "A : (B + C)"
    assert to_dsl(Frob(Frob(A, B), a)) == "A : B : a"


def test_division_by_a_scalar():
    assert to_text(alg.div(x, gamma)) == "x / γ"
    assert to_dsl(alg.div(x, gamma)) == "x / γ"
    assert to_text(Div(x, y)) == "x ./ y"
    assert to_text(Div(Fill(num(1), (N,)), x)) == "1 ./ x"
    assert to_text(Div(a, Scale(num(2), b))) == "a / (2 b)"
    assert to_text(alg.div(x, alg.scale(num(2), beta))) == "x / (2 β)"


def test_names_replace_equal_subtrees():
    sig = Func("sigmoid", x)  # an equal node, not the same object
    node = alg.had(sig, alg.matmul(A, Func("sigmoid", x)))
    assert to_text(node, {s: "s"}) == "s ⊙ (A s)"
    assert to_dsl(node, {s: "s"}) == "s .* (A*s)"
    assert to_latex(node, {s: "s"}) == r"s \odot \left(A s\right)"


# ---------------------------------------------------------------- latex

def test_latex_forms():
    assert to_latex(MatMul(T(A), x)) == r"A^{\top} x"
    assert to_latex(Func("sigmoid", x)) == r"\sigma\left(x\right)"
    assert to_latex(Call("norm", (x,))) == r"\left\|x\right\|"
    assert to_latex(Pow(Call("norm", (x,)), num(2))) == r"\left\|x\right\|^{2}"
    assert to_latex(Call("tr", (X,))) == r"\operatorname{tr}\left(X\right)"
    assert to_latex(Call("kron", (A, B))) == r"A \otimes B"
    assert to_latex(Had(x, y)) == r"x \odot y"
    assert to_latex(Ones((N,))) == r"\mathbf{1}"
    assert to_latex(Commutation("m", N)) == "K_{m,n}"
    assert to_latex(Add((A, Eye(N)))) == "A + I"
    assert to_latex(Call("inv", (X,))) == "X^{-1}"
    assert to_latex(T(Call("inv", (S,)))) == r"S^{-\top}"
    assert to_latex(T(T(A))) == r"{A^{\top}}^{\top}"  # never a double superscript
    assert to_latex(Call("logdet", (X,))) == r"\log\left|\det X\right|"
    assert to_latex(Func("sqrt", x)) == r"\sqrt{x}"
    assert to_latex(alg.sub(a, alg.scale(num(2), beta))) == r"a - 2 \beta"
    assert to_latex(Pow(x, num(2))) == r"x^{\circ 2}"


def test_latex_names():
    assert latex_name("beta") == r"\beta"
    assert latex_name("β") == r"\beta"
    assert latex_name("x_1") == "x_{1}"
    assert latex_name("W1") == "W_{1}"
    assert latex_name("loss") == r"\mathit{loss}"
    assert latex_name("A") == "A"


# ---------------------------------------------------------------- dsl

def test_dsl_constants_and_sizes():
    assert to_dsl(Eye(N)) == "eye(n)"
    assert to_dsl(Add((A, Eye(N)))) == "A + I"
    assert to_dsl(Add((A, Scale(beta, Eye(N))))) == "A + β*I"
    assert to_dsl(Add((Ones((N, N)), Eye(N)))) == "1 + eye(n)"  # eye(n) carries the size
    assert to_dsl(Add((Ones((N, N)), Ones((N, N))))) == "ones(n, n) + ones(n, n)"
    assert to_dsl(Call("kron", (Eye("m"), A))) == "kron(eye(m), A)"
    assert to_dsl(Ones((N,))) == "ones(n)"
    assert to_dsl(Ones((1, N))) == "ones(1, n)"
    assert to_dsl(Zeros(("m", N))) == "zeros(m, n)"
    assert to_dsl(Commutation("m", N)) == "commutation(m, n)"
    assert to_dsl(Eye("m*n")) == "eye(m*n)"
    assert to_dsl(MatMul(Eye(N), A)) == "I*A"


def test_dsl_function_names():
    assert to_dsl(Func("sigmoid", x)) == "sigmoid(x)"
    assert to_dsl(Call("logdet", (X,))) == "logdet(X)"
    assert to_dsl(Call("inv", (X,))) == "inv(X)"
    assert to_dsl(T(Call("inv", (X,)))) == "inv(X)'"
    assert to_dsl(Call("kron", (A, B))) == "kron(A, B)"
    assert to_dsl(Call("norm", (x,))) == "norm(x)"
    assert to_dsl(Call("norm1", (X,))) == "sum(abs(X))"
    assert to_dsl(Call("Diag", (x,))) == "Diag(x)"
    assert to_dsl(Frob(A, B)) == "A : B"


def test_dsl_reshape_is_the_unvec_identity():
    g = Var("g", ("m*n",))
    assert to_dsl(Reshape(g, ("m", N))) == "kron(vec(eye(n))', eye(m))*kron(eye(n), g)"


@pytest.mark.parametrize("m,n", [(2, 3), (3, 2), (1, 4), (4, 1), (3, 3)])
def test_unvec_identity_numerically(m, n):
    """unvec(g) = (vec(Iₙ)ᵀ ⊗ Iₘ)(Iₙ ⊗ g) for g of length mn, column-major."""
    g = np.random.default_rng(m * 10 + n).normal(size=m * n)
    vec_eye = np.eye(n).ravel(order="F")[None, :]
    identity = np.kron(vec_eye, np.eye(m)) @ np.kron(np.eye(n), g[:, None])
    assert identity.shape == (m, n)
    np.testing.assert_allclose(identity, g.reshape((m, n), order="F"))
    if min(m, n) > 1:  # and it is the column-major reshape, not the row-major one
        assert not np.allclose(g.reshape((m, n), order="C"), identity)


# ---------------------------------------------------------------- naming

def test_repeated_sigmoid_is_named_s():
    node = alg.add(alg.had(s, alg.sub(alg.ones((N,)), s)), alg.matmul(A, s))
    defs, mapping = name_subexpressions([node], {"A", "x"})
    assert defs == [("s", s)]
    assert mapping == {s: "s"}
    assert to_text(node, mapping) == "s ⊙ (1 − s) + A s"


def test_names_avoid_taken_ones():
    node = alg.had(s, s)
    defs, _ = name_subexpressions([node], {"s", "x", "s2"})
    assert defs == [("s3", s)]


def test_names_by_kind_and_shape():
    AB = MatMul(A, B)
    Ax = MatMul(A, x)
    xy = MatMul(T(x), y)
    roots = [MatMul(AB, x), MatMul(AB, y), Had(Ax, y), Had(Ax, x), Scale(xy, x), Scale(xy, y)]
    defs, mapping = name_subexpressions(roots, {"A", "B", "x", "y"})
    assert len(defs) == 3
    names = dict((n, v) for v, n in defs)
    assert names[AB] == "M" and names[Ax] == "u" and names[xy] == "c"
    inv = name_subexpressions([alg.matmul(Call("inv", (S,)), Call("inv", (S,)))], {"S"})[0]
    assert inv == []  # S⁻¹ is shorter than a name
    inverse = Call("inv", (alg.add(S, T(S)),))
    assert [n for n, _ in name_subexpressions([alg.matmul(inverse, inverse)], {"S"})[0]] \
        == ["Y"]
    sm = Call("softmax", (x,))
    assert name_subexpressions([alg.had(sm, sm)], {"x"})[0] == [("p", sm)]
    assert name_subexpressions([alg.had(Func("tanh", X), Func("tanh", X))], set())[0][0][0] == "T"


def test_leaves_and_transposed_leaves_are_not_named():
    node = alg.add(MatMul(T(A), A), MatMul(T(A), B), Scale(num(2), A), Scale(num(2), A))
    defs, mapping = name_subexpressions([node], {"A", "B"})
    assert defs == [] and mapping == {}


def test_counts_are_in_the_tree_not_the_dag():
    shared = MatMul(A, B)  # one object used twice: two occurrences in the printed tree
    defs, _ = name_subexpressions([Add((shared, MatMul(shared, C)))], set())
    assert [n for _, n in defs] == [shared]


def test_what_occurs_only_inside_a_named_subtree_is_not_named_again():
    inner = MatMul(A, B)
    outer = Func("exp", Add((inner, C)))
    defs, _ = name_subexpressions([Had(outer, outer)], set())
    assert [n for _, n in defs] == [outer]


def test_definitions_come_in_dependency_order():
    inner = Func("sigmoid", x)
    outer = MatMul(A, inner)
    node = Add((Had(outer, outer), inner))  # inner occurs 3 times, outer twice
    defs, mapping = name_subexpressions([node], {"A", "x"})
    assert [n for _, n in defs] == [inner, outer]
    rendered = render_definitions(defs, mapping, to_dsl)
    assert rendered == [("s", "sigmoid(x)"), ("u", "A*s")]
    assert to_dsl(node, mapping) == "u.^2 + s"


def test_preferred_names_are_used_even_for_a_single_occurrence():
    h = Func("tanh", MatMul(A, x))
    node = MatMul(T(h), h)  # h twice
    loss = Func("exp", x)
    defs, mapping = name_subexpressions([Add((Scale(node, loss), loss))], {"A", "x", "h"},
                                        preferred={h: "h", loss: "q", Var("x", (N,)): "z"})
    assert mapping[h] == "h" and mapping[loss] == "q"
    assert Var("x", (N,)) not in mapping  # a leaf is never named
    assert set(dict(defs)) == {"h", "q"}


def test_names_across_several_roots():
    d = MatMul(A, B)
    defs, _ = name_subexpressions([MatMul(d, x), MatMul(d, y)], set())
    assert defs == [("M", d)]


def test_to_dsl_line_defines_its_names():
    node = alg.add(alg.had(s, alg.sub(alg.ones((N,)), s)), alg.matmul(A, s))
    assert to_dsl_line(node, {"A", "x"}) == "s = sigmoid(x); s .* (1 - s) + A*s"


# ---------------------------------------------------------------- round trips

ROUND_TRIP = [
    Had(Scale(num(2), Had(s, Add((Fill(num(1), (N,)), neg(s))))), MatMul(MatMul(T(A), A), s)),
    alg.scale(alg.num(2), alg.scale(beta, alg.matmul(
        P_, alg.func("sign", alg.sub(alg.matmul(alg.transpose(P_), P_), alg.eye(N)))))),
    Had(x, MatMul(A, y)),
    MatMul(Had(A, B), x),
    Div(x, Div(y, s)),
    Div(Had(x, y), s),
    alg.add(x, alg.neg(Had(x, y)), alg.scale(alg.num(-2), alg.matmul(A, x))),
    alg.add(a, alg.neg(Add((b, beta)))),
    Add((x, Fill(num(-1), (N,)))),
    Div(Fill(num(1), (N,)), x),
    alg.div(x, alg.scale(num(2), beta)),
    Had(Fill(beta, (N,)), x),
    MatMul(A, Fill(num(2), (N,))),
    Add((Fill(num(2), (N,)), Ones((N,)), x)),
    Scale(num(Fraction(1, 3)), x),
    Scale(num(Fraction(-1, 3)), MatMul(A, x)),
    Pow(x, num(-2)),
    Pow(Call("norm", (x,)), num(2)),
    Pow(num(2), neg(Pow(beta, num(2)))),
    Pow(neg(beta), num(2)),
    Pow(Pow(beta, gamma), num(2)),
    MatPow(MatMul(A, B), -2),
    T(MatMul(A, B)),
    T(Call("inv", (S,))),
    Call("logdet", (MatMul(A, T(A)),)),
    Frob(A, Add((B, Eye(N)))),
    Add((a, Frob(A, B))),
    Scale(Frob(A, B), x),
    Call("kron", (Eye("m"), A)),
    Call("norm1", (A,)),
    Add((A, Scale(beta, Eye(N)))),
    MatMul(Commutation("m", N), Call("vec", (Var("W", ("m", N)),))),
    Reshape(Var("g", (6,)), (2, 3)),
    Had(x, neg(y)),
    neg(Had(x, y)),
    Call("Diag", (Func("exp", x),)),
    Scale(MatMul(T(x), y), MatMul(A, B)),
    Add((x, Fill(Add((a, b)), (N,)))),
    Add((Fill(Add((a, b)), (N,)), x)),
    Add((x, Fill(neg(Add((a, b))), (N,)))),
    Had(Fill(Scale(num(-2), a), (N,)), x),
    Pow(Fill(num(2), (N,)), a),
    Pow(num(Fraction(1, 3)), a),
    Pow(a, num(Fraction(-1, 3))),
    MatPow(T(A), 2),
    Frob(A, neg(B)),
    Had(Eye(N), Fill(num(2), (N, N))),
    MatMul(Eye(N), Ones((N, N))),
    Scale(a, Fill(num(3), (N,))),
    Div(x, Fill(Add((a, b)), (N,))),
    Div(Fill(neg(a), (N,)), x),
    Had(a, b),
    Div(a, Scale(num(2), b)),
    Add((Ones((N, N)), Eye(N))),
]


@pytest.mark.parametrize("node", ROUND_TRIP, ids=lambda n: to_text(n))
def test_dsl_reparses_to_the_same_value(node):
    variables = {}
    for sub in _walk(node):
        if isinstance(sub, Var):
            variables[sub.name] = sub.shape
    source = to_dsl(node)
    shapes = {name: list(shape) for name, shape in variables.items()}
    program = parse_program(source, shapes, {"n": DIMS["n"], "m": DIMS["m"]})
    env = random_env(variables, np.random.default_rng(0))
    expected = ref_eval(node, env)
    got = ref_eval(program.expr, env)
    assert np.shape(got) == np.shape(expected), source
    np.testing.assert_allclose(got, expected, rtol=1e-10, err_msg=source)


def test_dsl_line_with_definitions_reparses_to_the_same_value():
    AtA = alg.matmul(alg.transpose(A), A)
    node = alg.add(alg.had(s, alg.sub(alg.ones((N,)), s)),
                   alg.matmul(AtA, alg.matmul(AtA, s)))
    line = to_dsl_line(node, {"A", "x"})
    assert line == "s = sigmoid(x); M = A'*A; s .* (1 - s) + M*M*s"
    program = parse_program(line, {"A": [N, N], "x": [N]}, {"n": DIMS["n"]})
    env = random_env({"A": (N, N), "x": (N,)}, np.random.default_rng(1))
    np.testing.assert_allclose(ref_eval(program.expr, env), ref_eval(node, env))


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def test_reference_evaluator_knows_the_commutation_matrix():
    W = np.arange(6.0).reshape(2, 3)
    K = _commutation(2, 3)
    np.testing.assert_array_equal(K @ W.ravel(order="F"), W.T.ravel(order="F"))

"""The simplifier: derivatives read like the textbook answer, and every named rule is one
that some derivative needs (no dead rules)."""
import pytest

from matgrad_cli import algebra as alg
from matgrad_cli.app import api
from matgrad_cli.diff import all_gradients, derivative, symmetric
from matgrad_cli.diff.jacobian import jacobian
from matgrad_cli.ir import Var
from matgrad_cli.printers import to_text
from matgrad_cli.simplify import RULES, simplify

# (expression, wrt, order, shapes, the printed derivative)
TEXTBOOK = [
    ("x'*A*x", "x", 1, {}, "(A + Aᵀ) x"),
    ("x'*A*x", "x", 2, {}, "A + Aᵀ"),
    ("log(det(X))", "X", 1, {}, "X⁻ᵀ"),
    ("logdet(S)", "S", 1, {}, "S⁻ᵀ"),
    ("beta*sum(abs(P'P - I))", "P", 1, {}, "2 β P sign(Pᵀ P − I)"),
    ("sum(sqrt(x.^2 + 1))", "x", 1, {}, "x ./ √(x.^2 + 1)"),
    ("logsumexp(W*x) - y'*W*x", "W", 1, {}, "(softmax(W x) − y) xᵀ"),
    ("tr(X'*A*X)", "X", 2, {}, "I_n ⊗ (A + Aᵀ)"),
    ("A*X*B", "X", 1, {}, "Bᵀ ⊗ A"),
    ("X + A .* sign(X)", "X", 1, {}, "I_{mn}"),
    ("det(X)^2", "X", 1, {}, "2 det(X)² X⁻ᵀ"),
    ("0.5*||W3*W2*W1*X - Y||_F^2 + lambda*(||W1||_F^2 + ||W2||_F^2 + ||W3||_F^2)", "W2", 1,
     {}, "W3ᵀ (W3 W2 W1 X − Y) Xᵀ W1ᵀ + 2 λ W2"),
    ("sum(logsumexp(Z, 2)) - sum(Y .* Z)", "Z", 1, {}, "softmax(Z, 2) − Y"),
    ("mean(logsumexp(Z, 2) - sum(Y .* Z, 2))", "Z", 1, {}, "(1 / m) (softmax(Z, 2) − Y)"),
    ("Z = X*W; sum(logsumexp(Z, 2)) - sum(Y .* Z)", "W", 1, {}, "Xᵀ (softmax(X W, 2) − Y)"),
    ("sum(logsumexp(Z, 1)) - sum(Y .* Z)", "Z", 1, {}, "softmax(Z, 1) − Y"),
    ("Y : softmax(Z, 2)", "Z", 1, {},
     "softmax(Z, 2) ⊙ (Y − (Y ⊙ softmax(Z, 2)) 𝟏 𝟏ᵀ)"),
    ("sum(erf(x))", "x", 1, {}, "(2 / √π) exp(−x.^2)"),
    ("sum(max(x, y))", "x", 1, {}, "1 − step(y − x)"),
    ("sum(min(x, y))", "y", 1, {}, "step(x − y)"),
]


@pytest.mark.parametrize("source,wrt,order,shapes,expected", TEXTBOOK,
                         ids=[f"{t[0]}|{t[1]}|{t[2]}" for t in TEXTBOOK])
def test_derivative_reads_like_the_textbook(source, wrt, order, shapes, expected):
    derivation = api.derive(api.parse(source, shapes), [wrt], order)
    node = derivation.hessians[wrt] if order == 2 else derivation.derivatives[wrt]
    assert to_text(node) == expected


def test_softmax_cross_entropy_cancels_the_log():
    derivation = api.derive(api.parse("-y'*log(softmax(W*x))"), ["W"])
    assert to_text(derivation.derivatives["W"]) == "(sum(y) softmax(W x) − y) xᵀ"


# Expressions whose derivatives, together, need every rule of the simplifier.
RULE_WORKOUT = [
    ("x'*A*x", "x", 2), ("beta*sum(abs(P'P - I))", "P", 1), ("A*X*B", "X", 1),
    ("X'", "X", 1), ("tr(X'*A*X)", "X", 2), ("||A*sigmoid(x)||^2", "x", 2),
    ("-y'*log(softmax(W*x))", "W", 1), ("sum(sqrt(x.^2 + 1))", "x", 1),
    ("x/norm(x)", "x", 1), ("det(X)^2", "X", 1), ("log(det(X))", "X", 1),
    ("sum(log(1 + exp(-y .* (X*w))))", "w", 1), ("beta*A*x", "beta", 1),
    ("diag(X)", "X", 1), ("Diag(x)*A", "x", 1), ("tr(X)*X", "X", 1), ("vec(X)", "X", 1),
    ("X.^2", "X", 1), ("x'*Diag(y)*x", "y", 1), ("sum(X)", "X", 1), ("tr(X)", "X", 1),
    ("sqrt(x'x)", "x", 1), ("1./x", "x", 1), ("alpha*x", "alpha", 1),
    ("x'*X*y", "X", 2), ("sum(diag(Diag(x)))", "x", 1), ("a'*softmax(x)", "x", 1),
    ("tr(inv(X))", "X", 1), ("x.*(1./x)", "x", 1), ("X*X'", "X", 1), ("kron(A, B)", "A", 1),
    ("x'*(A + B)'*y", "x", 1), ("z'*Diag(y)'*x", "x", 1), ("x'*kron(A,B)'*y", "A", 1),
    ("A*X + B*X", "X", 1), ("x'*(X')'*y", "X", 1), ("sum(diag(Diag(x)) .* y)", "x", 1),
    ("mean(logsumexp(Z, 2) - sum(Y .* Z, 2))", "Z", 1),
    ("sum(relu(x).^2)", "x", 1), ("tr(X*A*X')", "X", 1), ("log(softmax(x))", "x", 1),
]
# derivatives w.r.t. a symmetric variable: the gradient sym(G) = (G + Gᵀ)/2, as derive forms it
SYMMETRIC_WORKOUT = [
    ("logdet(S)", "S"), ("1/2*logdet(S) + 1/2*(x - m)'*inv(S)*(x - m)", "S"),
    ("logdet(S) + tr(inv(S)*C)", "S"), ("tr(A*S)", "S"),
]


def test_every_rule_is_used_by_some_derivative():
    """The workout derives each expression as derive does, and forms the differential
    that --steps shows (the Jacobian rules applied to a placeholder vec(dX))."""
    applied: list = []
    for source, wrt, order in RULE_WORKOUT:
        program = api.parse(source)
        shape = program.variables[wrt]
        f = program.expr
        raw = all_gradients(f, {wrt: shape})[wrt] if f.shape == () else \
            derivative(f, wrt, shape)
        first = simplify(raw, applied)
        if order == 2:
            simplify(jacobian(first, wrt, shape), applied)
        differential = jacobian(f, wrt, shape, seed=alg.vec(Var("d" + wrt, shape)))
        simplify(alg.unvec(differential, f.shape), applied)
    for source, wrt in SYMMETRIC_WORKOUT:
        program = api.parse(source, {wrt: ["n", "n", "spd"]})
        grad = all_gradients(program.expr, {wrt: program.variables[wrt]})[wrt]
        gradient = simplify(symmetric.sym(grad), applied)
        symmetric.cookbook(gradient, lambda node: simplify(node, applied))
    used = {name for name, _, _ in applied}
    unused = [rule.__name__ for rule in RULES if rule.__name__ not in used]
    assert unused == []

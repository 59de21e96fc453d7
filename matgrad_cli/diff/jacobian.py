"""Forward mode in vec form: J(node) = ∂vec(node)/∂vec(X)ᵀ, the Magnus–Neudecker Jacobian.

Each rule is the vectorised differential of one operation (vec(A dX B) = (Bᵀ ⊗ A) vec dX,
vec(D ⊙ dX) = Diag(vec D) vec dX, vec(dXᵀ) = K vec dX). J has shape
size(node) × size(X), read as a vector when X is a scalar, so the same rules give
Jacobians, derivatives w.r.t. scalars and (applied to a gradient) Hessians. The
simplifier turns ``(Bᵀ ⊗ A) vec(D)`` back into ``vec(A D B)``, so no Kronecker product
survives where a matrix product says the same.
"""
from __future__ import annotations

from typing import Callable

from .. import algebra as alg
from ..functions import ENTRYWISE
from ..ir import (Add, Call, Commutation, Div, Fill, Frob, Func, Had, MatMul, MatPow, Node,
                  Pow, Reshape, Scale, T, Var, as_matrix, normalize_shape, size_of)
from .reverse import dependents

# node type -> rule(node, child_jacobians) -> J(node)
JACOBIAN: dict[type, Callable] = {}
CALL_JACOBIAN: dict[str, Callable] = {}


def rule(node_type):
    def register(fn):
        JACOBIAN[node_type] = fn
        return fn
    return register


def call_rule(name):
    def register(fn):
        CALL_JACOBIAN[name] = fn
        return fn
    return register


def _vec(x: Node) -> Node:
    return alg.vec(x)


def _diag_of(x: Node) -> Node:
    """Diag(vec x): the Jacobian of an entrywise product by x."""
    return alg.diag_matrix(_vec(x)) if x.shape else x


def _commutation(m, n) -> Node:
    if m == 1 or n == 1:
        return alg.eye(alg.dim_mul(m, n))
    return Commutation(m, n)


def _apply(matrix: Node, j: Node) -> Node:
    return alg.matmul(matrix, j)


@rule(Add)
def _add(node, js):
    return alg.add(*js)


@rule(Fill)
def _fill(node, js):
    return alg.matmul(alg.ones((size_of(node.shape),)), js[0])


@rule(Scale)
def _scale(node, js):
    jc, jx = js
    return alg.add(alg.matmul(_vec(node.operand), jc) if node.operand.shape else
                   alg.scale(node.operand, jc), alg.scale(node.factor, jx))


@rule(MatMul)
def _matmul(node, js):
    a, b = node.left, node.right
    m, _ = as_matrix(a.shape)
    _, n = as_matrix(b.shape)
    left = alg.matmul(alg.kron(alg.transpose(b), alg.eye(m)), js[0])
    right = alg.matmul(alg.kron(alg.eye(n), a), js[1])
    return alg.add(left, right)


@rule(Had)
def _had(node, js):
    return alg.add(_apply(_diag_of(node.right), js[0]), _apply(_diag_of(node.left), js[1]))


@rule(Div)
def _div(node, js):
    b = node.right
    da = _apply(_diag_of(alg.div(alg.ones(b.shape), b)), js[0])
    db = _apply(_diag_of(alg.div(node, b)), js[1])
    return alg.sub(da, db)


@rule(Pow)
def _pow(node, js):
    a, p = node.base, node.exponent
    slope = alg.scale(p, alg.power(a, alg.sub(p, alg.ONE)))
    dp = alg.had(node, alg.func("log", a)) if a.shape else alg.scale(node, alg.func("log", a))
    return alg.add(_apply(_diag_of(slope), js[0]), alg.matmul(_vec(dp), js[1]))


@rule(MatPow)
def _matpow(node, js):
    x, k = node.base, node.k
    jx = js[0]
    base = x
    if k < 0:
        base = alg.call("inv", x)
        jx = _inv_jacobian(base, jx)
    m = abs(k)
    terms = [alg.kron(alg.transpose(alg.matpow(base, m - 1 - i)), alg.matpow(base, i))
             for i in range(m)]
    return alg.matmul(alg.add(*terms), jx)


def _inv_jacobian(y: Node, jx: Node) -> Node:
    return alg.neg(alg.matmul(alg.kron(alg.transpose(y), y), jx))


@rule(T)
def _transpose(node, js):
    a = node.operand
    if len(a.shape) < 2 or a.shape[0] == 1:
        return js[0]
    return alg.matmul(_commutation(a.shape[0], a.shape[1]), js[0])


@rule(Func)
def _func(node, js):
    derivative = ENTRYWISE[node.name].derivative(node.operand, node)
    return _apply(_diag_of(derivative), js[0])


@rule(Reshape)
def _reshape(node, js):
    return js[0]


@rule(Frob)
def _frob(node, js):
    a, b = node.left, node.right
    return alg.add(alg.matmul(alg.transpose(_vec(b)), js[0]),
                   alg.matmul(alg.transpose(_vec(a)), js[1]))


@rule(Call)
def _call(node, js):
    fn = CALL_JACOBIAN.get(node.name)
    if fn is None:
        raise NotImplementedError(f"no Jacobian rule for {node.name}")
    return fn(node, js)


def _row(v: Node) -> Node:
    return alg.transpose(_vec(v))


@call_rule("sum")
def _sum(node, js):
    x = node.args[0]
    if x.shape == ():
        return js[0]
    return alg.matmul(alg.transpose(alg.ones((size_of(x.shape),))), js[0])


@call_rule("tr")
def _tr(node, js):
    x = node.args[0]
    return alg.matmul(_row(alg.eye(x.shape[0])), js[0]) if x.shape else js[0]


@call_rule("det")
def _det(node, js):
    x = node.args[0]
    if x.shape == ():
        return js[0]
    return alg.scale(node, alg.matmul(_row(alg.transpose(alg.call("inv", x))), js[0]))


@call_rule("logdet")
def _logdet(node, js):
    x = node.args[0]
    if x.shape == ():
        return alg.div(js[0], x)
    return alg.matmul(_row(alg.transpose(alg.call("inv", x))), js[0])


@call_rule("inv")
def _inv(node, js):
    if node.shape == ():
        return alg.neg(alg.scale(alg.power(node, alg.num(2)), js[0]))
    return _inv_jacobian(node, js[0])


def diag_selector(n) -> Node:
    """S (n × n²) with S vec(X) = diag(X): (I ⊗ 𝟏ᵀ) ⊙ (𝟏ᵀ ⊗ I)."""
    ones_row = alg.transpose(alg.ones((n,)))
    return alg.had(alg.kron(alg.eye(n), ones_row), alg.kron(ones_row, alg.eye(n)))


@call_rule("diag")
def _diag(node, js):
    x = node.args[0]
    if len(x.shape) < 2:
        return js[0]
    return alg.matmul(diag_selector(x.shape[0]), js[0])


@call_rule("Diag")
def _Diag(node, js):
    x = node.args[0]
    if x.shape == ():
        return js[0]
    return alg.matmul(alg.transpose(diag_selector(x.shape[0])), js[0])


@call_rule("vec")
def _vec_rule(node, js):
    return js[0]


def kron_partials(a: Node, b: Node) -> tuple[Node, Node]:
    """P_A, P_B with vec d(A ⊗ B) = P_A vec dA + P_B vec dB (Magnus–Neudecker Thm 3.10)."""
    m, n = as_matrix(a.shape)
    p, q = as_matrix(b.shape)
    r = alg.kron(alg.kron(alg.eye(n), _commutation(q, m)), alg.eye(p))
    pa = alg.matmul(r, alg.kron(alg.eye(alg.dim_mul(m, n)), _vec(b)))
    pb = alg.matmul(r, alg.kron(_vec(a), alg.eye(alg.dim_mul(p, q))))
    return pa, pb


@call_rule("kron")
def _kron(node, js):
    a, b = node.args
    if a.shape == () or b.shape == ():
        scalar, other = (a, b) if a.shape == () else (b, a)
        j_scalar, j_other = (js[0], js[1]) if a.shape == () else (js[1], js[0])
        return alg.add(alg.matmul(_vec(other), j_scalar), alg.scale(scalar, j_other))
    pa, pb = kron_partials(a, b)
    return alg.add(alg.matmul(pa, js[0]), alg.matmul(pb, js[1]))


@call_rule("softmax")
def _softmax(node, js):
    s = node
    jac = alg.sub(alg.diag_matrix(s), alg.matmul(s, alg.transpose(s)))
    return alg.matmul(jac, js[0])


@call_rule("logsumexp")
def _logsumexp(node, js):
    return alg.matmul(alg.transpose(alg.call("softmax", node.args[0])), js[0])


@call_rule("norm")
def _norm(node, js):
    x = node.args[0]
    if x.shape == ():
        return alg.scale(alg.func("sign", x), js[0])
    return alg.matmul(alg.transpose(alg.div(_vec(x), node)), js[0])


@call_rule("norm1")
def _norm1(node, js):
    x = node.args[0]
    return alg.matmul(_row(alg.func("sign", x)), js[0]) if x.shape else \
        alg.scale(alg.func("sign", x), js[0])


def jacobian(f: Node, name: str, shape: tuple, seed: Node | None = None) -> Node:
    """∂vec(f)/∂vec(X)ᵀ for the variable ``name`` of the given shape.

    With ``seed`` = vec(dX) (a placeholder), the same rules give vec(df) instead: the
    differential that --steps shows.
    """
    n_x = size_of(shape) if seed is None else 1
    dep = dependents(f, {name})
    memo: dict[Node, Node] = {}

    def zero_for(node: Node) -> Node:
        return alg.zeros(normalize_shape(size_of(node.shape), n_x))

    from ..ir import walk

    for node in walk(f):
        if node in memo:
            continue
        if node not in dep:
            memo[node] = zero_for(node)
        elif isinstance(node, Var):
            memo[node] = alg.eye(n_x) if seed is None else seed
        else:
            fn = JACOBIAN.get(type(node))
            if fn is None:
                raise NotImplementedError(f"no Jacobian rule for {type(node).__name__}")
            memo[node] = fn(node, [memo[c] for c in node.children])
    return memo[f]

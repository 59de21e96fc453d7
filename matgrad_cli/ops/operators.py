"""The operators of the language (node types of the IR): for each, the reverse rule with
its Frobenius identity and the vec-form Jacobian rule, side by side. Entrywise functions
and calls delegate to their registry entry."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .. import algebra as alg
from ..ir import (Add, Call, Div, Fill, Frob, Func, Had, MatMul, MatPow, Pow, Reshape, Scale,
                  T, as_matrix, size_of)
from .vecform import diag_of, inverse_jacobian, transposing, vec


@dataclass(frozen=True)
class Operator:
    node_type: type
    vjp: Callable  # (node, G) -> adjoints of node.children
    jacobian: Callable  # (node, child Jacobians) -> J(node)
    identity: str  # G : d(node) rearranged, shown by --steps
    differential: str  # d(node) from its operands' differentials, shown by --steps


OPERATORS: dict[type, Operator] = {}


def operator(node_type, identity: str, differential: str, vjp: Callable):
    """Register node_type's reverse rule (the decorated function is its Jacobian rule)."""
    def register(jacobian):
        OPERATORS[node_type] = Operator(node_type, vjp, jacobian, identity, differential)
        return jacobian
    return register


@operator(Add, "G : (dA + dB) = G : dA + G : dB", "d(A + B) = dA + dB",
          lambda node, G: tuple(G for _ in node.terms))
def _add(node, js):
    return alg.add(*js)


@operator(Scale, "G : d(c X) = (G : X) dc + c G : dX", "d(c A) = dc A + c dA",
          lambda node, G: (alg.frob(G, node.operand), alg.scale(node.factor, G)))
def _scale(node, js):
    jc, jx = js
    return alg.add(alg.matmul(vec(node.operand), jc) if node.operand.shape else
                   alg.scale(node.operand, jc), alg.scale(node.factor, jx))


@operator(MatMul, "G : d(A B) = G Bᵀ : dA + Aᵀ G : dB", "d(A B) = dA B + A dB",
          lambda node, G: (alg.matmul(G, alg.transpose(node.right)),
                           alg.matmul(alg.transpose(node.left), G)))
def _matmul(node, js):
    a, b = node.left, node.right
    m, _ = as_matrix(a.shape)
    _, n = as_matrix(b.shape)
    left = alg.matmul(alg.kron(alg.transpose(b), alg.eye(m)), js[0])
    right = alg.matmul(alg.kron(alg.eye(n), a), js[1])
    return alg.add(left, right)


@operator(Had, "G : d(A ⊙ B) = G ⊙ B : dA + G ⊙ A : dB", "d(A ⊙ B) = dA ⊙ B + A ⊙ dB",
          lambda node, G: (alg.had(G, node.right), alg.had(G, node.left)))
def _had(node, js):
    return alg.add(alg.matmul(diag_of(node.right), js[0]), alg.matmul(diag_of(node.left), js[1]))


@operator(Div, "G : d(A ./ B) = G ./ B : dA − G ⊙ (A ./ B) ./ B : dB",
          "d(A ./ B) = dA ./ B − A ⊙ dB ./ B.^2",
          lambda node, G: (alg.div(G, node.right),
                           alg.neg(alg.div(alg.had(G, node), node.right))))
def _div(node, js):
    b = node.right
    da = alg.matmul(diag_of(alg.div(alg.ones(b.shape), b)), js[0])
    db = alg.matmul(diag_of(alg.div(node, b)), js[1])
    return alg.sub(da, db)


def _pow_slope(node):
    a, p = node.base, node.exponent
    return alg.scale(p, alg.power(a, alg.sub(p, alg.ONE)))


def _pow_vjp(node, G):
    a = node.base
    da = alg.had(G, _pow_slope(node))
    dp = alg.frob(G, alg.had(node, alg.func("log", a))) if G.shape else \
        alg.scale(G, alg.scale(node, alg.func("log", a)))
    return da, dp


@operator(Pow, "G : d(A.^p) = p G ⊙ A.^(p−1) : dA + (G : A.^p ⊙ log A) dp",
          "d(A.^p) = p A.^(p−1) ⊙ dA", _pow_vjp)
def _pow(node, js):
    a = node.base
    dp = alg.had(node, alg.func("log", a)) if a.shape else alg.scale(node, alg.func("log", a))
    return alg.add(alg.matmul(diag_of(_pow_slope(node)), js[0]), alg.matmul(vec(dp), js[1]))


def _matpow_vjp(node, G):
    x, k = node.base, node.k
    base = x if k > 0 else alg.call("inv", x)
    m = abs(k)
    terms = [alg.matmul(alg.matmul(alg.transpose(alg.matpow(base, i)), G),
                        alg.transpose(alg.matpow(base, m - 1 - i))) for i in range(m)]
    adjoint = alg.add(*terms)
    if k < 0:  # through Y = inv(X): G_Y : dY = −Yᵀ G_Y Yᵀ : dX
        yt = alg.transpose(base)
        adjoint = alg.neg(alg.matmul(alg.matmul(yt, adjoint), yt))
    return (adjoint,)


@operator(MatPow, "G : d(Xᵏ) = Σᵢ (Xⁱ)ᵀ G (Xᵏ⁻¹⁻ⁱ)ᵀ : dX", "d(Xᵏ) = Σ Xⁱ dX Xᵏ⁻¹⁻ⁱ",
          _matpow_vjp)
def _matpow(node, js):
    x, k = node.base, node.k
    jx = js[0]
    base = x
    if k < 0:
        base = alg.call("inv", x)
        jx = inverse_jacobian(base, jx)
    m = abs(k)
    terms = [alg.kron(alg.transpose(alg.matpow(base, m - 1 - i)), alg.matpow(base, i))
             for i in range(m)]
    return alg.matmul(alg.add(*terms), jx)


@operator(T, "G : dXᵀ = Gᵀ : dX", "d(Aᵀ) = (dA)ᵀ", lambda node, G: (alg.transpose(G),))
def _transpose(node, js):
    a = node.operand
    if len(a.shape) < 2 or a.shape[0] == 1:
        return js[0]
    return alg.matmul(transposing(a), js[0])


def _entry(node):
    from . import lookup

    return lookup(node.name)


def _func_slope(node):
    return _entry(node).derivative(node.operand, node)


@operator(Func, "G : d f(X) = f′(X) ⊙ G : dX", "d f(A) = f′(A) ⊙ dA",
          lambda node, G: (alg.had(_func_slope(node), G),))
def _func(node, js):
    return alg.matmul(diag_of(_func_slope(node)), js[0])


@operator(Fill, "G : (dc 𝟏) = sum(G) dc", "d(c 𝟏) = dc 𝟏",
          lambda node, G: (alg.call("sum", G),))
def _fill(node, js):
    return alg.matmul(alg.ones((size_of(node.shape),)), js[0])


@operator(Frob, "G d(A : B) = G B : dA + G A : dB", "d(A : B) = dA : B + A : dB",
          lambda node, G: (alg.scale(G, node.right), alg.scale(G, node.left)))
def _frob(node, js):
    return alg.add(alg.matmul(alg.transpose(vec(node.right)), js[0]),
                   alg.matmul(alg.transpose(vec(node.left)), js[1]))


@operator(Reshape, "G : d unvec(v) = vec(G) : dv", "d unvec = unvec d",
          lambda node, G: (alg.vec(G),))
def _reshape(node, js):
    return js[0]


@operator(Call, "", "", lambda node, G: _entry(node).vjp(node, G))
def _call(node, js):
    return _entry(node).jacobian(node, js)

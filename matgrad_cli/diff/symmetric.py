"""Derivatives w.r.t. a symmetric matrix variable S (SPEC §1, §4): on the space of symmetric
matrices with the Frobenius product.

For a scalar f the gradient is sym(G) = (G + Gᵀ)/2, G the plain gradient of f as written:
df = G : dS = sym(G) : dS for every symmetric dS, and sym(G) is the one symmetric matrix
with that property, so it is the same for every way of writing f (G is not: tr(A S) has
G = Aᵀ, tr(Aᵀ S) has G = A). The Matrix Cookbook instead lists the partial derivatives
w.r.t. the independent entries S_ij, i ≥ j, where an off-diagonal entry moves two entries
of S: 2 sym(G) − I ⊙ sym(G).

Every derivative *along* S (a Jacobian of a non-scalar f, a Hessian, a mixed block whose
second variable is S) is the plain one times the projector P = (I + K)/2 onto symmetric
matrices in vec form (K the commutation matrix): J P vec(V) = J vec(V) for symmetric V,
and J P vanishes on antisymmetric directions, so J P is unique too. For the Hessian this
is P H P (the rows of the Jacobian of sym(G) already lie in the symmetric space): the
Hessian of f restricted to symmetric matrices, vec(V)ᵀ H vec(V) = d²f[V, V].
"""
from __future__ import annotations

from fractions import Fraction

from .. import algebra as alg
from ..ir import Add, Commutation, Node

HALF = alg.num(Fraction(1, 2))


def sym(node: Node) -> Node:
    """(G + Gᵀ)/2"""
    return alg.scale(HALF, alg.add(node, alg.transpose(node)))


def sym_terms(node: Node, is_symmetric) -> Node:
    """sym(G) term by term: a symmetric term of G stays as it is (sym(Aᵀ + S⁻¹) reads
    (Aᵀ + A)/2 + S⁻¹, not (Aᵀ + 2 S⁻¹ + A)/2)."""
    terms = node.terms if isinstance(node, Add) else (node,)
    return alg.add(*[t if is_symmetric(t) else sym(t) for t in terms])


def cookbook(gradient: Node, simplify=lambda node: node) -> Node:
    """2 G − I ⊙ G for a symmetric gradient G (the independent-entries form); only its
    diagonal part I ⊙ G is simplified (I ⊙ ½(A + Aᵀ) = I ⊙ A), so that 2 G stays G's
    double as printed."""
    n = gradient.shape[0]
    return alg.sub(alg.scale(alg.num(2), gradient), simplify(alg.had(alg.eye(n), gradient)))


def along_symmetric(jacobian: Node, shape: tuple) -> Node:
    """J P = (J + J K)/2: a vec-form derivative along a symmetric n×n variable."""
    n = shape[0]
    return alg.scale(HALF, alg.add(jacobian, alg.matmul(jacobian, Commutation(n, n))))


def direction(v: Node) -> Node:
    """The symmetric part of a direction: H·v = H·sym(v) for H = P H P."""
    return sym(v)

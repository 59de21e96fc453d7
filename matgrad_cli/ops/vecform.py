"""The building blocks of vec-form (Magnus–Neudecker) Jacobians that several rules share."""
from __future__ import annotations

from .. import algebra as alg
from ..ir import Commutation, Node, as_matrix


def vec(x: Node) -> Node:
    return alg.vec(x)


def row(v: Node) -> Node:
    """vec(v)ᵀ: the Jacobian of v : dX."""
    return alg.transpose(vec(v))


def diag_of(x: Node) -> Node:
    """Diag(vec x): the Jacobian of an entrywise product by x."""
    return alg.diag_matrix(vec(x)) if x.shape else x


def commutation(m, n) -> Node:
    if m == 1 or n == 1:
        return alg.eye(alg.dim_mul(m, n))
    return Commutation(m, n)


def transposing(a: Node) -> Node:
    """K with vec(dAᵀ) = K vec(dA)."""
    rows, cols = as_matrix(a.shape)
    return commutation(rows, cols)


def inverse_jacobian(y: Node, jx: Node) -> Node:
    """vec d(X⁻¹) = −(X⁻ᵀ ⊗ X⁻¹) vec dX, with y = X⁻¹."""
    return alg.neg(alg.matmul(alg.kron(alg.transpose(y), y), jx))


def diag_selector(n) -> Node:
    """S (n × n²) with S vec(X) = diag(X): (I ⊗ 𝟏ᵀ) ⊙ (𝟏ᵀ ⊗ I)."""
    ones_row = alg.transpose(alg.ones((n,)))
    return alg.had(alg.kron(alg.eye(n), ones_row), alg.kron(ones_row, alg.eye(n)))


def kron_partials(a: Node, b: Node) -> tuple[Node, Node]:
    """P_A, P_B with vec d(A ⊗ B) = P_A vec dA + P_B vec dB (Magnus–Neudecker Thm 3.10)."""
    m, n = as_matrix(a.shape)
    p, q = as_matrix(b.shape)
    r = alg.kron(alg.kron(alg.eye(n), commutation(q, m)), alg.eye(p))
    pa = alg.matmul(r, alg.kron(alg.eye(alg.dim_mul(m, n)), vec(b)))
    pb = alg.matmul(r, alg.kron(vec(a), alg.eye(alg.dim_mul(p, q))))
    return pa, pb

"""Forward mode in vec form: J(node) = ∂vec(node)/∂vec(X)ᵀ, the Magnus–Neudecker Jacobian.

Each rule is the vectorised differential of one operation (vec(A dX B) = (Bᵀ ⊗ A) vec dX,
vec(D ⊙ dX) = Diag(vec D) vec dX, vec(dXᵀ) = K vec dX). J has shape
size(node) × size(X), read as a vector when X is a scalar, so the same rules give
Jacobians, derivatives w.r.t. scalars and (applied to a gradient) Hessians. The
simplifier turns ``(Bᵀ ⊗ A) vec(D)`` back into ``vec(A D B)``, so no Kronecker product
survives where a matrix product says the same.
"""
from __future__ import annotations

from .. import algebra as alg
from ..ir import Node, Var, normalize_shape, size_of, walk
from ..ops import operator_of
from .reverse import dependents


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

    for node in walk(f):
        if node in memo:
            continue
        if node not in dep:
            memo[node] = zero_for(node)
        elif isinstance(node, Var):
            memo[node] = alg.eye(n_x) if seed is None else seed
        else:
            memo[node] = operator_of(node).jacobian(node, [memo[c] for c in node.children])
    return memo[f]

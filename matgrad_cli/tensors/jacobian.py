"""The derivative of a non-scalar f that uses index notation (or of any f w.r.t. a tensor):
one reverse sweep for all entries of f at once.

The sweep is seeded with the unit tensor E⁽ᵖ⁾ (E[q] = δ_{q p}, a free index p per axis of f):
its result is ∂f[p]/∂X for every p, an expression with the free indices p. Stacked over p
that is ∂f/∂X of shape f.shape + X.shape (SPEC §4), and the matrix form is its column-major
reshape to len(vec f) × len(vec X), the Magnus–Neudecker Jacobian. No vec-form (Kronecker)
rule is needed for the index nodes.
"""
from __future__ import annotations

from .. import algebra as alg
from ..ir import Build, Delta, Node, Reshape, size_of
from .labels import SEED_MARK, fresh_label, free_indices, rename
from .simplify import bound_labels, product


def index_jacobian(f: Node, name: str, shape: tuple) -> Node:
    from ..diff.reverse import gradients

    taken = bound_labels(f) | set(free_indices(f))
    outer, inner = [], []
    for k in range(len(f.shape)):
        outer.append(fresh_label(taken, "pqrs"[k % 4]) + SEED_MARK)
        taken.add(outer[-1][:-1])
        inner.append(fresh_label(taken, "uvwz"[k % 4]))
        taken.add(inner[-1])
    deltas = [Delta(q, p, n) for q, p, n in zip(inner, outer, f.shape)]
    seed = Build(product(deltas), tuple(inner), f.shape)
    G = gradients(f, {name: shape}, seed=seed)[name]
    plain = [p[:-1] for p in outer]  # the sweep is done: ordinary names from here on
    G = rename(G, dict(zip(outer, plain)))
    if len(f.shape) == 1 and len(shape) == 2:  # J[p, :] = vec(∂fₚ/∂X)ᵀ: a row per entry
        return Build(alg.vec(G), (plain[0], None), (f.shape[0], size_of(shape)))
    full = Build(G, tuple(plain) + (None,) * len(shape), tuple(f.shape) + tuple(shape))
    if shape == ():
        return full  # shaped like f
    return Reshape(full, (size_of(f.shape), size_of(shape)))

"""The fixed-point driver: rebuild each node bottom-up through the smart constructors,
then apply the named rules until none applies (SymPy's ``exhaust`` over ``bottom_up``)."""
from __future__ import annotations

from .. import algebra as alg
from ..ir import (Add, Call, Div, Fill, Frob, Func, Had, MatMul, MatPow, Node, Pow, Reshape,
                  Scale, T)
from ..blocks import select
from ..ir import Slice
from .blocks import RULES as BLOCK_RULES
from .identities import IDENTITIES
from .rules import RULES as CORE_RULES
from ..tensors.simplify import RULES as INDEX_RULES

RULES = CORE_RULES + IDENTITIES + BLOCK_RULES + INDEX_RULES

# A rule set that loops is a bug; this bound turns such a bug into an error, not a hang.
_MAX_REWRITES_PER_NODE = 200


def _rebuild(node: Node, children: tuple) -> Node:
    if isinstance(node, Add):
        return alg.add(*children)
    if isinstance(node, Scale):
        return alg.scale(*children)
    if isinstance(node, MatMul):
        return alg.matmul(*children)
    if isinstance(node, Had):
        return alg.had(*children)
    if isinstance(node, Div):
        return alg.div(*children)
    if isinstance(node, Pow):
        return alg.power(*children)
    if isinstance(node, MatPow):
        return alg.matpow(children[0], node.k)
    if isinstance(node, T):
        return alg.transpose(children[0])
    if isinstance(node, Func):
        return alg.func(node.name, children[0])
    if isinstance(node, Frob):
        return alg.frob(*children)
    if isinstance(node, Fill):
        return alg.fill(children[0], node.shape)
    if isinstance(node, Reshape):
        return alg.unvec(children[0], node.shape)
    if isinstance(node, Slice):
        return select(children[0], node.row0, node.nrows, node.col0, node.ncols)
    if isinstance(node, Call):
        if node.name == "vec":
            return alg.vec(children[0])
        if node.name == "kron":
            return alg.kron(*children)
        if node.name == "Diag":
            return alg.diag_matrix(children[0])
        return alg.call(node.name, *children)
    return node if not children else node.with_children(children)


def simplify(node: Node, applied: list | None = None) -> Node:
    """The simplified form of ``node``; ``applied`` collects (rule name, before, after)."""
    memo: dict[Node, Node] = {}

    def go(n: Node) -> Node:
        if n in memo:
            return memo[n]
        current = _rebuild(n, tuple(go(c) for c in n.children)) if n.children else n
        # a smart constructor may build new children (transpose(c X) = c Xᵀ): those are
        # simplified too, so no rule misses a node that only the rebuild made
        for _ in range(_MAX_REWRITES_PER_NODE):
            if not any(memo.get(c) != c for c in current.children):
                break
            current = _rebuild(current, tuple(go(c) for c in current.children))
        rewritten = []
        for _ in range(_MAX_REWRITES_PER_NODE):
            for rule in RULES:
                new = rule(current)
                if new is not None and new != current:
                    if applied is not None:
                        applied.append((rule.__name__, current, new))
                    memo[current] = new  # guards re-entry while new is simplified
                    rewritten.append(current)
                    current = go(new)
                    break
            else:
                break
        else:
            raise RuntimeError(f"simplifier did not reach a fixed point on {n!r}")
        # every intermediate form now maps to the final one (not to its guard value, which
        # a later occurrence would otherwise get back half-simplified)
        for old in rewritten:
            memo[old] = current
        memo[n] = current
        memo[current] = current
        return current

    return go(node)

"""Where a scalar factor is applied, for evaluation: c·(A B) costs a pass over A B, (c A) B a
pass over A. Before the plan is built, each scalar factor of a product sinks to the
smallest array it can multiply, along the chain of products, entrywise products,
transposes and ``Diag`` below it (never into a sum, which would scale every term). Ties
go to a computed array over an input (an input would be copied; a computed one is scaled
in place where it dies), so two gradients that share a residual R both read the one 2 R:
2 (D ⊙ (W₂ᵀ R)) Xᵀ and 2 R Zᵀ become (D ⊙ (W₂ᵀ (2R))) Xᵀ and (2R) Zᵀ, as a hand-written
backward pass scales R once. Printed formulas keep the factor where the simplifier put it:
this is only the evaluation order."""
from __future__ import annotations

import math

from ..ir import Call, Had, MatMul, Node, Scale, T, Var


def sink_scalars(outputs: dict) -> dict:
    """The output nodes with every scalar factor of a product moved to its cheapest operand.
    Two passes: the second also moves a factor to an operand of the same size as the
    product where the first pass scaled that operand anyway (2 R Zᵀ reads the 2 R that
    another output needs), so the scaled array is computed once and shared."""
    scaled: set = set()
    for node in outputs.values():
        _sink(node, {}, scaled, set())
    memo: dict = {}
    return {name: _sink(node, memo, set(), scaled) for name, node in outputs.items()}


def _sink(node: Node, memo: dict, made: set, shared: set) -> Node:
    if node in memo:
        return memo[node]
    children = node.children
    sunk = tuple(_sink(c, memo, made, shared) for c in children)
    out = node if all(a is b for a, b in zip(sunk, children)) else node.with_children(sunk)
    if isinstance(out, Scale) and out.factor.shape == () and out.operand.shape != ():
        target = _cheapest(out.operand, out.factor, shared)
        if target is not None:
            moved = Scale(out.factor, target)
            size, whole = _size(target), _size(out.operand)
            if size < whole or (size == whole and moved in shared and target != out.operand):
                made.add(moved)
                out = _replace(out.operand, target, moved)
    memo[node] = out
    return out


def _size(node: Node) -> float:
    if not all(isinstance(d, int) for d in node.shape):
        return math.inf  # a symbolic size: leave the factor where it is
    return math.prod(node.shape)


def _positions(node: Node):
    """The sub-arrays a scalar times ``node`` may multiply instead (node itself first)."""
    yield node
    if isinstance(node, (MatMul, Had)):
        yield from _positions(node.left)
        yield from _positions(node.right)
    elif isinstance(node, T):
        yield from _positions(node.operand)
    elif isinstance(node, Call) and node.name == "Diag":
        yield from _positions(node.args[0])


def _cheapest(node: Node, factor: Node, shared: set) -> Node | None:
    def cost(position):  # the smallest; then one scaled anyway; then a computed one
        computed = not isinstance(position, Var) and not (
            isinstance(position, T) and isinstance(position.operand, Var))
        return _size(position), Scale(factor, position) not in shared, not computed

    candidates = [p for p in _positions(node) if p.shape != ()]
    return min(candidates, key=cost) if candidates else None


def _replace(node: Node, old: Node, new: Node) -> Node:
    """``node`` with its first occurrence of ``old`` (in _positions order) made ``new``."""
    if node == old:
        return new
    if isinstance(node, (MatMul, Had)):
        if any(p == old for p in _positions(node.left)):
            return node.with_children((_replace(node.left, old, new), node.right))
        return node.with_children((node.left, _replace(node.right, old, new)))
    if isinstance(node, T) or (isinstance(node, Call) and node.name == "Diag"):
        return node.with_children((_replace(node.children[0], old, new),))
    raise AssertionError("not a position of the node")

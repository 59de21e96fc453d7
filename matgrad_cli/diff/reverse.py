"""Reverse mode: the gradient of a scalar f, as an expression, by adjoint propagation.

Each rule (in the operation registry, matgrad_cli/ops/) reads the adjoint G of a node
(same shape as the node: ``df = G : d(node)``) and returns the adjoints of its children —
the Frobenius-product rearrangement of the textbooks (``G : A dB = AᵀG : dB``). An
adjoint may be a function of no arguments, called only when the child depends on the
variables (a rule that fails, with a clear error, only where it is needed). All
gradients of f come from one sweep, so their cost is a small constant times the cost of f.
"""
from __future__ import annotations

from .. import algebra as alg
from ..ir import Node, Var, walk
from ..ops import operator_of, rule_key
from ..tensors.labels import sum_labels_not_in


# ---------------------------------------------------------------- the sweep

def dependents(expr: Node, names: set[str]) -> set[Node]:
    """The nodes of expr whose value depends on one of the named variables."""
    dep: set[Node] = set()
    for node in walk(expr):
        if (isinstance(node, Var) and node.name in names) or any(c in dep for c in node.children):
            dep.add(node)
    return dep


def _frontier(adjoints: dict, done: dict, just_done: Var | None) -> list:
    pending = [(v, alg.add(*[g for _, g, _ in sorted(items, key=lambda i: i[0])]))
               for v, items in adjoints.items()]
    if just_done is not None:
        pending.append((just_done, done[just_done.name]))
    return pending


def gradients(f: Node, variables: dict[str, tuple], trace: list | None = None,
              seed: Node | None = None) -> dict[str, Node]:
    """∂f/∂X for every named variable (f scalar), shaped like X.

    ``trace`` (optional) receives, after each node is processed, (node, its adjoint, the
    rules that contributed to it, the frontier): the frontier is the list of (v, G_v)
    still pending, so that at every point df = Σ G_v : dv over the frontier — the lines
    --steps shows.
    """
    if f.shape != () and seed is None:
        raise ValueError("gradients() needs a scalar f (or a seed shaped like f)")
    names = set(variables)
    dep = dependents(f, names)
    order = walk(f)
    position = {node: i for i, node in enumerate(order)}
    # adjoint contributions, tagged with the contributing parent's position so that a sum
    # of them reads in the order of f's own terms (left subtree first)
    adjoints: dict[Node, list[tuple[int, Node, str]]] = {
        f: [(0, alg.ONE if seed is None else seed, "")]}
    result: dict[str, Node] = {}
    for node in reversed(order):
        if node not in adjoints or node not in dep:
            continue
        contributions = sorted(adjoints.pop(node), key=lambda item: item[0])
        G = alg.add(*[g for _, g, _ in contributions])
        rules = tuple(dict.fromkeys(r for _, _, r in contributions if r))
        if isinstance(node, Var):
            result[node.name] = G
            if trace is not None:
                trace.append((node, G, rules, _frontier(adjoints, result, node)))
            continue
        rule_name = rule_key(node)
        for child, adjoint in zip(node.children, operator_of(node).vjp(node, G)):
            if child in dep and callable(adjoint):  # a rule that exists only on demand
                adjoint = adjoint()
            if child in dep and adjoint is not None:
                adjoint = sum_labels_not_in(adjoint, child)
                adjoints.setdefault(child, []).append((position[node], adjoint, rule_name))
        if trace is not None:
            trace.append((node, G, rules, _frontier(adjoints, result, None)))
    for name, shape in variables.items():
        if name not in result:
            result[name] = alg.zeros(shape)
    return result

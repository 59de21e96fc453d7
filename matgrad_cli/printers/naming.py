"""Which sub-expressions deserve a name in a printed answer (``where s = σ(x)``).

A compound sub-tree that occurs twice or more across the roots (counted in the tree as
printed, not in the shared DAG) gets a name, and so does every sub-tree the user named in a
definition. Counting goes top-down and greedily: once a sub-tree is named its body is
printed once, so what occurs only inside it is not named again.
"""
from __future__ import annotations

import re

from ..ops import FUNCTION_NAMES
from ..tensors.labels import free_indices
from ..ir import (LEAVES, Call, Fill, Func, MatMul, Node, Num, Ones, Scale, Slice, T, Var,
                  walk)

# Preferred base names by what the sub-expression is; then by its shape.
FUNC_NAMES = {"sigmoid": "s", "relu": "r", "tanh": "t", "exp": "e", "softplus": "sp",
              "log": "l"}
CALL_NAMES = {"softmax": "p", "Diag": "D", "softmax_1": "S", "softmax_2": "S", "chol": "L",
              "eigvecs": "Q", "eigvals": "λ", "svd_u1": "u", "svd_v1": "v", "expm": "E"}
SHAPE_NAMES = {
    0: ("c", "a", "b", "d", "k"),  # scalar
    1: ("u", "v", "w", "y", "z"),  # vector
    2: ("M", "N", "P", "Q", "R"),  # matrix (a row included)
}

_NAME = re.compile(r"[^\W\d]\w*\Z")


def is_valid_name(name: str) -> bool:
    """A name the language accepts for a definition (SPEC §2)."""
    return bool(_NAME.match(name)) and name not in FUNCTION_NAMES and name != "I"


def _is_trivial(node: Node) -> bool:
    """A leaf, a transposed leaf, a leaf's inverse (X⁻¹, X⁻ᵀ), a block of a leaf (x[1:n],
    transposed too), or a numeric multiple of one of them: shorter than a name."""
    if isinstance(node, (LEAVES, Fill)):
        return True
    if isinstance(node, Slice):
        return isinstance(node.operand, LEAVES)
    if isinstance(node, T):
        return isinstance(node.operand, LEAVES) or _is_leaf_inverse(node.operand) or (
            isinstance(node.operand, Slice) and isinstance(node.operand.operand, LEAVES))
    if _is_leaf_inverse(node):
        return True
    if isinstance(node, Scale) and isinstance(node.factor, Num):
        return _is_trivial(node.operand)
    return False



def _is_leaf_inverse(node: Node) -> bool:
    return isinstance(node, Call) and node.name == "inv" and isinstance(node.args[0], LEAVES)


def _slice_sums(node: Node) -> str | None:
    """'rows' for A 𝟏 (the row sums of a compound matrix A), 'columns' for 𝟏ᵀ A: named
    even where they occur once, as a textbook names them (S ⊙ (G − r 𝟏ᵀ), r = (G ⊙ S) 𝟏)."""
    if not isinstance(node, MatMul) or node.shape == ():  # a row's sum is not row sums
        return None
    if isinstance(node.right, Ones) and len(node.right.shape) == 1 and \
            len(node.left.shape) == 2 and not _is_trivial(node.left):
        return "rows"
    if isinstance(node.left, Ones) and node.left.shape[:1] == (1,) and \
            len(node.right.shape) == 2 and not _is_trivial(node.right):
        return "columns"
    return None


def _candidates(node: Node) -> tuple[str, ...]:
    matrix = len(node.shape) == 2
    sums = _slice_sums(node)
    if sums is not None:
        return ("r", "r1") if sums == "rows" else ("q", "q1")
    if isinstance(node, Func) and node.name in FUNC_NAMES:
        base = FUNC_NAMES[node.name]
        return (base.upper() if matrix else base,)
    if isinstance(node, Call):
        if node.name in CALL_NAMES:
            return (CALL_NAMES[node.name],)
        if node.name == "inv":
            arg = node.args[0]
            return ((arg.name + "inv",) if isinstance(arg, Var) else ()) + ("Y", "Z")
    return SHAPE_NAMES[len(node.shape)]


def _fresh(node: Node, used: set[str]) -> str:
    candidates = _candidates(node)
    for name in candidates:
        if name not in used and is_valid_name(name):
            return name
    base = candidates[0] if is_valid_name(candidates[0] + "2") else SHAPE_NAMES[len(node.shape)][0]
    k = 2
    while f"{base}{k}" in used or not is_valid_name(f"{base}{k}"):
        k += 1
    return f"{base}{k}"


def name_subexpressions(roots: list[Node], taken: set[str],
                        preferred: dict[Node, str] | None = None
                        ) -> tuple[list[tuple[str, Node]], dict[Node, str]]:
    """Name the sub-expressions worth naming across ``roots``.

    ``taken``: every name the answer may not use for a new definition (variables, dimension
    names, ...). ``preferred``: node -> name (the user's definitions, inverted); such a
    sub-tree is named with that name wherever it occurs, even once, and even when the name
    is in ``taken`` (it is the user's own). Leaves are never named.

    Returns the definitions in dependency order (a body uses only earlier names) and the
    mapping node -> name for the printers; print a definition's body with the mapping
    minus the definition itself (``render_definitions`` does).
    """
    preferred = {n: name for n, name in (preferred or {}).items() if not isinstance(n, LEAVES)}
    order = walk(*roots)
    count = dict.fromkeys(order, 0)
    for root in roots:
        count[root] += 1
    chosen: set[Node] = set()
    for node in reversed(order):  # parents before children: a node's count is final here
        named = node in preferred or (count[node] >= 2 and not _is_trivial(node)) or \
            _slice_sums(node) is not None
        # a value with a free index (Φᵢᵀ Φᵢ inside Σᵢ) exists only inside its sum
        named = named and not free_indices(node)
        if named:
            chosen.add(node)
        weight = 1 if named else count[node]
        for child in node.children:
            count[child] += weight

    mapping: dict[Node, str] = {n: preferred[n] for n in order if n in chosen and n in preferred}
    used = set(taken) | set(preferred.values())
    definitions: list[tuple[str, Node]] = []
    for node in order:
        if node not in chosen:
            continue
        if node not in mapping:
            mapping[node] = _fresh(node, used)
            used.add(mapping[node])
        definitions.append((mapping[node], node))
    return definitions, mapping


def render_definitions(definitions: list[tuple[str, Node]], mapping: dict[Node, str],
                       printer) -> list[tuple[str, str]]:
    """``(name, body)`` per definition, each body printed by ``printer(node, names)`` with
    the other names only (``printer`` is ``to_text``, ``to_latex`` or ``to_dsl``)."""
    out = []
    for name, node in definitions:
        others = {n: v for n, v in mapping.items() if n != node}
        out.append((name, printer(node, others)))
    return out

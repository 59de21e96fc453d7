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
from ..ir import (LEAVES, Call, Fill, Func, MatMul, Node, Num, Ones, Scale, Slice, T,
                  walk)
from ..language.names import CALL_LETTERS, FUNCTION_LETTERS, SHAPE_LETTERS, shape_letters

# the one pool of fresh names (language/names.py); SHAPE_NAMES is kept for numpy_code
SHAPE_NAMES = SHAPE_LETTERS

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


def candidate_names(node: Node) -> tuple[str, ...]:
    """The names a textbook would give ``node``, best first (s for σ(x), then by shape)."""
    matrix = len(node.shape) == 2
    sums = _slice_sums(node)
    if sums is not None:
        return ("r", "r1") if sums == "rows" else ("q", "q1")
    if isinstance(node, Func) and node.name in FUNCTION_LETTERS and not (
            node.name == "exp" and node.shape == ()):  # a scalar e reads as Euler's number
        base = FUNCTION_LETTERS[node.name]
        return (base.upper() if matrix else base,)
    if isinstance(node, Call):
        if node.name in CALL_LETTERS:
            return (CALL_LETTERS[node.name],)
        if node.name == "inv":
            return ("Y", "Z") + shape_letters(len(node.shape))
    return shape_letters(len(node.shape))


def _fresh(node: Node, used: set[str]) -> str:
    candidates = candidate_names(node)
    for name in candidates:
        if name not in used and is_valid_name(name):
            return name
    base = candidates[0] if is_valid_name(candidates[0] + "2") else shape_letters(len(node.shape))[0]
    k = 2
    while f"{base}{k}" in used or not is_valid_name(f"{base}{k}"):
        k += 1
    return f"{base}{k}"


def name_subexpressions(roots: list[Node], taken: set[str],
                        preferred: dict[Node, str] | None = None,
                        suggested: dict[Node, str] | None = None,
                        forward: set[Node] | frozenset = frozenset()
                        ) -> tuple[list[tuple[str, Node]], dict[Node, str]]:
    """Name the sub-expressions worth naming across ``roots``.

    ``taken``: every name the answer may not use for a new definition (variables, dimension
    names, ...). ``preferred``: node -> name (the user's definitions, inverted); such a
    sub-tree is named with that name wherever it occurs, even once, and even when the name
    is in ``taken`` (it is the user's own). Leaves are never named.

    ``suggested``: node -> name (names given elsewhere in the same output, f's own): such a
    sub-tree takes that name wherever it occurs, and no other sub-tree takes the name.

    ``forward``: the sub-expressions of f itself (the forward quantities a textbook names:
    x = W z, r = relu(x), y = B V r). One that occurs twice or more anywhere in the roots
    is named, even inside a larger repeated sub-tree; and a repeated sub-tree that is one
    operation on leaves and such names (Aᵀ ⊙ y) is then printed in place.

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
    quantities = _repeated_quantities(roots, order, forward)
    suggested = suggested or {}
    for node in reversed(order):  # parents before children: a node's count is final here
        # a sub-tree f's own line named (u = x − μ above f = uᵀ S⁻¹ u) keeps its name in
        # the derivatives below it, even where it occurs once: the name is defined already
        named = node in preferred or node in quantities or node in suggested or (
            count[node] >= 2 and not _is_trivial(node)
            and not (forward and _one_operation(node, quantities))) or \
            _slice_sums(node) is not None
        # a value with a free index (Φᵢᵀ Φᵢ inside Σᵢ) exists only inside its sum
        named = named and not free_indices(node)
        if named:
            chosen.add(node)
        weight = 1 if named else count[node]
        for child in node.children:
            count[child] += weight

    mapping: dict[Node, str] = {n: preferred[n] for n in order if n in chosen and n in preferred}
    suggested = suggested or {}
    used = set(taken) | set(preferred.values()) | set(suggested.values())
    definitions: list[tuple[str, Node]] = []
    for node in order:
        if node not in chosen:
            continue
        if node not in mapping and node in suggested and \
                suggested[node] not in mapping.values():
            mapping[node] = suggested[node]
        if node not in mapping:
            mapping[node] = _fresh(node, used)
            used.add(mapping[node])
        definitions.append((mapping[node], node))
    return definitions, mapping


def _repeated_quantities(roots, order, forward) -> set[Node]:
    """The forward quantities that occur twice or more in the roots, counted as the main
    pass counts (top-down, a named quantity's body once) but through any other sub-tree:
    B V r is named though each gradient holds it inside Aᵀ ⊙ (B V r)."""
    if not forward:
        return set()
    count = dict.fromkeys(order, 0)
    for root in roots:
        count[root] += 1
    chosen, named_anyway = set(), set()
    for node in reversed(order):
        if count[node] >= 2 and not _is_trivial(node):
            if node in forward:
                chosen.add(node)
            elif isinstance(node, (Func, Call)):  # σ(X w): named by the main pass
                named_anyway.add(node)
        weight = 1 if node in chosen or node in named_anyway else count[node]
        for child in node.children:
            count[child] += weight
    return chosen


def _one_operation(node: Node, names: set[Node]) -> bool:
    """One product or sum of leaves and named quantities (Aᵀ ⊙ y, M Xᵀ): nearly as short as
    a name. A function of them (σ(u), softmax(u)) is what a textbook names, so it is not."""
    if isinstance(node, (Func, Call)):
        return False
    return all(_is_trivial(c) or c in names for c in node.children)


def render_definitions(definitions: list[tuple[str, Node]], mapping: dict[Node, str],
                       printer) -> list[tuple[str, str]]:
    """``(name, body)`` per definition, each body printed by ``printer(node, names)`` with
    the other names only (``printer`` is ``to_text``, ``to_latex`` or ``to_dsl``)."""
    out = []
    for name, node in definitions:
        others = {n: v for n, v in mapping.items() if n != node}
        out.append((name, printer(node, others)))
    return out

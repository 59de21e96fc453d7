"""Free index labels of an expression, and renaming them.

A node's free labels are the index names used below it (in a Indexed or a Delta) that no
IndexSum or Build between it and them binds. They are the batch axes of its value: the
evaluator computes ``X[:, i, :]' X[:, i, :]`` once for every i, as one batched product.
"""
from __future__ import annotations

import string

from ..ir import Build, Delta, IndexSum, Node, Indexed
from ..language.names import INDEX_LETTERS, first_free


def free_indices(node: Node) -> dict:
    """label -> size of every free label, in order of first appearance."""
    cached = node.__dict__.get("_free_indices")
    if cached is not None:
        return cached
    out: dict = {}
    if isinstance(node, Indexed):
        out.update(free_indices(node.operand))
        for e, d in zip(node.pattern, node.operand.shape):
            if e is not None:
                out.setdefault(e, d)
    elif isinstance(node, Delta):
        out[node.i] = node.n
        out.setdefault(node.j, node.n)
    else:
        for child in node.children:
            for k, v in free_indices(child).items():
                out.setdefault(k, v)
        if isinstance(node, IndexSum):
            for label in node.labels:
                out.pop(label, None)
        elif isinstance(node, Build):
            for label in node.pattern:
                if label is not None:
                    out.pop(label, None)
    object.__setattr__(node, "_free_indices", out)
    return out


def has_free(node: Node) -> bool:
    return bool(free_indices(node))


def uses_indices(node: Node) -> bool:
    """Whether index notation occurs anywhere below node."""
    cached = node.__dict__.get("_uses_indices")
    if cached is None:
        cached = isinstance(node, (Indexed, Delta, IndexSum, Build)) or any(
            uses_indices(c) for c in node.children)
        object.__setattr__(node, "_uses_indices", cached)
    return cached


def rename(node: Node, mapping: dict) -> Node:
    """node with its free labels renamed (old -> new); bound labels are left alone."""
    mapping = {k: v for k, v in mapping.items() if k != v and k in free_indices(node)}
    if not mapping:
        return node
    if isinstance(node, Indexed):
        pattern = tuple(mapping.get(e, e) if e is not None else None for e in node.pattern)
        return Indexed(rename(node.operand, mapping), pattern, span=node.span)
    if isinstance(node, Delta):
        return Delta(mapping.get(node.i, node.i), mapping.get(node.j, node.j), node.n,
                     span=node.span)
    if isinstance(node, IndexSum):
        inner = {k: v for k, v in mapping.items() if k not in node.labels}
        return IndexSum(rename(node.body, inner), node.labels, node.sizes, span=node.span)
    if isinstance(node, Build):
        inner = {k: v for k, v in mapping.items() if k not in node.pattern}
        return Build(rename(node.body, inner), node.pattern, node.dims, span=node.span)
    return node.with_children(tuple(rename(c, mapping) for c in node.children))


def fresh_label(taken, preferred: str = "j") -> str:
    """An index name not in ``taken``."""
    return first_free((preferred, *INDEX_LETTERS), taken, "i")


SEED_MARK = "′"  # the indices of a seeded sweep's unit tensor (jacobian.py): never summed


def summable(label: str) -> bool:
    return not label.endswith(SEED_MARK)


def sum_labels_not_in(adjoint: Node, child: Node) -> Node:
    """The adjoint a child gets, summed over the labels the child does not carry: inside
    ``sum(i: β f(X[:, i, :]))`` the scalar β gets Σᵢ of its per-i adjoint (the chain rule
    for a value that is the same for every i)."""
    extra = free_indices(adjoint)
    if not extra:
        return adjoint
    own = free_indices(child)
    labels = tuple(k for k in extra if k not in own and summable(k))
    if not labels:
        return adjoint
    return IndexSum(adjoint, labels, tuple(extra[k] for k in labels))


def closed(node: Node) -> Node:
    """node as a value without free labels: the tensor of its values for every index
    (labels first, then its own axes), so that a sub-expression with a free index (the
    argument of abs in Σᵢ sum(abs(Φᵢᵀ Φᵢ − I))) can be evaluated on its own."""
    free = free_indices(node)
    if not free:
        return node
    pattern = tuple(free) + (None,) * len(node.shape)
    return Build(node, pattern, tuple(free.values()) + tuple(node.shape))


def pattern_spec(pattern, letter: dict, head, new) -> tuple[str, list]:
    """The einsum spec that reads an index ``pattern`` (names, None for ':') off an array
    whose leading axes are ``head``: 'head inner -> head new colons' (``letter`` maps each
    label to its einsum letter; the ':' axes take the next free letters, returned too)."""
    spare = iter(string.ascii_letters[len(letter):])
    inner, colons = [], []
    for e in pattern:
        if e is None:
            colons.append(next(spare))
            inner.append(colons[-1])
        else:
            inner.append(letter[e])
    front = "".join(letter[k] for k in head)
    return (front + "".join(inner) + "->" + front + "".join(letter[k] for k in new) +
            "".join(colons)), colons

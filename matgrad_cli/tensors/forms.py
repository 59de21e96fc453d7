"""The forms derive prints for a gradient w.r.t. a variable used through indexing (SPEC §2b).

Indexed form, when every use of T has one slice pattern: ``∂f/∂Φ[:, i, :] = 2 β Φᵢ sign(ΦᵢᵀΦᵢ − I)
(for each i)``, with ``Φᵢ = Φ[:, i, :]`` named; index form otherwise: ``∂f/∂T[a, b, c] = …``
(the gradient written entry by entry). Both are a Build node at the top: its pattern is the
label, its body the formula. The dsl line is the indexed definition followed by its name.
"""
from __future__ import annotations

from .. import algebra as alg
from ..ir import Add, Build, Node, Indexed, Var, walk
from ..language.names import GRADIENT_TENSOR_NAMES, first_free
from .labels import fresh_label, free_indices
from .. import printers as _printers  # noqa: F401  (first: it installs printing.py's methods)
from .printing import pattern_text, text_subscript
from .simplify import bound_labels


def index_form(node: Node) -> Node:
    """A sum of gradients built from different slice patterns (or a dense term beside
    them) as one tensor written entry by entry: Build(Σ terms[a, b, c], (a, b, c)); a
    pattern whose index names a sum inside the body also binds gets fresh ones (the dsl
    line would otherwise read ``G[i] = … sum(i: …) …``, an index bound twice)."""
    if isinstance(node, Build):
        return _distinct_labels(node)
    if not isinstance(node, Add) or not any(isinstance(t, Build) for t in node.terms):
        return node
    from ..simplify import simplify

    taken = bound_labels(node) | set(free_indices(node))
    labels: list = []
    for _ in node.shape:
        labels.append(fresh_label(taken | set(labels), "abcdefgh"[len(labels)]))
    pattern = tuple(labels)
    body = simplify(alg.add(*[Indexed(t, pattern) for t in node.terms]))
    return Build(body, pattern, node.shape)


def _distinct_labels(node: Build) -> Build:
    inner = bound_labels(node.body)
    clash = [e for e in node.pattern if e is not None and e in inner]
    if not clash:
        return node
    taken = inner | set(free_indices(node.body)) | {e for e in node.pattern if e}
    mapping = {}
    for k, e in enumerate(node.pattern):
        if e in clash and e not in mapping:
            mapping[e] = fresh_label(taken, "abcdefgh"[k % 8])
            taken.add(mapping[e])
    from .labels import rename

    pattern = tuple(mapping.get(e, e) if e is not None else None for e in node.pattern)
    return Build(rename(node.body, mapping), pattern, node.dims)


def slice_names(roots, text_printer) -> list[str]:
    """``Φᵢ = Φ[:, i, :]`` for every slice with ':' of a variable in the roots: the text
    form writes it Φᵢ, which does not say which axes the index takes."""
    seen, lines = set(), []
    for root in roots:
        for n in walk(root):
            if isinstance(n, Indexed) and isinstance(n.operand, Var) and None in n.pattern \
                    and n not in seen:
                seen.add(n)
                name = text_printer(n.operand)
                labels = [e for e in n.pattern if e is not None]
                lines.append(f"{name}{text_subscript(labels)} = {name}{pattern_text(n.pattern)}")
    return lines


def for_each(node: Build) -> str:
    labels = [e for e in dict.fromkeys(node.pattern) if e is not None]
    return "for each " + ", ".join(labels)


def latex_pattern(node: Build) -> str:
    return "_{" + ",".join(":" if e is None else e for e in node.pattern) + "}"


def body_shape(node: Build) -> tuple:
    return node.body.shape


def dsl_definition(node: Build, name: str, body_text: str, variable: str | None = None) -> str:
    """``G[:, i, :] = body; G``: re-parsed, the whole tensor. An index of the pattern that
    the body does not use (∂/∂T[:, :, i] of Σᵢ xᵀ Tᵢ y is x yᵀ for every i) would have no
    range when re-read: the body then adds 0 times the variable's own slice, ``x*y' +
    0*T[:, :, i]``, which gives each index the range of T's axis."""
    unused = [i for i in node.pattern if i is not None and i not in free_indices(node.body)]
    if unused and variable is not None:
        body_text = f"{body_text} + 0*{variable}{pattern_text(node.pattern)}"
    return f"{name}{pattern_text(node.pattern)} = {body_text}; {name}"


def tensor_name(taken: set) -> str:
    return first_free(GRADIENT_TENSOR_NAMES, taken, "G")


def hoist_for_dsl(node: Node, taken: set) -> tuple[Node, list[str]]:
    """node with every tensor built from slices (a Build below the top) and every slice of
    a compound value replaced by a slice of a defined name, and the definitions that make
    those names: ``H[p, i, j] = body`` — a Build's free indices become leading axes of H,
    so ``H[p, :, :]`` is the inner tensor again. The language indexes only names."""
    from ..printers import to_dsl

    lines: list[str] = []
    used = set(taken)
    memo: dict = {}

    def fresh(base: str) -> str:
        k = 1
        while f"{base}{k}" in used:
            k += 1
        used.add(f"{base}{k}")
        return f"{base}{k}"

    def go(n: Node) -> Node:
        if n in memo:
            return memo[n]
        new = n.with_children(tuple(go(c) for c in n.children)) if n.children else n
        if isinstance(new, Build):
            free = free_indices(new)
            name = fresh("H")
            pattern = tuple(free) + tuple(new.pattern)
            lines.append(f"{name}{pattern_text(pattern)} = {to_dsl(new.body)}")
            dims = tuple(free.values()) + tuple(new.dims)
            new = Indexed(Var(name, dims), tuple(free) + (None,) * len(new.dims)) if free \
                else Var(name, dims)
        elif isinstance(new, Indexed) and not isinstance(new.operand, Var):
            free = free_indices(new.operand)
            name = fresh("M")
            if free:  # M[b, :] = (… X[:, b] …): its free indices become leading axes
                pattern = tuple(free) + (None,) * len(new.operand.shape)
                lines.append(f"{name}{pattern_text(pattern)} = {to_dsl(new.operand)}")
                dims = tuple(free.values()) + tuple(new.operand.shape)
                new = Indexed(Var(name, dims), tuple(free) + tuple(new.pattern))
            else:
                lines.append(f"{name} = {to_dsl(new.operand)}")
                new = Indexed(Var(name, new.operand.shape), new.pattern)
        memo[n] = new
        return new

    return go(node), lines


def jacobian_entries(node: Node, f_shape: tuple):
    """For the reshaped Jacobian of a non-scalar f w.r.t. a tensor (tensors/jacobian.py):
    (Build of its entries ∂fₚ/∂T[a, b, c], 'ₚ', '[a, b, c]'), the form worth printing; or
    None."""
    from ..ir import Reshape
    from ..simplify import simplify

    if not (isinstance(node, Reshape) and isinstance(node.operand, Build)):
        return None
    build = node.operand
    if None not in build.pattern and len(build.pattern) > len(f_shape):  # entries already
        outer = build.pattern[:len(f_shape)]
        return build, text_subscript(outer), pattern_text(build.pattern[len(f_shape):])
    outer = [e for e in build.pattern if e is not None]
    if len(outer) != len(f_shape) or build.pattern[:len(outer)] != tuple(outer):
        return None
    taken = bound_labels(build) | set(outer)
    labels = []
    for k in range(build.pattern.count(None)):
        labels.append(fresh_label(taken, "abcdefgh"[k % 8]))
        taken.add(labels[-1])
    body = simplify(Indexed(build.body, tuple(labels)))
    full = Build(body, tuple(outer) + tuple(labels), build.dims)
    return full, text_subscript(outer), pattern_text(tuple(labels))

"""``derive --steps`` for a variable used through one slice pattern: the textbook's route.

f = Σᵢ fᵢ with fᵢ a matrix expression of the slice variable Φᵢ = Φ[:, i, :]: the steps are
those of fᵢ w.r.t. Φᵢ (intermediates μᵢ = Φᵢᵀ Φᵢ − I …, their differentials dμᵢ, the chain
back to dΦᵢ), run by the ordinary step builder on that per-index problem, then
∂f/∂Φ[:, i, :] = ∂fᵢ/∂Φᵢ for each i. The sums are stripped only where f is linear in them
(through sums and scalings), where that equality holds.
"""
from __future__ import annotations

from .. import algebra as alg
from ..ir import Add, Build, IndexSum, Node, Program, Scale, Indexed, Var, walk
from .labels import free_indices
from .printing import pattern_text, text_subscript

_GREEK_POOL = ["μ", "ν", "ρ", "τ", "κ", "η", "ξ", "ζ"]


def _strip_sums(node: Node, labels: set) -> Node | None:
    """fᵢ: node with the sums over labels removed where node is linear in them."""
    if isinstance(node, IndexSum) and set(node.labels) <= labels:
        return node.body
    if isinstance(node, Scale) and isinstance(node.operand, IndexSum):
        inner = _strip_sums(node.operand, labels)
        return None if inner is None else Scale(node.factor, inner)
    if isinstance(node, Scale) and isinstance(node.factor, IndexSum):
        inner = _strip_sums(node.factor, labels)
        return None if inner is None else Scale(inner, node.operand)
    if isinstance(node, Add):
        terms = [_strip_sums(t, labels) for t in node.terms]
        return None if None in terms else alg.add(*terms)
    return None


def slice_problem(derivation, name: str):
    """(per-index derivation, slice variable name, the Indexed, the Build) or None."""
    from ..app.api import derive

    program = derivation.program
    result = derivation.derivatives.get(name)
    if not isinstance(result, Build) or derivation.order != 1:
        return None
    slices = {n for n in walk(program.expr) if isinstance(n, Indexed) and
              isinstance(n.operand, Var) and n.operand.name == name}
    if len(slices) != 1:
        return None
    (sl,) = slices
    labels = {e for e in sl.pattern if e is not None}
    per_index = _strip_sums(program.expr, labels)
    if per_index is None or any(isinstance(n, (IndexSum, Build)) for n in walk(per_index)):
        return None
    from .. import printers

    shown = printers.to_text(sl.operand) + text_subscript(sorted(labels, key=list(
        sl.pattern).index))
    variable = Var(shown, sl.shape)
    memo: dict = {}

    def substitute(n: Node) -> Node:
        if n == sl:
            return variable
        if n in memo:
            return memo[n]
        new = n.with_children(tuple(substitute(c) for c in n.children)) if n.children else n
        memo[n] = new
        return new

    f_i = substitute(per_index)
    if any(free_indices(n) for n in walk(f_i)):
        return None
    subscript = text_subscript(sorted(labels))
    intermediates = [n for n in walk(f_i) if n.children and variable in walk(n) and
                     n is not f_i and not isinstance(n, Var)]
    definitions, pool = {}, list(_GREEK_POOL)
    for n in intermediates:
        if pool and not _trivial(n):
            definitions[pool.pop(0) + subscript] = n
    variables = {v.name: v.shape for v in walk(f_i) if isinstance(v, Var)}
    sub_program = Program(f"per-index f of {program.source}", f_i, definitions, variables,
                          program.dims)
    return derive(sub_program, [shown]), shown, sl, result


def _trivial(node: Node) -> bool:
    from ..ir import T

    return isinstance(node, T) or (isinstance(node, Scale) and isinstance(node.factor,
                                                                          alg.Num))


def slice_steps(derivation, name: str, latex: bool) -> list[str] | None:
    """The lines of --steps for ``name`` through its slice variable, or None."""
    found = slice_problem(derivation, name)
    if found is None:
        return None
    from ..app.steps import derivation_steps
    from ..printers import to_latex, to_text

    sub, shown, sl, result = found
    printer = to_latex if latex else to_text
    labels = ", ".join(e for e in sl.pattern if e is not None)
    sub_ = text_subscript([e for e in sl.pattern if e is not None])
    whole = printer(sl.operand)
    lines = [f"Derivation for {name}:", "  slice variables:",
             f"    {shown} = {whole}{pattern_text(sl.pattern)}    (for each {labels})",
             f"    f = Σ{sub_} f{sub_},  f{sub_} = {printer(sub.program.expr)}"]
    inner = derivation_steps(sub, latex)
    lines += ["  " + line for line in inner[1:]]
    lines.append(f"  ⇒ ∂f/∂{whole}{pattern_text(sl.pattern)} = ∂f{sub_}/∂{shown} = "
                 f"{printer(result.body)}    (for each {labels})")
    return lines


def index_steps(derivation, name: str, latex: bool) -> list[str]:
    """--steps for index notation: the slice route where there is one, else the result
    with the rule that gives it (the reverse sweep through the index sums)."""
    lines = slice_steps(derivation, name, latex)
    if lines is not None:
        return lines
    from ..app.render import _slice_form
    from ..printers import to_latex, to_text

    printer = to_latex if latex else to_text
    _, label, node, each = _slice_form(derivation, name, 1, derivation.derivatives[name])
    return [f"Derivation for {name}:",
            "  [reverse sweep: G : dX[e] summed over the indices of e is Build(G) : dX; "
            "a sum passes its adjoint to every term]",
            f"  ⇒ {label} = {printer(node)}{'    (' + each[2:] + ')' if each else ''}"]

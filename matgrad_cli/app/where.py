"""The one where-block of a derivation: which sub-expressions of its printed formulas get a
name, and which name.

A derivation prints f, then one formula per derivative (gradients, Hessians, mixed
blocks). They share one naming: a quantity that occurs in several of them (x = W z,
r = relu(x) in both gradients of a network) is named once, with the same letter
everywhere; the user's own definitions keep their names; and no letter means two things
in one output (the steps of ``--steps`` and the symmetric-variable notes draw from the
same names). Each format lays the definitions out itself (``render.py``); the dsl lines
and JSON entries, which must stand alone, take the definitions their formula needs
(``used_definitions``).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Node, Program, dim_symbols, walk
from ..ops import FUNCTION_NAMES
from ..printers import name_subexpressions


def taken_names(program: Program) -> set[str]:
    """Names a fresh definition may not take: the input's own names, function names, I, f."""
    dims = {name for shape in program.variables.values() for d in shape
            for name in dim_symbols(d)}
    return set(program.variables) | set(program.definitions) | dims | set(FUNCTION_NAMES) | {
        "I", "f"}


def user_definitions(program: Program) -> dict[Node, str]:
    """The user's definitions, node → name, as written and as the simplifier writes them
    (a derivative holds the simplified form: m 𝟏ᵀ for m*ones(5)')."""
    from ..simplify import simplify

    found = {}
    for name, node in program.definitions.items():
        if node.children:
            found[node] = name
            # a long chain of definitions is simplified already (and costly to redo)
            if len(walk(node)) <= _SMALL:
                found.setdefault(simplify(node), name)
    return found


_SMALL = 64


def named(program: Program, roots: list[Node], suggested: dict[Node, str] | None = None,
          user: dict[Node, str] | None = None, forward=frozenset()):
    """Sub-expressions worth naming in ``roots`` (the user's definitions always, by their
    names) and the mapping node → name the printers use. ``suggested``: the names given
    elsewhere in the same output, kept for the same sub-expressions and never given to
    another. A dsl line defines its names itself, so reusing the user's definition names
    there is still a line that "names only what the input names"."""
    preferred = user_definitions(program) if user is None else user
    return name_subexpressions(roots, taken_names(program) - set(preferred.values()),
                               preferred, suggested, forward)


def used_definitions(roots: list[Node], definitions: list[tuple[str, Node]],
                     mapping: dict[Node, str]) -> list[tuple[str, Node]]:
    """The definitions that printing ``roots`` with ``mapping`` refers to, directly or
    through another definition's body, in dependency order."""
    needed, seen, stack = set(), set(), list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in mapping:
            needed.add(node)
        stack.extend(node.children)
    return [(name, node) for name, node in definitions if node in needed]


@dataclass(frozen=True)
class Where:
    """The naming of one derivation's output."""

    header: list  # f's definitions: (name, node), in dependency order
    header_names: dict  # node -> name, for printing f
    definitions: list  # the derivatives' definitions (header ones included where used)
    names: dict  # node -> name, for printing every derivative

    def all_names(self) -> dict[Node, str]:
        return self.header_names | self.names

    def for_roots(self, roots: list[Node]) -> list[tuple[str, Node]]:
        """The definitions the formulas ``roots`` need, so that they stand alone."""
        return used_definitions(roots, self.definitions, self.names)

    def extra(self, program: Program, node: Node):
        """A naming for one more formula (a symmetric variable's other forms) that keeps
        every letter of this one: the same node gets the same name, a new one a new letter."""
        return named(program, [node], self.all_names())


def derivation_where(derivation, roots: list[Node]) -> Where:
    """One naming for f and the derivative formulas ``roots`` (in print order)."""
    program = derivation.program
    user = user_definitions(program)
    header, header_names = named(program, [program.expr], user=user)
    # the forward quantities: f's sub-expressions, as written and as simplified
    forward = set(walk(program.expr)) | set(user)
    definitions, names = named(program, roots, header_names, user, forward)
    return Where(header, header_names, definitions, names)

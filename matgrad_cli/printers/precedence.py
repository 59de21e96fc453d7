"""THE precedence table of every printer (SymPy's ``printing/precedence.py`` in spirit).

The levels are those of the expression language (SPEC §2), loosest first, so that what a
printer writes re-parses with the same structure:

    1 Add  ·  2 Frob (A : B)  ·  3 MatMul / Scale / Had / Div  ·  4 negation
    5 Pow / MatPow  ·  6 transpose  ·  7 atoms (numbers, names, calls, norms)

Level 3 holds several *kinds* of operator that the language reads left to right
(``A*B .* C`` is ``(A*B) .* C``); a right operand of another kind is parenthesised
(``a ⊙ (B C)``), and so is a left one unless it is a product chain (``A B ⊙ C``).
``needs_parens`` is the single place that decides where parentheses go; the printers only
ask it.
"""
from __future__ import annotations

from ..ir import Add, Div, Frob, Had, MatMul, MatPow, Pow, Scale, T

ADD = 1
FROB = 2
PRODUCT = 3
NEG = 4
POWER = 5
TRANSPOSE = 6
ATOM = 7

# Node class -> level. Every class not listed (leaves, calls, entrywise functions,
# constants) prints as an atom. A printer may print a node at a looser level than its
# class (a negative coefficient makes a product a negation); it says so in its Printed.
PRECEDENCE: dict[type, int] = {
    Add: ADD,
    Frob: FROB,
    MatMul: PRODUCT,
    Scale: PRODUCT,
    Had: PRODUCT,
    Div: PRODUCT,
    Pow: POWER,
    MatPow: POWER,
    T: TRANSPOSE,
}

# Node class -> kind of operator within its level. MatMul and Scale are one kind: both are
# `*` (juxtaposition in text), and a product chain of them needs no parentheses.
KIND: dict[type, str] = {
    Add: "add",
    Frob: "frob",
    MatMul: "mul",
    Scale: "mul",
    Had: "had",
    Div: "div",
}

# Kinds whose right operand of the same kind still needs parentheses: a ./ (b ./ c).
# "sub" is the subtrahend of a sum: a - (b + c).
NON_ASSOCIATIVE = frozenset({"div", "frob", "sub"})

# Kinds that are parenthesised next to any other level-3 kind, on either side. ⊗ is not an
# operator of the language (text and LaTeX only), so no reading order makes it unambiguous.
STRICT = frozenset({"kron"})

# Where an operand sits in its parent.
LEFT = "left"  # first operand of a binary operator (or first factor of a product chain)
RIGHT = "right"  # any later operand
UNARY = "unary"  # operand of a negation
BASE = "base"  # base of ^ / .^ (right-associative)
EXPONENT = "exponent"  # exponent of ^ / .^: a level-4 operand, so `x.^-2` needs none
POSTFIX = "postfix"  # operand of a transpose
SUPERSCRIPT_BASE = "superscript"  # base of a printed superscript (X³, X⁻¹): atoms only


def level(node) -> int:
    """The level a node class prints at (before any sign is taken into account)."""
    return PRECEDENCE.get(type(node), ATOM)


def kind(node) -> str:
    return KIND.get(type(node), "")


def needs_parens(prec: int, kind_: str, starts_neg: bool, parent: int, parent_kind: str,
                 position: str) -> bool:
    """Whether an operand printed at ``prec`` (of ``kind_``, starting with a minus sign or
    not) needs parentheses at ``position`` in a parent printed at ``parent``."""
    if position == LEFT:
        if prec < parent:
            return True
        # A product chain reads first anyway (juxtaposition binds tightest to the eye):
        # `A B ⊙ C`, `2 x ./ y`. Any other kind on the left is parenthesised, so that a
        # reader never has to know that the language reads level 3 left to right:
        # `(a ⊙ b) C`, `(a ./ b) ⊙ c`. ⊗ never mixes without parentheses.
        return (prec == parent == PRODUCT and kind_ != parent_kind
                and (kind_ != "mul" or kind_ in STRICT or parent_kind in STRICT))
    if position == RIGHT:
        if starts_neg or prec < parent:
            return True
        if prec == parent:
            # Only a product chain may continue on the right without parentheses: inside a
            # right-hand ⊙ (or +) its own left operand may be a bare product (`A B ⊙ C`),
            # which would regroup with what stands before it: X ⊙ (a bᵀ ⊙ Z).
            return kind_ != parent_kind or parent_kind in NON_ASSOCIATIVE or (
                prec == PRODUCT and kind_ != "mul")
        return False
    if position == UNARY:
        return starts_neg or prec < NEG
    if position == BASE:
        return starts_neg or prec <= POWER
    if position == EXPONENT:
        return prec < NEG
    if position == POSTFIX:
        return starts_neg or prec < TRANSPOSE
    if position == SUPERSCRIPT_BASE:
        return starts_neg or prec < ATOM
    raise ValueError(f"unknown operand position {position!r}")

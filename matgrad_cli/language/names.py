"""THE tables of names: the Greek letters (name, Unicode letter, LaTeX macro) and the pools
of letters matgrad picks fresh names from (named sub-expressions, derivation steps,
generated code, open dimensions).

One table, so that the naming convention (SPEC §3: a Greek letter's name is a scalar), the
text printer (beta → β) and the LaTeX printer (beta, β → ``\\beta``) agree on every letter.
"""
from __future__ import annotations

import re

from ..ir import DIM_LETTERS

# name, letter, LaTeX macro. LaTeX has no macro for omicron or the capitals that look
# Latin (Α, Β, ...): those print as the Latin letter. The ``var`` forms are the math
# variants (ϵ ϑ ϕ ϖ ϱ ς ϰ), as LaTeX spells them.
_TABLE = [
    ("alpha", "α", r"\alpha"), ("beta", "β", r"\beta"), ("gamma", "γ", r"\gamma"),
    ("delta", "δ", r"\delta"), ("epsilon", "ε", r"\epsilon"), ("zeta", "ζ", r"\zeta"),
    ("eta", "η", r"\eta"), ("theta", "θ", r"\theta"), ("iota", "ι", r"\iota"),
    ("kappa", "κ", r"\kappa"), ("lambda", "λ", r"\lambda"), ("mu", "μ", r"\mu"),
    ("nu", "ν", r"\nu"), ("xi", "ξ", r"\xi"), ("omicron", "ο", "o"), ("pi", "π", r"\pi"),
    ("rho", "ρ", r"\rho"), ("sigma", "σ", r"\sigma"), ("tau", "τ", r"\tau"),
    ("upsilon", "υ", r"\upsilon"), ("phi", "φ", r"\phi"), ("chi", "χ", r"\chi"),
    ("psi", "ψ", r"\psi"), ("omega", "ω", r"\omega"),
    ("varepsilon", "ϵ", r"\varepsilon"), ("vartheta", "ϑ", r"\vartheta"),
    ("varphi", "ϕ", r"\varphi"), ("varpi", "ϖ", r"\varpi"), ("varrho", "ϱ", r"\varrho"),
    ("varsigma", "ς", r"\varsigma"), ("varkappa", "ϰ", r"\varkappa"),
    ("Gamma", "Γ", r"\Gamma"), ("Delta", "Δ", r"\Delta"), ("Theta", "Θ", r"\Theta"),
    ("Lambda", "Λ", r"\Lambda"), ("Xi", "Ξ", r"\Xi"), ("Pi", "Π", r"\Pi"),
    ("Sigma", "Σ", r"\Sigma"), ("Upsilon", "Υ", r"\Upsilon"), ("Phi", "Φ", r"\Phi"),
    ("Psi", "Ψ", r"\Psi"), ("Omega", "Ω", r"\Omega"),
]
_LATIN_CAPITALS = {"Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K",
                   "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X"}
# µ (the micro sign) is NFKC-equal to μ: it reads as mu everywhere
_ALIASES = {"µ": r"\mu"}

GREEK_NAMES: frozenset[str] = frozenset(name for name, _, _ in _TABLE)
LETTER_OF: dict[str, str] = {name: letter for name, letter, _ in _TABLE}
_LATEX_OF_NAME = {name: macro for name, _, macro in _TABLE}
_LETTERS = frozenset(LETTER_OF.values())
_LATEX_OF_LETTER = {letter: macro for _, letter, macro in _TABLE} | _LATIN_CAPITALS | _ALIASES


def is_greek_scalar(name: str) -> bool:
    """A lower-case Greek letter or its name: a scalar by the convention of SPEC §3."""
    if name in GREEK_NAMES:
        return name[0].islower()
    return len(name) == 1 and name in _LETTERS and name.islower()


_NAME = re.compile(r"[^\W\d_]\w*")  # a letter (Unicode too), then letters, digits, _


def is_name(text: str) -> bool:
    """A name of the language (SPEC §2): a letter, then letters, digits or _."""
    return _NAME.fullmatch(text) is not None


def greek_with_suffix(name: str) -> bool:
    """lambda1, β_2: a Greek letter's name with a number or subscript after it. SPEC §3 makes
    only the name alone a scalar, so by the convention this one is a vector."""
    match = re.fullmatch(r"([^\W\d_]+)(\d+|_\w+)", name)
    return bool(match) and is_greek_scalar(match.group(1))


def greek_letter(name: str) -> str:
    """The Unicode letter of a Greek name (beta → β); any other name unchanged."""
    return LETTER_OF.get(name, name)


def latex_letter(text: str) -> str | None:
    """The LaTeX spelling of a Greek name or letter (``beta``, ``β`` → ``\\beta``), or None."""
    return _LATEX_OF_NAME.get(text) or _LATEX_OF_LETTER.get(text)


def split_subscript(name: str) -> tuple[str, str | None]:
    """``x_1`` → (x, 1), ``W2`` → (W, 2), ``beta10`` → (beta, 10), ``loss`` → (loss, None):
    the base and the subscript a textbook writes."""
    if "_" in name and not name.startswith("_"):
        base, sub = name.split("_", 1)
        return base, sub
    m = re.fullmatch(r"(.*?\D)(\d+)", name)
    if m:
        return m.group(1), m.group(2)
    return name, None


def text_name(name: str) -> str:
    """A name as the text format writes it: Greek names as their letters, subscripted ones
    too (beta → β, beta_1 → β_1, lambda2 → λ2)."""
    if name in LETTER_OF:
        return LETTER_OF[name]
    base, sub = split_subscript(name)
    if sub is None or base not in LETTER_OF:
        return name
    return LETTER_OF[base] + name[len(base):]


# ---------------------------------------------------------------- the pools of fresh names

# A sub-expression by what it is: the letter a textbook gives it (s = σ(x), r = relu(x)).
FUNCTION_LETTERS = {"sigmoid": "s", "relu": "r", "tanh": "t", "exp": "e", "softplus": "sp",
                    "log": "l", "abs": "a", "sin": "v", "cos": "w"}
CALL_LETTERS = {"softmax": "p", "Diag": "D", "softmax_1": "S", "softmax_2": "S", "chol": "L",
                "eigvecs": "Q", "eigvals": "λ", "svd_u1": "u", "svd_v1": "v", "expm": "E"}
# ... and by its shape: number of axes → letters, in order of preference.
SHAPE_LETTERS = {
    0: ("c", "a", "b", "d", "k"),  # scalar
    1: ("u", "v", "w", "y", "z", "q", "h", "g"),  # vector
    2: ("M", "N", "P", "Q", "R"),  # matrix (a row included)
}
TENSOR_LETTERS = ("T", "U")
# Open dimensions (shapes.py): n for a vector's length, m×n for a matrix, then these; the
# IR orders the terms of a sum of sizes by the same letters, so the table lives there.
DIMENSION_LETTERS = DIM_LETTERS


# Index notation (§2b): the gradient tensor a dsl line builds, and fresh index names.
GRADIENT_TENSOR_NAMES = ("G", "Gamma", "D", "H", "J")
INDEX_LETTERS = ("i", "j", "k", "l", "a", "b", "c", "p", "q", "r", "s", "t")


def first_free(pool, taken, base: str) -> str:
    """The first name of ``pool`` not in ``taken``, else ``base`` numbered 1, 2, … ."""
    for name in pool:
        if name not in taken:
            return name
    k = 1
    while f"{base}{k}" in taken:
        k += 1
    return f"{base}{k}"


def shape_letters(ndim: int) -> tuple[str, ...]:
    return SHAPE_LETTERS.get(ndim, TENSOR_LETTERS)

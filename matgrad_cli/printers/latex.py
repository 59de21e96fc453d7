"""LaTeX: the textbook form of ``text.py`` with LaTeX spellings (``A^{\\top}``, ``\\odot``,
``\\sigma\\left(x\\right)``, ``\\left\\|x\\right\\|``). Same structure, same parentheses."""
from __future__ import annotations

import unicodedata
from fractions import Fraction

from ..language.names import latex_letter, split_subscript
from ..ops import ENTRYWISE, STRUCTURAL, lookup
from . import precedence as P
from .base import Printed, readable_number
from .text import TextPrinter


def _latex_base(base: str) -> str:
    greek = latex_letter(base)
    if greek is not None:
        return greek
    if len(base) == 1:
        return base
    # a word: its Greek letters spelled as macros, the rest upright-italic as one name
    return r"\mathit{" + "".join(_char(c) for c in base) + "}"


def _char(c: str) -> str:
    greek = latex_letter(c)
    return "{" + greek + "}" if greek is not None else c


def latex_name(name: str) -> str:
    """A variable or definition name in LaTeX: ``beta`` → ``\\beta``, ``x_1`` → ``x_{1}``,
    ``W1`` → ``W_{1}``, ``Sigma`` → ``\\Sigma``, ``loss`` → ``\\mathit{loss}``; only ASCII."""
    name = unicodedata.normalize("NFKC", name)  # 𝐱 → x, µ → μ
    base, sub = split_subscript(name)
    if sub is None:
        return _latex_base(name)
    if "_" in sub:
        sub_text = r"\mathit{" + sub.replace("_", r"\_") + "}"
    else:
        sub_text = sub if sub.isdigit() else _latex_base(sub)
    return _latex_base(base) + "_{" + sub_text + "}"


class LatexPrinter(TextPrinter):
    minus = "-"
    sub_sep = " - "
    had_sep = r" \odot "
    ediv_sep = r" \oslash "
    kron_sep = r" \otimes "
    ones_symbol = r"\mathbf{1}"
    pi_symbol = r"\pi"
    norm_open, norm_close = r"\left\|", r"\right\|"
    norm1_mark = "_{1}"
    logdet_open, logdet_close = r"\log\left|\det", r"\right|"
    superscript_base = P.BASE  # LaTeX groups the exponent: (x^{2})^{3} still needs ( )

    def name(self, name: str) -> str:
        return latex_name(name)

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)"

    def magnitude(self, value: Fraction) -> Printed:
        written = readable_number(value)
        if isinstance(written, str):
            return Printed(written, P.ATOM)
        return Printed(rf"\frac{{{value.numerator}}}{{{value.denominator}}}", P.ATOM)

    def operator_name(self, name: str) -> str:
        return rf"\operatorname{{{name}}}"

    def entrywise_name(self, name: str) -> str:
        return lookup(name).latex

    def structural_name(self, name: str) -> str:
        return STRUCTURAL[name].latex

    def subscript(self, text: str) -> str:
        return f"_{{{text}}}"

    def dim(self, d) -> str:
        if isinstance(d, int):
            return str(d)
        return " ".join(p if p.isdigit() else latex_name(p) for p in d.split("*"))

    def int_sup(self, k: int) -> str:
        return str(k)

    def transpose_sup(self, inverse: bool = False) -> str:
        return r"-\top" if inverse else r"\top"

    def attach_sup(self, base: str, brace: bool, sup: str) -> str:
        return ("{" + base + "}" if brace else base) + "^{" + sup + "}"

    def _print_Pow(self, node, ctx):
        base = self.print(node.base)
        exponent = self.print(node.exponent).text
        if node.base.shape != ():
            exponent = r"\circ " + exponent  # Hadamard power
        return Printed(self.sup(base, P.BASE, exponent), P.POWER, "sup")

    def sqrt(self, arg: Printed) -> Printed:
        return Printed(r"\sqrt{" + arg.text + "}", P.ATOM)


def to_latex(node, names: dict | None = None) -> str:
    """LaTeX of ``node`` (math mode body, no ``$``); a sub-tree equal to a key of ``names``
    prints as that name."""
    return LatexPrinter(names).doprint(node)

"""LaTeX: the textbook form of ``text.py`` with LaTeX spellings (``A^{\\top}``, ``\\odot``,
``\\sigma\\left(x\\right)``, ``\\left\\|x\\right\\|``). Same structure, same parentheses."""
from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

from ..ops import ENTRYWISE, STRUCTURAL, lookup
from . import precedence as P
from .base import Printed, readable_number
from .text import TextPrinter

GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma "
    "tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi "
    "Omega".split()
)


def _greek_letter(ch: str) -> str | None:
    """The LaTeX command of a Unicode Greek letter (``β`` → ``\\beta``), if it has one."""
    try:
        uname = unicodedata.name(ch)
    except ValueError:
        return None
    m = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (\w+)", uname)
    if not m:
        return None
    word = m.group(2).lower()
    if m.group(1) == "CAPITAL":
        word = word.capitalize()
    return "\\" + word if word in GREEK else None


def _latex_base(base: str) -> str:
    if base in GREEK:
        return "\\" + base
    if len(base) == 1:
        return _greek_letter(base) or base
    return r"\mathit{" + "".join(_greek_letter(c) or c for c in base) + "}"


def latex_name(name: str) -> str:
    """A variable or definition name in LaTeX: ``beta`` → ``\\beta``, ``x_1`` → ``x_{1}``,
    ``W1`` → ``W_{1}``, ``loss`` → ``\\mathit{loss}``."""
    if "_" in name and not name.startswith("_"):
        base, sub = name.split("_", 1)
        return _latex_base(base) + "_{" + sub.replace("_", r"\_") + "}"
    m = re.fullmatch(r"(.*?\D)(\d+)", name)
    if m:
        return _latex_base(m.group(1)) + "_{" + m.group(2) + "}"
    return _latex_base(name)


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
    spectral_mark, nuclear_mark = "_{2}", "_{*}"
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
        # a sum of sizes (n+1, m*n+p): each term's factors as names
        return re.sub(r"[^+-]+", lambda t: " ".join(
            p if p.isdigit() else latex_name(p) for p in t.group(0).split("*")), d)

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

    def block(self, cells: list[list[str]]) -> Printed:
        body = r" \\ ".join(" & ".join(row) for row in cells)
        return Printed(r"\begin{bmatrix} " + body + r" \end{bmatrix}", P.ATOM)

    def indexed(self, base: str, ranges: list[str]) -> Printed:
        return Printed("{" + base + "}_{" + r",\,".join(ranges) + "}", P.ATOM)


def to_latex(node, names: dict | None = None) -> str:
    """LaTeX of ``node`` (math mode body, no ``$``); a sub-tree equal to a key of ``names``
    prints as that name."""
    return LatexPrinter(names).doprint(node)

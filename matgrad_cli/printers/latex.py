"""LaTeX: the textbook form of ``text.py`` with LaTeX spellings (``A^{\\top}``, ``\\odot``,
``\\sigma\\left(x\\right)``, ``\\left\\|x\\right\\|``). Same structure, same parentheses."""
from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

from ..language.names import latex_letter, split_subscript
from ..ops import STRUCTURAL, lookup
from . import precedence as P
from .base import Printed, readable_number
from .text import TextPrinter


def _latex_base(base: str) -> str:
    greek = latex_letter(base)
    if greek is not None:
        return greek
    spelled = "".join(_char(c) for c in base)
    if len(spelled) == 1:
        return spelled
    # a word: its Greek letters spelled as macros, the rest upright-italic as one name
    return r"\mathit{" + spelled + "}"


def _char(c: str) -> str:
    greek = latex_letter(c)
    if greek is not None:
        return "{" + greek + "}"
    if c.isascii():
        return c
    if unicodedata.combining(c):
        return ""  # x̂: the accent has no ASCII spelling
    # ASCII only: the letter it folds to (𝐱 → x), without its accents (é → e), else its
    # code point. (Not NFKC first: that folds ϑ into θ, two names of the language.)
    folded = unicodedata.normalize("NFKC", c)
    if folded != c and all(latex_letter(ch) or ch.isascii() for ch in folded):
        return "".join(_char(ch) for ch in folded)
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", c) if ch.isascii())
    return bare or rf"\text{{u{ord(c):04x}}}"


def latex_name(name: str) -> str:
    """A variable or definition name in LaTeX: ``beta`` → ``\\beta``, ``x_1`` → ``x_{1}``,
    ``W1`` → ``W_{1}``, ``Sigma`` → ``\\Sigma``, ``loss`` → ``\\mathit{loss}``; only ASCII."""
    m = re.fullmatch(r"(.+?)([₀-₉ᵢⱼₖ]+)", name)  # Φᵢ, x₁: Unicode subscripts
    if m:
        return _latex_base(m.group(1)) + "_{" + "".join(_SUBSCRIPT[c] for c in m.group(2)) + "}"
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


class _StepsPrinter(LatexPrinter):
    """The differentials of a derivation (``dX``, ``ds``) print as d followed by the
    name as LaTeX writes it (``dW_{1}``, ``d\\beta``), not as one word."""

    def __init__(self, names, differentials):
        super().__init__(names)
        self.differentials = differentials

    def name(self, name: str) -> str:
        if name in self.differentials:
            return differential_name(name[1:])
        return latex_name(name)


def differential_name(name: str) -> str:
    """d of a name: ``d`` + the name as LaTeX writes it (``dW_{1}``, ``d\\beta``)."""
    shown = latex_name(name)
    return "d" + (" " + shown if shown.startswith("\\") else shown)


def to_latex(node, names: dict | None = None, differentials=frozenset()) -> str:
    """LaTeX of ``node`` (math mode body, no ``$``); a sub-tree equal to a key of ``names``
    prints as that name; a variable named in ``differentials`` (``dX``) prints as d X."""
    if differentials:
        return _StepsPrinter(names, differentials).doprint(node)
    return LatexPrinter(names).doprint(node)


# ---------------------------------------------------------------- rules and notes

_SUPERSCRIPT = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ᵀᵏⁱ⁽⁾",
                        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "-", "+", r"\top ",
                         "k", "i", "(", ")"]))
_SUBSCRIPT = dict(zip("₀₁₂₃₄₅₆₇₈₉ᵢⱼₖ", "0123456789ijk"))
_SYMBOLS = {
    "−": "-", "⊙": r"\odot ", "⊗": r"\otimes ", "⊘": r"\oslash ", "∘": r"\circ ",
    "⇒": r"\Rightarrow ", "→": r"\to ", "∂": r"\partial ", "≠": r"\neq ", "≥": r"\geq ",
    "≤": r"\leq ", "×": r"\times ", "·": r"\cdot ", "′": "'", "‖": r"\| ",
    "𝟏": r"\mathbf{1}", "√": r"\sqrt ", "…": r"\ldots ", "∑": r"\sum ", "Σ": r"\sum ",
    "∈": r"\in ", "ℝ": r"\mathbb{R}", "⊤": r"\top ", "±": r"\pm ", "∞": r"\infty ",
    "{": r"\{", "}": r"\}", "%": r"\%", "#": r"\#", "&": r"\&", "$": r"\$",
}
_SHORT_WORDS = {"to", "is", "of", "in", "on", "at", "by", "or", "an", "as", "if", "it", "be",
                "no", "so"}
_MACRO_WORDS = {"log", "det", "exp", "max", "min", "sin", "cos", "tan", "sinh", "cosh",
                "tanh", "arcsin", "arccos", "arctan"}


def _word(word: str, operators) -> tuple[str, bool]:
    """(LaTeX of a run of letters, digits and _, whether it is prose)."""
    if word in _MACRO_WORDS:
        return "\\" + word + " ", False
    if word in operators:
        return r"\operatorname{" + word.replace("_", r"\_") + "}", False
    if "_" in word.strip("_"):  # P_A: a name with a subscript
        base, sub = word.split("_", 1)
        return _word(base, operators)[0] + "_{" + _word(sub, operators)[0] + "}", False
    word = word.replace("_", r"\_")
    if len(word) <= 2 or (word[0] == "d" and len(word) <= 3):
        return word, False  # a name, a differential (dX, dc1)
    greek = latex_letter(word)
    if greek is not None:
        return greek + " ", False
    return word, True


def _is_word_char(ch: str) -> bool:
    """A letter of a word (ASCII, or a Latin letter with an accent: Fréchet), a digit or _;
    not a Greek letter, which is mathematics."""
    if ch.isascii():
        return ch.isalnum() or ch == "_"
    if ch in _SUPERSCRIPT or ch in _SUBSCRIPT:  # ᵀ, ᵢ are letters to Unicode, not to us
        return False
    return ch.isalpha() and latex_letter(ch) is None and \
        unicodedata.normalize("NFKD", ch)[0].isascii()


def _ascii_word(word: str) -> str:
    """Fréchet → Frechet: ASCII only (the accent has no spelling both engines take)."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if c.isascii())


def math_text(text: str, operators=frozenset()) -> str:
    """A line of matgrad's Unicode mathematics (a rule ``d X⁻¹ = −X⁻¹ dX X⁻¹``, a note) as
    LaTeX math with ASCII only: operators as macros, superscripts grouped (``X^{-1}``),
    English words in ``\\text{…}``. ``operators``: words printed upright (function names)."""
    from ..ops import FUNCTION_NAMES

    operators = set(operators) | set(FUNCTION_NAMES) | {"vec", "unvec", "sym", "tr", "diag"}
    out: list[str] = []
    prose: list[str] = []  # words (and the spaces between them) of a \text run

    def flush():
        if prose:  # spaces inside \text{} are kept, in math mode they are not
            out.append(r"\text{" + "".join(prose) + "}")
            prose.clear()

    i = 0
    while i < len(text):
        ch = text[i]
        if _is_word_char(ch) and not ch.isdigit() and ch != "_":
            j = i
            while j < len(text) and _is_word_char(text[j]):
                j += 1
            word = _ascii_word(text[i:j])
            latex, is_prose = _word(word, operators)
            # a short word between spaces is prose too (chain back to dx, the derivative at X)
            alone = (i == 0 or text[i - 1] == " ") and (j == len(text) or text[j] == " ")
            is_prose = is_prose or (word in _SHORT_WORDS and (bool(prose) or alone))
            if is_prose:
                latex = word
            if is_prose:
                if not prose and out and out[-1] == " ":
                    out.pop()
                    prose.append(" ")
                prose.append(latex)
            else:
                flush()
                out.append(latex)
            i = j
            continue
        if ch == " " and prose:
            prose.append(" ")
            i += 1
            continue
        flush()
        if ch in _SUPERSCRIPT:
            j = i
            while j < len(text) and text[j] in _SUPERSCRIPT:
                j += 1
            out.append("^{" + "".join(_SUPERSCRIPT[c] for c in text[i:j]).strip() + "}")
            i = j
            continue
        if ch in _SUBSCRIPT:
            j = i
            while j < len(text) and text[j] in _SUBSCRIPT:
                j += 1
            out.append("_{" + "".join(_SUBSCRIPT[c] for c in text[i:j]) + "}")
            i = j
            continue
        if ch in _SYMBOLS:
            out.append(_SYMBOLS[ch])
        elif ch.isascii():
            out.append(ch)
        else:
            greek = latex_letter(ch)
            out.append(greek + " " if greek else r"\text{?}")
        i += 1
    flush()
    return re.sub(" {2,}", " ", "".join(out)).strip()


def text_line(text: str) -> str:
    """Prose with mathematics in it (a section title, a note) as LaTeX math: the words in
    ``\\text{…}``, the rest through ``math_text``."""
    return math_text(text)

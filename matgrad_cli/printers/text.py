"""Unicode textbook form: ``2 (s ⊙ (1 − s)) ⊙ (Aᵀ A s)``, ``S⁻ᵀ``, ``‖x‖²``.

Products are juxtaposition, ``⊙`` is Hadamard, ``./`` entrywise division (``/`` for a
scalar divisor), ``A : B`` the Frobenius product, ``⊗`` Kronecker. Parentheses come from
the precedence table, so the structure reads as the language would read it. The LaTeX
printer is this printer with other spellings (``latex.py``).
"""
from __future__ import annotations

from fractions import Fraction

from ..ops import STRUCTURAL, lookup
from ..ir import Call, Num, Ones
from ..language.names import text_name
from . import precedence as P
from .base import Context, Printed, Printer, readable_number

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

# integer exponents printed as superscripts (a², X⁻¹); any other exponent is `a^p`
SMALL_EXPONENT = 99


class TextPrinter(Printer):
    minus = "−"
    add_sep = " + "
    sub_sep = " − "
    mul_sep = " "
    had_sep = " ⊙ "
    ediv_sep = " ./ "
    sdiv_sep = " / "
    frob_sep = " : "
    kron_sep = " ⊗ "
    ones_symbol = "𝟏"
    pi_symbol = "π"
    norm_open, norm_close = "‖", "‖"
    norm1_mark = "₁"
    spectral_mark, nuclear_mark = "₂", "_*"
    logdet_open, logdet_close = "log|det", "|"
    superscript_base = P.SUPERSCRIPT_BASE  # what may carry a superscript without parentheses

    # ------------------------------------------------------------ spellings

    def name(self, name: str) -> str:
        """Greek names print as their letters, as a textbook writes them (beta → β)."""
        return text_name(name)

    def magnitude(self, value: Fraction) -> Printed:
        written = readable_number(value)
        if isinstance(written, str):
            return Printed(written, P.ATOM)
        return Printed(f"{value.numerator}/{value.denominator}", P.PRODUCT, "div")

    def operator_name(self, name: str) -> str:
        return name

    def subscript(self, text: str) -> str:
        return f"_{text}" if len(text) == 1 else f"_{{{text}}}"

    def dim(self, d) -> str:
        if isinstance(d, int):
            return str(d)
        parts = d.split("*")
        return ("" if all(len(p) == 1 for p in parts) else "·").join(parts)

    def int_sup(self, k: int) -> str:
        return str(k).translate(_SUPERSCRIPTS)

    def transpose_sup(self, inverse: bool = False) -> str:
        return "⁻ᵀ" if inverse else "ᵀ"

    def attach_sup(self, base: str, brace: bool, sup: str) -> str:
        return base + sup

    def sup(self, p: Printed, position: str, sup: str) -> str:
        """``p`` carrying the superscript ``sup`` (already in this format's spelling)."""
        wrapped = P.needs_parens(p.prec, p.kind, p.starts_neg, P.POWER, "", position)
        base = self.paren(p.text) if wrapped else p.text
        return self.attach_sup(base, not wrapped and p.kind == "sup", sup)

    def call(self, name: str, *args: str) -> Printed:
        return Printed(name + self.paren(", ".join(args)), P.ATOM)

    # ------------------------------------------------------------ leaves

    def eye(self, n, sized: bool) -> Printed:
        return Printed("I" if sized else "I" + self.subscript(self.dim(n)), P.ATOM)

    def ones(self, dims) -> Printed:
        if len(dims) == 2 and dims[0] == 1:  # a row of ones is the column transposed
            one = Printed(self.ones_symbol, P.ATOM)
            return Printed(self.sup(one, P.POSTFIX, self.transpose_sup()), P.TRANSPOSE, "sup")
        return Printed(self.ones_symbol, P.ATOM)

    def zeros(self, dims) -> Printed:
        return Printed("0", P.ATOM)

    def commutation(self, m, n) -> Printed:
        return Printed("K" + self.subscript(f"{self.dim(m)},{self.dim(n)}"), P.ATOM)

    # ------------------------------------------------------------ powers and transposes

    def _print_Pow(self, node, ctx):
        base = self.print(node.base)
        e = node.exponent
        value = e.value if isinstance(e, Num) else None
        if (node.base.shape == () and value is not None and value.denominator == 1
                and abs(value) <= SMALL_EXPONENT):
            return Printed(self.sup(base, self.superscript_base, self.int_sup(int(value))),
                           P.POWER, "sup")
        op = "^" if node.base.shape == () else ".^"
        exponent = self.wrap(self.print(e), P.POWER, "", P.EXPONENT)
        return Printed(self.wrap(base, P.POWER, "", P.BASE) + op + exponent, P.POWER, "pow")

    def _print_MatPow(self, node, ctx):
        base = self.print(node.base)
        return Printed(self.sup(base, self.superscript_base, self.int_sup(node.k)), P.POWER,
                       "sup")

    def _print_T(self, node, ctx):
        op = node.operand
        if isinstance(op, Call) and op.name == "inv" and op not in self.names:
            arg = self.print(op.args[0])  # X⁻ᵀ, (X + A)⁻ᵀ
            return Printed(self.sup(arg, self.superscript_base, self.transpose_sup(True)),
                           P.TRANSPOSE, "sup")
        p = self.print(op, Context(sized=ctx.sized))
        return Printed(self.sup(p, P.POSTFIX, self.transpose_sup()), P.TRANSPOSE, "sup")

    # ------------------------------------------------------------ functions

    def _print_Func(self, node, ctx):
        if node.name == "arccos" and isinstance(node.operand, Num) and node.operand.value == -1:
            return Printed(self.pi_symbol, P.ATOM)  # π, as erf′ = 2/√π e^{−t²} is built
        arg = self.print(node.operand)
        if node.name == "sqrt":
            return self.sqrt(arg)
        return self.call(self.entrywise_name(node.name), arg.text)

    def entrywise_name(self, name: str) -> str:
        return lookup(name).text

    def structural_name(self, name: str) -> str:
        return STRUCTURAL[name].text

    def sqrt(self, arg: Printed) -> Printed:
        inner = arg.text if arg.prec == P.ATOM and not arg.starts_neg else self.paren(arg.text)
        return Printed("√" + inner, P.POWER, "")

    def call_generic(self, node) -> Printed:
        args = [self.print(a).text for a in node.args]
        along = STRUCTURAL[node.name].along
        if along is not None:  # sum(X, 2): the dimension is the second argument
            args.append(str(along[1]))
        return self.call(self.structural_name(node.name), *args)

    def _call_sum(self, node, ctx):
        """sum(𝟏) is the number of entries: printed as the size (m, or m·n)."""
        if len(node.args) == 1 and isinstance(node.args[0], Ones) and node.args[0].dims:
            sizes = [self.dim(d) for d in node.args[0].dims]
            text = ("" if all(len(p) == 1 for p in sizes) else "·").join(sizes)
            return Printed(text, P.ATOM)
        return self.call_generic(node)

    def _call_norm(self, node, ctx):
        arg = self.print(node.args[0])
        return Printed(self.norm_open + arg.text + self.norm_close, P.ATOM)

    def _call_norm1(self, node, ctx):
        norm = self._call_norm(node, ctx)
        return Printed(norm.text + self.norm1_mark, P.ATOM)

    def _call_spectral_norm(self, node, ctx):
        return Printed(self._call_norm(node, ctx).text + self.spectral_mark, P.ATOM)

    def _call_nuclear_norm(self, node, ctx):
        return Printed(self._call_norm(node, ctx).text + self.nuclear_mark, P.ATOM)

    def _call_kron(self, node, ctx):
        left, right = (self.print(a) for a in node.args)
        return self.binary(left, right, self.kron_sep, P.PRODUCT, "kron")

    def _call_logdet(self, node, ctx):
        arg = self.print(node.args[0])
        bare = arg.prec >= P.TRANSPOSE and not arg.starts_neg
        inner = " " + arg.text if bare else self.paren(arg.text)
        return Printed(self.logdet_open + inner + self.logdet_close, P.ATOM)

    def _call_inv(self, node, ctx):
        arg = self.print(node.args[0])
        # a leaf or a block matrix [A, B; C, D] carries the ⁻¹ without parentheses
        bare = (self.is_leaf(node.args[0]) or self.is_block(node.args[0])) and \
            arg.prec == P.ATOM
        base = arg.text if bare else self.paren(arg.text)
        return Printed(self.attach_sup(base, False, self.int_sup(-1)), P.POWER, "sup")

    def _print_Reshape(self, node, ctx):
        return self.call(self.operator_name("unvec"), self.print(node.operand).text)


def to_text(node, names: dict | None = None) -> str:
    """The Unicode textbook form of ``node``; a sub-tree equal to a key of ``names`` prints
    as that name."""
    return TextPrinter(names).doprint(node)

"""How the index nodes print, per format (SPEC §2b), added to the printers' classes.

text:  Φᵢ for Φ[:, i, :] (the render names it: Φᵢ = Φ[:, i, :]), Aᵢⱼ, Σⱼ Aᵢⱼ xⱼ, δⱼₗ;
LaTeX: \\Phi_{i}, A_{ij}, \\sum_{j} A_{ij} x_{j}, \\delta_{jl};
dsl:   Phi[:, i, :], A[i, j], sum(j: A[i, j]*x[j]), delta(j, l) — the input language.

They live here, not in the printers' own modules, so that index notation is one place;
``install`` attaches them (printers/__init__ calls it).
"""
from __future__ import annotations

from ..ir import Var
from ..printers import precedence as P
from ..printers.base import Printed, Printer
from ..printers.dsl import DslPrinter
from ..printers.latex import LatexPrinter
from ..printers.text import TextPrinter

_SUB = dict(zip("aehijklmnoprstuvx0123456789",
                "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₀₁₂₃₄₅₆₇₈₉"))

SUM_KIND = "sum"  # a level-3 kind of its own: Σ extends to the right, so it is wrapped


def text_subscript(labels) -> str:
    """Unicode subscripts when every label has one (ᵢⱼ), else _{acb} (or _{i,head})."""
    if all(len(k) == 1 and k in _SUB for k in labels):
        return "".join(_SUB[k] for k in labels)
    if all(len(k) == 1 for k in labels):  # Φ_{acb}: b and c have no subscript letter
        return "_{" + "".join(labels) + "}"
    return "_{" + ",".join(labels) + "}"


def pattern_text(pattern) -> str:
    return "[" + ", ".join(":" if e is None else e for e in pattern) + "]"


def _labels(pattern) -> list:
    return [e for e in pattern if e is not None]


def _operand(printer, node) -> str:
    p = printer.print(node.operand)
    return p.text if p.prec == P.ATOM and not p.starts_neg else printer.paren(p.text)


def _sum_body(printer, node) -> str:
    body = printer.print(node.body)
    return body.text if body.prec >= P.PRODUCT and not body.starts_neg else \
        printer.paren(body.text)


# ------------------------------------------------------------------ text

def _text_slice(self, node, ctx):
    return Printed(_operand(self, node) + text_subscript(_labels(node.pattern)), P.ATOM)


def _text_sum(self, node, ctx):
    return Printed("Σ" + text_subscript(node.labels) + " " + _sum_body(self, node), P.PRODUCT,
                   SUM_KIND)


def _text_delta(self, node, ctx):
    return Printed("δ" + text_subscript((node.i, node.j)), P.ATOM)


def _text_build(self, node, ctx):
    # a tensor made from its slices, inside a larger expression (rare: derive prints a
    # gradient that is one as ∂f/∂T[:, i, :] = … instead)
    return Printed("stack" + pattern_text(node.pattern) + self.paren(self.print(node.body).text),
                   P.ATOM)


# ------------------------------------------------------------------ LaTeX

def _latex_slice(self, node, ctx):
    return Printed(_operand(self, node) + "_{" + "".join(_labels(node.pattern)) + "}", P.ATOM)


def _latex_sum(self, node, ctx):
    return Printed(r"\sum_{" + ",".join(node.labels) + "} " + _sum_body(self, node),
                   P.PRODUCT, SUM_KIND)


def _latex_delta(self, node, ctx):
    return Printed(r"\delta_{" + node.i + node.j + "}", P.ATOM)


def _latex_build(self, node, ctx):
    return Printed(r"\operatorname{stack}_{" + pattern_text(node.pattern) + "}" +
                   self.paren(self.print(node.body).text), P.ATOM)


# ------------------------------------------------------------------ dsl

def _dsl_slice(self, node, ctx):
    if not isinstance(node.operand, Var) and node.operand not in self.names:
        raise TypeError("a slice of a compound expression needs a name in the dsl "
                        "(render.dsl_line names it)")
    return Printed(self.print(node.operand).text + pattern_text(node.pattern), P.ATOM)


def _dsl_sum(self, node, ctx):
    return Printed("sum(" + ", ".join(node.labels) + ": " + self.print(node.body).text + ")",
                   P.ATOM)


def _dsl_delta(self, node, ctx):
    return Printed(f"delta({node.i}, {node.j})", P.ATOM)


def _dsl_build(self, node, ctx):
    from ..errors import UsageError

    raise UsageError("a tensor built from slices is written as an indexed definition in the "
                    "dsl (render.dsl_line writes it)")


def _guard_reshape(original):
    def _print_Reshape(self, node, ctx):
        if len(node.operand.shape) > 1:
            from ..errors import UsageError

            raise UsageError("this Jacobian (a tensor reshaped to len(vec f) × len(vec X)) has "
                             "no form in the language: use --format text, or -o with eval")
        return original(self, node, ctx)
    return _print_Reshape


def install() -> None:
    DslPrinter._print_Reshape = _guard_reshape(DslPrinter._print_Reshape)
    for cls, methods in (
        (TextPrinter, (_text_slice, _text_sum, _text_delta, _text_build)),
        (LatexPrinter, (_latex_slice, _latex_sum, _latex_delta, _latex_build)),
        (DslPrinter, (_dsl_slice, _dsl_sum, _dsl_delta, _dsl_build)),
    ):
        for node_name, method in zip(("Indexed", "IndexSum", "Delta", "Build"), methods):
            setattr(cls, "_print_" + node_name, method)
    Printer.sum_kind = SUM_KIND

"""The input language itself (SPEC §2): what ``to_dsl`` prints re-parses to the same value.

``*`` for matrix products and scalar factors, ``.*`` Hadamard, ``./`` entrywise division
(``/`` for a scalar divisor), ``'`` transpose, ``^`` scalar and matrix powers, ``.^``
entrywise powers, ``A : B`` Frobenius, functions by their names in the language. Sized
constants carry their sizes as stored (``eye(n)``, ``ones(m, n)``, ``commutation(m, n)``,
a product of sizes as ``m*n``), except ``I`` where a sibling with a variable fixes its size,
and a ``Fill(c)`` that prints as the bare scalar ``c`` where the language broadcasts it.
Numbers print as decimals when they terminate, else as ``(1/3)``. Block matrices print as
``[A, B; C, D]``, a block of one as ``rows(X, a, b)`` / ``cols(X, a, b)``.
"""
from __future__ import annotations

from fractions import Fraction

from ..ir import Commutation, Eye, Ones, Var, Zeros, as_matrix, dim_add
from ..ops import STRUCTURAL, USER_FUNCTIONS
from . import precedence as P
from .base import Context, Printed, Printer, readable_number
from .naming import name_subexpressions, render_definitions


class DslPrinter(Printer):
    """The base printer's spellings are the language's own."""

    def has_var(self, node) -> bool:
        """Whether the node's own value fixes its size when the line is read back: a
        vector or matrix variable does, and so does anything non-scalar built on one; a
        scalar does not, whatever it contains (``tr(C)*I`` leaves the size of I open)."""
        known = self._has_var.get(node)
        if known is None:
            if node.shape == ():
                known = False
            elif node in self.names or isinstance(node, Var):
                known = True
            elif isinstance(node, (Eye, Ones, Zeros, Commutation)):
                known = False  # an eye(2) prints its size, but I beside it is tied to it
            else:
                known = any(self.has_var(c) for c in node.children)
            self._has_var[node] = known
        return known

    def magnitude(self, value: Fraction) -> Printed:
        written = readable_number(value)
        if isinstance(written, str):
            return Printed(written, P.ATOM)
        return Printed(f"({value.numerator}/{value.denominator})", P.ATOM)

    def dim(self, d) -> str:
        return str(d)

    def call(self, name: str, *args: str) -> Printed:
        return Printed(f"{name}({', '.join(args)})", P.ATOM)

    # ------------------------------------------------------------ leaves

    def eye(self, n, sized: bool) -> Printed:
        return Printed("I", P.ATOM) if sized else self.call("eye", self.dim(n))

    def ones(self, dims) -> Printed:
        return self.call("ones", *(self.dim(d) for d in dims))

    def zeros(self, dims) -> Printed:
        return self.call("zeros", *(self.dim(d) for d in dims))

    def commutation(self, m, n) -> Printed:
        return self.call("commutation", self.dim(m), self.dim(n))

    # ------------------------------------------------------------ powers and transposes

    def _print_Pow(self, node, ctx):
        op = "^" if node.base.shape == () else ".^"
        base = self.wrap(self.print(node.base), P.POWER, "", P.BASE)
        exponent = self.wrap(self.print(node.exponent), P.POWER, "", P.EXPONENT)
        return Printed(base + op + exponent, P.POWER, "pow")

    def _print_MatPow(self, node, ctx):
        base = self.wrap(self.print(node.base), P.POWER, "", P.BASE)
        return Printed(f"{base}^{node.k}", P.POWER, "pow")

    def _print_T(self, node, ctx):
        p = self.print(node.operand, Context(sized=ctx.sized))
        return Printed(self.wrap(p, P.TRANSPOSE, "", P.POSTFIX) + "'", P.TRANSPOSE, "")

    # ------------------------------------------------------------ functions

    def _print_Func(self, node, ctx):
        user = USER_FUNCTIONS.get(node.name)  # a user function: its name as spelled
        return self.call(user.spelled if user else node.name, self.print(node.operand).text)

    def call_generic(self, node) -> Printed:
        along = STRUCTURAL[node.name].along
        if along is not None:  # the entry sum_2 is spelled sum(X, 2)
            return self.call(along[0], self.print(node.args[0]).text, str(along[1]))
        return self.call(node.name, *(self.print(a).text for a in node.args))

    def _call_norm1(self, node, ctx):
        return self.call("sum", self.call("abs", self.print(node.args[0]).text).text)

    def _call_spectral_norm(self, node, ctx):
        return Printed(f"||{self.print(node.args[0]).text}||_2", P.ATOM)

    def _call_nuclear_norm(self, node, ctx):
        return Printed(f"||{self.print(node.args[0]).text}||_*", P.ATOM)

    def _print_Reshape(self, node, ctx):
        """unvec(g) to m×n, column-major: (vec(Iₙ)ᵀ ⊗ Iₘ)(Iₙ ⊗ g)."""
        g = self.print(node.operand).text
        if len(node.dims) < 2:
            return self.print(node.operand)
        m, n = (self.dim(d) for d in node.dims)
        eye_m, eye_n = self.eye(m, False).text, self.eye(n, False).text
        left = self.call("kron", f"vec({eye_n})'", eye_m).text
        right = self.call("kron", eye_n, g).text
        return Printed(left + self.mul_sep + right, P.PRODUCT, "mul")


    def _print_Slice(self, node, ctx):
        """rows(X, a, b) / cols(X, a, b), 1-based and inclusive; a block of both is
        rows(cols(X, c, d), a, b)."""
        m, n = as_matrix(node.operand.shape)
        out = self.print(node.operand)
        if not (node.col0 == 0 and node.ncols == n):
            out = self.call("cols", out.text, *self.bounds(node.col0, node.ncols))
        if not (node.row0 == 0 and node.nrows == m):
            out = self.call("rows", out.text, *self.bounds(node.row0, node.nrows))
        return out

    def bounds(self, start, count) -> tuple[str, str]:
        return self.dim(dim_add(start, 1)), self.dim(dim_add(start, count))


def to_dsl(node, names: dict | None = None) -> str:
    """``node`` in the input language; a sub-tree equal to a key of ``names`` prints as
    that name."""
    return DslPrinter(names).doprint(node)


def to_dsl_line(root, taken: set[str], preferred: dict | None = None) -> str:
    """One self-contained line of the language: the definitions worth making (see
    ``naming.name_subexpressions``) then the expression, joined by ``; ``."""
    definitions, mapping = name_subexpressions([root], taken, preferred)
    parts = [f"{name} = {body}" for name, body in render_definitions(definitions, mapping, to_dsl)]
    return "; ".join(parts + [to_dsl(root, mapping)])

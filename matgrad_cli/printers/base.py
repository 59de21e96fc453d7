"""What every printer shares: dispatch per node class, the operand contexts, product chains,
sums with subtraction, and parenthesisation through ``precedence.needs_parens``.

A printer method ``_print_<NodeClass>(node, ctx)`` returns a ``Printed``: the text plus the
level it printed at, so that the parent decides on parentheses from the one table in
``precedence.py``. A format (text, LaTeX, DSL) is a subclass that sets its spellings and
overrides the node methods whose form differs.

Two facts about a node depend on where it sits, and travel down in a ``Context``:

* ``broadcast``: the node is an operand of Add/Had/Div next to a sibling that is not a
  broadcast constant, so a ``Fill(c)`` (or ``Ones``) may print as the bare scalar ``c``
  (``1 - s``): the language broadcasts a scalar operand there.
* ``sized``: a sibling contains a variable, so the size of an identity follows from it and
  ``Eye`` may print as ``I``.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..ir import (LEAVES, Add, Call, Eye, Fill, MatMul, Node, Num, Ones, Scale, T, Var,
                  as_matrix, dim_add)
from . import precedence as P


@dataclass(frozen=True)
class Printed:
    """A printed operand: its text and the level it printed at.

    ``positive``: the text is a minus sign in front of something, and means −(positive);
    a sum prints such a term as a subtraction of ``positive``, wrapped at its own level.
    ``starts_neg``: the text starts with a minus sign (so it is parenthesised where a sign
    would be ambiguous).
    """

    text: str
    prec: int
    kind: str = ""
    positive: "Printed | None" = None
    starts_neg: bool = False

    def __post_init__(self):
        if self.positive is not None:
            object.__setattr__(self, "starts_neg", True)


@dataclass(frozen=True)
class Context:
    broadcast: bool = False
    sized: bool = False


PLAIN = Context()


def decimal_text(value: Fraction, max_places: int = 12) -> str | None:
    """A non-negative terminating fraction as a decimal (``0.5``, ``12``, ``0.125``);
    None when it does not terminate within ``max_places`` decimal places."""
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return None
    places = max(twos, fives)
    if places > max_places:
        return None
    scaled = value.numerator * 10 ** places // value.denominator
    if places == 0:
        return str(scaled)
    digits = str(scaled).rjust(places + 1, "0")
    return digits[:-places] + "." + digits[-places:]


def readable_number(value: Fraction) -> str | tuple[int, int]:
    """How to write a non-negative number: a decimal when it terminates (``0.5``,
    ``3.141592653589793``, as the user wrote it), a fraction of small terms (``1/3``), and
    otherwise the nearest double, as Python writes it: a constant raised to a power is
    exact as a fraction of 40 digits, but no reader wants those."""
    decimal = decimal_text(value, max_places=17)
    if decimal is not None and len(decimal) <= 20:
        return decimal
    if value.numerator < 10_000 and value.denominator < 10_000:
        return value.numerator, value.denominator
    return repr(float(value))


class Printer:
    """Base printer. Subclasses set the spellings below and the format-specific methods."""

    minus = "-"
    add_sep = " + "
    sub_sep = " - "
    mul_sep = "*"
    had_sep = " .* "
    ediv_sep = " ./ "
    sdiv_sep = " / "
    frob_sep = " : "

    def __init__(self, names: dict | None = None):
        self.names: dict = dict(names or {})
        self._has_var: dict = {}

    # ------------------------------------------------------------ entry points

    def doprint(self, node: Node) -> str:
        return self.print(node).text

    def print(self, node: Node, ctx: Context = PLAIN) -> Printed:
        name = self.names.get(node)
        if name is not None:
            return Printed(self.name(name), P.ATOM)
        method = getattr(self, "_print_" + type(node).__name__, None)
        if method is None:
            raise TypeError(f"{type(self).__name__} cannot print a {type(node).__name__} node")
        return method(node, ctx)

    # ------------------------------------------------------------ hooks of a format

    def name(self, name: str) -> str:
        return name

    def paren(self, text: str) -> str:
        return f"({text})"

    def magnitude(self, value: Fraction) -> Printed:
        """A non-negative number."""
        raise NotImplementedError

    def coefficient(self, value: Fraction) -> str:
        """A positive number written in front of other factors."""
        p = self.magnitude(value)
        return p.text if p.prec == P.ATOM else self.paren(p.text)

    # ------------------------------------------------------------ shared helpers

    def wrap(self, p: Printed, parent: int, parent_kind: str, position: str) -> str:
        if P.needs_parens(p.prec, p.kind, p.starts_neg, parent, parent_kind, position):
            return self.paren(p.text)
        return p.text

    def number(self, value: Fraction) -> Printed:
        if value < 0:
            mag = self.magnitude(-value)
            return Printed(self.minus + mag.text, min(mag.prec, P.NEG), mag.kind, positive=mag)
        return self.magnitude(value)

    def binary(self, left: Printed, right: Printed, sep: str, prec: int, kind: str) -> Printed:
        """``left sep right`` at level ``prec``: the left operand is read first (the
        language reads every level left to right), so only a looser one is parenthesised."""
        left_wrapped = P.needs_parens(left.prec, left.kind, left.starts_neg, prec, kind, P.LEFT)
        ltext = self.paren(left.text) if left_wrapped else left.text
        rtext = self.wrap(right, prec, kind, P.RIGHT)
        text = ltext + sep + rtext
        if not left_wrapped and left.positive is not None:
            # every operator of levels 2 and 3 is linear in its left operand: (−a)∘b = −(a∘b)
            return Printed(text, prec, kind, positive=self.binary(left.positive, right, sep,
                                                                    prec, kind))
        return Printed(text, prec, kind, starts_neg=left.starts_neg and not left_wrapped)

    def has_var(self, node: Node) -> bool:
        """Whether the node contains a variable (or a named sub-expression)."""
        known = self._has_var.get(node)
        if known is None:
            known = (node in self.names or isinstance(node, Var)
                     or any(self.has_var(c) for c in node.children))
            self._has_var[node] = known
        return known

    def is_leaf(self, node: Node) -> bool:
        return isinstance(node, LEAVES) or node in self.names

    def is_fill_like(self, node: Node) -> bool:
        """A broadcast constant: prints as a bare scalar where the language broadcasts."""
        return isinstance(node, (Fill, Ones)) and node not in self.names

    def operand_contexts(self, operands, broadcast: bool = True) -> list[Context]:
        """Contexts of the operands of an n-ary operator whose operands share one shape."""
        fills = [self.is_fill_like(o) for o in operands]
        # a broadcast scalar prints without its shape, so it cannot size an I beside it
        has_vars = [self.has_var(o) and not f for o, f in zip(operands, fills, strict=True)]
        non_fill, with_var = fills.count(False), has_vars.count(True)
        return [Context(broadcast=broadcast and non_fill - (not f) > 0, sized=with_var - v > 0)
                for f, v in zip(fills, has_vars, strict=True)]

    # ------------------------------------------------------------ sums

    def _print_Add(self, node: Add, ctx: Context) -> Printed:
        pieces: list[str] = []
        starts_neg = False
        contexts = self.operand_contexts(node.terms)
        for i, (term, c) in enumerate(zip(node.terms, contexts, strict=True)):
            p = self.print(term, c)
            if i == 0:
                first = self.wrap(p, P.ADD, "add", P.LEFT)
                starts_neg = p.starts_neg and first == p.text
                pieces.append(first)
            elif p.positive is not None and p.prec > P.ADD:
                pieces.append(self.sub_sep + self.wrap(p.positive, P.ADD, "sub", P.RIGHT))
            else:
                pieces.append(self.add_sep + self.wrap(p, P.ADD, "add", P.RIGHT))
        return Printed("".join(pieces), P.ADD, "add", starts_neg=starts_neg)

    # ------------------------------------------------------------ product chains

    def chain_factors(self, node: Node) -> tuple[Fraction, list[Node], list[Node]]:
        """Flatten a product (MatMul, Scale, and a Fill outside a broadcast position) into
        its numeric coefficient, its scalar factors and its matrix factors, in order.

        A scalar-valued matrix product below a Scale (the ``xᵀy`` of ``(xᵀy) A``) stays one
        scalar factor: its 1×1 value scales whatever follows it.
        """
        coef = Fraction(1)
        scalars: list[Node] = []
        matrices: list[Node] = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n is not node and n in self.names:
                (scalars if n.shape == () else matrices).append(n)
            elif isinstance(n, Num):
                coef *= n.value
            elif isinstance(n, Scale):
                stack += [n.operand, n.factor]
            elif isinstance(n, MatMul) and (n is node or n.shape != ()):
                stack += [n.right, n.left]
            elif isinstance(n, Fill):
                stack += [Ones(n.dims), n.value] if n.dims else [n.value]
            else:
                (scalars if n.shape == () else matrices).append(n)
        return coef, scalars, matrices

    def chain(self, node: Node, ctx: Context) -> Printed:
        """A product: numeric coefficient first, then scalar factors, then the matrix
        factors in order. A negative coefficient prints as a leading minus sign."""
        coef, scalars, matrices = self.chain_factors(node)
        matrices = _outer_products(matrices)
        if not scalars and not matrices:
            return self.number(coef)
        var_count = sum(self.has_var(m) for m in matrices)
        printed = [self.print(s) for s in scalars]
        for m in matrices:
            others_have_var = var_count - self.has_var(m) > 0
            sized = others_have_var or (len(matrices) == 1 and ctx.sized)
            printed.append(self.print(m, Context(sized=sized)))
        negative, magnitude = coef < 0, abs(coef)
        if magnitude == 1 and len(printed) == 1:
            only = printed[0]
            if not negative:
                return only
            return Printed(self.minus + self.wrap(only, P.NEG, "", P.UNARY), P.NEG, "",
                           positive=only)
        positive = self.product(magnitude, printed)
        if negative:
            body = self.paren(positive.text) if positive.starts_neg else positive.text
            return Printed(self.minus + body, P.PRODUCT, "mul", positive=positive)
        return positive

    def product(self, magnitude: Fraction, printed: list[Printed]) -> Printed:
        """The factors of a chain behind a positive coefficient (none when it is 1)."""
        sum_kind = getattr(self, "sum_kind", None)  # Σᵢ … (tensors/printing.py)
        if magnitude != 1:
            pieces = [self.coefficient(magnitude)]
            pieces += [self.wrap(p, P.PRODUCT, "mul", P.RIGHT) for p in printed]
            if printed[-1].kind == sum_kind is not None:  # 2 Σᵢ fᵢ: Σ reads to the end
                pieces[-1] = printed[-1].text
                return Printed(self.mul_sep.join(pieces), P.PRODUCT, sum_kind)
            return Printed(self.mul_sep.join(pieces), P.PRODUCT, "mul")
        first, rest = printed[0], [self.wrap(p, P.PRODUCT, "mul", P.RIGHT) for p in printed[1:]]
        # an index sum Σᵢ … as the last factor reads to the end of the chain: β Σᵢ fᵢ; the
        # chain is then itself a Σ to whatever stands after it
        last_sum = len(printed) > 1 and printed[-1].kind == sum_kind is not None
        if last_sum:
            rest[-1] = printed[-1].text
        kind = sum_kind if last_sum else "mul"
        first_wrapped = P.needs_parens(first.prec, first.kind, first.starts_neg, P.PRODUCT,
                                       "mul", P.LEFT)
        text = self.mul_sep.join([self.paren(first.text) if first_wrapped else first.text] + rest)
        if first_wrapped or not first.starts_neg:
            return Printed(text, P.PRODUCT, kind)
        if first.positive is None:
            return Printed(text, P.PRODUCT, "mul", starts_neg=True)
        # the first factor reads as −a: the whole chain is −(a ...)
        return Printed(text, P.PRODUCT, "mul",
                       positive=self.product(Fraction(1), [first.positive] + printed[1:]))

    def _print_MatMul(self, node, ctx):
        return self.chain(node, ctx)

    def _print_Scale(self, node, ctx):
        quotient = _unit_fraction_of_quotient(node)
        if quotient is not None:  # ½ (a / b) reads a / (2 b), as the user wrote it
            return self.print(quotient, ctx)
        return self.chain(node, ctx)

    def _print_Fill(self, node, ctx):
        if ctx.broadcast or not node.dims:
            return self.print(node.value)
        return self.chain(node, ctx)

    def _print_Ones(self, node, ctx):
        if ctx.broadcast or not node.dims:
            return self.number(Fraction(1))
        return self.ones(node.dims)

    # ------------------------------------------------------------ entrywise products

    def _print_Had(self, node, ctx):
        if node.left == node.right and node.shape and not isinstance(node.left, (Num, Ones)):
            from ..ir import Pow  # a ⊙ a reads a.^2 (cos(x).^2 − sin(x).^2)

            # (printed as a power, not looked up as one: a name for a⊙a is this node's)
            return self._print_Pow(Pow(node.left, Num(2)), ctx)
        lc, rc = self.operand_contexts((node.left, node.right))
        return self.binary(self.print(node.left, lc), self.print(node.right, rc), self.had_sep,
                           P.level(node), P.kind(node))

    def _print_Div(self, node, ctx):
        lc, rc = self.operand_contexts((node.left, node.right))
        scalar_divisor = node.shape == () or rc.broadcast and self.is_fill_like(node.right)
        sep = self.sdiv_sep if scalar_divisor else self.ediv_sep
        return self.binary(self.print(node.left, lc), self.print(node.right, rc), sep,
                           P.level(node), P.kind(node))

    def _print_Frob(self, node, ctx):
        if node.left == node.right and node.left.shape:  # u : u reads as the user wrote it
            from .. import algebra as alg
            from ..ir import T

            u = node.left.operand if isinstance(node.left, T) else node.left  # ‖uᵀ‖ = ‖u‖
            return self.print(alg.power(alg.call("norm", u), alg.num(2)), ctx)
        lc, rc = self.operand_contexts((node.left, node.right), broadcast=False)
        return self.binary(self.print(node.left, lc), self.print(node.right, rc),
                           self.frob_sep, P.level(node), P.kind(node))

    # ------------------------------------------------------------ leaves

    def _print_Num(self, node, ctx):
        return self.number(node.value)

    def _print_Var(self, node, ctx):
        return Printed(self.name(node.name), P.ATOM)

    def _print_Eye(self, node, ctx):
        return self.eye(node.n, ctx.sized)

    def _print_Zeros(self, node, ctx):
        return self.zeros(node.dims) if node.dims else self.number(Fraction(0))

    def _print_Commutation(self, node, ctx):
        return self.commutation(node.m, node.n)

    # ------------------------------------------------------------ calls

    def _print_Call(self, node, ctx):
        special = getattr(self, "_call_" + node.name, None)
        if special is not None:
            return special(node, ctx)
        return self.call_generic(node)

    def call_generic(self, node) -> Printed:
        raise NotImplementedError

    def eye(self, n, sized: bool) -> Printed:
        raise NotImplementedError

    def ones(self, dims) -> Printed:
        raise NotImplementedError

    def zeros(self, dims) -> Printed:
        raise NotImplementedError

    def commutation(self, m, n) -> Printed:
        raise NotImplementedError

    # ------------------------------------------------------------ block matrices

    def block_rows(self, node: Node, top: bool = True) -> list[list[Node]]:
        """The blocks of nested hcat/vcat as rows of blocks: [A, B; C, D] is
        vcat(hcat(A, B), hcat(C, D)); a join of stacked pieces stays one block."""
        if (not top and node in self.names) or not isinstance(node, Call) or \
                node.name not in ("hcat", "vcat"):
            return [[node]]
        a, b = (self.block_rows(x, False) for x in node.args)
        if node.name == "vcat":
            return a + b
        if len(a) == 1 and len(b) == 1:
            return [a[0] + b[0]]
        return [list(node.args)]  # [[A; C], B]: a stacked block beside another

    def is_block(self, node: Node) -> bool:
        return isinstance(node, Call) and node.name in ("hcat", "vcat")

    def _call_hcat(self, node, ctx):
        cells = [[self.print(e).text for e in row] for row in self.block_rows(node)]
        return self.block(cells)

    def _call_vcat(self, node, ctx):
        return self._call_hcat(node, ctx)

    def block(self, cells: list[list[str]]) -> Printed:
        """[A, B; C, D] (the language's and the text form; LaTeX overrides)."""
        return Printed("[" + "; ".join(", ".join(row) for row in cells) + "]", P.ATOM)

    def _print_Slice(self, node, ctx):
        """X[a:b, c:d] (1-based, inclusive; ':' for all): the block of rows a … b and
        columns c … d, as MATLAB and textbooks write it."""
        base = self.wrap(self.print(node.operand), P.TRANSPOSE, "", P.POSTFIX)
        m, n = as_matrix(node.operand.shape)
        ranges = [self.index_range(node.row0, node.nrows, m)]
        if len(node.operand.shape) == 2:
            ranges.append(self.index_range(node.col0, node.ncols, n))
        return self.indexed(base, ranges)

    def index_range(self, start, count, full) -> str:
        if start == 0 and count == full:
            return ":"
        first, last = dim_add(start, 1), dim_add(start, count)
        return self.dim(first) if first == last else f"{self.dim(first)}:{self.dim(last)}"

    def indexed(self, base: str, ranges: list[str]) -> Printed:
        return Printed(f"{base}[{', '.join(ranges)}]", P.ATOM)


# ---------------------------------------------------------------- u uᵀ of a sum u

def _mirror(node: Node) -> Node:
    """Nᵀ with the transpose pushed to the leaves, as the simplifier leaves it."""
    if isinstance(node, T):
        return node.operand
    if isinstance(node, Add):
        return Add(tuple(_mirror(t) for t in node.terms))
    if isinstance(node, Scale):
        return Scale(node.factor, _mirror(node.operand))
    if isinstance(node, MatMul):
        return MatMul(_mirror(node.right), _mirror(node.left))
    if isinstance(node, Ones) and len(node.dims) == 2 and node.dims[0] == 1:
        return Ones((node.dims[1],))
    if isinstance(node, Ones) and len(node.dims) == 1:
        return Ones((1, node.dims[0]))
    if node.shape == () or isinstance(node, Eye) or (isinstance(node, Var) and
                                                     node.symmetric):
        return node
    return T(node)


def _outer_products(matrices: list[Node]) -> list[Node]:
    """(x − m)(xᵀ − mᵀ) reads (x − m)(x − m)ᵀ, as textbooks write an outer product of a
    sum with itself (the simplifier pushed the second transpose to the leaves)."""
    out = list(matrices)
    for i in range(len(out) - 1):
        u = out[i]
        if isinstance(u, Add) and not isinstance(out[i + 1], T):
            try:
                # only where u reads with fewer transposes than uᵀ: (x − m)(x − m)ᵀ, but
                # (xᵀ − mᵀ)(x − m) stays
                if out[i + 1] == _mirror(u) and _transposes(u) < _transposes(out[i + 1]):
                    out[i + 1] = T(u)
            except AssertionError:  # a shape that does not mirror: leave it
                pass
    return out


def _transposes(node: Node) -> int:
    return int(isinstance(node, T)) + sum(_transposes(c) for c in node.children)


def _unit_fraction_of_quotient(node):
    """(1/q) (a / b) of scalars as a / (q b), or (−1/q) (−a / b) as a / (q b) … (q > 1)."""
    from ..ir import Div, Num, Scale

    factor, operand = node.factor, node.operand
    if node.shape != () or not isinstance(factor, Num) or not isinstance(operand, Div):
        return None
    value = factor.value
    if abs(value.numerator) != 1 or value.denominator == 1:
        return None
    from .. import algebra as alg

    numerator = operand.left if value > 0 else alg.neg(operand.left)
    return Div(numerator, Scale(Num(value.denominator), operand.right))


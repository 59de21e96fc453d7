"""Recursive-descent parser: tokens → an untyped syntax tree with spans.

Grammar (SPEC §2; loosest first, left to right within a level except the powers)::

    program    := ((definition | function) SEP)* expr SEP*
    definition := NAME '=' expr
    function   := NAME '(' NAME ')' '=' expr        # a user-defined entrywise function
    expr       := frob (('+' | '-') frob)*
    frob       := product (':' product)*
    product    := unary (('*' | '.*' | './' | '/') unary | <juxtaposition> power)*
    unary      := '-' unary | power
    power      := postfix (('^' | '.^') unary)?        # right to left via unary → power
    postfix    := atom ("'" | 'ᵀ' | '.T')*
    atom       := NUMBER | NAME | FUNCTION '(' args ')' | '(' expr ')'
                | BAR expr BAR SUBSCRIPT? | block
    block      := '[' expr (',' expr)* ((';' | NEWLINE)+ expr (',' expr)*)* ']'

A block matrix ``[A, B; C, D]``: ``,`` joins horizontally, ``;`` (or a newline) starts the
next block row; both mean this only inside the brackets (at the top level ``;`` separates
definitions). ``[`` right after a name, with no space, is not a block matrix (SPEC §2b:
it indexes); ``x [A, B]`` with a space is a product.

Juxtaposition: an operand followed directly by something that starts an atom (a number,
a name, '(' or a bar that opens a norm) is a product: ``2x``, ``P'P``, ``A(x+y)``,
``2||x||^2``. A bar closes the innermost open norm when the innermost open bracket is a
norm of the same style and the bar follows a complete operand; otherwise it opens a norm
(so ``|| ||x|| ||`` is a norm of a norm), except that a bar after a complete operand right
inside a norm of the other style is an error (``‖x||``: ``‖`` pairs only with ``‖``).
Shapes are checked later (shapes.py); this module knows nothing of NumPy or SymPy.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import ParseError, Span
from ..ops import ALONG, ENTRYWISE, FUNCTION_NAMES, NOT_FUNCTIONS, SIZED, SLICES, STRUCTURAL
from .index_syntax import IndexParsing, SumBinder, parse_indexed_definition
from .tokens import (BAR, COMMA, END, EQ, LBRACKET, LPAREN, NAME, NUM, OP, RBRACKET, RPAREN,
                     SEP, SUB, TRANSPOSE, Token, tokenize)


# ---------------------------------------------------------------- syntax tree

@dataclass(frozen=True, eq=False)
class Syntax:
    span: Span


@dataclass(frozen=True, eq=False)
class NumberLit(Syntax):
    value: Fraction
    text: str


@dataclass(frozen=True, eq=False)
class Name(Syntax):
    name: str


@dataclass(frozen=True, eq=False)
class CallExpr(Syntax):
    name: str
    args: tuple
    name_span: Span


@dataclass(frozen=True, eq=False)
class Negate(Syntax):
    operand: Syntax


@dataclass(frozen=True, eq=False)
class Binary(Syntax):
    op: str  # '+', '-', ':', '*', '.*', './', '/', '^', '.^'
    left: Syntax
    right: Syntax
    op_span: Span
    op_text: str = ""


@dataclass(frozen=True, eq=False)
class Transpose(Syntax):
    operand: Syntax


@dataclass(frozen=True, eq=False)
class NormExpr(Syntax):
    operand: Syntax
    subscript: str | None  # None, '1', '2', 'F' or '*'


@dataclass(frozen=True, eq=False)
class BlockExpr(Syntax):
    """``[A, B; C, D]``: rows of blocks; ``commas[i][j]`` is the span of the comma before
    block j+1 of row i, ``semicolons[i]`` the separator before row i+1 (for the caret of a
    shape conflict)."""

    rows: tuple  # tuple of tuples of Syntax
    commas: tuple
    semicolons: tuple


@dataclass(frozen=True, eq=False)
class Definition:
    name: str
    name_span: Span
    value: Syntax


@dataclass(frozen=True, eq=False)
class FunctionDef:
    """``gelu(t) = body``: a scalar function of one parameter (SPEC §2)."""

    name: str
    name_span: Span
    param: str
    param_span: Span
    body: Syntax


@dataclass(frozen=True, eq=False)
class ProgramSyntax:
    definitions: tuple
    expr: Syntax
    source: str = field(repr=False, default="")
    functions: tuple = ()  # FunctionDef, in order


def syntax_children(node: Syntax, into_sizes: bool = True) -> tuple:
    """The operands of a syntax node; ``into_sizes=False`` skips the size arguments of the
    sized constants (``n`` in ``eye(n)`` is a size, not a value)."""
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, (Negate, Transpose, NormExpr)):
        return (node.operand,)
    if isinstance(node, CallExpr):
        if not into_sizes and node.name in SIZED:
            return ()
        if not into_sizes and node.name in SLICES:
            return tuple(node.args[:1])
        return tuple(node.args)
    if isinstance(node, BlockExpr):
        return tuple(e for row in node.rows for e in row)
    if isinstance(node, SumBinder):
        return (node.body,)
    return ()


# ---------------------------------------------------------------- parser

_PRODUCT_OPS = {"*", ".*", "./", "/"}


_SINGLE_LETTER = re.compile(r"[^\W\d_](\d+|_\w+)?")


def _is_product_name(name: str, declared) -> bool:
    """SPEC §2: ``NAME(`` that is not a call is a product only for a declared variable, a
    single letter (optionally with digits or a ``_`` subscript) or a Greek letter."""
    from .shapes import convention_kind

    if name in declared or _SINGLE_LETTER.fullmatch(name):
        return True
    return convention_kind(name) == "scalar"  # a Greek letter's name or the letter


def unknown_function_message(name: str) -> str:
    """'unknown function NAME', with the language's spelling when it is another tool's
    name (``trace`` → ``tr``) or the closest real function names (a typo)."""
    if name in NOT_FUNCTIONS:
        hint = NOT_FUNCTIONS[name]
        return f"unknown function '{name}'" + (f" — did you mean {hint}?" if hint else "")
    close = difflib.get_close_matches(name, sorted(FUNCTION_NAMES), n=3, cutoff=0.6)
    # a name inside a much closer suggestion adds nothing ('sofmax': softmax, not max)
    ratio = {c: difflib.SequenceMatcher(None, name, c).ratio() for c in close}
    close = [c for i, c in enumerate(close)
             if not any(c in b and ratio[b] - ratio[c] > 0.1 for b in close[:i])]
    if not close:
        return f"unknown function '{name}'"
    return f"unknown function '{name}' — did you mean {' or '.join(close)}?"


class _Parser(IndexParsing):
    def __init__(self, source: str, declared=frozenset()):
        self.source = source
        # names that are variables by declaration (--shape, eval inputs) or definition:
        # NAME( of one of them is a product
        self.declared = set(declared)
        self.tokens = tokenize(source)
        self.pos = 0
        self.functions: dict[str, FunctionDef] = {}  # user-defined functions so far
        # Open brackets, innermost last: '(' or a bar style ('||' / '‖'); decides what a
        # bar means.
        self.open: list[str] = []

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        t = self.tokens[self.pos]
        self.pos += 1
        return t

    def error(self, message: str, span: Span) -> ParseError:
        return ParseError(message, span, self.source)

    def expect_operand_error(self) -> ParseError:
        t = self.tok
        if t.kind == END:
            return self.error("unexpected end of input: an operand is missing", t.span)
        return self.error(f"expected an operand, found {t.describe()}", t.span)

    def bar_closes(self) -> bool:
        return bool(self.open) and self.open[-1] == self.tok.value

    def starts_atom(self) -> bool:
        t = self.tok
        if t.kind in (NUM, NAME, LPAREN):
            return True
        if t.kind == LBRACKET:
            return not self.indexes()
        return t.kind == BAR and not self.bar_closes()

    def check_bar_after_operand(self) -> None:
        """A bar right after a complete operand, directly inside a norm of the other style,
        is a failed attempt to close that norm (``‖`` pairs only with ``‖``)."""
        t = self.tok
        if t.kind == BAR and self.open and self.open[-1] not in ("(", "[", t.value):
            raise self.error(f"'{t.text}' cannot close the norm opened with '{self.open[-1]}' "
                             "('‖' pairs only with '‖', '||' only with '||')", t.span)

    # -- grammar
    def program(self) -> ProgramSyntax:
        definitions: list[Definition] = []
        while self.tok.kind == SEP:
            self.advance()
        while self.tok.kind == NAME and (self.peek().kind == EQ or self._function_head()
                                         or self.indexed_definition_head()):
            if self.peek().kind == LBRACKET:  # G[:, i, :] = body (index_syntax.py)
                definition = parse_indexed_definition(self)
                definitions.append(definition)
                self.declared.add(definition.name)
                if self.after_statement():
                    break
                continue
            if self.peek().kind == LPAREN:
                self.function_definition()
                if self.after_statement():
                    break
                continue
            name_tok = self.advance()
            if name_tok.text in self.functions:
                raise self.error(f"'{name_tok.text}' is a function and cannot be defined",
                                 name_tok.span)
            self.advance()
            if self.tok.kind in (SEP, END):
                raise self.error(f"definition of '{name_tok.text}' has no value", self.tok.span)
            value = self.expr()
            definitions.append(Definition(name_tok.text, name_tok.span, value))
            self.declared.add(name_tok.text)
            if self.after_statement():
                break  # reported below: the final expression is missing
        if self.tok.kind == END:
            if definitions:
                raise self.error("the input ends with a definition: a final expression is "
                                 "missing", self.tok.span)
            raise self.error("empty expression", self.tok.span)
        expr = self.expr()
        separated = self.tok.kind == SEP
        while self.tok.kind == SEP:
            self.advance()
        if self.tok.kind == EQ:
            raise self.error("'=' defines a name: the final expression comes after all "
                             "definitions", self.tok.span)
        if self.tok.kind != END:
            if self.tok.kind == NAME and self.peek().kind == EQ:
                raise self.error("a definition must come before the final expression",
                                 self.tok.span)
            if separated and _starts_operand(self.tok):
                raise self.error("a second expression: only the last statement is an "
                                 "expression, the ones before it must be definitions "
                                 "(NAME = expr)", self.tok.span)
            self.unexpected()
        return ProgramSyntax(tuple(definitions), expr, self.source,
                             tuple(self.functions.values()))

    def _function_head(self) -> bool:
        """NAME '(' NAME ')' '=' starts a function definition."""
        kinds = [self.peek(i).kind for i in range(1, 5)]
        return kinds == [LPAREN, NAME, RPAREN, EQ]

    def function_definition(self) -> None:
        name_tok = self.advance()
        self.advance()
        param_tok = self.advance()
        self.advance()
        eq = self.advance()
        name, param = name_tok.text, param_tok.text
        if name in FUNCTION_NAMES or name in SIZED:
            raise self.error(f"'{name}' is a function of the language and cannot be "
                             "redefined", name_tok.span)
        if name in self.functions:
            raise self.error(f"function '{name}' is defined twice", name_tok.span)
        if name in self.declared or name == "I":
            raise self.error(f"'{name}' is already a variable or definition and cannot "
                             "name a function", name_tok.span)
        if param in FUNCTION_NAMES or param in self.functions or param == name \
                or param == "I":
            raise self.error(f"'{param}' cannot be a parameter: it names a function",
                             param_tok.span)
        if self.tok.kind in (SEP, END):
            raise self.error(f"function '{name}' has no body", eq.span)
        body = self.expr()
        self.functions[name] = FunctionDef(name, name_tok.span, param, param_tok.span, body)

    def after_statement(self) -> bool:
        """Past the separators after a definition; True at the end of the input."""
        if self.tok.kind == END:
            return True
        if self.tok.kind != SEP:
            self.unexpected()
        while self.tok.kind == SEP:
            self.advance()
        return False

    def unexpected(self):
        t = self.tok
        if t.kind == RPAREN:
            raise self.error("unmatched ')'", t.span)
        if t.kind == BAR:
            raise self.error(f"unmatched norm bar '{t.text}'", t.span)
        if t.kind == EQ:
            raise self.error("'=' must follow a name at the start of a definition", t.span)
        if t.kind == SUB:
            raise self.error("a norm subscript must follow a closing norm bar", t.span)
        if t.kind == RBRACKET:
            raise self.error("unmatched ']'", t.span)
        if t.kind == LBRACKET and self.indexes():
            name = self.tokens[self.pos - 1].text
            raise self.error(f"'{name}[' with no space is indexing, which needs a tensor "
                             f"index (SPEC §2b); for a product with a block matrix write "
                             f"'{name} [...]'", t.span)
        raise self.error(f"unexpected {t.describe()}", t.span)

    def expr(self) -> Syntax:
        left = self.frob()
        while self.tok.kind == OP and self.tok.value in ("+", "-"):
            op = self.advance()
            right = self.frob()
            left = Binary(left.span.cover(right.span), op.value, left, right, op.span, op.text)
        return left

    def frob(self) -> Syntax:
        left = self.product()
        while self.tok.kind == OP and self.tok.value == ":":
            op = self.advance()
            right = self.product()
            left = Binary(left.span.cover(right.span), ":", left, right, op.span, op.text)
        return left

    def product(self) -> Syntax:
        left = self.unary()
        while True:
            t = self.tok
            if t.kind == OP and t.value in _PRODUCT_OPS:
                self.advance()
                right = self.unary()
                left = Binary(left.span.cover(right.span), t.value, left, right, t.span, t.text)
            elif self.check_bar_after_operand() or self.starts_atom():
                right = self.power()
                gap = Span(left.span.end, right.span.start)
                left = Binary(left.span.cover(right.span), "*", left, right, gap, "")
            else:
                return left

    def unary(self) -> Syntax:
        t = self.tok
        if t.kind == OP and t.value == "-":
            self.advance()
            operand = self.unary()
            return Negate(t.span.cover(operand.span), operand)
        if t.kind == OP and t.value == "+":
            raise self.error("unary '+' is not part of the language", t.span)
        return self.power()

    def power(self) -> Syntax:
        base = self.postfix()
        t = self.tok
        if t.kind == OP and t.value in ("^", ".^"):
            self.advance()
            exponent = self.unary()
            return Binary(base.span.cover(exponent.span), t.value, base, exponent, t.span, t.text)
        return base

    def postfix(self) -> Syntax:
        node = self.atom()
        while self.tok.kind == TRANSPOSE:
            t = self.advance()
            node = Transpose(node.span.cover(t.span), node)
        return node

    def atom(self) -> Syntax:
        t = self.tok
        if t.kind == NUM:
            self.advance()
            return NumberLit(t.span, t.value, t.text)
        if t.kind == NAME:
            self.advance()
            if self.indexes_here(t):
                return self.index_expr(t)
            if t.text == "delta" and self.tok.kind == LPAREN and "delta" not in self.declared:
                return self.delta_expr(t)
            if self.tok.kind == LPAREN and t.text in self.functions:
                return self.call(t)
            if self.tok.kind == LPAREN and t.text in FUNCTION_NAMES \
                    and t.text not in self.declared:
                return self.call(t)
            if self.tok.kind == LPAREN and (self._has_comma_args() or
                                            not _is_product_name(t.text, self.declared)):
                raise self.error(unknown_function_message(t.text), t.span)
            if t.text in self.functions:  # one name, one thing (SPEC §2: defined once)
                raise self.error(f"'{t.text}' is the function defined above, not a value: "
                                 f"apply it, {t.text}(...)", t.span)
            return Name(t.span, t.text)
        if t.kind == LPAREN:
            self.advance()
            self.open.append("(")
            if self.tok.kind == RPAREN:
                raise self.error("empty parentheses", t.span.cover(self.tok.span))
            inner = self.expr()
            if self.tok.kind != RPAREN:
                if self.tok.kind in (END, SEP):
                    raise self.error("unclosed '('", t.span)
                self.unexpected()
            close = self.advance()
            self.open.pop()
            return _with_span(inner, t.span.cover(close.span))
        if t.kind == BAR:
            return self.norm()
        if t.kind == LBRACKET:
            return self.block()
        if t.kind == RBRACKET:
            raise self.error("unmatched ']'", t.span)
        if t.kind == OP and t.value == "-":
            raise self.error("a '-' here needs parentheses: write x*(-y) or -(x*y)", t.span)
        raise self.expect_operand_error()

    def indexes(self) -> bool:
        """'[' right after a name, with no space: indexing (SPEC §2b), not a block matrix."""
        before = self.tokens[self.pos - 1] if self.pos else None
        return (self.tok.kind == LBRACKET and before is not None and before.kind == NAME
                and before.span.end == self.tok.span.start)

    def block(self) -> Syntax:
        """``[A, B; C, D]``: ',' within a block row, ';' or a newline between rows."""
        open_tok = self.advance()
        self.open.append("[")
        rows, commas, semicolons = [], [], []
        row, row_commas = [], []
        if self.tok.kind == RBRACKET:
            raise self.error("empty block matrix '[]'", open_tok.span.cover(self.tok.span))
        while True:
            if self.tok.kind == SEP and not row:
                raise self.error("an empty block row", self.tok.span)
            row.append(self.expr())
            if self.tok.kind == COMMA:
                row_commas.append(self.advance().span)
                continue
            if self.tok.kind in (SEP, RBRACKET):
                rows.append(tuple(row))
                commas.append(tuple(row_commas))
                row, row_commas = [], []
                if self.tok.kind == RBRACKET:
                    break
                separator = self.advance().span
                while self.tok.kind == SEP and self.tok.text == "\n":  # ';' then a newline
                    self.advance()
                if self.tok.kind == RBRACKET:  # a trailing separator, as MATLAB allows
                    break
                semicolons.append(separator)
                continue
            if self.tok.kind == END:
                raise self.error("unclosed '[' of a block matrix", open_tok.span)
            if self.tok.kind == RPAREN:
                raise self.error("unmatched ')' inside a block matrix", self.tok.span)
            self.unexpected()
        close = self.advance()
        self.open.pop()
        return BlockExpr(open_tok.span.cover(close.span), tuple(rows), tuple(commas),
                         tuple(semicolons))

    def _has_comma_args(self) -> bool:
        depth = 0
        for tok in self.tokens[self.pos:]:
            if tok.kind == LPAREN:
                depth += 1
            elif tok.kind == RPAREN:
                depth -= 1
                if depth == 0:
                    return False
            elif tok.kind == COMMA and depth == 1:
                return True
            elif tok.kind in (END, SEP):
                return False
        return False

    def call(self, name_tok: Token) -> Syntax:
        name = name_tok.text
        if name == "sum" and (names := self.binder_ahead()):
            binder = self.index_sum(name_tok, names)
            if binder is not None:
                return binder
        open_tok = self.advance()
        self.open.append("(")
        args: list[Syntax] = []
        if self.tok.kind == RPAREN:
            raise self.error(f"{name}() needs an argument", name_tok.span.cover(self.tok.span))
        while True:
            args.append(self.expr())
            if self.tok.kind == COMMA:
                self.advance()
                continue
            if self.tok.kind == RPAREN:
                break
            if self.tok.kind in (END, SEP):
                raise self.error(f"unclosed '(' of {name}(", open_tok.span)
            self.unexpected()
        close = self.advance()
        self.open.pop()
        span = name_tok.span.cover(close.span)
        _check_arity(name, args, name_tok.span, self.source)
        if name in ALONG and len(args) == 2:
            # sum(X, k): the entry for that k; k is part of the function, not a value
            k = args[1]
            if not (isinstance(k, NumberLit) and k.value in (1, 2)):
                raise self.error(f"the dimension k in {name}(X, k) must be the number 1 "
                                 "(down each column) or 2 (along each row)", k.span)
            return CallExpr(span, ALONG[name][int(k.value) - 1], (args[0],), name_tok.span)
        return CallExpr(span, name, tuple(args), name_tok.span)

    def norm(self) -> Syntax:
        open_tok = self.advance()
        self.open.append(open_tok.value)
        # A bar opens a norm unless it follows a complete operand (SPEC §2), so
        # `|| ||x|| ||` is a norm of a norm, but `||||` and `|| ||` are empty.
        if self.tok.kind == BAR and self.bar_closes() and not _starts_operand(self.peek()):
            raise self.error("empty norm", open_tok.span.cover(self.tok.span))
        if not _starts_operand(self.tok):
            if self.tok.kind in (END, SEP):
                raise self.error(f"unclosed norm '{open_tok.text}'", open_tok.span)
            if self.tok.kind == RPAREN and open_tok.value in self.open[:-1]:
                raise self.error("a norm cannot close inside parentheses it did not open",
                                 open_tok.span)
        inner = self.expr()
        if self.tok.kind != BAR or not self.bar_closes():
            if self.tok.kind == BAR:
                raise self.error(f"'{self.tok.text}' cannot close the norm opened with "
                                 f"'{open_tok.text}'", self.tok.span)
            if self.tok.kind in (END, SEP):
                raise self.error(f"unclosed norm '{open_tok.text}'", open_tok.span)
            if self.tok.kind == RPAREN:
                raise self.error("a norm cannot close inside parentheses it did not open",
                                 self.tok.span)
            self.unexpected()
        close = self.advance()
        self.open.pop()
        span = open_tok.span.cover(close.span)
        subscript = None
        if self.tok.kind == SUB:
            sub = self.advance()
            subscript = sub.value
            span = span.cover(sub.span)
        return NormExpr(span, inner, subscript)


def _starts_operand(t: Token) -> bool:
    return t.kind in (NUM, NAME, LPAREN, BAR, LBRACKET) or (t.kind == OP and t.value == "-")


def _with_span(node: Syntax, span: Span) -> Syntax:
    """The parenthesised node, spanning its parentheses (errors point at the whole group)."""
    import dataclasses

    return dataclasses.replace(node, span=span)


def _check_arity(name: str, args: list, span: Span, source: str) -> None:
    if name in SIZED:
        allowed = SIZED[name]
    elif name in SLICES:
        allowed = (3,)
    elif name in ENTRYWISE or name not in STRUCTURAL:  # a user-defined function too
        allowed = (1,)
    elif name in ALONG:
        allowed = (1, 2)
    else:
        allowed = (STRUCTURAL[name].arity,)
    if len(args) not in allowed:
        want = " or ".join(str(a) for a in allowed)
        plural = "s" if allowed[-1] != 1 else ""
        raise ParseError(f"{name} takes {want} argument{plural}, got {len(args)}", span, source)


def parse_syntax(source: str, declared=frozenset()) -> ProgramSyntax:
    """Parse text into the untyped syntax tree (no shapes yet); ``declared`` names the
    variables given shapes or arrays, for which ``NAME(`` is a product."""
    return _Parser(source, declared).program()

"""Index notation in the parser (SPEC §2b): ``NAME[e1, …, ek]``, ``sum(i, j: body)``,
``delta(i, j)`` and indexed definitions ``G[:, i, :] = body``.

Grammar (added to parser.py's)::

    index      := NAME '[' entry (',' entry)* ']'     # '[' right after the name, no space
    entry      := NAME | ':'
    binder_sum := 'sum' '(' NAME (',' NAME)* ':' expr ')'
    delta      := 'delta' '(' NAME ',' NAME ')'
    indexed_definition := index '=' expr

``sum(`` takes the binder form when everything before the first top-level ':' is a list of
names that the body uses in index positions; otherwise the ':' is the Frobenius product.
These are the methods of a mixin of the parser, so that the parser's own file holds only
the calls into them.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import Span
from .tokens import COMMA, END, EQ, LBRACKET, LPAREN, NAME, OP, RBRACKET, RPAREN, SEP


@dataclass(frozen=True, eq=False)
class IndexExpr:
    span: Span
    name: str
    name_span: Span
    entries: tuple  # an index name (str) or None for ':', per axis
    entry_spans: tuple


@dataclass(frozen=True, eq=False)
class SumBinder:
    span: Span
    labels: tuple
    label_spans: tuple
    body: object


@dataclass(frozen=True, eq=False)
class DeltaExpr:
    span: Span
    i: str
    j: str
    i_span: Span
    j_span: Span


INDEX_SYNTAX = (IndexExpr, SumBinder, DeltaExpr)


def index_positions(node, found: set | None = None) -> set:
    """The index names a syntax tree uses in index positions (X[i, :], delta(i, j))."""
    from .parser import syntax_children

    found = set() if found is None else found
    if isinstance(node, IndexExpr):
        found.update(e for e in node.entries if e is not None)
    elif isinstance(node, DeltaExpr):
        found.update((node.i, node.j))
    elif isinstance(node, SumBinder):
        index_positions(node.body, found)
    else:
        for child in syntax_children(node):
            index_positions(child, found)
    return found


class IndexParsing:
    """Parser methods for index notation; mixed into parser._Parser."""

    def indexes_here(self, name_tok) -> bool:
        """A '[' right after a name (no space between) indexes it."""
        return self.tok.kind == LBRACKET and self.tok.span.start == name_tok.span.end

    def index_expr(self, name_tok) -> IndexExpr:
        open_tok = self.advance()
        entries, spans = [], []
        while True:
            t = self.tok
            if t.kind == OP and t.value == ":":
                entries.append(None)
            elif t.kind == NAME:
                entries.append(t.text)
            elif t.kind == RBRACKET and not entries:
                raise self.error(f"empty index: {name_tok.text}[...] needs one entry per axis",
                                 open_tok.span.cover(t.span))
            else:
                if t.kind in (END, SEP):
                    raise self.error(f"unclosed '[' of {name_tok.text}[", open_tok.span)
                raise self.error(f"an index must be an index name or ':', not {t.describe()}",
                                 t.span)
            spans.append(t.span)
            self.advance()
            if self.tok.kind == COMMA:
                self.advance()
                continue
            if self.tok.kind == RBRACKET:
                close = self.advance()
                break
            if self.tok.kind in (END, SEP):
                raise self.error(f"unclosed '[' of {name_tok.text}[", open_tok.span)
            raise self.error(f"expected ',' or ']' in the index of {name_tok.text}, found "
                             f"{self.tok.describe()}", self.tok.span)
        return IndexExpr(name_tok.span.cover(close.span), name_tok.text, name_tok.span,
                         tuple(entries), tuple(spans))

    def binder_ahead(self) -> list | None:
        """After ``sum``: the name tokens of ``(i, j:`` when the call starts that way."""
        if self.tok.kind != LPAREN:
            return None
        names, k = [], 1
        while True:
            t = self.peek(k)
            if t.kind != NAME:
                return None
            names.append(t)
            sep = self.peek(k + 1)
            if sep.kind == OP and sep.value == ":":
                return names
            if sep.kind != COMMA:
                return None
            k += 2

    def index_sum(self, name_tok, names: list):
        """``sum(i, j: body)``, or None (position restored) when the body does not use
        the names as indices: then the ':' is a Frobenius product."""
        start = self.pos
        open_tok = self.advance()
        self.pos += 2 * len(names)  # the names, their commas and the ':'
        self.open.append("(")
        body = self.expr()
        used = index_positions(body)
        if any(t.text not in used for t in names) or self.tok.kind != RPAREN:
            self.open.pop()
            if all(t.text in used for t in names) and self.tok.kind in (END, SEP):
                raise self.error("unclosed '(' of sum(", open_tok.span)
            self.pos = start
            return None
        labels = [t.text for t in names]
        for k, t in enumerate(names):
            if t.text in labels[:k]:
                raise self.error(f"index '{t.text}' is listed twice", t.span)
        close = self.advance()
        self.open.pop()
        return SumBinder(name_tok.span.cover(close.span), tuple(labels),
                         tuple(t.span for t in names), body)

    def delta_expr(self, name_tok) -> DeltaExpr:
        open_tok = self.advance()
        args = []
        for k in range(2):
            t = self.tok
            if t.kind != NAME:
                raise self.error("delta(i, j) takes two index names", t.span)
            args.append(self.advance())
            want = COMMA if k == 0 else RPAREN
            if self.tok.kind != want:
                raise self.error("delta(i, j) takes two index names",
                                 open_tok.span.cover(self.tok.span))
            close = self.advance()
        return DeltaExpr(name_tok.span.cover(close.span), args[0].text, args[1].text,
                         args[0].span, args[1].span)

    def indexed_definition_head(self) -> bool:
        """NAME '[' … ']' '=' starts an indexed definition."""
        if self.peek().kind != LBRACKET or self.peek().span.start != self.tok.span.end:
            return False
        k = 2
        while self.peek(k).kind not in (RBRACKET, END, SEP):
            k += 1
        return self.peek(k).kind == RBRACKET and self.peek(k + 1).kind == EQ


@dataclass(frozen=True, eq=False)
class IndexedDefinition:
    """``G[:, i, :] = body``: a definition (name, name_span, value as Definition has) with
    its pattern."""

    name: str
    name_span: Span
    value: object
    pattern: tuple
    pattern_spans: tuple
    span: Span


def parse_indexed_definition(parser) -> IndexedDefinition:
    name_tok = parser.advance()
    head = parser.index_expr(name_tok)
    eq = parser.advance()
    if parser.tok.kind in (SEP, END):
        raise parser.error(f"definition of '{name_tok.text}' has no value", eq.span)
    value = parser.expr()
    return IndexedDefinition(name_tok.text, name_tok.span, value, head.entries,
                             head.entry_spans, head.span)

"""Lexer: text → tokens that carry their source span.

What needs care here, and why:
- ``'`` is always a transpose (the language has no strings);
- ``.`` starts a number only before a digit (``.5``), else it is part of ``.*``, ``./``,
  ``.^`` or the transpose ``.T``; ``2.*x`` is therefore ``2 .* x`` as in MATLAB;
- an exponent needs digits (``2exp(x)`` is ``2 exp(x)``);
- ``||`` and ``‖`` are bars whose meaning (open or close) the parser decides, and
  ``_1``, ``_2``, ``_F``, ``_*`` right after a bar are norm subscripts;
- newlines separate statements, except inside parentheses; inside brackets (a block
  matrix) a newline separates block rows, as ``;`` does there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import ParseError, Span

NUM, NAME, OP, LPAREN, RPAREN, COMMA, SEP, EQ, BAR, SUB, TRANSPOSE, END = (
    "number", "name", "operator", "'('", "')'", "','", "';'", "'='", "norm bar",
    "norm subscript", "transpose", "end of input",
)
LBRACKET, RBRACKET = "'['", "']'"

_NUMBER = re.compile(r"([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DIGITS = "0123456789"
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_OPERATORS = [".*", "./", ".^", "+", "-", "−", "*", "⊙", "∘", "/", ":", "^", "·"]
# Spellings folded to one operator so the parser sees a single name per operation.
_CANONICAL = {"−": "-", "∘": ".*", "⊙": ".*", "·": "*"}
_TRANSPOSE_MARKS = ("'", "ᵀ", "’")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    span: Span
    value: object = None  # Fraction for numbers, canonical operator for OP, bar style for BAR

    def describe(self) -> str:
        if self.kind == END:
            return "end of input"
        if self.kind == SEP and self.text == "\n":
            return "end of line"
        return f"'{self.text}'"


def _is_name_start(ch: str) -> bool:
    return ch.isalpha() and ch not in "ᵀ"


def _is_name_char(ch: str) -> bool:
    # isdecimal, not isalnum: a superscript ² is not a digit of a name (x² is an error)
    return (ch.isalpha() or ch.isdecimal() or ch == "_") and ch not in "ᵀ⊙∘"


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i, depth, n = 0, 0, len(source)
    brackets: list[int] = []  # the parenthesis depth at each open '[', innermost last
    while i < n:
        ch = source[i]
        if ch in " \t\r":
            i += 1
            continue
        if ch == "#":  # a comment runs to the end of the line (handy in @files)
            while i < n and source[i] != "\n":
                i += 1
            continue
        if ch == "\n":
            if depth == 0 or (brackets and brackets[-1] == depth):
                tokens.append(Token(SEP, "\n", Span(i, i + 1)))
            i += 1
            continue
        if ch in _DIGITS or (ch == "." and i + 1 < n and source[i + 1] in _DIGITS):
            m = _NUMBER.match(source, i)
            text = m.group(0)
            tokens.append(Token(NUM, text, Span(i, m.end()), Fraction(text)))
            i = m.end()
            continue
        if ch == "." and source.startswith(".T", i) and not (
            i + 2 < n and _is_name_char(source[i + 2])
        ):
            tokens.append(Token(TRANSPOSE, ".T", Span(i, i + 2)))
            i += 2
            continue
        if _is_name_start(ch):
            j = i + 1
            while j < n and _is_name_char(source[j]):
                j += 1
            tokens.append(Token(NAME, source[i:j], Span(i, j)))
            i = j
            continue
        if ch in _TRANSPOSE_MARKS:
            tokens.append(Token(TRANSPOSE, ch, Span(i, i + 1)))
            i += 1
            continue
        if source.startswith("||", i) or ch == "‖":
            width = 1 if ch == "‖" else 2
            style = "‖" if ch == "‖" else "||"
            tokens.append(Token(BAR, source[i:i + width], Span(i, i + width), style))
            i += width
            if i < n and source[i] == "_":
                if i + 1 < n and source[i + 1] in "12Ff*":
                    tokens.append(Token(SUB, source[i:i + 2], Span(i, i + 2),
                                        source[i + 1].upper()))
                    i += 2
                else:
                    raise ParseError("a norm subscript must be _1, _2, _F or _*", Span(i, i + 2),
                                     source)
            continue
        if ch == "|":
            raise ParseError("a single '|' is not an operator: write ||x|| for a norm or "
                             "abs(x) for absolute values", Span(i, i + 1), source)
        if ch == "(":
            depth += 1
            tokens.append(Token(LPAREN, ch, Span(i, i + 1)))
            i += 1
            continue
        if ch == ")":
            depth = max(0, depth - 1)
            tokens.append(Token(RPAREN, ch, Span(i, i + 1)))
            i += 1
            continue
        if ch in "[]":
            # '[' opens a block matrix (the parser decides what '[' right after a name is)
            if ch == "[":
                brackets.append(depth)
            elif brackets:
                brackets.pop()
            tokens.append(Token(LBRACKET if ch == "[" else RBRACKET, ch, Span(i, i + 1)))
            i += 1
            continue
        if ch == ",":
            tokens.append(Token(COMMA, ch, Span(i, i + 1)))
            i += 1
            continue
        if ch == ";":
            tokens.append(Token(SEP, ch, Span(i, i + 1)))
            i += 1
            continue
        if ch == "=":
            if source.startswith("==", i):
                raise ParseError("'==' is not an operator: a definition is NAME = expr",
                                 Span(i, i + 2), source)
            tokens.append(Token(EQ, ch, Span(i, i + 1)))
            i += 1
            continue
        if source.startswith("**", i):
            raise ParseError("'**' is not an operator: write ^ for a power (.^ entrywise)",
                             Span(i, i + 2), source)
        for op in _OPERATORS:
            if source.startswith(op, i):
                tokens.append(Token(OP, op, Span(i, i + len(op)), _CANONICAL.get(op, op)))
                i += len(op)
                break
        else:
            if ch == "_":
                raise ParseError("a name must start with a letter", Span(i, i + 1), source)
            hint = {"{": "", "}": "", "!": "", "&": "", "%": "", "$": "",
                    "@": " (@ is only for reading the expression from a file: @path)",
                    "~": "", "<": "", ">": "", "?": "", "\\": "", '"': " (there are no strings)"}
            if ch in _SUPERSCRIPTS:
                hint[ch] = f" (write ^{_SUPERSCRIPTS.index(ch)} for a power)"
            raise ParseError(f"unexpected character '{ch}'{hint.get(ch, '')}",
                             Span(i, i + 1), source)
    tokens.append(Token(END, "", Span(n, n)))
    return tokens

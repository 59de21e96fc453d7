"""One error family. Every error can carry a span of the source text and renders
itself as a message line plus, where there is a place to point at, the source line with
carets under the offending span (httpie / lark style)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    start: int
    end: int

    def cover(self, other: "Span | None") -> "Span":
        if other is None:
            return self
        return Span(min(self.start, other.start), max(self.end, other.end))


class MatgradError(Exception):
    """Base of every error the program reports to the user (exit status 2)."""

    exit_code = 2

    def __init__(self, message: str, span: Span | None = None, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.source = source

    def render(self) -> str:
        """The message, then the source line and a caret line under the span."""
        if self.span is None or self.source is None:
            return self.message
        line_start = self.source.rfind("\n", 0, self.span.start) + 1
        line_end = self.source.find("\n", line_start)
        if line_end == -1:
            line_end = len(self.source)
        line = self.source[line_start:line_end]
        start = self.span.start - line_start
        end = min(max(self.span.end, self.span.start + 1), line_end) - line_start
        width = max(1, end - start)
        column = start + 1
        # keep the source's tabs in the padding so the caret lines up under them
        pad = "".join(c if c == "\t" else " " for c in line[:start])
        return f"{self.message} (column {column})\n  {line}\n  {pad}{'^' * width}"

    def __str__(self) -> str:
        return self.render()


class ParseError(MatgradError):
    """The text is not a sentence of the language."""


class ShapeError(MatgradError):
    """Operand shapes do not fit the operation."""


class ZeroDivisor(ShapeError):
    """A divisor that simplifies to 0 (sum(y) − sum(y)): found while simplifying."""


class InputError(MatgradError):
    """An input file or value cannot be used."""


class UsageError(MatgradError):
    """The command line asks for something that cannot be done."""


class EvaluationError(MatgradError):
    """Evaluation failed (e.g. a singular matrix); exit status 1."""

    exit_code = 1


class BudgetError(MatgradError):
    """The work needs more memory than the budget allows (SPEC §5); exit status 1."""

    exit_code = 1

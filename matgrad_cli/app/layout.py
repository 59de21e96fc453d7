"""Output as lines that know what they are, laid out for a pipe (plain text) or a terminal.

A ``Line`` is a ``head`` (the label ``∂f/∂x = ``, ``  where s = ``, ``  valid ``) and a
``body`` (the formula). Plain output is ``head + body`` per line, nothing else. On a
terminal (rich as a layout library) the same characters are shown, with the body wrapped
at the terminal's width under a hanging indent (continuation lines start below the
body, not below the label), preferring breaks before a top-level ``+``/``−``, and the
heads styled by the line's kind. Nothing is matched on the rendered text.
"""
from __future__ import annotations

from dataclasses import dataclass

FORMULA = "formula"  # f = …, ∂f/∂x = …: the results
WHERE = "where"  # a definition under a result
CONDITION = "condition"  # where a result is valid
NOTE = "note"  # shapes, conventions, section titles, values: plain
WARNING = "warning"


@dataclass(frozen=True)
class Line:
    kind: str
    head: str
    body: str = ""

    @property
    def text(self) -> str:
        return self.head + self.body


def blank() -> Line:
    return Line(NOTE, "")


def plain(lines: list[Line]) -> str:
    return "\n".join(line.text for line in lines)


def from_text(text: str) -> list[Line]:
    """Lines of already formatted text (values, verdicts): shown as they are."""
    return [Line(WARNING if t.startswith("warning") else NOTE, t) for t in text.split("\n")]


# ---------------------------------------------------------------- wrapping

def break_points(body: str) -> list[tuple[int, int]]:
    """(position of a space where the body may break, its parenthesis depth), with the
    break before a top-level `+`/`−`/`=` ranked first: depth 0 for those, 1 + depth for
    any other space."""
    points, depth, norm_open = [], 0, False
    for i, ch in enumerate(body):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "‖":  # ‖ opens and closes: alternate
            norm_open = not norm_open
            depth += 1 if norm_open else -1
        elif ch == " ":
            if i > 0 and body[i - 1] == " ":
                continue  # inside a gap: the gap breaks at its first space
            follows = body[i + 1:i + 2]
            if follows == " ":  # a gap (before the shape, a rule): the best break
                rank = -1
            else:
                rank = depth * 2 + (0 if follows in ("+", "−", "-", "=") else 1)
            points.append((i, rank))
    return points


def wrap(body: str, width: int, rest_width: int | None = None) -> list[str]:
    """``body`` in pieces of at most ``width`` characters (``rest_width`` after the first)
    where it can be, broken at the best-ranked space that keeps the piece longest; a piece
    with no space stays long."""
    pieces = []
    while len(body) > (width if not pieces else rest_width or width):
        width = width if not pieces else rest_width or width
        points = [(pos, rank) for pos, rank in break_points(body) if 0 < pos <= width]
        if not points:
            later = [pos for pos, _ in break_points(body) if pos > 0]
            if not later:
                break
            points = [(later[0], 0)]
        best_rank = min(rank for _, rank in points)
        # the loosest level wins unless it leaves the line less than half full
        good = [pos for pos, rank in points if rank == best_rank]
        pos = max(good)
        if pos < width // 2:
            pos = max(p for p, _ in points)
        pieces.append(body[:pos].rstrip())
        body = body[pos + 1:].lstrip()
    pieces.append(body)
    return pieces


_STYLES = {FORMULA: "bold cyan", WHERE: "bold", CONDITION: "yellow", WARNING: "yellow",
           NOTE: ""}


def to_terminal(lines: list[Line], console) -> None:
    """Print ``lines`` on a rich console: the body wrapped under its own start."""
    from rich.text import Text

    width = console.width
    for line in lines:
        if not line.body and len(line.head) > width:  # a long note: it hangs under itself
            margin = len(line.head) - len(line.head.lstrip())
            line = Line(line.kind, line.head[:margin], line.head[margin:])
        hang = len(line.head) if len(line.head) <= width // 2 else 4
        if line.body and not line.head.strip():
            hang += 2  # a note's continuation is indented a little more than its start
        pieces = wrap(line.body, max(10, width - len(line.head)), max(10, width - hang)) \
            if line.body else [""]
        indent = " " * hang
        for k, piece in enumerate(pieces):
            text = Text(no_wrap=False, overflow="fold")
            if k == 0:
                text.append(line.head, style=_STYLES[line.kind])
            else:
                text.append(indent)
            text.append(piece, style="yellow" if line.kind == CONDITION else "")
            console.print(text, soft_wrap=False, highlight=False)

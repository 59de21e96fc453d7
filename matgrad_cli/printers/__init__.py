"""Printers: one per format (Unicode text, LaTeX, the input language), all driven by the
one precedence table in ``precedence.py``; ``naming`` picks the sub-expressions worth a
name (``where s = σ(x)``)."""
from .dsl import to_dsl, to_dsl_line
from .latex import to_latex
from .naming import name_subexpressions, render_definitions
from .text import to_text

__all__ = ["to_text", "to_latex", "to_dsl", "to_dsl_line", "name_subexpressions",
           "render_definitions"]

from ..tensors.printing import install as _install_index_printing  # noqa: E402

_install_index_printing()

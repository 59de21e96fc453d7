"""matgrad: matrix calculus in textbook form, checked numerically.

    >>> from matgrad_cli import parse, derive
    >>> d = derive(parse("||A*sigmoid(x)||^2"), ["x"])
"""
from .app.api import compile_derivatives, derive, evaluate, parse

__all__ = ["parse", "derive", "evaluate", "compile_derivatives"]
__version__ = "0.1.0"

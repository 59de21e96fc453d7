"""THE operation registry: one entry per operation of the language, in the modules beside
this one (entrywise.py, structural.py; operators.py for the node types). Every layer asks
this registry — the parser for names and arities, shape inference and the IR for THE shape
rule, diff/ for the derivative rules, the evaluator and the printers for implementations
and spellings, check for sampling domains. Adding an entrywise function is one entry in
entrywise.py; a matrix function one entry in structural.py (or a module of its own when
its rules are long, as matrix_functions.py).
"""
from __future__ import annotations

from .. import ir as _ir
from ..errors import MatgradError
from .along import ALONG
from .along import ENTRIES as _ALONG_ENTRIES
from .base import DimAlgebra, Entrywise, Structural
from .blocks import ENTRIES as _BLOCK_ENTRIES
from .blocks import SLICES
from .entrywise import ENTRIES as _ENTRYWISE_ENTRIES
from .operators import OPERATORS, Operator
from .matrix_functions import ENTRIES as _MATRIX_ENTRIES
from .structural import ENTRIES as _STRUCTURAL_ENTRIES
from .user import ENTRIES as _USER_ENTRIES
from .user import USER as USER_FUNCTIONS

_STRUCTURAL_ENTRIES = _STRUCTURAL_ENTRIES + _ALONG_ENTRIES + _MATRIX_ENTRIES + _BLOCK_ENTRIES


class UnknownOperation(MatgradError):
    """The engine met an operation the registry does not hold (a bug, not a user error)."""

    exit_code = 1


def _index(entries) -> dict:
    table: dict = {}
    for entry in entries:
        if entry.name in table:
            raise AssertionError(f"operation '{entry.name}' is registered twice")
        table[entry.name] = entry
    return table


ENTRYWISE: dict[str, Entrywise] = _index(_ENTRYWISE_ENTRIES)
STRUCTURAL: dict[str, Structural] = _index(_STRUCTURAL_ENTRIES)
REGISTRY: dict[str, Entrywise | Structural] = _index(_ENTRYWISE_ENTRIES + _STRUCTURAL_ENTRIES)

# Sized constants: name -> allowed numbers of size arguments.
SIZED = {"eye": (1,), "ones": (1, 2), "zeros": (1, 2), "commutation": (2,)}

# Names a user may call.
FUNCTION_NAMES = frozenset(n for n, e in REGISTRY.items()
                           if getattr(e, "callable_by_name", True)) | frozenset(SIZED) | \
    frozenset(SLICES)

# Names users reach for that the language spells differently: a call of one of these is an
# "unknown function" error with a hint, not a silent product.
NOT_FUNCTIONS = {
    "trace": "tr", "transpose": "X'", "inverse": "inv", "determinant": "det",
    "logistic": "sigmoid", "log10": None, "log2": None, "maximum": "max", "minimum": "min",
    "prod": None, "diagm": "Diag", "identity": "eye", "norm2": "norm",
    "dot": "x'*y", "outer": "x*y'", "asin": "arcsin", "acos": "arccos", "atan": "arctan",
    "gelu": None, "elu": None, "swish": None, "square": "x.^2",
    "eig": "eigvals", "eigh": "eigvals", "eigvalsh": "eigvals", "cholesky": "chol",
    "svd": None, "logm": None, "sqrtm": None,
}
assert not set(NOT_FUNCTIONS) & FUNCTION_NAMES, "a hint names a function of the language"

# How generated code spells each operation ({0}, {1}: the arguments).
NUMPY_SOURCE: dict[str, str] = {name: e.numpy_source for name, e in REGISTRY.items()}


def lookup(name: str) -> Entrywise | Structural:
    """The entry of a function; a name the registry lacks is a clear error, never a
    KeyError or an AssertionError deep inside a layer."""
    try:
        return REGISTRY[name] if name in REGISTRY else _USER_ENTRIES[name]
    except KeyError:
        raise UnknownOperation(f"internal error: matgrad has no operation '{name}' in its "
                               "registry (matgrad_cli/ops); please report this") from None


def operator_of(node) -> Operator:
    """The derivative rules of a node's type."""
    try:
        return OPERATORS[type(node)]
    except KeyError:
        raise UnknownOperation(f"internal error: no derivative rules for "
                               f"{type(node).__name__} nodes; please report this") from None


def rule_key(node) -> str:
    """The name --steps uses for the rule applied at node: a call's function, else the
    node type."""
    return node.name if type(node).__name__ == "Call" else type(node).__name__


def identity(key: str) -> str:
    """The Frobenius rearrangement of the reverse rule named key."""
    if key in STRUCTURAL:
        return STRUCTURAL[key].identity
    return next((o.identity for t, o in OPERATORS.items() if t.__name__ == key), "")


def differential(key: str) -> str:
    """The forward differential rule named key."""
    if key in STRUCTURAL:
        return STRUCTURAL[key].differential
    return next((o.differential for t, o in OPERATORS.items() if t.__name__ == key), "")


class ResolvedDims:
    """The dimension algebra over the IR's resolved sizes (ints, or symbolic names)."""

    def one(self):
        return 1

    def is_one(self, d) -> bool:
        return d == 1

    def mul(self, a, b):
        from ..ir import dim_mul

        return dim_mul(a, b)

    def add(self, a, b):
        from ..ir import dim_add

        return dim_add(a, b)

    def same(self, a, b) -> None:
        from ..ir import ShapeMismatch

        if a != b:
            raise ShapeMismatch(f"sizes {a} and {b} differ")


RESOLVED = ResolvedDims()


def call_shape(name: str, arg_shapes: list) -> tuple:
    """The shape of a call of ``name`` on arguments of these (resolved) shapes."""
    return lookup(name).shape(RESOLVED, *arg_shapes)


_ir.CALL_SHAPE[:] = [call_shape]


__all__ = ["ALONG", "DimAlgebra", "ENTRYWISE", "Entrywise", "FUNCTION_NAMES", "NOT_FUNCTIONS",
           "NUMPY_SOURCE", "OPERATORS", "REGISTRY", "SIZED", "SLICES", "STRUCTURAL", "Structural",
           "USER_FUNCTIONS", "UnknownOperation", "call_shape", "differential", "identity", "lookup",
           "operator_of", "rule_key"]

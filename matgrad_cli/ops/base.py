"""What an operation of the language is: one record holding everything every layer needs.

An entry carries its signature, THE shape rule (written once over a small dimension
algebra, so that shape inference over symbolic dimensions and the IR's construction over
resolved ones run the same code), its NumPy implementation and how generated code spells
it, its printed names, its derivative rules (reverse mode and vec-form Jacobian, side by
side), where the derivative fails to exist, what `check` must avoid when it samples, and
whether its NumPy result is a fresh array (which the evaluator may overwrite in place).

Nothing here imports NumPy at import time: implementations import it lazily.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from .. import algebra as alg


class DimAlgebra(Protocol):
    """The few things a shape rule does with sizes. language/shapes.py implements it over symbolic
    dimensions (unification), the IR over resolved ones (equality)."""

    def one(self): ...

    def is_one(self, d) -> bool: ...

    def mul(self, a, b): ...

    def add(self, a, b): ...

    def same(self, a, b) -> None:
        """Make a and b one size (or fail: a shape conflict)."""


def as_matrix(alg: DimAlgebra, shape: tuple) -> tuple:
    if len(shape) == 0:
        return alg.one(), alg.one()
    if len(shape) == 1:
        return shape[0], alg.one()
    return shape


def normalize(alg: DimAlgebra, rows, cols) -> tuple:
    """An n×1 matrix is a column vector and a 1×1 matrix is a scalar (SPEC §1)."""
    if alg.is_one(cols):
        return () if alg.is_one(rows) else (rows,)
    return (rows, cols)


def square(alg: DimAlgebra, shape: tuple) -> tuple:
    if len(shape) == 2:
        alg.same(shape[0], shape[1])
    return shape


def to_scalar(alg: DimAlgebra, *shapes) -> tuple:
    return ()


def same_shape(alg: DimAlgebra, shape: tuple) -> tuple:
    return shape


def transposed(alg: DimAlgebra, shape: tuple) -> tuple:
    rows, cols = as_matrix(alg, shape)
    return normalize(alg, cols, rows)


_numpy = None


def _np():
    """numpy, imported on first use (derive never needs it); then a global read, as an
    import statement costs more than a small kernel's own work."""
    global _numpy
    if _numpy is None:
        import numpy

        _numpy = numpy
    return _numpy


@dataclass(frozen=True)
class Entrywise:
    """A scalar function applied to every entry. Both derivative rules follow from
    ``derivative`` (f′ built from the argument and the value): the reverse rule is
    f′(X) ⊙ G, the Jacobian Diag(vec f′(X)) J."""

    name: str
    numpy: Callable  # array -> array
    numpy_source: str  # how generated code spells it, {0} the argument
    derivative: Callable  # (argument node, value node) -> f′(argument) node
    text: str  # Unicode name in printed formulas
    latex: str
    condition: str | None = None  # where the derivative fails to exist
    # where check samples the argument: "real", "positive", "unit" (−1 < t < 1, arcsin)
    # or "above_minus_one" (t > −1, log1p)
    domain: str = "real"
    kink: bool = False  # the derivative jumps at 0 (eval warns there; check avoids it)
    fresh: bool = True  # the NumPy result is a new array
    arity: int = 1
    kind: str = "entrywise"


@dataclass(frozen=True)
class Structural:
    """Any other function: reductions, linear algebra, structure (diag, vec, kron).

    ``vjp(node, G)`` returns the adjoints of the arguments (``df = G : d node``);
    ``jacobian(node, js)`` returns ∂vec(node)/∂vec(X)ᵀ from the arguments' Jacobians;
    ``identity`` is the Frobenius rearrangement --steps shows beside the reverse rule.

    A linear operation L gives ``linear`` instead of ``jacobian``: ``linear(x)`` is L's own
    matrix M (vec L(X) = M vec X, None where L is the identity on x), and the Jacobian
    rule follows by the chain rule, M J. Its ``vjp`` is then the transpose of M (as JAX
    derives a linear primitive's rules from its transpose), which tests/test_ops.py checks
    entry by entry.
    """

    name: str
    arity: int
    shape: Callable  # (DimAlgebra, *argument shapes) -> result shape
    numpy: Callable
    numpy_source: str  # {0}, {1}: the arguments
    text: str
    latex: str
    vjp: Callable
    jacobian: Callable | None
    identity: str
    differential: str = ""  # the forward rule --steps shows: d tr(A) = tr(dA)
    # what the argument must be: any | square | vector | broadcast (two operands of one
    # shape, or a scalar and anything, as for '+')
    accepts: str = "any"
    condition: str | None = None
    # what check samples: "real" | "nonzero" (a kink at 0) | "invertible" | "spd" (chol)
    domain: str = "real"
    fresh: bool = False  # the NumPy result is a new array nobody else holds
    callable_by_name: bool = True  # False for internal forms such as ‖X‖₁
    # (name in the language, k) of an entry along one dimension (sum_2 is sum(X, 2)):
    # printed as that call, k its second argument
    along: tuple | None = None
    # the node whose zero entries are the kinks (max(a, b): a − b): eval warns on them,
    # check samples away from them
    kink: Callable | None = None
    linear: Callable | None = None  # a linear operation's matrix M(x): see above
    # for an operator with no closed matrix form (the Fréchet derivative of expm): its
    # one-line definition, printed under a derivative that uses it
    definition: str = ""
    kind: str = "structural"

    def __post_init__(self):
        if self.linear is not None:
            if self.jacobian is not None:
                raise TypeError(f"{self.name}: a linear operation's Jacobian rule is derived")
            object.__setattr__(self, "jacobian", _linear_jacobian(self.linear))


def _linear_jacobian(matrix: Callable) -> Callable:
    """∂vec L(X)/∂vec(Y)ᵀ = M ∂vec X/∂vec(Y)ᵀ for a linear L with matrix M."""
    def jacobian(node, js):
        m = matrix(node.args[0])
        return js[0] if m is None else alg.matmul(m, js[0])

    return jacobian

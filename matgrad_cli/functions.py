"""THE table of functions: one entry per function of the language.

An entry holds what every layer needs to know about a function: its arity, its shape rule,
how NumPy computes it, its derivative (for entrywise functions, f' built from the argument
and the value), how it is printed, and where its derivative does not exist. Adding a
function is adding one entry here (plus, for a structural function, its derivative rules
in diff/). Nothing here imports NumPy at import time: implementations import it lazily.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import algebra as alg
from .ir import Node, Shape, dim_mul, normalize_shape, size_of


def _np():
    import numpy

    return numpy


# ---------------------------------------------------------------- entrywise functions

@dataclass(frozen=True)
class Entrywise:
    name: str
    numpy: Callable  # array -> array
    derivative: Callable[[Node, Node], Node]  # (argument, value) -> f'(argument)
    text: str  # Unicode name in printed formulas
    latex: str
    condition: str | None = None  # where the derivative fails to exist
    domain: str = "real"  # "real" or "positive": where the function is defined/smooth
    kink: bool = False  # derivative jumps at 0 (eval warns there)


def _sigmoid(x):
    # 1/(1 + e⁻ˣ) is accurate in floating point (e⁻ˣ overflowing to inf gives the right 0;
    # the command line evaluates under np.errstate); one buffer, updated in place
    np = _np()
    t = np.negative(x, dtype=float)
    if not isinstance(t, np.ndarray):  # a scalar
        return 1.0 / (1.0 + np.exp(t))
    np.exp(t, out=t)
    t += 1.0
    return np.reciprocal(t, out=t)


def _step(x):
    np = _np()
    return (np.asarray(x) > 0).astype(float)


def _ones_like(a: Node) -> Node:
    return alg.ones(a.shape)


ENTRYWISE: dict[str, Entrywise] = {e.name: e for e in [
    Entrywise("exp", lambda x: _np().exp(x), lambda a, y: y, "exp", r"\exp"),
    Entrywise("log", lambda x: _np().log(x), lambda a, y: alg.div(_ones_like(a), a), "log",
              r"\log", "where {arg} > 0 entrywise", domain="positive"),
    Entrywise("sqrt", lambda x: _np().sqrt(x),
              lambda a, y: alg.div(_ones_like(a), alg.scale(alg.num(2), y)), "√", r"\sqrt",
              "where {arg} > 0 entrywise", domain="positive"),
    Entrywise("sin", lambda x: _np().sin(x), lambda a, y: alg.func("cos", a), "sin", r"\sin"),
    Entrywise("cos", lambda x: _np().cos(x), lambda a, y: alg.neg(alg.func("sin", a)), "cos",
              r"\cos"),
    Entrywise("tanh", lambda x: _np().tanh(x),
              lambda a, y: alg.sub(_ones_like(a), alg.power(y, alg.num(2))), "tanh", r"\tanh"),
    Entrywise("sigmoid", _sigmoid, lambda a, y: alg.had(y, alg.sub(_ones_like(a), y)), "σ",
              r"\sigma"),
    Entrywise("softplus", lambda x: _np().logaddexp(0.0, x),
              lambda a, y: alg.func("sigmoid", a), "softplus", r"\operatorname{softplus}"),
    Entrywise("relu", lambda x: _np().maximum(x, 0.0), lambda a, y: alg.func("step", a), "relu",
              r"\operatorname{relu}", "where {arg} has no zero entries", kink=True),
    Entrywise("abs", lambda x: _np().abs(x), lambda a, y: alg.func("sign", a), "abs",
              r"\operatorname{abs}", "where {arg} has no zero entries", kink=True),
    Entrywise("sign", lambda x: _np().sign(x), lambda a, y: alg.zeros(a.shape), "sign",
              r"\operatorname{sign}", "where {arg} has no zero entries", kink=True),
    Entrywise("step", _step, lambda a, y: alg.zeros(a.shape), "step", r"\operatorname{step}",
              "where {arg} has no zero entries", kink=True),
]}


# ---------------------------------------------------------------- structural functions

@dataclass(frozen=True)
class Structural:
    name: str
    arity: int
    shape_rule: Callable[..., Shape]  # argument shapes -> result shape (resolved dims)
    numpy: Callable
    text: str
    latex: str
    condition: str | None = None
    accepts: str = "any"  # what the argument must be: any | square | vector


def _square(shape: Shape) -> Shape:
    if len(shape) == 1 or (len(shape) == 2 and shape[0] != shape[1]):
        raise ValueError("needs a square matrix")
    return shape


def _to_scalar(*shapes: Shape) -> Shape:
    return ()


def _kron_shape(a: Shape, b: Shape) -> Shape:
    ar, ac = (a + (1, 1))[:2] if len(a) < 2 else a
    br, bc = (b + (1, 1))[:2] if len(b) < 2 else b
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    return normalize_shape(dim_mul(ar, br), dim_mul(ac, bc))


def _vec_shape(a: Shape) -> Shape:
    return () if a == () else (size_of(a),)


def _kron(a, b):
    """Kronecker product reading vectors as columns (NumPy reads a 1-d array as a row)."""
    np = _np()
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    a2 = a[:, None] if np.ndim(a) == 1 else a
    b2 = b[:, None] if np.ndim(b) == 1 else b
    out = np.kron(a2, b2)
    if out.shape[1] == 1:
        return out[0, 0] if out.shape[0] == 1 else out[:, 0]
    return out


def _softmax(x):
    np = _np()
    z = np.exp(x - np.max(x))
    return z / z.sum()


def _logsumexp(x):
    np = _np()
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def _logdet(x):
    np = _np()
    if np.ndim(x) == 0:
        return np.log(np.abs(x))
    return np.linalg.slogdet(x)[1]


def _inv(x):
    np = _np()
    return 1.0 / x if np.ndim(x) == 0 else np.linalg.inv(x)


def _det(x):
    np = _np()
    return x if np.ndim(x) == 0 else np.linalg.det(x)


def _trace(x):
    np = _np()
    return np.trace(x) if np.ndim(x) == 2 else x


def _diag(x):
    np = _np()
    return np.diag(x) if np.ndim(x) == 2 else x


def _diag_matrix(v):
    np = _np()
    return v if np.ndim(v) == 0 else np.diag(v)


STRUCTURAL: dict[str, Structural] = {s.name: s for s in [
    Structural("sum", 1, _to_scalar, lambda x: _np().sum(x), "sum", r"\operatorname{sum}"),
    Structural("tr", 1, lambda a: () if _square(a) is not None else (), _trace, "tr",
               r"\operatorname{tr}", accepts="square"),
    Structural("det", 1, lambda a: () if _square(a) is not None else (), _det, "det", r"\det",
               accepts="square"),
    Structural("logdet", 1, lambda a: () if _square(a) is not None else (), _logdet, "log det",
               r"\log\left|\det\right|", "where det {arg} ≠ 0", accepts="square"),
    Structural("inv", 1, _square, _inv, "inv", r"\operatorname{inv}", "where det {arg} ≠ 0",
               accepts="square"),
    Structural("diag", 1, lambda a: (_square(a)[0],) if len(a) == 2 else a,
               _diag, "diag",
               r"\operatorname{diag}", accepts="square"),
    Structural("Diag", 1, lambda a: (a[0], a[0]) if len(a) == 1 else a, _diag_matrix, "Diag",
               r"\operatorname{Diag}", accepts="vector"),
    Structural("vec", 1, _vec_shape, lambda x: _np().ravel(x, order="F") if _np().ndim(x) else x,
               "vec", r"\operatorname{vec}"),
    Structural("kron", 2, _kron_shape, _kron, "⊗", r"\otimes"),
    Structural("softmax", 1, lambda a: a, _softmax, "softmax", r"\operatorname{softmax}",
               accepts="vector"),
    Structural("logsumexp", 1, _to_scalar, _logsumexp, "logsumexp",
               r"\operatorname{logsumexp}", accepts="vector"),
    Structural("norm", 1, _to_scalar, lambda x: _np().linalg.norm(x), "norm", r"\|",
               "where {arg} ≠ 0"),
    Structural("norm1", 1, _to_scalar, lambda x: _np().abs(x).sum(), "norm1", r"\|",
               "where {arg} has no zero entries"),
]}

# Sized constants: name -> allowed numbers of size arguments.
SIZED = {"eye": (1,), "ones": (1, 2), "zeros": (1, 2), "commutation": (2,)}

# norm1 is the internal name of ||X||_1; it cannot be called by name.
FUNCTION_NAMES = frozenset(ENTRYWISE) | (frozenset(STRUCTURAL) - {"norm1"}) | frozenset(SIZED)

# Names users reach for that the language spells differently: a call of one of these is an
# "unknown function" error with a hint, not a silent product.
NOT_FUNCTIONS = {
    "trace": "tr", "transpose": "X'", "inverse": "inv", "determinant": "det",
    "logistic": "sigmoid", "tan": None, "log10": None, "log2": None, "max": None, "min": None,
    "mean": None, "prod": None, "diagm": "Diag", "identity": "eye", "norm2": "norm",
    "dot": "x'*y", "outer": "x*y'", "pinv": None, "cosh": None, "sinh": None, "atan": None,
    "arctan": None, "erf": None, "gelu": None, "elu": None, "swish": None, "square": "x.^2",
}


# Source forms of the NumPy implementations above, for the `numpy` output format (the
# generated code must run without matgrad). tests/test_function_table.py checks that each one
# computes what its table entry computes.
NUMPY_SOURCE: dict[str, str] = {
    "exp": "np.exp({0})", "log": "np.log({0})", "sqrt": "np.sqrt({0})", "sin": "np.sin({0})",
    "cos": "np.cos({0})", "tanh": "np.tanh({0})",
    # 1/(1 + e⁻ˣ) without overflow: e^(−log(1 + e⁻ˣ))
    "sigmoid": "np.exp(-np.logaddexp(0.0, -{0}))", "softplus": "np.logaddexp(0.0, {0})",
    "relu": "np.maximum({0}, 0.0)", "abs": "np.abs({0})", "sign": "np.sign({0})",
    "step": "np.heaviside({0}, 0.0)",
    # the matrix functions take a matrix (the numpy printer reshapes a 1×1 kept as a scalar)
    "sum": "np.sum({0})", "tr": "np.trace({0})", "det": "np.linalg.det({0})",
    "logdet": "np.linalg.slogdet({0})[1]", "inv": "np.linalg.inv({0})",
    "diag": "np.diag({0})", "Diag": "np.diag({0})", "vec": "np.ravel({0}, order='F')",
    "kron": "_kron({0}, {1})",
    # stable: exp(x − logsumexp x) never overflows
    "softmax": "np.exp({0} - np.logaddexp.reduce({0}))",
    "logsumexp": "np.logaddexp.reduce({0})",
    "norm": "np.linalg.norm({0})", "norm1": "np.abs({0}).sum()",
}

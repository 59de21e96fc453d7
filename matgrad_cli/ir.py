"""The typed expression tree: a closed set of frozen node types.

Every node knows its shape (``()`` scalar, ``(n,)`` column vector, ``(m, n)`` matrix; a row
vector is a ``(1, n)`` matrix) and, for nodes that came from the user's text, the span it
came from. Dimensions are ints, or strings for symbolic sizes (``"n"``; ``"m*n"`` for the
length of vec of an m×n matrix).

Nodes hash and compare structurally; the hash is computed once, so memo tables over large
derivative trees stay linear. The span takes no part in equality.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import Union

from .errors import Span

Dim = Union[int, str]
Shape = tuple


# ---------------------------------------------------------------- dimensions

# A symbolic size is a polynomial in dimension names with integer coefficients, written
# expanded and sorted so that equal sizes are equal strings: "n", "m*n", "2*m*n", and, for
# the sizes of block matrices, sums: "n+p", "m*n+m*p", "n+1" (a constant term last).

# The letters matgrad gives open dimensions, in the order it gives them (language/shapes.py
# takes them from here): the terms of a sum follow it, so the blocks of [A, B] with A m×n
# and B m×k make x of length n+k (other names after them, alphabetically).
DIM_LETTERS = ("n", "m", "k", "p", "q", "r", "l", "d", "h", "t", "u", "v", "w", "a", "b", "c")


def _name_rank(name: str) -> tuple:
    return (DIM_LETTERS.index(name), "") if name in DIM_LETTERS else (len(DIM_LETTERS), name)


def dim_poly(d: Dim) -> dict:
    """The polynomial of a size: {sorted tuple of names: coefficient}."""
    if isinstance(d, int):
        return {(): d} if d else {}
    poly: dict = {}
    for sign, term in re.findall(r"([+-]?)([^+-]+)", d.replace(" ", "")):
        coef, names = (-1 if sign == "-" else 1), []
        for part in term.split("*"):
            if part.isdigit():
                coef *= int(part)
            else:
                names.append(part)
        key = tuple(sorted(names))
        poly[key] = poly.get(key, 0) + coef
    return {k: c for k, c in poly.items() if c}


def poly_dim(poly: dict) -> Dim:
    """The size a polynomial stands for, in the canonical spelling (an int when constant)."""
    poly = {k: c for k, c in poly.items() if c}
    if all(k == () for k in poly):
        return poly.get((), 0)
    order = sorted(poly, key=lambda k: (k == (), -len(k), tuple(map(_name_rank, k))))
    text = ""
    for key in order:
        coef = poly[key]
        body = "*".join(([str(abs(coef))] if abs(coef) != 1 or not key else []) + list(key))
        text += ("-" if coef < 0 else ("+" if text else "")) + body
    return text


def dim_add(a: Dim, b: Dim) -> Dim:
    """Sum of two sizes (the size of a block row or column), kept symbolic when either is."""
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    poly = dim_poly(a)
    for k, c in dim_poly(b).items():
        poly[k] = poly.get(k, 0) + c
    return poly_dim(poly)


def dim_sub(a: Dim, b: Dim) -> Dim:
    """a − b (an offset inside a block matrix)."""
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    poly = dim_poly(a)
    for k, c in dim_poly(b).items():
        poly[k] = poly.get(k, 0) - c
    return poly_dim(poly)


def dim_mul(a: Dim, b: Dim) -> Dim:
    """Product of two sizes, kept symbolic when either is."""
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    poly: dict = {}
    for ka, ca in dim_poly(a).items():
        for kb, cb in dim_poly(b).items():
            key = tuple(sorted(ka + kb))
            poly[key] = poly.get(key, 0) + ca * cb
    return poly_dim(poly)


def dim_symbols(d: Dim) -> list[str]:
    """The dimension names a size is made of, in order of appearance."""
    if isinstance(d, int):
        return []
    return list(dict.fromkeys(p for p in re.split(r"[*+-]", d) if p and not p.isdigit()))


def dim_value(d: Dim, sizes: dict) -> int:
    """A size's value, with ``sizes`` giving every name in it."""
    if isinstance(d, int):
        return d
    total = 0
    for key, coef in dim_poly(d).items():
        term = coef
        for name in key:
            term *= sizes[name]
        total += term
    return total


def dim_quotient(a: Dim, q: Dim) -> Dim | None:
    """a / q when q divides a as polynomials (m·n + m·p by n + p is m), else None. Long
    division by the leading term; what it returns always multiplies back to a."""
    num, den = dim_poly(a), dim_poly(q)
    if not den:
        return None
    order = lambda k: (len(k), k)  # noqa: E731
    lead = max(den, key=order)
    quotient: dict = {}
    rest = dict(num)
    for _ in range(4 * len(num) + 4):
        if not rest:
            return poly_dim(quotient)
        top = max(rest, key=order)
        names = list(top)
        for name in lead:
            if name not in names:
                return None
            names.remove(name)
        if rest[top] % den[lead]:
            return None
        factor, coef = tuple(names), rest[top] // den[lead]
        quotient[factor] = quotient.get(factor, 0) + coef
        for key, c in den.items():
            k = tuple(sorted(key + factor))
            rest[k] = rest.get(k, 0) - c * coef
            if rest[k] == 0:
                del rest[k]
    return None


def dim_difference(a: Dim, b: Dim) -> int | None:
    """b − a when it is a constant whatever the names' values (None otherwise): how the
    block-selection rules compare offsets and sizes."""
    diff = dim_sub(b, a)
    return diff if isinstance(diff, int) else None


def size_of(shape: Shape) -> Dim:
    total: Dim = 1
    for d in shape:
        total = dim_mul(total, d)
    return total


def normalize_shape(rows: Dim, cols: Dim) -> Shape:
    """An n×1 matrix is a column vector and a 1×1 matrix is a scalar (SPEC §1)."""
    if cols == 1:
        return () if rows == 1 else (rows,)
    return (rows, cols)


def as_matrix(shape: Shape) -> tuple[Dim, Dim]:
    """Rows and columns, reading a vector as a column and a scalar as 1×1."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], 1
    return shape[0], shape[1]


def transpose_shape(shape: Shape) -> Shape:
    rows, cols = as_matrix(shape)
    return normalize_shape(cols, rows)


# ---------------------------------------------------------------- node base

@functools.cache
def _compared_fields(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.compare)


class Node:
    """Base of all node types. Subclasses are frozen dataclasses (see ``_node``)."""

    shape: Shape
    span: Span | None

    def _init_key(self) -> None:
        values = tuple(getattr(self, name) for name in _compared_fields(type(self)))
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_hash", hash((type(self).__name__, values)))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other) or self._hash != other._hash:
            return False
        mine, theirs = self._representative(), other._representative()
        if mine is theirs:
            return True
        if mine._values != theirs._values:
            return False
        # Remember the answer (union-find): equal deep trees are compared again and again
        # by the simplifier, and a 256-layer network would make that exponential.
        object.__setattr__(theirs, "_same_as", mine)
        return True

    def _representative(self) -> "Node":
        node = self
        while (up := node.__dict__.get("_same_as")) is not None:
            node = up
        if node is not self:
            object.__setattr__(self, "_same_as", node)  # path compression
        return node

    @property
    def children(self) -> tuple["Node", ...]:
        cached = self.__dict__.get("_children")
        if cached is not None:  # nodes are immutable; walks ask for these often
            return cached
        out: list[Node] = []
        for v in self._values:
            if isinstance(v, Node):
                out.append(v)
            elif isinstance(v, tuple):
                out.extend(c for c in v if isinstance(c, Node))
        out = tuple(out)
        object.__setattr__(self, "_children", out)
        return out

    def with_children(self, new_children: tuple["Node", ...]) -> "Node":
        """The same node over other children (in ``children`` order)."""
        it = iter(new_children)
        values = {}
        for f in fields(self):
            if not f.compare or f.name == "shape":
                continue
            v = getattr(self, f.name)
            if isinstance(v, Node):
                values[f.name] = next(it)
            elif isinstance(v, tuple) and v and all(isinstance(c, Node) for c in v):
                values[f.name] = tuple(next(it) for _ in v)
            else:
                values[f.name] = v
        return type(self)(**values)

    def __repr__(self) -> str:  # a debugging aid; the printers live in printers/
        return f"<{type(self).__name__} {self._values}>"


def _node(cls):
    # dataclass only calls a __post_init__ present when it builds __init__, so wrap first.
    original_post_init = cls.__dict__.get("__post_init__")

    def __post_init__(self):
        if original_post_init is not None:
            original_post_init(self)
        self._init_key()

    cls.__post_init__ = __post_init__
    return dataclass(frozen=True, eq=False, repr=False)(cls)


def _set_shape(node: Node, shape: Shape) -> None:
    object.__setattr__(node, "shape", shape)


class ShapeMismatch(AssertionError):
    """An internal construction with incompatible shapes (a bug, not a user error)."""


# ---------------------------------------------------------------- leaves

@_node
class Num(Node):
    """An exact numeric scalar constant."""

    value: Fraction
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        if not isinstance(self.value, Fraction):
            object.__setattr__(self, "value", Fraction(self.value))


# A matrix variable's declared structure (SPEC §1): symmetric, or symmetric positive definite.
STRUCTURES = ("sym", "spd")


@_node
class Var(Node):
    """A variable; ``structure`` is "sym" or "spd" for a declared symmetric (positive
    definite) matrix, whose transpose is itself (algebra.transpose uses Sᵀ = S)."""

    name: str
    shape: Shape = ()
    span: Span | None = field(default=None, compare=False)
    structure: str = ""

    @property
    def symmetric(self) -> bool:
        return bool(self.structure)


@_node
class Eye(Node):
    """Identity matrix of size n (``I``, ``eye(n)``)."""

    n: Dim
    spelled_I: bool = field(default=False, compare=False)
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, (self.n, self.n))


@_node
class Ones(Node):
    dims: Shape
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, self.dims)


@_node
class Zeros(Node):
    dims: Shape
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, self.dims)


@_node
class Commutation(Node):
    """K with K vec(A) = vec(Aᵀ) for A m×n."""

    m: Dim
    n: Dim
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        size = dim_mul(self.m, self.n)
        _set_shape(self, (size, size))


# ---------------------------------------------------------------- composites

@_node
class Fill(Node):
    """A scalar broadcast to a shape (the ``1`` in ``1 - s``)."""

    value: Node
    dims: Shape
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        if self.value.shape != ():
            raise ShapeMismatch("Fill of a non-scalar")
        _set_shape(self, self.dims)


@_node
class Add(Node):
    terms: tuple
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        shape = self.terms[0].shape
        for t in self.terms[1:]:
            if t.shape != shape:
                raise ShapeMismatch(f"Add of {shape} and {t.shape}")
        _set_shape(self, shape)


@_node
class Scale(Node):
    """A scalar times anything (``2x``, ``β A``, and products of scalars)."""

    factor: Node
    operand: Node
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        if self.factor.shape != ():
            raise ShapeMismatch("Scale by a non-scalar")
        _set_shape(self, self.operand.shape)


@_node
class MatMul(Node):
    """Matrix product of two non-scalars; a vector is a column."""

    left: Node
    right: Node
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        lr, lc = as_matrix(self.left.shape)
        rr, rc = as_matrix(self.right.shape)
        if self.left.shape == () or self.right.shape == () or lc != rr:
            raise ShapeMismatch(f"MatMul of {self.left.shape} and {self.right.shape}")
        _set_shape(self, normalize_shape(lr, rc))


@_node
class Had(Node):
    """Entrywise (Hadamard) product of equal shapes."""

    left: Node
    right: Node
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        if self.left.shape != self.right.shape:
            raise ShapeMismatch(f"Had of {self.left.shape} and {self.right.shape}")
        _set_shape(self, self.left.shape)


@_node
class Div(Node):
    """Entrywise division of equal shapes."""

    left: Node
    right: Node
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        if self.left.shape != self.right.shape:
            raise ShapeMismatch(f"Div of {self.left.shape} and {self.right.shape}")
        _set_shape(self, self.left.shape)


@_node
class Pow(Node):
    """Entrywise power by a scalar exponent (scalar power when the base is a scalar)."""

    base: Node
    exponent: Node
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        if self.exponent.shape != ():
            raise ShapeMismatch("Pow with a non-scalar exponent")
        _set_shape(self, self.base.shape)


@_node
class MatPow(Node):
    """Square matrix to an integer power other than 0, 1 and -1."""

    base: Node
    k: int
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, self.base.shape)


@_node
class T(Node):
    """Transpose."""

    operand: Node
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, transpose_shape(self.operand.shape))


@_node
class Func(Node):
    """An entrywise function (``exp``, ``sigmoid`` ...), named as in the registry (ops/entrywise.py)."""

    name: str
    operand: Node
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, self.operand.shape)


# THE shape rule of every call lives in the operation registry (ops/), which installs it
# here when it is imported (matgrad_cli/__init__ imports it first): ir imports nothing
# above it.
CALL_SHAPE: list = []


@_node
class Call(Node):
    """A structural function (``sum``, ``tr``, ``inv``, ``kron`` ...) from the registry (ops/structural.py)."""

    name: str
    args: tuple
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, CALL_SHAPE[0](self.name, [a.shape for a in self.args]))


@_node
class Frob(Node):
    """Frobenius product A : B = tr(AᵀB)."""

    left: Node
    right: Node
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        if self.left.shape != self.right.shape:
            raise ShapeMismatch(f"Frob of {self.left.shape} and {self.right.shape}")


LEAVES = (Num, Var, Eye, Ones, Zeros, Commutation)


def walk(*roots: Node) -> list[Node]:
    """Every structurally distinct node below the roots once, children before parents, in
    the order a reader meets them (so reversed, parents come before their children)."""
    seen: set[Node] = set()
    order: list[Node] = []
    for root in roots:
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node.children) if c not in seen)
    return order


def free_vars(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Var)}


def depends_on(node: Node, name: str) -> bool:
    return name in free_vars(node)


@dataclass(frozen=True)
class Program:
    """A parsed, shape-checked input: the final expression with definitions inlined."""

    source: str
    expr: Node
    definitions: dict  # name -> Node (inlined value), in order
    variables: dict  # name -> shape
    dims: dict  # symbolic dimension name -> int, for those that are bound
    structures: dict = field(default_factory=dict)  # name -> "sym" | "spd" (declared)


@_node
class Reshape(Node):
    """Column-major reshape of a vector back to a matrix: unvec (the adjoint of vec)."""

    operand: Node
    dims: Shape
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, self.dims)


@_node
class Slice(Node):
    """A block of a matrix: rows row0+1 … row0+nrows and columns col0+1 … col0+ncols of the
    operand (a vector read as a column), written ``rows(X, a, b)`` / ``cols(X, a, b)`` in
    the language. The reverse rule of a block matrix selects its blocks with it."""

    operand: Node
    row0: Dim
    nrows: Dim
    col0: Dim
    ncols: Dim
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, normalize_shape(self.nrows, self.ncols))


# ---------------------------------------------------------------- index notation (SPEC §2b)
# An index name ("i") is a free label of every node below the sum that binds it; a node's
# free labels are the batch axes its value has when evaluated (numeric/tensors.py). The
# helpers over labels (free indices, renaming) live in tensors/labels.py.

def _colon_shape(dims: tuple) -> Shape:
    """The ':' axes of an indexing, in order: none → scalar, one → vector, two → matrix."""
    if len(dims) == 2:
        return normalize_shape(*dims)
    return tuple(dims)


@_node
class Indexed(Node):
    """``X[e1, …, ek]``: each e an index name (a str) or None for ':'; the value has the ':'
    axes of X, in order, and one free label per index name."""

    operand: Node
    pattern: tuple
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        if len(self.pattern) != len(self.operand.shape):
            raise ShapeMismatch(f"Indexed of {self.operand.shape} by {self.pattern}")
        _set_shape(self, _colon_shape(tuple(d for d, e in zip(self.operand.shape,
                                                               self.pattern) if e is None)))


@_node
class IndexSum(Node):
    """``sum(i, j: body)``: the body summed over the labels (sizes parallel to labels)."""

    body: Node
    labels: tuple
    sizes: tuple
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, self.body.shape)


@_node
class Delta(Node):
    """``delta(i, j)``: 1 where i = j, 0 elsewhere; both labels range over n."""

    i: str
    j: str
    n: Dim
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)


@_node
class Build(Node):
    """``G[:, i, :] = body``: the tensor of shape ``dims`` whose slice at the pattern is the
    body (the ':' axes take the body's axes in order); the adjoint of Indexed. A label the
    body does not carry means the body is the same along that axis."""

    body: Node
    pattern: tuple
    dims: tuple
    span: Span | None = field(default=None, compare=False)
    shape: Shape = field(default=(), compare=False)

    def __post_init__(self):
        _set_shape(self, tuple(self.dims))

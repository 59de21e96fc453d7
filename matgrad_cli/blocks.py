"""Block matrices as expressions: smart constructors that join blocks (``[A, B]`` is
hcat(A, B), ``[A; B]`` vcat(A, B)) and select them (``Slice``), and the identities a reader
checks at a glance, applied as the nodes are built:

* a block of a block matrix literal is that block (``[A, B][:, 1:n] = A``), and a range
  inside one block is a range of that block;
* selection distributes over sums, scalings and entrywise operations (powers too), goes
  through a transpose (``(Xᵀ)[r, c] = (X[c, r])ᵀ``), and through a product it selects rows
  of the left factor and columns of the right one (``(M Xᵀ)[:, c] = M (X[c, :])ᵀ``): the
  gradient 2 [A, B] x xᵀ of ‖[A, B] x‖² w.r.t. A prints as 2 [A, B] x x[1:n]ᵀ; through a
  Kronecker product when the range covers whole copies of its right factor, and through
  a commutation matrix when it covers whole columns (rows) of the matrix it transposes;
* a block of a constant (𝟏, 0, I) is a constant, and rows (columns) of I are the
  selector [0, I, 0] ([0; I; 0]).

Offsets and sizes are dimensions (ints, or polynomials in dimension names, ir.dim_*):
a range is decided only when the comparison holds for every value of the names.
"""
from __future__ import annotations

from . import algebra as alg
from .ir import (Add, Call, Commutation, Div, Eye, Fill, Func, Had, MatMul, Node, Ones, Pow,
                 Scale, Slice, T, Zeros, as_matrix, dim_add, dim_difference, dim_quotient,
                 dim_sub, normalize_shape)


def hcat(a: Node, b: Node) -> Node:
    """[a, b]: a beside b (equal heights)."""
    return Call("hcat", (a, b))


def vcat(a: Node, b: Node) -> Node:
    """[a; b]: a above b (equal widths)."""
    return Call("vcat", (a, b))


def _is_empty(d) -> bool:
    return d == 0


def hcat_all(parts: list[Node]) -> Node:
    """[p₁, p₂, …], leaving out blocks with no columns."""
    parts = [p for p in parts if not _is_empty(as_matrix(p.shape)[1])]
    out = parts[0]
    for p in parts[1:]:
        out = hcat(out, p)
    return out


def vcat_all(parts: list[Node]) -> Node:
    """[p₁; p₂; …], leaving out blocks with no rows."""
    parts = [p for p in parts if not _is_empty(as_matrix(p.shape)[0])]
    out = parts[0]
    for p in parts[1:]:
        out = vcat(out, p)
    return out


def _zeros(rows, cols) -> Node:
    return alg.zeros(normalize_shape(rows, cols)) if rows != 0 and cols != 0 else \
        Zeros((rows, cols))


def embed(g: Node, shape: tuple, row0, col0) -> Node:
    """A matrix of ``shape``, zero except for the block g at (row0, col0): the adjoint of
    selecting that block (df = G : dX[r, c] = embed(G) : dX)."""
    m, n = as_matrix(shape)
    nr, nc = as_matrix(g.shape)
    if dim_difference(nr, m) == 0 and dim_difference(nc, n) == 0:
        return g
    if alg.is_zero(g):
        return alg.zeros(shape)
    after_c = dim_sub(n, dim_add(col0, nc))
    strip = hcat_all([_zeros(nr, col0), g, _zeros(nr, after_c)])
    after_r = dim_sub(m, dim_add(row0, nr))
    return vcat_all([_zeros(row0, n), strip, _zeros(after_r, n)])


def _whole(x: Node, row0, nrows, col0, ncols) -> bool:
    m, n = as_matrix(x.shape)
    return (dim_difference(row0, 0) == 0 and dim_difference(nrows, m) == 0
            and dim_difference(col0, 0) == 0 and dim_difference(ncols, n) == 0)


def select(x: Node, row0, nrows, col0, ncols) -> Node:
    """Rows row0+1 … row0+nrows and columns col0+1 … col0+ncols of x."""
    if _whole(x, row0, nrows, col0, ncols):
        return x
    shape = normalize_shape(nrows, ncols)
    rebuilt = _select_through(x, row0, nrows, col0, ncols, shape)
    return rebuilt if rebuilt is not None else Slice(x, row0, nrows, col0, ncols)


def _select_through(x, row0, nrows, col0, ncols, shape):
    def sel(node):
        return select(node, row0, nrows, col0, ncols)

    if isinstance(x, Zeros):
        return alg.zeros(shape)
    if isinstance(x, Ones):
        return alg.ones(shape)
    if isinstance(x, Fill):
        return alg.fill(x.value, shape)
    if isinstance(x, Eye):
        if dim_difference(row0, col0) == 0 and dim_difference(nrows, ncols) == 0:
            return alg.eye(nrows)
        if _disjoint(row0, nrows, col0, ncols):
            return alg.zeros(shape)
        # rows (columns) of I are [0, I, 0] ([0; I; 0]), as a textbook writes a selector
        if _whole_range(col0, ncols, x.n):
            return embed(alg.eye(nrows), shape, 0, row0)
        if _whole_range(row0, nrows, x.n):
            return embed(alg.eye(ncols), shape, col0, 0)
        return None
    if isinstance(x, Slice):
        return select(x.operand, dim_add(x.row0, row0), nrows, dim_add(x.col0, col0), ncols)
    if isinstance(x, Scale):
        return alg.scale(x.factor, sel(x.operand))
    if isinstance(x, Add):
        return alg.add(*(sel(t) for t in x.terms))
    if isinstance(x, Had):
        return alg.had(sel(x.left), sel(x.right))
    if isinstance(x, Div):
        return alg.div(sel(x.left), sel(x.right))
    if isinstance(x, Func):
        return alg.func(x.name, sel(x.operand))
    if isinstance(x, Pow) and x.base.shape != ():
        return alg.power(sel(x.base), x.exponent)
    if isinstance(x, T):
        return alg.transpose(select(x.operand, col0, ncols, row0, nrows))
    if isinstance(x, MatMul):
        inner = as_matrix(x.left.shape)[1]
        left = select(x.left, row0, nrows, 0, inner)
        right = select(x.right, 0, inner, col0, ncols)
        return alg.matmul(left, right)
    if isinstance(x, Call) and x.name in ("hcat", "vcat"):
        return _select_in_block(x, row0, nrows, col0, ncols)
    if isinstance(x, Call) and x.name == "kron":
        return _select_in_kron(x, row0, nrows, col0, ncols)
    if isinstance(x, Commutation):
        return _select_in_commutation(x, row0, nrows, col0, ncols)
    return None


def _select_in_commutation(k: Commutation, row0, nrows, col0, ncols):
    """Columns of K_{p,q} for the columns a+1 … a+b of a p×q X are (I_p ⊗ I_q[:, a+1:a+b])
    K_{p,b}; rows for the rows a+1 … a+b of X, K_{b,q} (I_q ⊗ I_p[a+1:a+b, :])."""
    from .ops.vecform import commutation

    p, q = k.m, k.n
    size = as_matrix(k.shape)[0]
    if _whole_range(row0, nrows, size):
        a, b = dim_quotient(col0, p), dim_quotient(ncols, p)
        if a is None or b is None:
            return None
        place = select(alg.eye(q), 0, q, a, b)
        return alg.matmul(alg.kron(alg.eye(p), place), commutation(p, b))
    if _whole_range(col0, ncols, size):
        a, b = dim_quotient(row0, q), dim_quotient(nrows, q)
        if a is None or b is None:
            return None
        pick = select(alg.eye(p), a, b, 0, p)
        return alg.matmul(commutation(b, q), alg.kron(alg.eye(q), pick))
    return None


def _whole_range(start, count, full) -> bool:
    return dim_difference(start, 0) == 0 and dim_difference(count, full) == 0


def _select_in_kron(x: Call, row0, nrows, col0, ncols):
    """(P ⊗ Q)[r, c] = P[r / q₁, c / q₂] ⊗ Q when the ranges fall on whole copies of Q
    (q₁ × q₂): the vec-form Jacobian of a block reads x₁ᵀ ⊗ I, not (xᵀ ⊗ I) S."""
    p, q = x.args
    q1, q2 = as_matrix(q.shape)
    parts = [dim_quotient(d, s) for d, s in ((row0, q1), (nrows, q1), (col0, q2), (ncols, q2))]
    if any(d is None for d in parts):
        return None
    return alg.kron(select(p, *parts), q)


def _at_least(a, b) -> bool:
    """a ≥ b for every value of the dimension names."""
    diff = dim_difference(b, a)  # a − b
    return diff is not None and diff >= 0


def _disjoint(row0, nrows, col0, ncols) -> bool:
    """The row range and the column range do not meet (an off-diagonal block of I)."""
    return _at_least(col0, dim_add(row0, nrows)) or _at_least(row0, dim_add(col0, ncols))


def _select_in_block(x: Call, row0, nrows, col0, ncols):
    """A range of [a, b] (or [a; b]): a range of a, of b, or a range of each joined."""
    a, b = x.args
    horizontal = x.name == "hcat"
    axis = 1 if horizontal else 0
    start, size = (col0, ncols) if horizontal else (row0, nrows)
    first, second = as_matrix(a.shape)[axis], as_matrix(b.shape)[axis]

    def part(node, offset, count):
        if horizontal:
            return select(node, row0, nrows, offset, count)
        return select(node, offset, count, col0, ncols)

    end = dim_add(start, size)
    if _at_least(first, end):
        return part(a, start, size)
    if _at_least(start, first):
        return part(b, dim_sub(start, first), size)
    whole = dim_difference(start, 0) == 0 and dim_difference(size, dim_add(first, second)) == 0
    splits = whole or (_at_least(first, dim_add(start, 1)) and _at_least(end, dim_add(first, 1)))
    if not splits:
        return None
    head = part(a, start, dim_sub(first, start))
    tail = part(b, 0, dim_sub(end, first))
    return hcat(head, tail) if horizontal else vcat(head, tail)

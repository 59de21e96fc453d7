"""Rewrite rules for index notation, run by the simplifier's driver with the others.

Two groups: housekeeping (a slice of a tensor built from slices is the body with its
indices renamed; zeros stay zeros; a factor that does not carry a sum's index leaves the
sum), and the recognition of matrix notation in index sums (``sum(j: A[i, j] x[j])`` is
``(A x)ᵢ``; ``sum(i: x[i] y[i])`` is ``xᵀ y``; ``sum(i: A[i, i])`` is ``tr(A)``; ``A[i, j]
B[i, j]`` is ``(A ⊙ B)ᵢⱼ``), so that what matrix notation can say is printed in it.
"""
from __future__ import annotations

from .. import algebra as alg
from ..ir import (Add, Build, Delta, Func, Had, IndexSum, MatMul, Node, Num, Ones, Pow, Scale,
                  Indexed, T, Zeros)
from .labels import free_indices, rename


def bound_labels(node: Node) -> set:
    """Every label some sum or indexed definition below node binds."""
    out: set = set()
    for n in _walk(node):
        if isinstance(n, IndexSum):
            out.update(n.labels)
        elif isinstance(n, Build):
            out.update(e for e in n.pattern if e is not None)
    return out


def _walk(node: Node):
    from ..ir import walk

    return walk(node)


def product(factors: list) -> Node:
    out = factors[0]
    for f in factors[1:]:
        out = alg.scale(out, f) if out.shape == () or f.shape == () else alg.had(out, f)
    return out


def scalar_factors(node: Node) -> list:
    if isinstance(node, Scale) and (node.operand.shape == () or node.factor.shape == ()) \
            and node.shape == ():
        return scalar_factors(node.factor) + scalar_factors(node.operand)
    return [node]


# ---------------------------------------------------------------- housekeeping

def slice_of_build(node: Node):
    """B[e] with B[p] = Y is Y with p's indices renamed to e's (a gather of a scatter)."""
    if not (isinstance(node, Indexed) and isinstance(node.operand, Build)):
        return None
    build = node.operand
    labels = [e for e in build.pattern if e is not None]
    if len(set(labels)) != len(labels):
        return None
    mapping, rest, kept = {}, [], []
    for b, s in zip(build.pattern, node.pattern):
        if b is None:
            rest.append(s)
        elif s is None:
            kept.append(b)  # this axis stays: the result is built over it
        else:
            mapping[b] = s
    if kept:
        if None in build.pattern or set(mapping.values()) & (bound_labels(build.body) |
                                                              set(kept)):
            return None
        dims = tuple(d for b, s, d in zip(build.pattern, node.pattern, build.dims)
                     if s is None)
        return Build(rename(build.body, mapping), tuple(kept), dims)
    body = build.body
    if set(mapping.values()) & bound_labels(body):
        return None  # renaming would be captured by a sum inside
    body = rename(body, mapping)
    if all(e is None for e in rest):
        return body
    return Indexed(body, tuple(rest))


def slice_of_slice(node: Node):
    """X[:, i, :][a, :] is X[a, i, :]: the outer entries fill the inner ':' in order."""
    if not (isinstance(node, Indexed) and isinstance(node.operand, Indexed)):
        return None
    inner = node.operand
    if len(inner.shape) != inner.pattern.count(None):
        return None  # a row vector or a 1-axis normalisation: leave it
    outer = iter(node.pattern)
    return Indexed(inner.operand, tuple(next(outer) if e is None else e for e in inner.pattern))


def slice_of_whole(node: Node):
    """X[:, :] is X."""
    if isinstance(node, Indexed) and all(e is None for e in node.pattern):
        return node.operand
    return None


def zero_index_nodes(node: Node):
    """Σ 0 = 0; a tensor of zero slices is 0; a slice of 0 is 0."""
    if isinstance(node, (IndexSum, Build)) and alg.is_zero(node.body):
        return alg.zeros(node.shape)
    if isinstance(node, Indexed) and isinstance(node.operand, Zeros):
        return alg.zeros(node.shape)
    if isinstance(node, Indexed) and isinstance(node.operand, Ones):  # 𝟏[i, :] = 𝟏
        return alg.ones(node.shape) if node.shape else Num(1)
    return None


def sum_of_slice(node: Node):
    """sum(A[i, :]) = (A 𝟏)ᵢ, sum(A[:, j]) = (Aᵀ 𝟏)ⱼ: row and column sums."""
    from ..ir import Call

    if not (isinstance(node, Call) and node.name == "sum" and len(node.args) == 1):
        return None
    hit = _as_index(node.args[0])
    if hit is None or len(hit[1]) != 2 or len(hit[0].shape) != 2:
        return None
    x, (a, b) = hit
    if a is not None and b is None:
        return Indexed(alg.matmul(x, alg.ones((x.shape[1],))), (a,))
    if a is None and b is not None:
        return Indexed(alg.matmul(alg.transpose(x), alg.ones((x.shape[0],))), (b,))
    return None


def slice_of_linear(node: Node):
    """(c X)[e] = c X[e]; (Xᵀ)[i, j] = X[j, i]. (Not f(X)[e] = f(X[e]), the Hadamard
    product nor sums: those go the other way, toward matrix notation.)"""
    if not isinstance(node, Indexed):
        return None
    x, p = node.operand, node.pattern
    if isinstance(x, Scale) and x.factor.shape == ():
        return alg.scale(x.factor, Indexed(x.operand, p))
    if isinstance(x, T) and len(x.shape) == 2 and len(x.operand.shape) == 2:
        return Indexed(x.operand, (p[1], p[0]))
    return None


def factor_out_of_sum(node: Node):
    """Σᵢ c Yᵢ = c Σᵢ Yᵢ when c does not carry i; Σᵢ Y = n Y when nothing does."""
    if not isinstance(node, IndexSum):
        return None
    labels = set(node.labels)
    used = [(k, n) for k, n in zip(node.labels, node.sizes) if k in free_indices(node.body)]
    if len(used) < len(node.labels):
        count: Node = Num(1)
        for k, n in zip(node.labels, node.sizes):
            if k not in free_indices(node.body):
                count = alg.scale(count, Num(n) if isinstance(n, int) else _size(n))
        inner = IndexSum(node.body, tuple(k for k, _ in used), tuple(n for _, n in used)) \
            if used else node.body
        return alg.scale(count, inner)
    if isinstance(node.body, Scale):
        c, y = node.body.factor, node.body.operand
        if not labels & set(free_indices(c)):
            return alg.scale(c, IndexSum(y, node.labels, node.sizes))
        if y.shape == () and not labels & set(free_indices(y)):
            return alg.scale(y, IndexSum(c, node.labels, node.sizes))
    if isinstance(node.body, Add):
        return alg.add(*[IndexSum(t, node.labels, node.sizes) for t in node.body.terms])
    return None


def _size(n) -> Node:
    from ..ir import Call, Ones

    return Call("sum", (Ones((n,)),))  # printed as the size itself (sum(𝟏) = n)


# ---------------------------------------------------------------- matrix notation

def _as_index(node: Node):
    """(X, pattern) when node is a slice of a value without free indices."""
    if isinstance(node, Indexed) and not free_indices(node.operand):
        return node.operand, node.pattern
    return None


def hadamard_of_slices(node: Node):
    """X[i, j] Y[i, j] = (X ⊙ Y)[i, j] for two scalar entries at one index pattern."""
    if not (isinstance(node, Scale) and node.shape == ()):
        return None
    a, b = _as_index(node.factor), _as_index(node.operand)
    if a and b and a[1] == b[1] and a[0].shape == b[0].shape and all(
            e is not None for e in a[1]):
        return Indexed(alg.had(a[0], b[0]), a[1])
    return None


def entrywise_of_slice(node: Node):
    """f(X[i, j]) = f(X)[i, j], f(c X[i, j]) = f(c X)[i, j] for a number c."""
    from ..ir import Div

    if isinstance(node, Pow) and node.shape == () and isinstance(node.exponent, Num):
        hit = _as_index(node.base)  # xᵢ^p = (x.^p)ᵢ
        return Indexed(alg.power(hit[0], node.exponent), hit[1]) if hit else None
    if isinstance(node, Div) and node.shape == () and not free_indices(node.left):
        hit = _as_index(node.right)  # c / xᵢ = (c ./ x)ᵢ
        if hit and hit[0].shape:
            return Indexed(alg.div(alg.fill(node.left, hit[0].shape), hit[0]), hit[1])
        return None
    if not (isinstance(node, Func) and node.shape == ()):
        return None
    arg, coef = node.operand, None
    if isinstance(arg, Scale) and isinstance(arg.factor, Num):
        arg, coef = arg.operand, arg.factor
    hit = _as_index(arg)
    if hit is None:
        return None
    x, p = hit
    return Indexed(alg.func(node.name, alg.scale(coef, x) if coef is not None else x), p)


def _matrix_of(x: Node, pattern: tuple):
    """(M, row label, col label) reading x[pattern] as the entry of a matrix M (a vector
    x[j] is the column x: row label j, col None)."""
    if len(pattern) == 1:
        return x, pattern[0], None
    if len(pattern) == 2 and pattern[0] != pattern[1]:
        return x, pattern[0], pattern[1]
    return None


def contraction_as_product(node: Node):
    """Σⱼ over two indexed factors that share j (and nothing else summed): a matrix
    product, a quadratic form or a Frobenius product: Σⱼ Aᵢⱼ xⱼ = (A x)ᵢ,
    Σⱼ Aᵢⱼ Bⱼₖ = (A B)ᵢₖ, Σᵢ xᵢ yᵢ = xᵀ y, Σᵢⱼ Aᵢⱼ Bᵢⱼ = A : B; and over one indexed
    factor: Σᵢ Aᵢᵢ = tr(A), Σᵢ xᵢ = sum(x)."""
    if not isinstance(node, IndexSum) or node.shape != ():
        return None
    factors = []
    for f in scalar_factors(node.body):  # a square xᵢ² is the pair xᵢ xᵢ
        if isinstance(f, Pow) and isinstance(f.exponent, Num) and f.exponent.value == 2 \
                and f.shape == ():
            factors += [f.base, f.base]
        else:
            factors.append(f)
    summed = set(node.labels)
    carriers = [k for k, f in enumerate(factors) if summed & set(free_indices(f))]
    rest = [f for k, f in enumerate(factors) if k not in carriers]
    if len(carriers) == 1:
        made = _single(_as_index(factors[carriers[0]]), summed)
    elif len(carriers) == 2:
        a, b = (_as_index(factors[k]) for k in carriers)
        made = _pair(a, b, summed) if a and b else None
    else:
        return None
    if made is None:
        return None
    return product(rest + [made]) if rest else made


def _single(hit, summed: set):
    if hit is None:
        return None
    x, p = hit
    if len(p) == 2 and p[0] == p[1] and summed == {p[0]}:
        return alg.call("tr", x)
    if None in p or len(set(p)) != len(p) or set(p) != summed:
        return None
    if isinstance(x, Pow) and isinstance(x.exponent, Num) and x.exponent.value == 2:
        x = Had(x.base, x.base)  # Σᵢ (v.^2)ᵢ = vᵀ v
    if isinstance(x, Had):  # Σᵢ (x ⊙ y)ᵢ = xᵀ y; Σᵢⱼ (A ⊙ B)ᵢⱼ = A : B
        if len(x.shape) == 1:
            return alg.matmul(alg.transpose(x.left), x.right)
        return alg.frob(x.left, x.right)
    return alg.call("sum", x)


def _pair(a, b, summed: set):
    (x, p), (y, q) = a, b
    if len(p) == len(q) == 2 and set(p) == summed and p == q and x.shape == y.shape:
        return alg.frob(x, y)
    ma, mb = _matrix_of(x, p), _matrix_of(y, q)
    if ma is None or mb is None or len(summed) != 1:
        return None
    (s,) = summed
    left = _oriented(ma, s, as_left=True)
    right = _oriented(mb, s, as_left=False)
    if left is None or right is None:
        return None
    (lm, lrow), (rm, rcol) = left, right
    if s in (lrow, rcol):
        return None
    prod = alg.matmul(lm, rm)
    labels = tuple(k for k in (lrow, rcol) if k is not None)
    if not labels:
        return prod
    if lrow is None:  # a row result (xᵀ B)ₖ, read as the vector Bᵀ x
        prod = alg.transpose(prod)
    return Indexed(prod, labels)


def _oriented(m, s, as_left: bool):
    """(matrix, free label) with the summed label s as the column (left) or row (right)."""
    x, row, col = m
    if col is None:  # a vector x[s]
        if row != s:
            return None
        return (alg.transpose(x), None) if as_left else (x, None)
    if as_left:
        if col == s:
            return x, row
        if row == s:
            return alg.transpose(x), col
    else:
        if row == s:
            return x, col
        if col == s:
            return alg.transpose(x), row
    return None


def split_sum(node: Node):
    """Σᵢⱼ = Σᵢ Σⱼ when the contraction over j alone is a matrix product: the sum over i
    may then be one too (Σᵢⱼ yᵢ Aᵢⱼ xⱼ = Σᵢ yᵢ (A x)ᵢ = yᵀ A x)."""
    if not (isinstance(node, IndexSum) and len(node.labels) > 1 and node.shape == ()):
        return None
    factors = scalar_factors(node.body)
    # the last index first: Σᵢⱼ yᵢ Aᵢⱼ xⱼ = Σᵢ yᵢ (A x)ᵢ = yᵀ A x, as it is read
    for k, label in reversed(list(enumerate(node.labels))):
        carriers = [f for f in factors if label in free_indices(f)]
        if len(carriers) != 2:
            continue
        made = contraction_as_product(IndexSum(product(carriers), (label,), (node.sizes[k],)))
        if made is None:
            continue
        rest = [f for f in factors if label not in free_indices(f)]
        return IndexSum(product(rest + [made]), node.labels[:k] + node.labels[k + 1:],
                        node.sizes[:k] + node.sizes[k + 1:])
    return None


def delta_of_one_index(node: Node):
    """δᵢᵢ = 1."""
    if isinstance(node, Delta) and node.i == node.j:
        return Num(1)
    return None


def delta_contraction(node: Node):
    """Σᵢ δᵢₚ Yᵢ = Yₚ: the sum over i of a product with δ(i, p) keeps the term i = p."""
    if not isinstance(node, IndexSum) or node.shape != ():
        return None
    factors = scalar_factors(node.body)
    for k, f in enumerate(factors):
        if not isinstance(f, Delta):
            continue
        for summed, other in ((f.i, f.j), (f.j, f.i)):
            if summed not in node.labels or summed == other:
                continue
            rest = factors[:k] + factors[k + 1:]
            body = product(rest) if rest else Num(1)
            if other in bound_labels(body):
                continue
            body = rename(body, {summed: other})
            keep = [(lab, n) for lab, n in zip(node.labels, node.sizes) if lab != summed]
            if not keep:
                return body
            return IndexSum(body, tuple(lab for lab, _ in keep), tuple(n for _, n in keep))
    return None


def _unit_vector(node: Node):
    """p when node is e_p, the vector built as e[u] = δᵤₚ."""
    if isinstance(node, Build) and len(node.pattern) == 1 and isinstance(node.body, Delta):
        u, d = node.pattern[0], node.body
        if u is not None and u in (d.i, d.j) and d.i != d.j:
            return d.j if d.i == u else d.i
    return None


def frobenius_with_unit_vector(node: Node):
    """e_p : v = vₚ (and v : e_p)."""
    from ..ir import Frob

    if not isinstance(node, Frob) or len(node.shape) != 0 or len(node.left.shape) != 1:
        return None
    for a, b in ((node.left, node.right), (node.right, node.left)):
        p = _unit_vector(a)
        if p is not None:
            return Indexed(b, (p,))
        if isinstance(a, Scale) and _unit_vector(a.operand) is not None:
            return alg.scale(a.factor, Indexed(b, (_unit_vector(a.operand),)))
    return None


def product_with_unit_vector(node: Node):
    """M e_p = M[:, p] (a column of M); xᵀ e_p = xₚ; e_pᵀ M = M[p, :]ᵀ."""
    if not isinstance(node, MatMul):
        return None
    p = _unit_vector(node.right)
    if p is not None:
        left = node.left
        if isinstance(left, T) and len(left.operand.shape) == 1:
            return Indexed(left.operand, (p,))
        if len(left.shape) == 2 and left.shape[0] != 1:
            return Indexed(left, (None, p))
    if isinstance(node.left, T):
        p = _unit_vector(node.left.operand)
        if p is not None and len(node.right.shape) == 2:
            return alg.transpose(Indexed(node.right, (p, None)))
        if p is not None and len(node.right.shape) == 1:
            return Indexed(node.right, (p,))
    return None


def delta_out_of_build(node: Node):
    """B[v] = δᵢₚ Yᵥ is δᵢₚ B′ with B′[v] = Yᵥ: a δ of other indices is a scalar here."""
    if not (isinstance(node, Build) and node.shape != ()):
        return None
    labels = {e for e in node.pattern if e is not None}
    factors = scalar_factors(node.body) if node.body.shape == () else [node.body]
    deltas = [f for f in factors if isinstance(f, Delta) and not {f.i, f.j} & labels]
    if not deltas or len(factors) == len(deltas):
        return None
    rest = [f for f in factors if f not in deltas]
    return alg.scale(product(deltas), Build(product(rest), node.pattern, node.dims))


def build_of_build(node: Node):
    """A tensor whose slices are tensors built from entries: one tensor built from entries
    (B[p, :] = C with C[i] = Yᵢ is B[p, i] = Yᵢ)."""
    if not (isinstance(node, Build) and isinstance(node.body, Build)):
        return None
    inner = node.body
    if None in inner.pattern or node.pattern.count(None) != len(inner.pattern):
        return None
    outer_labels = {e for e in node.pattern if e is not None}
    if outer_labels & set(inner.pattern) or outer_labels & bound_labels(inner.body) - set():
        return None
    fill = iter(inner.pattern)
    pattern = tuple(next(fill) if e is None else e for e in node.pattern)
    return Build(inner.body, pattern, node.dims)


def build_as_matrix(node: Node):
    """A matrix (or vector) built entry by entry from an entry of a matrix expression is
    that expression: B[i, j] = Mᵢⱼ is M, = Mⱼᵢ is Mᵀ; B[i, j] = xᵢ yⱼ is x yᵀ;
    B[i, j] = δᵢⱼ (or B[i, i] = 1) is I; scalar factors without the indices come out."""
    if not isinstance(node, Build):
        return None
    labels = {e for e in node.pattern if e is not None}
    hit = _as_index(node.body)
    if hit and tuple(hit[1]) == tuple(node.pattern) and hit[0].shape == tuple(node.dims) and \
            len(labels) == len([e for e in node.pattern if e is not None]):
        return hit[0]  # B[:, i, :] = X[:, i, :] is X
    if isinstance(node.body, Scale) and not labels & set(free_indices(node.body.factor)):
        inner = _as_index(node.body.operand)
        if inner and tuple(inner[1]) == tuple(node.pattern) and \
                inner[0].shape == tuple(node.dims):
            return alg.scale(node.body.factor, inner[0])  # B[:, i, :] = c X[:, i, :]
    if None in node.pattern or len(node.pattern) > 2:
        return None
    factors = scalar_factors(node.body)
    constant = [f for f in factors if not labels & set(free_indices(f))]
    varying = [f for f in factors if labels & set(free_indices(f))]
    made = _entries_as_matrix(varying, node.pattern, node.dims)
    if made is None:
        return None
    return alg.scale(product(constant), made) if constant else made


def _entries_as_matrix(factors: list, pattern: tuple, dims: tuple):
    if len(pattern) == 2 and pattern[0] == pattern[1]:  # B[i, i] = c: c I
        return alg.eye(dims[0]) if not factors else None
    if not factors:
        return None
    if len(factors) == 1:
        f = factors[0]
        if isinstance(f, Delta) and {f.i, f.j} == set(pattern) and len(pattern) == 2:
            return alg.eye(dims[0])
        if isinstance(f, Indexed) and len(pattern) == 1 and f.pattern == (pattern[0],) and \
                not free_indices(f.operand):
            return f.operand
        hit = _as_index(f)
        if hit is None or None in hit[1]:
            return None
        x, q = hit
        if tuple(q) == tuple(pattern) and x.shape == tuple(dims):
            return x
        if len(pattern) == 1 and len(q) == 2 and q[0] == q[1] == pattern[0]:
            return alg.call("diag", x)
        if len(q) == 2 and tuple(q) == tuple(reversed(pattern)):
            return alg.transpose(x)
        return None
    deltas = [f for f in factors if isinstance(f, Delta) and {f.i, f.j} == set(pattern)]
    if len(factors) == 2 and len(pattern) == 2 and deltas:  # B[p, i] = cᵢ δᵢₚ: Diag(c)
        other = _as_index(factors[1 - factors.index(deltas[0])])
        if other and len(other[1]) == 1 and other[1][0] in pattern and \
                len(other[0].shape) == 1:
            return alg.diag_matrix(other[0])
    if len(factors) == 2 and len(pattern) == 2:
        a, b = (_as_index(f) for f in factors)
        if a and b and len(a[1]) == len(b[1]) == 1:
            if (a[1][0], b[1][0]) == tuple(pattern):
                return alg.matmul(a[0], alg.transpose(b[0]))
            if (b[1][0], a[1][0]) == tuple(pattern):
                return alg.matmul(b[0], alg.transpose(a[0]))
    return None


def product_with_a_column_slice(node: Node):
    """wᵀ X[:, i] = (Xᵀ w)ᵢ and X[i, :]ᵀ w = (X w)ᵢ: the inner product of a vector with a
    column (or row) of a matrix is an entry of a matrix-vector product."""
    if not (isinstance(node, MatMul) and node.shape == ()):
        return None
    left, right = node.left, node.right
    for row, col, flip in ((left, right, False), (right, left, True)):
        # row is wᵀ (or the transposed slice), col the other operand
        if not isinstance(row, T):
            continue
        w, hit = row.operand, _as_index(col)
        if hit is not None and len(w.shape) == 1 and not free_indices(w):
            x, p = hit
            if len(p) == 2 and p.count(None) == 1 and len(x.shape) == 2:
                label = p[0] if p[0] is not None else p[1]
                m = alg.transpose(x) if p[0] is None else x
                return Indexed(alg.matmul(m, w), (label,))
        hit = _as_index(w)
        if hit is not None and len(col.shape) == 1 and not free_indices(col):
            x, p = hit
            if len(p) == 2 and p.count(None) == 1 and len(x.shape) == 2:
                label = p[0] if p[0] is not None else p[1]
                m = alg.transpose(x) if p[0] is None else x
                return Indexed(alg.matmul(m, col), (label,))
    return None


def sum_of_entries(node: Node):
    """c + vᵢ − uᵢ … = (c + v − u)ᵢ: a sum of entries (or of columns, X[:, i] − Y[:, i] =
    (X − Y)[:, i]) at one index pattern, and of scalars without the index, is one of the
    sum."""
    if not isinstance(node, Add) or len(node.shape) > 1:
        return None
    pattern, operand_shape, parts = None, None, []
    for t in node.terms:
        coef, inner = (t.factor, t.operand) if isinstance(t, Scale) and isinstance(
            t.factor, Num) else (None, t)
        hit = _as_index(inner)
        if hit is not None and (None not in hit[1] or node.shape == () or
                                hit[1].count(None) == len(node.shape)):
            if pattern is None:
                pattern, operand_shape = hit[1], hit[0].shape
            elif hit[1] != pattern or hit[0].shape != operand_shape:
                return None
            parts.append((coef, hit[0]))
        elif not free_indices(t) and t.shape == ():
            parts.append((None, t))  # a scalar: broadcast
        else:
            return None
    if pattern is None or sum(1 for _, x in parts if x.shape) < 1:
        return None
    terms = []
    for coef, x in parts:
        x = alg.fill(x, operand_shape) if x.shape == () else x
        terms.append(alg.scale(coef, x) if coef is not None else x)
    return Indexed(alg.add(*terms), pattern)


def weighted_sum_of_slices(node: Node):
    """Σᵢ sᵢ X[:, i] = X s, Σᵢ sᵢ X[i, :] = Xᵀ s (and transposed: Σᵢ sᵢ X[:, i]ᵀ = (X s)ᵀ);
    several weights sᵢ tᵢ … are the entries of s ⊙ t ⊙ …, a factor without i comes out."""
    if not (isinstance(node, IndexSum) and len(node.labels) == 1 and
            isinstance(node.body, Scale) and node.shape != ()):
        return None
    (label,) = node.labels
    weights, constants, v = [], [], node.body
    while isinstance(v, Scale):
        for c in scalar_factors(v.factor):
            hit = _as_index(c)
            if hit is not None and hit[1] == (label,) and len(hit[0].shape) == 1:
                weights.append(hit[0])
            elif not free_indices(c):
                constants.append(c)
            else:
                return None
        v = v.operand
    if not weights:
        return None
    transposed = isinstance(v, T)
    hit = _as_index(v.operand if transposed else v)
    if hit is None or len(hit[1]) != 2 or hit[1].count(None) != 1 or label not in hit[1]:
        return None
    x, p = hit
    if any(w.shape[0] != (x.shape[1] if p[1] == label else x.shape[0]) for w in weights):
        return None
    m = x if p[1] == label else alg.transpose(x)
    weight = weights[0]
    for w in weights[1:]:
        weight = alg.had(weight, w)
    out = alg.matmul(m, weight)
    out = alg.transpose(out) if transposed else out
    return alg.scale(product(constants), out) if constants else out


def slice_of_outer_product(node: Node):
    """(u vᵀ)[a, c] = uₐ v꜀: an entry of an outer product is a product of entries."""
    if not (isinstance(node, Indexed) and isinstance(node.operand, MatMul) and
            None not in node.pattern and len(node.pattern) == 2):
        return None
    u, vt = node.operand.left, node.operand.right
    if len(u.shape) == 1 and isinstance(vt, T) and len(vt.operand.shape) == 1:
        a, c = node.pattern
        return alg.scale(Indexed(u, (a,)), Indexed(vt.operand, (c,)))
    return None


def build_of_products_with_slices(node: Node):
    """Rows or columns of a product: B[i, :] = M X[i, :] is X Mᵀ, B[:, j] = M X[:, j] is
    M X (a label-free factor c in front comes out: c X Mᵀ)."""
    if not (isinstance(node, Build) and len(node.pattern) == 2 and
            node.pattern.count(None) == 1):
        return None
    body, constant = node.body, None
    if isinstance(body, Scale) and not free_indices(body.factor):
        constant, body = body.factor, body.operand
    if not isinstance(body, MatMul) or free_indices(body.left):
        return None
    hit = _as_index(body.right)
    if hit is None or tuple(hit[1]) != tuple(node.pattern) or hit[0].shape != tuple(node.dims):
        return None
    x, m = hit[0], body.left
    out = alg.matmul(x, alg.transpose(m)) if node.pattern[1] is None else alg.matmul(m, x)
    return alg.scale(constant, out) if constant is not None else out


def column_of_product(node: Node):
    """M X[:, i] = (M X)[:, i]: a matrix times a column of X is a column of M X."""
    if not (isinstance(node, MatMul) and len(node.shape) == 1) or free_indices(node.left):
        return None
    hit = _as_index(node.right)
    if hit is None or len(hit[1]) != 2 or hit[1][0] is not None or hit[1][1] is None or \
            len(hit[0].shape) != 2 or len(node.left.shape) != 2:
        return None
    return Indexed(alg.matmul(node.left, hit[0]), hit[1])


def sum_of_outer_products_of_columns(node: Node):
    """Σᵢ P[:, i] Q[:, i]ᵀ = P Qᵀ and Σᵢ P[i, :] Q[i, :]ᵀ = Pᵀ Q."""
    if not (isinstance(node, IndexSum) and len(node.labels) == 1 and
            isinstance(node.body, MatMul) and isinstance(node.body.right, T)):
        return None
    (label,) = node.labels
    a, b = _as_index(node.body.left), _as_index(node.body.right.operand)
    if a is None or b is None or a[1] != b[1] or len(a[1]) != 2 or \
            len(a[0].shape) != 2 or len(b[0].shape) != 2:
        return None
    if a[1] == (None, label):
        return alg.matmul(a[0], alg.transpose(b[0]))
    if a[1] == (label, None):
        return alg.matmul(alg.transpose(a[0]), b[0])
    return None


# Housekeeping first (slices of tensors built from slices, deltas, zeros), then the
# recognition of matrix notation.
RULES = [
    sum_of_slice, delta_out_of_build, product_with_unit_vector, frobenius_with_unit_vector,
    delta_of_one_index, delta_contraction, build_of_build, build_as_matrix, slice_of_slice,
    slice_of_whole, slice_of_build, zero_index_nodes, slice_of_linear, factor_out_of_sum,
    entrywise_of_slice, hadamard_of_slices, contraction_as_product, split_sum,
    product_with_a_column_slice, sum_of_entries, weighted_sum_of_slices, slice_of_outer_product,
    build_of_products_with_slices, column_of_product, sum_of_outer_products_of_columns,
]

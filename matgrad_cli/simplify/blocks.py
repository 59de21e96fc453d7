"""Rewrite rules for block matrices, named after the identity each applies (the selection
identities live in the smart constructor, matgrad_cli/blocks.py)."""
from __future__ import annotations

from .. import algebra as alg
from ..blocks import hcat, select
from ..ir import (Call, Commutation, Eye, MatMul, Node, Reshape, Slice, as_matrix,
                  dim_quotient, normalize_shape)
from ..ops.vecform import commutation


def _is_join(node: Node, name: str) -> bool:
    return isinstance(node, Call) and node.name == name


def block_product(node: Node):
    """[A, B] [C; D] = A C + B D when the blocks conform"""
    if isinstance(node, MatMul) and _is_join(node.left, "hcat") and _is_join(node.right,
                                                                             "vcat"):
        (a, b), (c, d) = node.left.args, node.right.args
        if as_matrix(a.shape)[1] == as_matrix(c.shape)[0]:
            return alg.add(alg.matmul(a, c), alg.matmul(b, d))
    return None


def product_with_zero_block(node: Node):
    """M [J; 0] = M[:, 1:r] J,  M [0; J] = M[:, r+1:] J  (and [J, 0] M, [0, J] M by rows):
    the columns of M that meet a zero block drop out"""
    if not isinstance(node, MatMul):
        return None
    left, right = node.left, node.right
    if _is_join(right, "vcat") and not _is_join(left, "hcat"):
        top, bottom = right.args
        m, inner = as_matrix(left.shape)
        split = as_matrix(top.shape)[0]
        if alg.is_zero(bottom):
            return alg.matmul(select(left, 0, m, 0, split), top)
        if alg.is_zero(top):
            return alg.matmul(select(left, 0, m, split, as_matrix(bottom.shape)[0]), bottom)
    if _is_join(left, "hcat") and not _is_join(right, "vcat"):
        first, second = left.args
        inner, n = as_matrix(right.shape)
        split = as_matrix(first.shape)[1]
        if alg.is_zero(second):
            return alg.matmul(first, select(right, 0, split, 0, n))
        if alg.is_zero(first):
            return alg.matmul(second, select(right, split, as_matrix(second.shape)[1], 0, n))
    return None


def product_with_identity_block(node: Node):
    """M I[:, c] = M[:, c] and I[r, :] M = M[r, :]: a product with columns (rows) of the
    identity selects them"""
    if not isinstance(node, MatMul):
        return None
    left, right = node.left, node.right
    if isinstance(right, Slice) and isinstance(right.operand, Eye) and right.row0 == 0 \
            and right.nrows == right.operand.n:
        m = as_matrix(left.shape)[0]
        return select(left, 0, m, right.col0, right.ncols)
    if isinstance(left, Slice) and isinstance(left.operand, Eye) and left.col0 == 0 \
            and left.ncols == left.operand.n:
        n = as_matrix(right.shape)[1]
        return select(right, left.row0, left.nrows, 0, n)
    return None


def join_of_zeros(node: Node):
    """[0, 0] = 0 and [0; 0] = 0"""
    if (_is_join(node, "hcat") or _is_join(node, "vcat")) and all(
            alg.is_zero(a) for a in node.args):
        return alg.zeros(node.shape)
    return None


def _unvec_part(part: Node, rows):
    """The m-row matrix whose vec ``part`` is (vec(A) → A, a zero vector → 0), or None."""
    if _is_join(part, "vec") and as_matrix(part.args[0].shape)[0] == rows:
        return part.args[0]
    if alg.is_zero(part) and len(part.shape) == 1:
        cols = dim_quotient(part.shape[0], rows)
        return alg.zeros(normalize_shape(rows, cols)) if cols not in (None, 0) else None
    if len(part.shape) == 1 and rows == part.shape[0]:  # a column is its own vec
        return part
    return None


def unvec_of_stacked_vecs(node: Node):
    """unvec([vec A; vec B]) = [A, B]: the differential d[A, B] = [dA, dB] (--steps)"""
    if not (isinstance(node, Reshape) and len(node.dims) == 2 and _is_join(node.operand,
                                                                           "vcat")):
        return None
    rows = node.dims[0]
    parts = [_unvec_part(p, rows) for p in node.operand.args]
    if any(p is None for p in parts):
        return None
    return hcat(*parts)


def _has_block(node: Node) -> bool:
    return isinstance(node, Slice) or _is_join(node, "hcat") or _is_join(node, "vcat")


def kron_mixed_product_with_block(node: Node):
    """(A ⊗ B)((C ⊗ D) R) = (A C ⊗ B D) R when the sizes allow and C or D selects or
    places a block (the Jacobian of a block read through a product: x₁ᵀ ⊗ I)"""
    if not (isinstance(node, MatMul) and _is_join(node.left, "kron")
            and isinstance(node.right, MatMul) and _is_join(node.right.left, "kron")):
        return None
    (a, b), (c, d) = node.left.args, node.right.left.args
    if not (_has_block(c) or _has_block(d)):
        return None
    if as_matrix(a.shape)[1] == as_matrix(c.shape)[0] and \
            as_matrix(b.shape)[1] == as_matrix(d.shape)[0]:
        return alg.matmul(alg.kron(alg.matmul(a, c), alg.matmul(b, d)), node.right.right)
    return None


def _commuted(k: Node, right: Node):
    """K_{p,n} (I_n ⊗ E) = (E ⊗ I_n) K_{m,n} for E p×m a block selector, else None."""
    if not (isinstance(k, Commutation) and _is_join(right, "kron")):
        return None
    eye, e = right.args
    if not (isinstance(eye, Eye) and eye.n == k.n and _has_block(e)):
        return None
    p, m = as_matrix(e.shape)
    if p != k.m:
        return None
    return alg.matmul(alg.kron(e, eye), commutation(m, k.n))


def commutation_past_selector(node: Node):
    """K_{p,n} (I_n ⊗ E) = (E ⊗ I_n) K_{m,n} (Magnus–Neudecker): the selector E of a
    transposed block moves next to the factor it selects from"""
    if not isinstance(node, MatMul):
        return None
    moved = _commuted(node.left, node.right)
    if moved is not None:
        return moved
    if isinstance(node.left, MatMul):
        moved = _commuted(node.left.right, node.right)
        if moved is not None:
            return alg.matmul(alg.matmul(node.left.left, moved.left), moved.right)
    return None


RULES = [block_product, product_with_zero_block, product_with_identity_block, join_of_zeros,
         kron_mixed_product_with_block, unvec_of_stacked_vecs, commutation_past_selector]

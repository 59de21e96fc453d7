"""Block matrices (SPEC §2): ``[A, B]`` is hcat(A, B), ``[A; B]`` vcat(A, B), and the
selection of a block, ``rows(X, a, b)`` / ``cols(X, a, b)`` (an ir.Slice), which their
reverse rules need: the adjoint of [A, B] is G sliced back into its blocks,
G : d[A, B] = G[:, 1:n] : dA + G[:, n+1:n+p] : dB, and the adjoint of a block X[r, c] is
G put back in place among zeros. In vec form, vec [A, B] = [vec A; vec B], and selecting
rows (or columns) is the product with rows of an identity: vec X[r, c] = (S_c ⊗ S_r) vec X.
"""
from __future__ import annotations

from .. import algebra as alg
from ..blocks import embed, select, vcat
from ..ir import Slice, as_matrix, normalize_shape
from .base import Structural, _np, as_matrix as dims_of, normalize
from .operators import operator

# The language's block-selection functions: rows(X, a, b) is rows a … b of X (1-based,
# inclusive, MATLAB's X(a:b, :)), cols(X, a, b) columns a … b; a and b are sizes.
SLICES = {"rows": "rows a … b", "cols": "columns a … b"}


# ---------------------------------------------------------------- NumPy implementations

def _block2d(a):
    """A block as a 2-d array: a scalar is 1×1, a vector a column."""
    np = _np()
    a = np.asarray(a)
    if a.ndim == 0:
        return a.reshape(1, 1)
    return a[:, None] if a.ndim == 1 else a


def _unblock(out):
    """A joined 2-d array back in matgrad's shapes: n×1 is a vector, 1×1 a scalar."""
    if out.shape[1] == 1:
        return out[0, 0] if out.shape[0] == 1 else out[:, 0]
    return out


def _hcat(a, b):
    return _unblock(_np().block([[_block2d(a), _block2d(b)]]))


def _vcat(a, b):
    return _unblock(_np().block([[_block2d(a)], [_block2d(b)]]))


def _slice(a, row0, nrows, col0, ncols):
    """Rows row0 … row0+nrows−1 and columns col0 … col0+ncols−1 (0-based) of a."""
    block = _block2d(a)[row0:row0 + nrows, col0:col0 + ncols]
    return _unblock(block).copy()


# ---------------------------------------------------------------- shape rules

def _hcat_shape(d, a, b):
    (ar, ac), (br, bc) = dims_of(d, a), dims_of(d, b)
    d.same(ar, br)
    return normalize(d, ar, d.add(ac, bc))


def _vcat_shape(d, a, b):
    (ar, ac), (br, bc) = dims_of(d, a), dims_of(d, b)
    d.same(ac, bc)
    return normalize(d, d.add(ar, br), ac)


# ---------------------------------------------------------------- derivative rules

def _hcat_vjp(node, G):
    a, b = node.args
    m, na = as_matrix(a.shape)
    nb = as_matrix(b.shape)[1]
    return select(G, 0, m, 0, na), select(G, 0, m, na, nb)


def _hcat_jacobian(node, js):
    return vcat(js[0], js[1])  # vec [A, B] = [vec A; vec B]


def _vcat_vjp(node, G):
    a, b = node.args
    ma, n = as_matrix(a.shape)
    mb = as_matrix(b.shape)[0]
    return select(G, 0, ma, 0, n), select(G, ma, mb, 0, n)


def _vcat_jacobian(node, js):
    """vec [A; B] = (Iₙ ⊗ E_A) vec A + (Iₙ ⊗ E_B) vec B, E_A = [I; 0] and E_B = [0; I]
    placing each block's columns in the taller columns (just [vec A; vec B] for n = 1)."""
    a, b = node.args
    ma, n = as_matrix(a.shape)
    mb = as_matrix(b.shape)[0]
    if n == 1:
        return vcat(js[0], js[1])
    place_a = vcat(alg.eye(ma), alg.zeros(normalize_shape(mb, ma)))
    place_b = vcat(alg.zeros(normalize_shape(ma, mb)), alg.eye(mb))
    return alg.add(alg.matmul(alg.kron(alg.eye(n), place_a), js[0]),
                   alg.matmul(alg.kron(alg.eye(n), place_b), js[1]))


def _slice_vjp(node, G):
    return (embed(G, node.operand.shape, node.row0, node.col0),)


@operator(Slice, "G : dX[r, c] = embed(G) : dX (G in place, zeros elsewhere)",
          "d(X[r, c]) = (dX)[r, c]", _slice_vjp)
def _slice_jacobian(node, js):
    m, n = as_matrix(node.operand.shape)
    pick_rows = select(alg.eye(m), node.row0, node.nrows, 0, m)
    if n == 1:
        return alg.matmul(pick_rows, js[0])
    pick_cols = select(alg.eye(n), node.col0, node.ncols, 0, n)
    return alg.matmul(alg.kron(pick_cols, pick_rows), js[0])


ENTRIES = [
    # numpy_source is the form for matrix blocks; printers/numpy_code.py writes vectors as
    # columns and joins nested blocks into one np.block
    Structural("hcat", 2, _hcat_shape, _hcat, "np.block([[{0}, {1}]])", "hcat", "hcat",
               _hcat_vjp,
               _hcat_jacobian, "G : d[A, B] = G[:, 1:n] : dA + G[:, n+1:n+p] : dB",
               differential="d[A, B] = [dA, dB]", callable_by_name=False, fresh=True),
    Structural("vcat", 2, _vcat_shape, _vcat, "np.block([[{0}], [{1}]])", "vcat", "vcat",
               _vcat_vjp,
               _vcat_jacobian, "G : d[A; B] = G[1:m, :] : dA + G[m+1:m+q, :] : dB",
               differential="d[A; B] = [dA; dB]", callable_by_name=False, fresh=True),
]

"""Functions along one dimension of a matrix, MATLAB's convention (SPEC §2): k = 1 works
down each column (an m×n X gives a 1×n row), k = 2 along each row (an m vector);
``softmax(X, k)`` keeps X's shape. ``mean(X)`` (all entries) lives here too.

The language spells them ``sum(X, 2)``; the registry holds one entry per (function, k)
(``sum_2``), which the parser picks for a literal k, so every rule below reads a plain
unary call. ``build`` reduces the degenerate shapes (a scalar, a vector, a 1×n row) to the
functions of a vector, so an entry here only ever sees a true matrix.

With 𝟏 the all-ones vector, the rules are products with 𝟏 (X 𝟏 sums each row, 𝟏ᵀX each
column), which is also how a textbook writes their derivatives: for S = softmax(Z, 2)
and an upstream G, ∂f/∂Z = S ⊙ (G − (G ⊙ S) 𝟏 𝟏ᵀ), (G ⊙ S) 𝟏 the row sums of G ⊙ S.
"""
from __future__ import annotations

from .. import algebra as alg
from ..ir import Fill, Ones, as_matrix, size_of
from .base import Structural, _np, as_matrix as dims_of, normalize, same_shape, to_scalar
from .vecform import diag_of

# name in the language -> the entries for k = 1 and k = 2
ALONG = {"sum": ("sum_1", "sum_2"), "mean": ("mean_1", "mean_2"),
         "logsumexp": ("logsumexp_1", "logsumexp_2"), "softmax": ("softmax_1", "softmax_2")}


# ---------------------------------------------------------------- the degenerate shapes

def build(base: str, k: int, x):
    """``base(x, k)`` as a node: a call of the (base, k) entry for a matrix x, else what
    the function means for a scalar, a column vector (m×1) or a 1×n row."""
    if len(x.shape) == 2 and x.shape[0] != 1:
        return alg.call(ALONG[base][k - 1], x)
    if x.shape == ():
        return alg.ONE if base == "softmax" else x
    is_row = len(x.shape) == 2
    if (k == 1) == is_row:  # every slice along k is a single entry
        return alg.ones(x.shape) if base == "softmax" else x
    if base in ("sum", "mean"):  # one slice holds every entry
        return alg.call(base, x)
    out = alg.call(base, alg.transpose(x) if is_row else x)  # the function of a vector
    return alg.transpose(out) if is_row and base == "softmax" else out


# ---------------------------------------------------------------- NumPy implementations

def _reduce(x, k: int, reduce):
    """reduce(x, axis) along k of a matrix (build() sends nothing else), keeping the 1×n
    row of k = 1."""
    return reduce(x, 0)[None, :] if k == 1 else reduce(x, 1)


def _lse(x, axis):
    """log Σ exp with the maximum shifted out, so no exp overflows."""
    np = _np()
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)), axis=axis)


def _softmax_along(x, k: int):
    np = _np()
    axis = k - 1
    z = np.exp(x - np.max(x, axis=axis, keepdims=True))
    z /= np.sum(z, axis=axis, keepdims=True)
    return z


def _sum(x, axis):
    return _np().sum(x, axis=axis)


def _mean(x, axis):
    return _np().mean(x, axis=axis)


# ---------------------------------------------------------------- shape rules

def _shape_1(d, a):
    _, cols = dims_of(d, a)
    return normalize(d, d.one(), cols)


def _shape_2(d, a):
    rows, _ = dims_of(d, a)
    return normalize(d, rows, d.one())


# ---------------------------------------------------------------- derivative rules

def _ones_row(n):
    return alg.transpose(alg.ones((n,)))


def count(shape):
    """The number of entries of ``shape`` as a scalar node: a number when the sizes are
    known, else sum(𝟏) (which the text form prints as the product of the sizes)."""
    size = size_of(shape)
    return alg.num(size) if isinstance(size, int) else alg.call("sum", Ones(tuple(shape)))


def _spread(G, x, k: int):
    """The adjoint of the sums along k: 𝟏 G (k = 1) or G 𝟏ᵀ (k = 2), shaped like x."""
    if isinstance(G, (Ones, Fill)):  # one weight for every slice (sum(logsumexp(Z, 2)))
        return alg.fill(G.value if isinstance(G, Fill) else alg.ONE, x.shape)
    m, n = as_matrix(x.shape)
    return alg.matmul(alg.ones((m,)), G) if k == 1 else alg.matmul(G, _ones_row(n))


def _summing(x, k: int):
    """The Jacobian of the sums along k: Iₙ ⊗ 𝟏ᵀ (k = 1) or 𝟏ᵀ ⊗ Iₘ (k = 2)."""
    m, n = as_matrix(x.shape)
    return alg.kron(alg.eye(n), _ones_row(m)) if k == 1 else alg.kron(_ones_row(n), alg.eye(m))


def _per_slice(x, k: int):
    """How many entries each slice along k holds (m down a column, n along a row)."""
    m, n = as_matrix(x.shape)
    return count((m,) if k == 1 else (n,))


def _sum_vjp_along(k: int):
    def vjp(node, G):
        return (_spread(G, node.args[0], k),)

    return vjp


def _mean_vjp_along(k: int):
    def vjp(node, G):
        x = node.args[0]
        return (alg.div(_spread(G, x, k), alg.fill(_per_slice(x, k), x.shape)),)

    return vjp


def _mean_matrix_along(k: int):
    """(1/N) times the sums' matrix, N the entries of a slice."""
    def matrix(x):
        return alg.scale(alg.div(alg.ONE, _per_slice(x, k)), _summing(x, k))

    return matrix


def _mean_vjp(node, G):
    x = node.args[0]
    return (alg.fill(alg.div(G, count(x.shape)), x.shape),)


def _mean_matrix(x):
    """𝟏ᵀ / N: mean(X) = 𝟏ᵀ vec X / N."""
    if x.shape == ():
        return None
    return alg.scale(alg.div(alg.ONE, count(x.shape)),
                     alg.transpose(alg.ones((size_of(x.shape),))))


def _logsumexp_rules(k: int):
    def probabilities(node):
        return alg.call(ALONG["softmax"][k - 1], node.args[0])

    def vjp(node, G):
        return (alg.had(probabilities(node), _spread(G, node.args[0], k)),)

    def jacobian(node, js):
        return alg.matmul(alg.matmul(_summing(node.args[0], k), diag_of(probabilities(node))),
                          js[0])

    return vjp, jacobian


def _slice_sums(A, k: int):
    """The sums of A along k, spread back over A's shape: 𝟏 𝟏ᵀ A (k = 1), A 𝟏 𝟏ᵀ (k = 2)."""
    m, n = as_matrix(A.shape)
    if k == 1:
        return alg.matmul(alg.ones((m,)), alg.matmul(_ones_row(m), A))
    return alg.matmul(alg.matmul(A, alg.ones((n,))), _ones_row(n))


def _softmax_rules(k: int):
    def vjp(node, G):
        s = node
        return (alg.had(s, alg.sub(G, _slice_sums(alg.had(G, s), k))),)

    def jacobian(node, js):
        # vec(S ⊙ (dX − slice sums of S ⊙ dX)) = (D − D (𝟏𝟏ᵀ ⊗ I or I ⊗ 𝟏𝟏ᵀ) D) vec dX
        m, n = as_matrix(node.shape)
        d = diag_of(node)
        if k == 1:
            spread = alg.kron(alg.eye(n), alg.matmul(alg.ones((m,)), _ones_row(m)))
        else:
            spread = alg.kron(alg.matmul(alg.ones((n,)), _ones_row(n)), alg.eye(m))
        return alg.matmul(alg.sub(d, alg.matmul(alg.matmul(d, spread), d)), js[0])

    return vjp, jacobian


# ---------------------------------------------------------------- the entries

_AXIS_WORDS = {1: "down each column", 2: "along each row"}


def _entries():
    out = [Structural("mean", 1, to_scalar, lambda x: _np().mean(x), "np.mean({0})", "mean",
                      r"\operatorname{mean}", _mean_vjp, None,
                      "G d mean(X) = G 𝟏 / N : dX (N entries)",
                      differential="d mean(X) = mean(dX)", linear=_mean_matrix)]
    for k in (1, 2):
        shape = _shape_1 if k == 1 else _shape_2
        keep = ", keepdims=True" if k == 1 else ""
        axis = k - 1
        ones = "𝟏 G" if k == 1 else "G 𝟏ᵀ"
        sums = "𝟏 𝟏ᵀ (G ⊙ S)" if k == 1 else "(G ⊙ S) 𝟏 𝟏ᵀ"
        word = _AXIS_WORDS[k]
        out.append(Structural(
            f"sum_{k}", 1, shape, lambda x, k=k: _reduce(x, k, _sum),
            f"np.sum({{0}}, axis={axis}{keep})", "sum", r"\operatorname{sum}",
            _sum_vjp_along(k), None,
            f"G : d sum(X, {k}) = {ones} : dX", differential=f"d sum(X, {k}) = sum(dX, {k})",
            callable_by_name=False, along=("sum", k),
            linear=lambda x, k=k: _summing(x, k)))
        out.append(Structural(
            f"mean_{k}", 1, shape, lambda x, k=k: _reduce(x, k, _mean),
            f"np.mean({{0}}, axis={axis}{keep})", "mean", r"\operatorname{mean}",
            _mean_vjp_along(k), None,
            f"G : d mean(X, {k}) = {ones} / N : dX (N entries {word})",
            differential=f"d mean(X, {k}) = mean(dX, {k})", callable_by_name=False,
            along=("mean", k), linear=_mean_matrix_along(k)))
        vjp, jac = _logsumexp_rules(k)
        out.append(Structural(
            f"logsumexp_{k}", 1, shape, lambda x, k=k: _reduce(x, k, _lse),
            f"np.logaddexp.reduce({{0}}, axis={axis}{keep})", "logsumexp",
            r"\operatorname{logsumexp}", vjp, jac,
            f"G : d logsumexp(X, {k}) = S ⊙ ({ones}) : dX, S = softmax(X, {k})",
            differential=f"d logsumexp(X, {k}) = sum(S ⊙ dX, {k})", callable_by_name=False,
            along=("logsumexp", k)))
        vjp, jac = _softmax_rules(k)
        out.append(Structural(
            f"softmax_{k}", 1, same_shape, lambda x, k=k: _softmax_along(x, k),
            f"np.exp({{0}} - np.logaddexp.reduce({{0}}, axis={axis}, keepdims=True))",
            "softmax", r"\operatorname{softmax}", vjp, jac,
            f"G : dS = S ⊙ (G − {sums}) : dX, S = softmax(X, {k})",
            differential=f"dS = S ⊙ (dX − {sums.replace('G', 'dX')})", fresh=True,
            callable_by_name=False, along=("softmax", k)))
    return out


ENTRIES = _entries()

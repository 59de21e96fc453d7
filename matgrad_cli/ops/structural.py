"""Reductions, linear algebra and structure: one entry per function, its shape rule, NumPy
form, reverse rule (with the Frobenius identity --steps shows) and vec-form Jacobian rule
side by side. A rule reads ``node`` (the call, whose value the rules may reuse) and either
the adjoint ``G`` (``df = G : d node``) or the arguments' Jacobians ``js``."""
from __future__ import annotations

from .. import algebra as alg
from ..ir import as_matrix as ir_as_matrix
from ..ir import size_of
from .base import (Structural, _np, as_matrix, normalize, same_shape, square, to_scalar,
                   transposed)
from .vecform import (diag_of, diag_selector, inverse_jacobian, kron_partials, row,
                      transposing, vec)

# ---------------------------------------------------------------- NumPy implementations


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
    x = x if type(x) is np.ndarray else np.asarray(x, dtype=float)
    if x.ndim == 0:
        return np.ones_like(x, dtype=float)
    z = x - x.max()  # (the methods: np.max's Python wrapper costs more than a small pass)
    np.exp(z, out=z)
    z /= z.sum()
    return z


def _logsumexp(x):
    np = _np()
    x = x if type(x) is np.ndarray else np.asarray(x, dtype=float)
    if x.ndim == 0:
        return x + 0.0
    m = x.max()
    z = x - m
    np.exp(z, out=z)
    return m + np.log(z.sum())


def _logdet(x):
    np = _np()
    if np.ndim(x) == 0:
        return np.log(np.abs(x))
    return np.linalg.slogdet(x)[1]


def _inv(x):
    np = _np()
    # NumPy's division: inv(0) is inf with eval's warning, like 1/x at 0, not a Python error
    return np.divide(1.0, x) if np.ndim(x) == 0 else np.linalg.inv(x)


def _pinv(x):
    """The Moore–Penrose inverse, a vector read as a column (its pinv is a row)."""
    np = _np()
    if np.ndim(x) == 0:
        return np.divide(1.0, x) if x != 0 else np.float64(0.0)  # 0⁺ = 0
    out = np.linalg.pinv(x[:, None] if np.ndim(x) == 1 else x)
    return out[:, 0] if out.shape[1] == 1 else out


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


def _vec(x):
    np = _np()
    return np.ravel(x, order="F") if np.ndim(x) else x


# ---------------------------------------------------------------- shape rules

def _square_to_scalar(d, a):
    square(d, a)
    return ()


def _diag_shape(d, a):
    return (square(d, a)[0],) if len(a) == 2 else a


def _Diag_shape(d, a):
    return (a[0], a[0]) if len(a) == 1 else a


def _vec_shape(d, a):
    if len(a) < 2:
        return a
    if d.is_one(a[0]):
        return (a[1],)
    # n·m, the column index outer, as kron(A, B)'s size is rows(A)·rows(B) with A's outer:
    # (Bᵀ ⊗ A) vec(X) then pairs Bᵀ with X's columns and A with its rows, as vec(A X B) does
    return (d.mul(a[1], a[0]),)


def _kron_shape(d, a, b):
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    (ar, ac), (br, bc) = as_matrix(d, a), as_matrix(d, b)
    return normalize(d, d.mul(ar, br), d.mul(ac, bc))


def _broadcast_shape(d, a, b):
    """max(a, b), min(a, b): equal shapes, or a scalar operand broadcast to the other."""
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    (ar, ac), (br, bc) = as_matrix(d, a), as_matrix(d, b)
    d.same(ar, br)  # shape inference checks the operands first (accepts="broadcast")
    d.same(ac, bc)
    return a


# ---------------------------------------------------------------- derivative rules

def _sum_vjp(node, G):
    return (alg.fill(G, node.args[0].shape),)


def _sum_matrix(x):
    """𝟏ᵀ: sum(X) = 𝟏ᵀ vec X."""
    return alg.transpose(alg.ones((size_of(x.shape),))) if x.shape else None


def _tr_vjp(node, G):
    x = node.args[0]
    return (alg.scale(G, alg.eye(x.shape[0])) if x.shape else G,)


def _tr_matrix(x):
    """vec(I)ᵀ: tr(X) = vec(I)ᵀ vec X."""
    return row(alg.eye(x.shape[0])) if x.shape else None


def _det_vjp(node, G):
    x = node.args[0]
    return (alg.scale(alg.scale(G, node), alg.transpose(alg.call("inv", x))),)


def _det_jacobian(node, js):
    x = node.args[0]
    if x.shape == ():
        return js[0]
    return alg.scale(node, alg.matmul(row(alg.transpose(alg.call("inv", x))), js[0]))


def _logdet_vjp(node, G):
    return (alg.scale(G, alg.transpose(alg.call("inv", node.args[0]))),)


def _logdet_jacobian(node, js):
    x = node.args[0]
    if x.shape == ():
        return alg.div(js[0], x)
    return alg.matmul(row(alg.transpose(alg.call("inv", x))), js[0])


def _inv_vjp(node, G):
    yt = alg.transpose(node)
    return (alg.neg(alg.matmul(alg.matmul(yt, G), yt)),)


def _inv_jacobian(node, js):
    if node.shape == ():
        return alg.neg(alg.scale(alg.power(node, alg.num(2)), js[0]))
    return inverse_jacobian(node, js[0])


def _pinv_projectors(node):
    """I − A A⁺ and I − A⁺ A: the projectors off the column and row spaces of A."""
    a = node.args[0]
    m, n = ir_as_matrix(a.shape)
    return (alg.sub(alg.eye(m), alg.matmul(a, node)),
            alg.sub(alg.eye(n), alg.matmul(node, a)))


def _pinv_vjp(node, G):
    # Golub–Pereyra: dA⁺ = −A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I − AA⁺) + (I − A⁺A) dAᵀ A⁺ᵀA⁺
    if node.shape == ():
        return _inv_vjp(node, G)
    p, pt, gt = node, alg.transpose(node), alg.transpose(G)
    off_columns, off_rows = _pinv_projectors(node)
    return (alg.add(alg.neg(alg.matmul(alg.matmul(pt, G), pt)),
                    alg.matmul(alg.matmul(off_columns, gt), alg.matmul(p, pt)),
                    alg.matmul(alg.matmul(alg.matmul(pt, p), gt), off_rows)),)


def _pinv_jacobian(node, js):
    if node.shape == ():
        return _inv_jacobian(node, js)
    a, p = node.args[0], node
    pt = alg.transpose(p)
    off_columns, off_rows = _pinv_projectors(node)
    k = transposing(a)
    terms = alg.add(
        alg.neg(alg.kron(pt, p)),
        alg.matmul(alg.kron(off_columns, alg.matmul(p, pt)), k),
        alg.matmul(alg.kron(alg.matmul(pt, p), off_rows), k))
    return alg.matmul(terms, js[0])


def _diag_vjp(node, G):
    return (alg.diag_matrix(G),)


def _diag_matrix_of(x):
    """S with S vec(X) = diag(X)."""
    return diag_selector(x.shape[0]) if len(x.shape) == 2 else None


def _Diag_vjp(node, G):
    return (alg.call("diag", G) if G.shape else G,)


def _Diag_matrix_of(x):
    """Sᵀ: vec Diag(x) = Sᵀ x."""
    return alg.transpose(diag_selector(x.shape[0])) if x.shape else None


def _vec_vjp(node, G):
    return (alg.unvec(G, node.args[0].shape),)


def _kron_vjp(node, G):
    a, b = node.args
    pa, pb = kron_partials(a, b)
    g = alg.vec(G)
    return (alg.unvec(alg.matmul(alg.transpose(pa), g), a.shape),
            alg.unvec(alg.matmul(alg.transpose(pb), g), b.shape))


def _kron_jacobian(node, js):
    a, b = node.args
    if a.shape == () or b.shape == ():
        scalar, other = (a, b) if a.shape == () else (b, a)
        j_scalar, j_other = (js[0], js[1]) if a.shape == () else (js[1], js[0])
        return alg.add(alg.matmul(vec(other), j_scalar), alg.scale(scalar, j_other))
    pa, pb = kron_partials(a, b)
    return alg.add(alg.matmul(pa, js[0]), alg.matmul(pb, js[1]))


def _softmax_vjp(node, G):
    s = node
    return (alg.sub(alg.had(s, G), alg.scale(alg.matmul(alg.transpose(s), G), s)),)


def _softmax_jacobian(node, js):
    s = node
    return alg.matmul(alg.sub(alg.diag_matrix(s), alg.matmul(s, alg.transpose(s))), js[0])


def _logsumexp_vjp(node, G):
    return (alg.scale(G, alg.call("softmax", node.args[0])),)


def _logsumexp_jacobian(node, js):
    return alg.matmul(alg.transpose(alg.call("softmax", node.args[0])), js[0])


def _norm_vjp(node, G):
    return (alg.scale(alg.div(G, node), node.args[0]),)


def _norm_jacobian(node, js):
    x = node.args[0]
    if x.shape == ():
        return alg.scale(alg.func("sign", x), js[0])
    return alg.matmul(alg.transpose(alg.div(vec(x), node)), js[0])


def _norm1_vjp(node, G):
    return (alg.scale(G, alg.func("sign", node.args[0])),)


def _norm1_jacobian(node, js):
    x = node.args[0]
    return alg.matmul(row(alg.func("sign", x)), js[0]) if x.shape else \
        alg.scale(alg.func("sign", x), js[0])


def _filled(x, shape):
    return alg.fill(x, shape) if x.shape == () else x


def _extremum_masks(node, larger: bool):
    """[a ≥ b] and [a < b] for max (for min [a ≤ b] and [a > b]) as 1 − step(·) and
    step(·): at a tie, step(0) = 0 sends the whole derivative to the first argument."""
    a, b = (_filled(x, node.shape) for x in node.args)
    other_wins = alg.func("step", alg.sub(b, a) if larger else alg.sub(a, b))
    return alg.sub(alg.ones(node.shape), other_wins), other_wins


def _to_shape_of(adjoint, arg):
    """The adjoint of an operand that was broadcast: summed back to a scalar."""
    return alg.call("sum", adjoint) if arg.shape == () and adjoint.shape != () else adjoint


def _extremum_rules(larger: bool):
    def vjp(node, G):
        masks = _extremum_masks(node, larger)
        return tuple(_to_shape_of(alg.had(G, m), arg) for m, arg in zip(masks, node.args))

    def jacobian(node, js):
        masks = _extremum_masks(node, larger)
        terms = []
        for m, arg, j in zip(masks, node.args, js):
            if arg.shape == () and node.shape != ():  # d of a broadcast scalar: vec(mask) dc
                terms.append(alg.matmul(vec(m), j))
            else:
                terms.append(alg.matmul(diag_of(m), j))
        return alg.add(*terms)

    return vjp, jacobian


def _kink_of_extremum(node):
    a, b = (_filled(x, node.shape) for x in node.args)
    return alg.sub(a, b)


_MAX_RULES, _MIN_RULES = _extremum_rules(True), _extremum_rules(False)

ENTRIES = [
    Structural("sum", 1, to_scalar, lambda x: _np().sum(x), "np.sum({0})", "sum",
               r"\operatorname{sum}", _sum_vjp, None, "G d sum(X) = G 𝟏 : dX",
               differential="d sum(A) = sum(dA)", linear=_sum_matrix),
    Structural("tr", 1, _square_to_scalar, _trace, "np.trace({0})", "tr", r"\operatorname{tr}",
               _tr_vjp, None, "G d tr(X) = G I : dX", accepts="square",
               differential="d tr(A) = tr(dA)", linear=_tr_matrix),
    Structural("det", 1, _square_to_scalar, _det, "np.linalg.det({0})", "det", r"\det",
               _det_vjp,
               _det_jacobian, "G d det(X) = G det(X) X⁻ᵀ : dX", accepts="square",
               condition="where det {arg} ≠ 0", domain="invertible",
               differential="d det X = det X tr(X⁻¹ dX)"),
    Structural("logdet", 1, _square_to_scalar, _logdet, "np.linalg.slogdet({0})[1]",
               "log det",
               r"\log\left|\det\right|", _logdet_vjp, _logdet_jacobian,
               "G d log|det X| = G X⁻ᵀ : dX", accepts="square",
               condition="where det {arg} ≠ 0", domain="invertible",
               differential="d log|det X| = tr(X⁻¹ dX)"),
    Structural("inv", 1, lambda d, a: square(d, a), _inv, "np.linalg.inv({0})", "inv",
               r"\operatorname{inv}", _inv_vjp, _inv_jacobian, "G : d X⁻¹ = −X⁻ᵀ G X⁻ᵀ : dX",
               accepts="square", condition="where det {arg} ≠ 0", domain="invertible",
               fresh=True,
               differential="d X⁻¹ = −X⁻¹ dX X⁻¹"),
    Structural("pinv", 1, transposed, _pinv, "_pinv({0})", "pinv",
               r"\operatorname{pinv}", _pinv_vjp, _pinv_jacobian,
               "G : dA⁺ = (−A⁺ᵀ G A⁺ᵀ + (I − A A⁺) Gᵀ A⁺ A⁺ᵀ + A⁺ᵀ A⁺ Gᵀ (I − A⁺ A)) : dA",
               condition="where {arg} has full rank", fresh=True,
               differential="dA⁺ = −A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I − A A⁺) + (I − A⁺A) dAᵀ A⁺ᵀA⁺"),
    Structural("diag", 1, _diag_shape, _diag, "np.diag({0})", "diag", r"\operatorname{diag}",
               _diag_vjp, None, "g : d diag(X) = Diag(g) : dX", accepts="square",
               differential="d diag(X) = diag(dX)", linear=_diag_matrix_of),
    Structural("Diag", 1, _Diag_shape, _diag_matrix, "np.diag({0})", "Diag",
               r"\operatorname{Diag}", _Diag_vjp, None,
               "G : d Diag(x) = diag(G) : dx", accepts="vector", fresh=True,
               differential="d Diag(x) = Diag(dx)", linear=_Diag_matrix_of),
    Structural("vec", 1, _vec_shape, _vec, "np.ravel({0}, order='F')", "vec",
               r"\operatorname{vec}", _vec_vjp, None,
               "g : d vec(X) = unvec(g) : dX",
               differential="d vec = vec d", linear=lambda x: None),
    Structural("kron", 2, _kron_shape, _kron, "_kron({0}, {1})", "⊗", r"\otimes", _kron_vjp,
               _kron_jacobian,
               "G : d(A ⊗ B) = unvec(P_Aᵀ vec G) : dA + unvec(P_Bᵀ vec G) : dB", fresh=True,
               differential="d(A ⊗ B) = dA ⊗ B + A ⊗ dB"),
    Structural("softmax", 1, same_shape, _softmax, "np.exp({0} - np.logaddexp.reduce({0}))",
               "softmax",
               r"\operatorname{softmax}", _softmax_vjp, _softmax_jacobian,
               "g : d softmax(x) = (s ⊙ g − (sᵀg) s) : dx, s = softmax(x)", accepts="vector",
               fresh=True,
               differential="d softmax(x) = (Diag(s) − s sᵀ) dx"),
    Structural("logsumexp", 1, to_scalar, _logsumexp, "np.logaddexp.reduce({0})",
               "logsumexp",
               r"\operatorname{logsumexp}", _logsumexp_vjp, _logsumexp_jacobian,
               "G d logsumexp(x) = G softmax(x) : dx", accepts="vector",
               differential="d logsumexp(x) = softmax(x) : dx"),
    Structural("max", 2, _broadcast_shape, lambda a, b: _np().maximum(a, b),
               "np.maximum({0}, {1})", "max", r"\max", _MAX_RULES[0], _MAX_RULES[1],
               "G : d max(A, B) = G ⊙ [A ≥ B] : dA + G ⊙ [A < B] : dB",
               differential="d max(A, B) = [A ≥ B] ⊙ dA + [A < B] ⊙ dB",
               condition="where {arg} ≠ {arg2} entrywise", accepts="broadcast",
               fresh=True, kink=_kink_of_extremum),
    Structural("min", 2, _broadcast_shape, lambda a, b: _np().minimum(a, b),
               "np.minimum({0}, {1})", "min", r"\min", _MIN_RULES[0], _MIN_RULES[1],
               "G : d min(A, B) = G ⊙ [A ≤ B] : dA + G ⊙ [A > B] : dB",
               differential="d min(A, B) = [A ≤ B] ⊙ dA + [A > B] ⊙ dB",
               condition="where {arg} ≠ {arg2} entrywise", accepts="broadcast",
               fresh=True, kink=_kink_of_extremum),
    Structural("norm", 1, to_scalar, lambda x: _np().linalg.norm(x), "np.linalg.norm({0})",
               "norm", r"\|", _norm_vjp, _norm_jacobian, "G d‖X‖ = G X / ‖X‖ : dX",
               condition="where {arg} ≠ 0",
               differential="d‖X‖ = X : dX / ‖X‖"),
    Structural("norm1", 1, to_scalar, lambda x: _np().abs(x).sum(), "np.abs({0}).sum()",
               "norm1", r"\|", _norm1_vjp, _norm1_jacobian, "G d‖X‖₁ = G sign(X) : dX",
               condition="where {arg} has no zero entries", domain="nonzero",
               callable_by_name=False,
               differential="d‖X‖₁ = sign(X) : dX"),
]

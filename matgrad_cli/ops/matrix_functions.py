"""Matrix functions (SPEC §2): ``expm``, ``chol``, ``eigvals`` and the spectral and nuclear
norms, with the named operators their derivatives need — one entry each, like
structural.py, in a module of its own because the rules are long.

Conventions, and why:

* A function of a symmetric argument (``chol``, ``eigvals``, ``eigvecs``) reads S as its
  symmetric part (S + Sᵀ)/2, as ``jax.numpy.linalg`` does (``symmetrize_input=True``).
  So it is one well-defined function of every square S, its plain gradient (SPEC §4) is
  the symmetric one — what ``jax.grad`` gives — and finite differences along any
  direction, symmetric or not, agree with it.
* Operators with no closed matrix form are functions of the language too, each with a
  one-line ``definition`` that ``derive`` prints under a result that uses it:
  ``expm_frechet(X, E)`` (the Fréchet derivative of expm, evaluated by SciPy's
  ``expm_frechet``; its adjoint is ``expm_frechet(Xᵀ, G)``), ``expm_frechet_kron(X)``
  (its n²×n² matrix, for vec-form Jacobians), ``expm_frechet2_kron(X, E)`` (the matrix of
  the second Fréchet derivative, for Hessians), ``tril_half(X)`` (Φ of the Cholesky rule),
  ``eigvecs(S)``, ``svd_u1(X)``/``svd_v1(X)`` (the leading singular vectors) and
  ``polar(X)`` (U Vᵀ of the thin SVD).
* SciPy is imported inside the kernels that need it, never at import time.

A rule with no derivative of its own (the singular vectors, the polar factor, the
Kronecker forms of the Fréchet derivatives: third derivatives of expm) raises
``NoDerivativeRule``: a clear error naming the operation, never a wrong number.
"""
from __future__ import annotations

from fractions import Fraction

from .. import algebra as alg
from ..errors import MatgradError
from ..ir import Eye, Num, Scale, T
from .base import Structural, _np, same_shape, square, to_scalar
from .vecform import commutation, diag_of, diag_selector, row


class NoDerivativeRule(MatgradError):
    """A derivative matgrad has no rule for (exit status 2: the request cannot be done)."""


# ---------------------------------------------------------------- NumPy / SciPy kernels

def _sym(s):
    return (s + s.T) / 2


def _not_finite(*arrays) -> bool:
    """SciPy refuses NaN and inf (ValueError): matgrad's answer there is NaN, as for every
    other operation, and eval reports the non-finite result."""
    np = _np()
    return not all(np.all(np.isfinite(a)) for a in arrays)


def _nan(shape):
    np = _np()
    return np.full(shape, np.nan)


def _expm(x):
    np = _np()
    if np.ndim(x) == 0:
        return np.exp(x)
    if _not_finite(x):
        return _nan(np.shape(x))
    from scipy.linalg import expm  # lazily: SciPy costs ~0.1 s to import

    return expm(x)


def _expm_frechet(x, e):
    """L(X, E) = d/dt expm(X + tE) at t = 0 (Al-Mohy & Higham 2009, SciPy)."""
    np = _np()
    if np.ndim(x) == 0:
        return np.exp(x) * e
    if _not_finite(x, e):
        return _nan(np.shape(x))
    from scipy.linalg import expm_frechet

    return expm_frechet(np.asarray(x, float), np.asarray(e, float), compute_expm=False)


def _expm_frechet_kron(x):
    """K with vec L(X, E) = K vec(E): column k is vec L(X, E_k) for the k-th unit matrix
    E_k. One Fréchet derivative per direction (n² of O(n³)), rather than the expm of a
    2n²×2n² block matrix, so no temporary is larger than K itself."""
    np = _np()
    if np.ndim(x) == 0:
        return np.exp(x)
    n = x.shape[0]
    if _not_finite(x):
        return _nan((n * n, n * n))
    from scipy.linalg import expm_frechet

    out = np.empty((n * n, n * n))
    unit = np.zeros((n, n))
    for k in range(n * n):
        i, j = k % n, k // n  # column-major: vec stacks columns
        unit[i, j] = 1.0
        out[:, k] = expm_frechet(x, unit, compute_expm=False).ravel(order="F")
        unit[i, j] = 0.0
    return out


def _expm_frechet2_kron(x, e):
    """K₂ with vec(d/ds L(X + sD, E) at s = 0) = K₂ vec(D): the second Fréchet derivative
    of expm. L(X, E) is the top-right block of expm([[X, E], [0, X]]) (Van Loan 1978), so
    column k is the top-right block of L([[X, E], [0, X]], [[D_k, 0], [0, D_k]])."""
    np = _np()
    if np.ndim(x) == 0:
        return np.exp(x) * e
    n = x.shape[0]
    if _not_finite(x, e):
        return _nan((n * n, n * n))
    from scipy.linalg import expm_frechet

    block = np.block([[x, e], [np.zeros_like(x), x]])
    out = np.empty((n * n, n * n))
    unit = np.zeros((2 * n, 2 * n))
    for k in range(n * n):
        i, j = k % n, k // n
        unit[i, j] = unit[n + i, n + j] = 1.0
        out[:, k] = expm_frechet(block, unit, compute_expm=False)[:n, n:].ravel(order="F")
        unit[i, j] = unit[n + i, n + j] = 0.0
    return out


def _chol(s):
    np = _np()
    if np.ndim(s) == 0:
        return np.sqrt(s)
    return np.linalg.cholesky((s + s.T) / 2)


def _tril_half(x):
    """Φ(X): the strictly lower triangle of X plus half its diagonal."""
    np = _np()
    if np.ndim(x) == 0:
        return x / 2
    return np.tril(x, -1) + np.diag(np.diag(x)) / 2


def _eigvals(s):
    np = _np()
    if np.ndim(s) == 0:
        return s
    return np.linalg.eigvalsh((s + s.T) / 2)


def _eigvecs(s):
    """Orthonormal eigenvectors of (S + Sᵀ)/2 as columns, in ascending order of their
    eigenvalues; each column's entry of largest magnitude is positive, so the function
    has one value (LAPACK's sign is arbitrary)."""
    np = _np()
    if np.ndim(s) == 0:
        return np.ones_like(s, dtype=float)
    _, q = np.linalg.eigh((s + s.T) / 2)
    lead = q[np.argmax(np.abs(q), axis=0), np.arange(q.shape[1])]
    return q * np.where(lead < 0, -1.0, 1.0)


def _leading_singular_pair(x):
    """(u₁, v₁) of X = U Σ Vᵀ, signed so that u₁'s entry of largest magnitude is
    positive (then u₁v₁ᵀ, the gradient of ‖X‖₂, does not depend on LAPACK's sign)."""
    np = _np()
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    u1, v1 = u[:, 0], vt[0]
    if u1[np.argmax(np.abs(u1))] < 0:
        u1, v1 = -u1, -v1
    return u1, v1


def _svd_u1(x):
    return _leading_singular_pair(x)[0]


def _svd_v1(x):
    return _leading_singular_pair(x)[1]


def _polar(x):
    """U Vᵀ of the thin SVD X = U Σ Vᵀ (the orthogonal polar factor)."""
    np = _np()
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    return u @ vt


def _spectral_norm(x):
    np = _np()
    return np.linalg.norm(x, 2) if np.ndim(x) == 2 else np.linalg.norm(x)


def _nuclear_norm(x):
    np = _np()
    return np.linalg.norm(x, "nuc") if np.ndim(x) == 2 else np.linalg.norm(x)


# The kernels generated numpy code copies (printers/numpy_code.py).
KERNELS = [_not_finite, _nan, _expm, _expm_frechet, _expm_frechet_kron, _expm_frechet2_kron, _chol, _tril_half,
           _eigvals, _eigvecs, _leading_singular_pair, _svd_u1, _svd_v1, _polar, _spectral_norm, _nuclear_norm]


# ---------------------------------------------------------------- shape rules

def _same_square(d, a, b):
    square(d, a)
    if len(a) == 2 and len(b) == 2:
        d.same(a[0], b[0])
        d.same(a[1], b[1])
    return a


def _kron_square(d, a):
    if len(a) < 2:
        return a
    square(d, a)
    n2 = d.mul(a[0], a[1])
    return (n2, n2)


def _kron2_shape(d, a, b):
    _same_square(d, a, b)
    return _kron_square(d, a)


def _eigvals_shape(d, a):
    return (square(d, a)[0],) if len(a) == 2 else a


def _rows(d, a):
    return (a[0],) if len(a) == 2 else a


def _columns(d, a):
    return (a[1],) if len(a) == 2 else a


# ---------------------------------------------------------------- smart constructors

def frechet(x, e):
    """expm_frechet(X, E), written out where X and E commute (then L(X, E) = E expm(X)):
    E = c I (so ∂ tr(expm X)/∂X = expm(X)ᵀ), X = c E (∂ expm(βX)/∂β = X expm(βX)), and
    scalars (L(x, e) = exp(x) e)."""
    if x.shape == ():
        return alg.scale(e, alg.call("expm", x))
    factor, rest = (e.factor, e.operand) if isinstance(e, Scale) else (alg.ONE, e)
    if isinstance(rest, Eye):
        return alg.scale(factor, expm_of(x))
    base = x.operand if isinstance(x, Scale) else x
    if base == rest:
        return alg.matmul(e, expm_of(x))
    return alg.call("expm_frechet", x, e)


def expm_of(x):
    """expm(X), with expm(Aᵀ) = expm(A)ᵀ (so ∂ tr(expm X)/∂X prints as expm(X)ᵀ)."""
    if isinstance(x, T):
        return alg.transpose(alg.call("expm", x.operand))
    return alg.call("expm", x)


def _sym_part(a):
    """(A + Aᵀ)/2: the adjoint of reading S as its symmetric part."""
    return alg.scale(Num(Fraction(1, 2)), alg.add(a, alg.transpose(a)))


def _sym_jacobian(s, j):
    """vec of d((S + Sᵀ)/2) = ½ (I + K) J."""
    n = s.shape[0]
    return alg.scale(Num(Fraction(1, 2)), alg.add(j, alg.matmul(commutation(n, n), j)))


def _no_rule(what: str):
    raise NoDerivativeRule(f"matgrad has no derivative rule for {what}")


# ---------------------------------------------------------------- expm

def _expm_vjp(node, G):
    x = node.args[0]
    if x.shape == ():
        return (alg.scale(G, node),)
    return (frechet(alg.transpose(x), G),)  # the adjoint of L(X, ·) is L(Xᵀ, ·)


def _along(x, j):
    """K vec(D) for K = expm_frechet_kron(X) and a single direction j = vec(D) (a Jacobian
    w.r.t. a scalar, or the seed vec(dX) of --steps): vec(expm_frechet(X, D)), without K."""
    if len(j.shape) == 1:
        return alg.vec(frechet(x, alg.unvec(j, x.shape)))
    return alg.matmul(alg.call("expm_frechet_kron", x), j)


def _expm_jacobian(node, js):
    x = node.args[0]
    if x.shape == ():
        return alg.scale(node, js[0])
    return _along(x, js[0])


def _second_frechet(x, e):
    return alg.call("expm_frechet2_kron", x, e)


def _frechet_vjp(node, G):
    x, e = node.args
    if x.shape == ():  # L(x, e) = exp(x) e
        ex = alg.call("expm", x)
        return (alg.scale(G, alg.scale(e, ex)), alg.scale(G, ex))
    # in X: G : K₂ vec(dX) = unvec(K₂ᵀ vec G) : dX (built only when X depends on the
    # variables: reverse.py calls a function adjoint only then)
    in_x = lambda: alg.unvec(alg.matmul(alg.transpose(_second_frechet(x, e)),  # noqa: E731
                                        alg.vec(G)), x.shape)
    return (in_x, frechet(alg.transpose(x), G))


def _frechet_jacobian(node, js):
    x, e = node.args
    if x.shape == ():
        return alg.add(alg.scale(alg.scale(e, alg.call("expm", x)), js[0]),
                       alg.scale(alg.call("expm", x), js[1]))
    return alg.add(alg.matmul(_second_frechet(x, e), js[0]), _along(x, js[1]))


def _kron2_rule(node, arg):
    _no_rule("expm_frechet2_kron(X, E) (a third derivative of expm)")


def _kron_vjp(node, G):
    _no_rule("expm_frechet_kron(X) (a third derivative of expm)")


def _kron_jacobian(node, js):
    _no_rule("expm_frechet_kron(X) (a third derivative of expm)")


# ---------------------------------------------------------------- chol and Φ

def _tril_half_vjp(node, G):
    return (alg.call("tril_half", G) if G.shape else alg.scale(Num(Fraction(1, 2)), G),)


def _tril_half_mask(n):
    return diag_of(alg.call("tril_half", alg.ones((n, n))))


def _tril_half_matrix(x):
    """Φ is linear: vec Φ(X) = Diag(vec Φ(𝟏𝟏ᵀ)) vec X (½ for a scalar)."""
    return Num(Fraction(1, 2)) if x.shape == () else _tril_half_mask(x.shape[0])


def _chol_vjp(node, G):
    # Murray (2016): with dL = L Φ(L⁻¹ dS L⁻ᵀ), G : dL = L⁻ᵀ Φ(Lᵀ G) L⁻¹ : dS; S is read
    # as (S + Sᵀ)/2, so the plain gradient is the symmetric part of that.
    s = node.args[0]
    if s.shape == ():
        return (alg.div(G, alg.scale(alg.num(2), node)),)
    inverse = alg.call("inv", node)
    phi = alg.call("tril_half", alg.matmul(alg.transpose(node), G))
    # sym(L⁻ᵀ Φ L⁻¹) = L⁻ᵀ sym(Φ) L⁻¹
    return (alg.matmul(alg.matmul(alg.transpose(inverse), _sym_part(phi)), inverse),)


def _one_direction(x, j, differential):
    """vec(differential(D)) for a single direction j = vec(D) (a Jacobian w.r.t. a scalar,
    or the seed vec(dS) of --steps), so it reads as the textbook's dL = L Φ(…); None for
    a Jacobian of several columns."""
    if len(j.shape) != 1:
        return None
    return alg.vec(differential(alg.unvec(j, x.shape)))


def _chol_jacobian(node, js):
    s = node.args[0]
    if s.shape == ():
        return alg.div(js[0], alg.scale(alg.num(2), node))
    inverse = alg.call("inv", node)
    along = _one_direction(s, js[0], lambda d: alg.matmul(node, alg.call(
        "tril_half", alg.matmul(alg.matmul(inverse, _sym_part(d)), alg.transpose(inverse)))))
    if along is not None:
        return along
    n = s.shape[0]
    inverse = alg.call("inv", node)
    return alg.matmul(alg.matmul(alg.matmul(alg.kron(alg.eye(n), node), _tril_half_mask(n)),
                                 alg.kron(inverse, inverse)), _sym_jacobian(s, js[0]))


# ---------------------------------------------------------------- eigvals, eigvecs

def _eigvals_vjp(node, G):
    s = node.args[0]
    if s.shape == ():
        return (G,)
    q = alg.call("eigvecs", s)
    return (alg.matmul(alg.matmul(q, alg.diag_matrix(G)), alg.transpose(q)),)


def _eigvals_jacobian(node, js):
    s = node.args[0]
    if s.shape == ():
        return js[0]
    qt = alg.transpose(alg.call("eigvecs", s))  # dλᵢ = qᵢᵀ dS qᵢ = diag(Qᵀ dS Q)ᵢ
    along = _one_direction(s, js[0], lambda d: alg.call(
        "diag", alg.matmul(alg.matmul(qt, d), alg.transpose(qt))))
    if along is not None:
        return along
    return alg.matmul(alg.matmul(diag_selector(s.shape[0]), alg.kron(qt, qt)), js[0])


def _inverse_gaps(s):
    """F with F_ij = 1/(λⱼ − λᵢ) off the diagonal and 0 on it (λ = eigvals(S))."""
    n = s.shape[0]
    lam = alg.call("eigvals", s)
    ones = alg.ones((n,))
    gaps = alg.sub(alg.matmul(ones, alg.transpose(lam)), alg.matmul(lam, alg.transpose(ones)))
    return alg.sub(alg.div(alg.ones((n, n)), alg.add(gaps, alg.eye(n))), alg.eye(n))


def _eigvecs_vjp(node, G):
    # dQ = Q (F ⊙ Qᵀ dS Q): G : dQ = Q (F ⊙ QᵀG) Qᵀ : dS, symmetrised (S read as sym)
    s = node.args[0]
    if s.shape == ():
        return (alg.zeros(()),)
    q = node
    inner = alg.had(_inverse_gaps(s), alg.matmul(alg.transpose(q), G))
    return (_sym_part(alg.matmul(alg.matmul(q, inner), alg.transpose(q))),)


def _eigvecs_jacobian(node, js):
    s = node.args[0]
    if s.shape == ():
        return alg.zeros(js[0].shape)
    n, q = s.shape[0], node
    qt = alg.transpose(q)
    along = _one_direction(s, js[0], lambda d: alg.matmul(q, alg.had(
        _inverse_gaps(s), alg.matmul(alg.matmul(qt, _sym_part(d)), q))))
    if along is not None:
        return along
    return alg.matmul(alg.matmul(alg.matmul(alg.kron(alg.eye(n), q),
                                            diag_of(_inverse_gaps(s))),
                                 alg.kron(qt, qt)), _sym_jacobian(s, js[0]))


# ---------------------------------------------------------------- ‖X‖₂, ‖X‖_*

def _spectral_gradient(x):
    return alg.matmul(alg.call("svd_u1", x), alg.transpose(alg.call("svd_v1", x)))


def _spectral_vjp(node, G):
    return (alg.scale(G, _spectral_gradient(node.args[0])),)


def _spectral_jacobian(node, js):
    return alg.matmul(row(_spectral_gradient(node.args[0])), js[0])


def _nuclear_vjp(node, G):
    return (alg.scale(G, alg.call("polar", node.args[0])),)


def _nuclear_jacobian(node, js):
    return alg.matmul(row(alg.call("polar", node.args[0])), js[0])


def _factor_rules(name: str, what: str):
    def vjp(node, G):
        _no_rule(f"{name}(X) ({what}): derivatives through ‖X‖₂ and ‖X‖_* are first order")

    def jacobian(node, js):
        _no_rule(f"{name}(X) ({what}): derivatives through ‖X‖₂ and ‖X‖_* are first order")

    return vjp, jacobian


_U1_RULES = _factor_rules("svd_u1", "a singular vector")
_V1_RULES = _factor_rules("svd_v1", "a singular vector")
_POLAR_RULES = _factor_rules("polar", "the polar factor")


# ---------------------------------------------------------------- the entries

ENTRIES = [
    Structural("expm", 1, lambda d, a: square(d, a), _expm, "_expm({0})", "expm",
               r"\operatorname{expm}", _expm_vjp, _expm_jacobian,
               "G : d expm(X) = expm_frechet(Xᵀ, G) : dX", accepts="square", fresh=True,
               differential="d expm(X) = expm_frechet(X, dX)"),
    Structural("expm_frechet", 2, _same_square, _expm_frechet, "_expm_frechet({0}, {1})",
               "expm_frechet", r"\operatorname{expm\_frechet}", _frechet_vjp,
               _frechet_jacobian,
               "G : d expm_frechet(X, E) = unvec(K₂ᵀ vec G) : dX + expm_frechet(Xᵀ, G) : dE, "
               "K₂ = expm_frechet2_kron(X, E)", accepts="square", fresh=True,
               differential="vec d expm_frechet(X, E) = K₂ vec dX + expm_frechet_kron(X) vec dE",
               definition="expm_frechet(X, E) = d/dt expm(X + t E) at t = 0, the Fréchet "
                          "derivative of expm (SciPy's expm_frechet); its adjoint in E is "
                          "expm_frechet(Xᵀ, ·)"),
    Structural("expm_frechet_kron", 1, _kron_square, _expm_frechet_kron,
               "_expm_frechet_kron({0})", "expm_frechet_kron",
               r"\operatorname{expm\_frechet\_kron}", _kron_vjp, _kron_jacobian,
               "(no reverse rule: a third derivative of expm)", accepts="square", fresh=True,
               differential="(no rule)",
               definition="expm_frechet_kron(X) = the n²×n² matrix K with vec(expm_frechet(X, "
                          "E)) = K vec(E)"),
    Structural("expm_frechet2_kron", 2, _kron2_shape, _expm_frechet2_kron,
               "_expm_frechet2_kron({0}, {1})", "expm_frechet2_kron",
               r"\operatorname{expm\_frechet2\_kron}", _kron2_rule, _kron2_rule,
               "(no reverse rule: a third derivative of expm)", accepts="square", fresh=True,
               differential="(no rule)",
               definition="expm_frechet2_kron(X, E) = the n²×n² matrix K with vec(d/ds "
                          "expm_frechet(X + s D, E) at s = 0) = K vec(D), the second Fréchet "
                          "derivative of expm"),
    Structural("chol", 1, lambda d, a: square(d, a), _chol, "_chol({0})", "chol",
               r"\operatorname{chol}", _chol_vjp, _chol_jacobian,
               "G : dL = sym(L⁻ᵀ Φ(Lᵀ G) L⁻¹) : dS, L = chol(S), Φ = tril_half",
               accepts="square", condition="where {arg} is positive definite",
               domain="spd", fresh=True,
               differential="dL = L Φ(L⁻¹ dS L⁻ᵀ), Φ = tril_half"),
    Structural("tril_half", 1, lambda d, a: square(d, a), _tril_half, "_tril_half({0})",
               "tril_half", r"\operatorname{tril\_half}", _tril_half_vjp, None,
               "G : tril_half(dX) = tril_half(G) : dX", accepts="square", fresh=True,
               differential="d tril_half(X) = tril_half(dX)", linear=_tril_half_matrix,
               definition="tril_half(X) = the lower triangle of X with its diagonal halved "
                          "(Φ of the Cholesky derivative)"),
    Structural("eigvals", 1, _eigvals_shape, _eigvals, "_eigvals({0})", "eigvals",
               r"\operatorname{eigvals}", _eigvals_vjp, _eigvals_jacobian,
               "g : dλ = Q Diag(g) Qᵀ : dS, Q = eigvecs(S)", accepts="square",
               condition="where the eigenvalues of {arg} are distinct", fresh=True,
               differential="dλᵢ = qᵢᵀ dS qᵢ"),
    Structural("eigvecs", 1, lambda d, a: square(d, a), _eigvecs, "_eigvecs({0})", "eigvecs",
               r"\operatorname{eigvecs}", _eigvecs_vjp, _eigvecs_jacobian,
               "G : dQ = sym(Q (F ⊙ QᵀG) Qᵀ) : dS, F_ij = 1/(λⱼ − λᵢ) (i ≠ j)",
               accepts="square", condition="where the eigenvalues of {arg} are distinct",
               fresh=True, differential="dQ = Q (F ⊙ Qᵀ dS Q), F_ij = 1/(λⱼ − λᵢ) (i ≠ j)",
               definition="eigvecs(S) = Q, the orthonormal eigenvectors of (S + Sᵀ)/2 as "
                          "columns, in the order of eigvals(S) (each column's largest entry "
                          "positive)"),
    Structural("spectral_norm", 1, to_scalar, _spectral_norm, "_spectral_norm({0})", "norm2",
               r"\|", _spectral_vjp, _spectral_jacobian, "G d‖X‖₂ = G u₁ v₁ᵀ : dX",
               condition="where the largest singular value of {arg} is simple",
               callable_by_name=False, differential="d‖X‖₂ = u₁ᵀ dX v₁"),
    Structural("nuclear_norm", 1, to_scalar, _nuclear_norm, "_nuclear_norm({0})", "norm*",
               r"\|", _nuclear_vjp, _nuclear_jacobian, "G d‖X‖_* = G U Vᵀ : dX",
               condition="where {arg} has full rank", callable_by_name=False,
               differential="d‖X‖_* = tr(Vᵀ dXᵀ U) = U Vᵀ : dX"),
    Structural("svd_u1", 1, _rows, _svd_u1, "_svd_u1({0})", "svd_u1",
               r"\operatorname{svd\_u1}", *_U1_RULES, "(no rule)", fresh=True,
               differential="(no rule)",
               definition="svd_u1(X), svd_v1(X) = u₁, v₁: the leading left and right "
                          "singular vectors of X (X v₁ = σ₁ u₁, u₁'s largest entry positive)"),
    Structural("svd_v1", 1, _columns, _svd_v1, "_svd_v1({0})", "svd_v1",
               r"\operatorname{svd\_v1}", *_V1_RULES, "(no rule)", fresh=True,
               differential="(no rule)",
               definition="svd_u1(X), svd_v1(X) = u₁, v₁: the leading left and right "
                          "singular vectors of X (X v₁ = σ₁ u₁, u₁'s largest entry positive)"),
    Structural("polar", 1, same_shape, _polar, "_polar({0})", "polar",
               r"\operatorname{polar}", *_POLAR_RULES, "(no rule)", fresh=True,
               differential="(no rule)",
               definition="polar(X) = U Vᵀ for the thin SVD X = U Σ Vᵀ (the orthogonal "
                          "factor of the polar decomposition)"),
]

"""The array libraries the code formats print for (SPEC §5: ``numpy``, ``jax``, ``torch``):
one table of spellings per library, read by the one printer in numpy_code.py.

The registry spells every operation for NumPy (``ops.NUMPY_SOURCE``). Another library's
spelling is derived from it name by name (``np.exp`` → ``jnp.exp`` / ``torch.exp``), with
keyword renames (``axis=`` → ``dim=``); an operation whose call has another form there
(``np.logaddexp.reduce`` of a whole vector, ``np.heaviside``) has a whole template of its
own. The printer's own constructs (outer products, reshapes in column-major order, filled
arrays) are templates too. The few kernels copied into the output (Kronecker and
commutation products, Gram products) are the evaluator's own source, translated the same
way, except where a library needs another body (jax arrays are immutable and cannot branch
on values under ``jax.jit``; torch has no column-major reshape): those are written below.

A NumPy name a table lacks is an error naming the operation — never a silent wrong call.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import UsageError


class UnsupportedOperation(UsageError):
    """The input uses an operation the chosen library has no spelling for (yet)."""


@dataclass(frozen=True)
class Backend:
    name: str
    imports: tuple  # the lines that start the generated module
    reserved: frozenset  # module-level names the generated code uses
    constructs: dict  # the printer's constructs: name -> template ({0}, {1}: arguments)
    names: dict | None = None  # NumPy dotted name -> this library's (None: NumPy itself)
    prefix: str = ""  # a NumPy name outside ``names`` is this prefix + its tail (jax)
    templates: dict = field(default_factory=dict)  # operation name -> whole template
    keywords: dict = field(default_factory=dict)  # keyword argument renames
    kernels: dict = field(default_factory=dict)  # kernel name -> its source here
    number: str = "{0}"  # a Python number given to a library function
    note: tuple = ()  # comment lines under the imports
    # Mᵀ v printed as v M: XLA materialises the transpose of Mᵀ @ v (an n² copy: 3.4× the
    # time of v @ M at n = 1000), while BLAS reads Mᵀ in place
    vector_left: bool = False

    def construct(self, name: str, *args: str) -> str:
        return self.constructs[name].format(*args)

    def spell(self, op: str, numpy_template: str) -> str:
        """The template of registry operation ``op`` in this library."""
        if op in self.templates:
            return self.templates[op]
        return self.translate(numpy_template, op)

    def translate(self, source: str, what: str) -> str:
        """NumPy source (a template or a kernel) in this library's names."""
        if self.names is None:
            return source

        def name(match: re.Match) -> str:
            dotted = match.group(0)
            if dotted in self.names:
                return self.names[dotted]
            if self.prefix:
                return self.prefix + dotted[len("np."):]
            raise UnsupportedOperation(
                f"the {self.name} format has no spelling for {what} ({dotted} in NumPy)")

        # a kernel's local ``np = _np()`` (NumPy imported lazily) has no use here
        source = re.sub(r"(?m)^[ \t]*np = _np\(\)\n", "", source)
        out = re.sub(r"(?<![\w.])np\.[A-Za-z_][\w.]*[A-Za-z_\d]", name, source)
        for old, new in self.keywords.items():
            out = re.sub(rf"(?<![\w.]){old}=", f"{new}=", out)
        return out

    def kernel(self, name: str, numpy_source: str) -> str:
        if name in self.kernels:
            return self.kernels[name]
        return self.translate(numpy_source, name)


NUMPY = Backend(
    "numpy", ("import numpy as np",), frozenset({"np", "_np"}),
    {"asarray": "np.asarray({0}, dtype=float)", "outer": "np.outer({0}, {1})",
     "reshape": "np.reshape({0}, {1})", "reshape_f": "np.reshape({0}, {1}, order='F')",
     "vdot": "np.vdot({0}, {1})", "full": "np.full({0}, {1})", "ones": "np.ones({0})",
     "zeros": "np.zeros({0})", "eye": "np.eye({0})", "diag": "np.diag({0})",
     "inv": "np.linalg.inv({0})", "matrix_power": "np.linalg.matrix_power({0}, {1})",
     "block": "np.block({0})", "where_positive": "np.where({0} > 0, {1}, 0.0)"})


# ---------------------------------------------------------------- jax

# Matrix functions (ops/matrix_functions.py): SciPy's kernels have jax.scipy twins; the
# n²-column Kronecker forms of the Fréchet derivatives are one vmap over unit directions;
# a sign fixed by a branch on a value is a jnp.where (no Python branch under jax.jit).
_JAX_MATRIX_KERNELS = {
    "_expm": '''\
def _expm(x):
    if jnp.ndim(x) == 0:
        return jnp.exp(x)
    return jax.scipy.linalg.expm(x)''',
    "_expm_frechet": '''\
def _expm_frechet(x, e):
    if jnp.ndim(x) == 0:
        return jnp.exp(x) * e
    return jax.scipy.linalg.expm_frechet(x, e, compute_expm=False)''',
    "_unit_matrices": '''\
def _unit_matrices(n):
    """E_k for k = 0 … n²−1, column-major: E_k has its 1 at (k % n, k // n)."""
    return jnp.eye(n * n).reshape(n * n, n, n).transpose(0, 2, 1)''',
    "_expm_frechet_kron": '''\
def _expm_frechet_kron(x):
    if jnp.ndim(x) == 0:
        return jnp.exp(x)
    column = lambda e: _expm_frechet(x, e).T.reshape(-1)  # vec L(X, E_k)
    return jax.vmap(column)(_unit_matrices(x.shape[0])).T''',
    "_expm_frechet2_kron": '''\
def _expm_frechet2_kron(x, e):
    if jnp.ndim(x) == 0:
        return jnp.exp(x) * e
    n = x.shape[0]
    z = jnp.zeros_like(x)
    block = jnp.block([[x, e], [z, x]])
    column = lambda d: _expm_frechet(block, jnp.block([[d, z], [z, d]]))[:n, n:].T.reshape(-1)
    return jax.vmap(column)(_unit_matrices(n)).T''',
    "_chol": '''\
def _chol(s):
    if jnp.ndim(s) == 0:
        return jnp.sqrt(s)
    return jnp.linalg.cholesky((s + s.T) / 2)''',
    "_leading_singular_pair": '''\
def _leading_singular_pair(x):
    u, _, vt = jnp.linalg.svd(x, full_matrices=False)
    u1, v1 = u[:, 0], vt[0]
    sign = jnp.where(u1[jnp.argmax(jnp.abs(u1))] < 0, -1.0, 1.0)
    return u1 * sign, v1 * sign''',
}

_JAX_KERNELS = {
    **_JAX_MATRIX_KERNELS,
    "_commutation_matrix": '''\
def _commutation_matrix(m, n):
    # K = the identity with its rows permuted (sizes are static under jax.jit)
    rows = np.arange(m * n).reshape(m, n, order="F").T.ravel(order="F")
    return jnp.eye(m * n)[rows]''',
    "_weighted_gram": '''\
def _weighted_gram(m, d, shape):
    return _fit(m.T @ (d[:, None] * m), shape)''',
    "_adjugate": '''\
def _adjugate(a, transposed):
    out = jnp.linalg.det(a) * jnp.linalg.inv(a)
    return out.T if transposed else out''',
    "_pinv": '''\
def _pinv(x):
    """The Moore–Penrose inverse, a vector read as a column (its pinv is a row); 0⁺ = 0."""
    if jnp.ndim(x) == 0:
        return jnp.where(x != 0, 1.0 / jnp.where(x != 0, x, 1.0), 0.0)
    out = jnp.linalg.pinv(x[:, None] if jnp.ndim(x) == 1 else x)
    return out[:, 0] if out.shape[1] == 1 else out''',
    "_kron": '''\
def _kron(a, b):
    if jnp.ndim(a) == 0 or jnp.ndim(b) == 0:
        return a * b
    a2 = a[:, None] if jnp.ndim(a) == 1 else a
    b2 = b[:, None] if jnp.ndim(b) == 1 else b
    out = jnp.kron(a2, b2)
    if out.shape[1] == 1:
        return out[0, 0] if out.shape[0] == 1 else out[:, 0]
    return out''',
}

JAX = Backend(
    "jax", ("import jax", "import jax.numpy as jnp", "import jax.scipy.linalg",
            "import jax.scipy.special", "import numpy as np"),
    frozenset({"jax", "jnp", "np", "_np"}),
    {"asarray": "jnp.asarray({0}, dtype=jnp.result_type(float))",
     "outer": "jnp.outer({0}, {1})", "reshape": "jnp.reshape({0}, {1})",
     "reshape_f": "jnp.reshape({0}, {1}, order='F')", "vdot": "jnp.vdot({0}, {1})",
     "full": "jnp.full({0}, {1})", "ones": "jnp.ones({0})", "zeros": "jnp.zeros({0})",
     "eye": "jnp.eye({0})", "diag": "jnp.diag({0})", "inv": "jnp.linalg.inv({0})",
     "matrix_power": "jnp.linalg.matrix_power({0}, {1})", "block": "jnp.block({0})",
     "where_positive": "jnp.where({0} > 0, {1}, 0.0)",
     # A Bᵀ and Aᵀ B as contractions: XLA's single-threaded CPU build copies a transposed
     # operand of A @ B.T out whole (jax's own transpose rule emits the contraction)
     "matmul_nt": "jnp.einsum('ij,kj->ik', {0}, {1})",
     "matmul_tn": "jnp.einsum('ji,jk->ik', {0}, {1})"},
    names={"np.logaddexp.reduce": "jax.nn.logsumexp"}, prefix="jnp.",
    note=("jax.jit(f_and_grad) compiles it (XLA, on CPU, GPU or TPU); float64 needs",
          "jax.config.update('jax_enable_x64', True), else it runs in float32."),
    # (softmax: one exp pass over x − max x, where exp(x − logsumexp(x)) makes two)
    templates={"erf": "jax.scipy.special.erf({0})", "sigmoid": "jax.nn.sigmoid({0})",
               "softmax": "jax.nn.softmax({0})"},
    vector_left=True,
    kernels=_JAX_KERNELS)


# ---------------------------------------------------------------- torch

_TORCH_NAMES = {f"np.{n}": f"torch.{n}" for n in (
    "exp", "log", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "tanh", "log1p", "expm1", "abs", "sign", "sum", "mean", "trace", "diag", "kron",
    "einsum", "reshape", "ones_like", "zeros_like", "tril")}
_TORCH_NAMES.update({f"np.linalg.{n}": f"torch.linalg.{n}" for n in (
    "det", "slogdet", "inv", "pinv", "norm", "matrix_power", "eigvalsh", "svd")})
_TORCH_NAMES.update({"np.power": "torch.pow", "np.asarray": "torch.as_tensor",
                     "np.logaddexp.reduce": "torch.logsumexp", "np.ndim": "_ndim"})

_TORCH_MATRIX_KERNELS = {
    "_expm": '''\
def _expm(x):
    if _ndim(x) == 0:
        return torch.exp(torch.as_tensor(x, dtype=torch.float64))
    return torch.linalg.matrix_exp(x)''',
    "_expm_frechet": '''\
def _expm_frechet(x, e):
    """L(X, E): the top-right block of expm([[X, E], [0, X]]) (Van Loan 1978)."""
    if _ndim(x) == 0:
        return torch.exp(torch.as_tensor(x, dtype=torch.float64)) * e
    n = x.shape[0]
    e = torch.as_tensor(e, dtype=x.dtype)
    big = torch.cat([torch.cat([x, e], 1), torch.cat([torch.zeros_like(x), x], 1)], 0)
    return torch.linalg.matrix_exp(big)[:n, n:]''',
    "_expm_frechet_kron": '''\
def _expm_frechet_kron(x):
    if _ndim(x) == 0:
        return torch.exp(torch.as_tensor(x, dtype=torch.float64))
    n, columns = x.shape[0], []
    for k in range(n * n):  # column k: vec L(X, E_k), E_k's 1 at (k % n, k // n)
        unit = torch.zeros_like(x)
        unit[k % n, k // n] = 1.0
        columns.append(_expm_frechet(x, unit).T.reshape(-1))
    return torch.stack(columns, 1)''',
    "_expm_frechet2_kron": '''\
def _expm_frechet2_kron(x, e):
    if _ndim(x) == 0:
        return torch.exp(torch.as_tensor(x, dtype=torch.float64)) * e
    n, z, columns = x.shape[0], torch.zeros_like(x), []
    block = torch.cat([torch.cat([x, e], 1), torch.cat([z, x], 1)], 0)
    for k in range(n * n):
        d = torch.zeros_like(x)
        d[k % n, k // n] = 1.0
        big = torch.cat([torch.cat([d, z], 1), torch.cat([z, d], 1)], 0)
        columns.append(_expm_frechet(block, big)[:n, n:].T.reshape(-1))
    return torch.stack(columns, 1)''',
    "_chol": '''\
def _chol(s):
    if _ndim(s) == 0:
        return torch.sqrt(torch.as_tensor(s, dtype=torch.float64))
    return torch.linalg.cholesky((s + s.T) / 2)''',
    "_eigvecs": '''\
def _eigvecs(s):
    if _ndim(s) == 0:
        return torch.ones_like(torch.as_tensor(s, dtype=torch.float64))
    _, q = torch.linalg.eigh((s + s.T) / 2)
    lead = q[torch.argmax(torch.abs(q), dim=0), torch.arange(q.shape[1])]
    return q * torch.where(lead < 0, -1.0, 1.0)''',
    "_leading_singular_pair": _JAX_MATRIX_KERNELS["_leading_singular_pair"].replace(
        "jnp.", "torch."),
}

_TORCH_KERNELS = {
    **_TORCH_MATRIX_KERNELS,
    "_ndim": '''\
def _ndim(a):
    return a.ndim if isinstance(a, torch.Tensor) else 0''',
    "_reshape_f": '''\
def _reshape_f(a, shape):
    """NumPy's reshape(a, shape, order='F'): reverse the axes, reshape, reverse back."""
    a = torch.as_tensor(a)
    back = a.permute(*reversed(range(a.ndim))).reshape(tuple(reversed(shape)))
    return back.permute(*reversed(range(len(shape))))''',
    "_fit": '''\
def _fit(value, shape):
    return value if tuple(value.shape) == tuple(shape) else value.reshape(shape)''',
    "_kron_product": '''\
def _kron_product(p, q, m):
    p2, q2, m2 = _as2d(p), _as2d(q), _as2d(m)
    pr, pc = p2.shape
    qr, qc = q2.shape
    cols = m2.shape[1]
    blocks = _reshape_f(m2, (qc, pc, cols))
    return _reshape_f(torch.einsum("ab,bcn,dc->adn", q2, blocks, p2), (qr * pr, cols))''',
    "_commute": '''\
def _commute(mn_m, mn_n, m, shape):
    m2 = _as2d(m)
    cols = m2.shape[1]
    out = _reshape_f(m2, (mn_m, mn_n, cols)).permute(1, 0, 2)
    return _fit(_reshape_f(out, (mn_m * mn_n, cols)), shape)''',
    "_commutation_matrix": '''\
def _commutation_matrix(m, n):
    # row r of K picks entry rows[r] of vec(A): the identity with its rows permuted
    rows = torch.arange(m * n).reshape(n, m).T.reshape(-1)
    return torch.eye(m * n, dtype=torch.float64)[rows]''',
    "_pinv": _JAX_KERNELS["_pinv"].replace("jnp.ndim", "_ndim").replace(
        "jnp.where", "torch.where").replace("jnp.linalg", "torch.linalg").replace(
        "if _ndim(x) == 0:\n", "if _ndim(x) == 0:\n        x = torch.as_tensor(x, dtype=torch.float64)\n"),
    # (torch.kron of a transposed view fails: it reshapes with .view)
    "_kron": _JAX_KERNELS["_kron"].replace("jnp.ndim", "_ndim").replace(
        "jnp.kron(a2, b2)", "torch.kron(a2.contiguous(), b2.contiguous())"),
    "_weighted_gram": _JAX_KERNELS["_weighted_gram"],
    "_block": '''\
def _block(parts):
    """np.block for tensors: rows of 2-d cells, or 1-d pieces joined end to end."""
    if isinstance(parts[0], list):
        return torch.cat([torch.cat([torch.atleast_2d(torch.as_tensor(c, dtype=torch.float64))
                                     for c in row], dim=1) for row in parts], dim=0)
    return torch.cat([torch.atleast_1d(torch.as_tensor(p, dtype=torch.float64))
                      for p in parts])''',
    "_adjugate": '''\
def _adjugate(a, transposed):
    out = torch.linalg.det(a) * torch.linalg.inv(a)
    return out.T if transposed else out''',
}

TORCH = Backend(
    "torch", ("import torch",), frozenset({"torch", "_kw"}),
    {"asarray": "torch.as_tensor({0}, dtype=torch.float64)",
     "outer": "torch.outer({0}, {1})", "reshape": "torch.reshape({0}, {1})",
     "reshape_f": "_reshape_f({0}, {1})", "vdot": "torch.sum(torch.mul({0}, {1}))",
     "full": "(torch.zeros({0}, **_kw) + {1})", "ones": "torch.ones({0}, **_kw)",
     "zeros": "torch.zeros({0}, **_kw)", "eye": "torch.eye({0}, **_kw)",
     "diag": "torch.diag({0})", "inv": "torch.linalg.inv({0})",
     "matrix_power": "torch.linalg.matrix_power({0}, {1})", "block": "_block({0})",
     "where_positive": "torch.where({0} > 0, {1}, 0.0)"},
    names=_TORCH_NAMES,
    templates={
        "sigmoid": "torch.sigmoid({0})", "relu": "torch.relu({0})",
        "softplus": "torch.logaddexp({0}, torch.zeros_like({0}))",
        "step": "torch.heaviside({0}, torch.zeros_like({0}))",
        "erf": "torch.erf({0})", "vec": "_reshape_f({0}, (-1,))",
        "logsumexp": "torch.logsumexp({0}, 0)", "softmax": "torch.softmax({0}, 0)",
        "max": "torch.maximum(torch.as_tensor({0}, **_kw), torch.as_tensor({1}, **_kw))",
        "min": "torch.minimum(torch.as_tensor({0}, **_kw), torch.as_tensor({1}, **_kw))",
    },
    keywords={"axis": "dim", "keepdims": "keepdim"},
    kernels=_TORCH_KERNELS, number="torch.tensor({0}, **_kw)",
    note=("Tensors in float64 on the device of the first argument (numpy arrays are",
          "converted); move the inputs to a GPU and the function runs there."))

BACKENDS = {b.name: b for b in (NUMPY, JAX, TORCH)}

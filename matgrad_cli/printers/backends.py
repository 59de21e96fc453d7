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
     "inv": "np.linalg.inv({0})", "matrix_power": "np.linalg.matrix_power({0}, {1})"})


# ---------------------------------------------------------------- jax

_JAX_KERNELS = {
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
    "jax", ("import jax", "import jax.numpy as jnp", "import jax.scipy.special",
            "import numpy as np"),
    frozenset({"jax", "jnp", "np", "_np"}),
    {"asarray": "jnp.asarray({0}, dtype=jnp.result_type(float))",
     "outer": "jnp.outer({0}, {1})", "reshape": "jnp.reshape({0}, {1})",
     "reshape_f": "jnp.reshape({0}, {1}, order='F')", "vdot": "jnp.vdot({0}, {1})",
     "full": "jnp.full({0}, {1})", "ones": "jnp.ones({0})", "zeros": "jnp.zeros({0})",
     "eye": "jnp.eye({0})", "diag": "jnp.diag({0})", "inv": "jnp.linalg.inv({0})",
     "matrix_power": "jnp.linalg.matrix_power({0}, {1})"},
    names={"np.logaddexp.reduce": "jax.nn.logsumexp"}, prefix="jnp.",
    note=("jax.jit(f_and_grad) compiles it (XLA, on CPU, GPU or TPU); float64 needs",
          "jax.config.update('jax_enable_x64', True), else it runs in float32."),
    templates={"erf": "jax.scipy.special.erf({0})", "sigmoid": "jax.nn.sigmoid({0})"},
    vector_left=True,
    kernels=_JAX_KERNELS)


# ---------------------------------------------------------------- torch

_TORCH_NAMES = {f"np.{n}": f"torch.{n}" for n in (
    "exp", "log", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "tanh", "log1p", "expm1", "abs", "sign", "sum", "mean", "trace", "diag", "kron",
    "einsum", "reshape", "ones_like", "zeros_like")}
_TORCH_NAMES.update({f"np.linalg.{n}": f"torch.linalg.{n}" for n in (
    "det", "slogdet", "inv", "pinv", "norm", "matrix_power")})
_TORCH_NAMES.update({"np.power": "torch.pow", "np.asarray": "torch.as_tensor",
                     "np.logaddexp.reduce": "torch.logsumexp", "np.ndim": "_ndim"})

_TORCH_KERNELS = {
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
     "matrix_power": "torch.linalg.matrix_power({0}, {1})"},
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

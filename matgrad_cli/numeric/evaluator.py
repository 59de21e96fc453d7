"""IR → a plan of NumPy steps, and running it.

The plan is a straight-line program: every structurally distinct sub-expression of all the
requested outputs (f, its gradients, its Hessians) is computed once; matrix-product chains
are multiplied in the cheapest order for the actual shapes; ``Diag(v) M`` is
``v[:, None] * M``; ``(P ⊗ Q) M`` and ``K M`` are applied by reshaping, never by building the
Kronecker or commutation matrix. Each op has one entry in OPS: the callable that runs it
and the source template the ``numpy`` printer emits, so both always agree.
"""
from __future__ import annotations

import collections
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..algebra import kron_reduced, scalar_factors
from ..errors import EvaluationError, UsageError
from . import budget
from ..ops import ENTRYWISE, STRUCTURAL, USER_FUNCTIONS, lookup
from ..ir import Build, Delta, IndexSum, Indexed
from .scalars import sink_scalars
from .tensors import Region, region_inputs, shared_run
from ..tensors.labels import closed
from ..ir import (Add, Call, Commutation, Div, Eye, Fill, Frob, Func, Had, MatMul, MatPow, Node,
                 Num, Ones, Pow, Reshape, Scale, Slice, T, Var, Zeros, as_matrix, dim_value,
                 walk)
from ..ops.blocks import _slice

# Ops whose result is a new array nobody else holds: when it is no longer needed, a later
# entrywise step may write its result into it (fewer allocations at large sizes).
_FRESH = {"matmul", "diag_left", "diag_right", "kron_apply", "kron_right", "commute", "add",
          "scale", "had", "div", "pow", "matpow", "fill", "eye", "ones", "zeros",
          "commutation", "weighted_gram", "scaled_gram", "add_diag", "slice"} | {
    "c_" + name for name, entry in STRUCTURAL.items() if entry.fresh}


# ---------------------------------------------------------------- kernels

def _as2d(a):
    a = np.asarray(a)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a[:, None]
    return a


def _fit(value, shape):
    """Results of 2-d products read back in the IR's shape (n×1 → vector, 1×1 → scalar)."""
    return value if np.shape(value) == shape else np.reshape(value, shape)


def _matmul(a, b, shape):
    # operands of a product are arrays of 1 or 2 axes; NumPy's a @ b is right unless a
    # vector stands on the left or an outer product is meant
    if a.ndim == 2 and not (b.ndim == 1 and len(shape) == 2):
        if a.shape[1] == 1 and np.ndim(b) == 2:  # an outer product: broadcasting, not GEMM
            return _fit(a * b, shape)
        out = a @ b
        return out if out.shape == shape else out.reshape(shape)
    a2, b2 = _as2d(a), _as2d(b)
    if a2.shape[1] == 1:  # x yᵀ: (n,1)·(1,m) broadcast, half the memory traffic of a GEMM
        return _fit(a2 * b2, shape)
    return _fit(a2 @ b2, shape)


def _diag_left(v, m, shape):
    """Diag(v) M without Diag: scale the rows."""
    m2 = _as2d(m)
    return _fit(np.asarray(v)[:, None] * m2, shape)


def _diag_right(m, v, shape):
    """M Diag(v) without Diag: scale the columns."""
    return _fit(_as2d(m) * np.asarray(v)[None, :], shape)


def _kron_product(p, q, m):
    """(P ⊗ Q) M as a 2-d array, column by column vec(Q unvec(M_j) Pᵀ)."""
    p2, q2, m2 = _as2d(p), _as2d(q), _as2d(m)
    pr, pc = p2.shape
    qr, qc = q2.shape
    cols = m2.shape[1]
    blocks = m2.reshape(qc, pc, cols, order="F")
    out = np.einsum("ab,bcn,dc->adn", q2, blocks, p2, optimize=True)
    return out.reshape(qr * pr, cols, order="F")


def _kron_apply(p, q, m, shape):
    return _fit(_kron_product(p, q, m), shape)


def _apply_kron_right(m, p, q, shape):
    """M (P ⊗ Q) = ((Pᵀ ⊗ Qᵀ) Mᵀ)ᵀ"""
    return _fit(_kron_product(_as2d(p).T, _as2d(q).T, _as2d(m).T).T, shape)


def _commute(mn_m, mn_n, m, shape):
    """K_{m,n} M: reorder rows as vec(A) → vec(Aᵀ)."""
    m2 = _as2d(m)
    cols = m2.shape[1]
    out = m2.reshape(mn_m, mn_n, cols, order="F").transpose(1, 0, 2).reshape(
        mn_m * mn_n, cols, order="F")
    return _fit(out, shape)


def _commutation_matrix(m, n):
    k = np.zeros((m * n, m * n))
    idx = np.arange(m * n).reshape(m, n, order="F")
    # row r of K picks the entry of vec(A) that lands at position r of vec(Aᵀ)
    k[np.arange(m * n), idx.T.ravel(order="F")] = 1.0
    return k


def _transpose(a, shape):
    a = np.asarray(a)
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return a[None, :]
    if a.shape[0] == 1 and len(shape) == 1:
        return a[0]
    return a.T


def _power(a, p):
    if np.ndim(p) == 0 and float(p) == 2.0:
        return a * a
    return np.power(a, p)


def _frob(a, b):
    return np.vdot(np.asarray(a).ravel(), np.asarray(b).ravel())


def _matrix_power(a, k):
    if k < 0:
        a, k = np.linalg.inv(a), -k
    return np.linalg.matrix_power(a, k)


def _nonnegative(node: Node) -> bool:
    from ..diff import _sign_known

    return _sign_known(node, strict=False)


def _weighted_gram(m, d, shape):
    """Mᵀ Diag(d) M as (√d M)ᵀ(√d M), so NumPy's BLAS uses a symmetric rank-k update (half
    the work of a general product); needs d of one sign, else a plain product."""
    d = np.asarray(d)
    if d.min() >= 0:  # (the method: np.all's Python wrapper costs more than the pass)
        b = m * np.sqrt(d)[:, None]
        return _fit(b.T @ b, shape)
    if d.max() <= 0:
        b = m * np.sqrt(-d)[:, None]
        return _fit(-(b.T @ b), shape)
    return _fit(m.T @ (d[:, None] * m), shape)


def _adjugate(a, transposed):
    """adj(A) = det(A) A⁻¹ (transposed: its transpose, the gradient of det A), also where A
    is singular and A⁻¹ is not: adj(UΣVᵀ) = det(U) det(V) V Diag(∏_{j≠i} σ_j) Uᵀ."""
    a = np.asarray(a, dtype=float)
    try:
        out = np.linalg.det(a) * np.linalg.inv(a)
    except np.linalg.LinAlgError:
        u, s, vt = np.linalg.svd(a)
        others = np.array([np.prod(np.delete(s, i)) for i in range(len(s))])
        out = np.linalg.det(u) * np.linalg.det(vt) * ((vt.T * others) @ u.T)
    return out.T if transposed else out


def _scaled_gram(m, d, shape):
    """Diag(d) Mᵀ M Diag(d) as Bᵀ B with B = M Diag(d) (a symmetric rank-k update)."""
    b = m * np.asarray(d)[None, :]
    return _fit(b.T @ b, shape)


def _add_diagonal(dense, v, sign):
    """M ± Diag(v) without building Diag(v) (dense is a fresh array the step may own)."""
    out = np.array(dense, dtype=float, copy=True)
    n = out.shape[0]
    out.flat[:: n + 1] += v if sign > 0 else -np.asarray(v)
    return out


def _add(*terms, p0):
    """Σ ± terms; p0 holds the signs, so a − b needs no negated temporary."""
    total = terms[0] if p0[0] > 0 else -terms[0]
    for sign, t in zip(p0[1:], terms[1:]):
        total = total + t if sign > 0 else total - t
    return total


def _constant_fill(node: Node) -> bool:
    """A Fill or ones, possibly scaled by a number: it may lower to a scalar, so it cannot
    be the operand that carries a sum's full shape (c − 𝟏 is an array, not c − 1)."""
    while isinstance(node, Scale) and isinstance(node.factor, Num):
        node = node.operand
    return isinstance(node, (Fill, Ones))


@dataclass(frozen=True)

class Op:
    run: Callable
    template: str  # Python source; {0}, {1}… are the arguments, {p0}… the parameters


OPS: dict[str, Op] = {
    "const": Op(lambda *, p0: p0, "{p0!r}"),
    "input": Op(None, "{p0}"),
    "add": Op(_add, "{signed_sum}"),
    "scale": Op(lambda c, x: c * x, "{0} * {1}"),
    "matmul": Op(lambda a, b, *, p0: _matmul(a, b, p0), "_matmul({0}, {1}, {p0!r})"),
    "diag_left": Op(lambda v, m, *, p0: _diag_left(v, m, p0), "_diag_left({0}, {1}, {p0!r})"),
    "diag_right": Op(lambda m, v, *, p0: _diag_right(m, v, p0), "_diag_right({0}, {1}, {p0!r})"),
    "kron_apply": Op(lambda p, q, m, *, p0: _kron_apply(p, q, m, p0),
                     "_kron_apply({0}, {1}, {2}, {p0!r})"),
    "kron_right": Op(lambda m, p, q, *, p0: _apply_kron_right(m, p, q, p0),
                     "_apply_kron_right({0}, {1}, {2}, {p0!r})"),
    "commute": Op(lambda m, *, p0, p1, p2: _commute(p0, p1, m, p2),
                  "_commute({p0}, {p1}, {0}, {p2!r})"),
    "weighted_gram": Op(lambda m, d, *, p0: _weighted_gram(m, d, p0),
                        "_weighted_gram({0}, {1}, {p0!r})"),
    "scaled_gram": Op(lambda m, d, *, p0: _scaled_gram(m, d, p0),
                      "_scaled_gram({0}, {1}, {p0!r})"),
    "adjugate": Op(lambda a, *, p0: _adjugate(a, p0), "_adjugate({0}, {p0})"),
    "add_diag": Op(lambda m, v, *, p0: _add_diagonal(m, v, p0), "_add_diagonal({0}, {1}, {p0})"),
    "had": Op(lambda a, b: a * b, "{0} * {1}"),
    "div": Op(lambda a, b: a / b, "{0} / {1}"),
    "pow": Op(_power, "_power({0}, {1})"),
    "matpow": Op(lambda a, *, p0: _matrix_power(a, p0), "_matrix_power({0}, {p0})"),
    "transpose": Op(lambda a, *, p0: _transpose(a, p0), "_transpose({0}, {p0!r})"),
    "frob": Op(_frob, "_frob({0}, {1})"),
    "fill": Op(lambda c, *, p0: np.full(p0, c), "np.full({p0!r}, {0})"),
    "eye": Op(lambda *, p0: np.eye(p0), "np.eye({p0})"),
    "ones": Op(lambda *, p0: np.ones(p0), "np.ones({p0!r})"),
    "zeros": Op(lambda *, p0: np.zeros(p0), "np.zeros({p0!r})"),
    "commutation": Op(lambda *, p0, p1: _commutation_matrix(p0, p1),
                      "_commutation_matrix({p0}, {p1})"),
    "reshape": Op(lambda a, *, p0: np.reshape(a, p0, order="F"),
                  "np.reshape({0}, {p0!r}, order='F')"),
    "slice": Op(lambda a, *, p0, p1, p2, p3: _slice(a, p0, p1, p2, p3),
                "_slice({0}, {p0}, {p1}, {p2}, {p3})"),
}
INDEX_NODES = (Indexed, IndexSum, Build, Delta)
OPS["index"] = Op(lambda *args, p0: p0.run(*args), "{p0}.run({args})")
for _name, _entry in ENTRYWISE.items():
    OPS["f_" + _name] = Op(_entry.numpy, f"_f_{_name}({{0}})")
for _name, _entry in STRUCTURAL.items():
    OPS["c_" + _name] = Op(_entry.numpy, f"_c_{_name}({{args}})")


# ---------------------------------------------------------------- the plan

@dataclass
class Step:
    op: str
    args: tuple  # slot numbers
    params: tuple = ()
    node: Node | None = None


@dataclass
class Plan:
    inputs: dict  # variable name -> slot
    steps: list  # Step per slot (inputs first, as 'input' steps)
    outputs: dict  # output name -> slot
    free_after: dict = field(default_factory=dict)  # step index -> slots whose last use it is
    program: tuple | None = None  # the runnable form (inputs, constants, steps), built once
    # the same as one Python function of the inputs (see _compile_function), built once
    function: Callable | None = None
    in_place: dict = field(default_factory=dict)  # step -> the argument it writes into
    # (bytes at the peak, the largest array's shape, its output name or None): see _peak
    memory: tuple | None = None


def _concrete(shape) -> tuple:
    for d in shape:
        if not isinstance(d, int):
            names = list(dict.fromkeys(re.findall(r"[^\W\d]\w*", str(d)))) or [str(d)]
            give = " ".join(f"--dim {name}=N" for name in names)
            raise UsageError(f"dimension '{d}' has no size: give it with {give} or "
                             "through the inputs' shapes")  # missing input: exit 2
    return tuple(shape)


class _Compiler:
    def __init__(self, symbolic: bool = False):
        # symbolic: sizes stay names (for generated code); chain orders are then chosen
        # as if every open size were _TYPICAL_SIZE.
        self.symbolic = symbolic
        # Keyed by (node, how it is used): a Fill or ones node read as the scalar that
        # NumPy broadcasts in place is another value than the full array it stands for.
        self.slots: dict[tuple, int] = {}
        self.steps: list[Step] = []
        self.inputs: dict[str, int] = {}
        self.uses: dict[Node, int] = {}
        # every product already computed, by its factors: a later chain that contains it
        # (or its transpose, W2ᵀW3ᵀ = (W3W2)ᵀ) reuses it for free
        self.products: dict[tuple, tuple[int, bool]] = {}

    def count_uses(self, roots):
        for root in roots:
            for node in walk(root):
                for c in node.children:
                    self.uses[c] = self.uses.get(c, 0) + 1

    def sizes(self, shape) -> tuple:
        return tuple(shape) if self.symbolic else _concrete(shape)

    def emit(self, op: str, args: tuple, params: tuple = (), node: Node | None = None) -> int:
        self.steps.append(Step(op, args, params, node))
        return len(self.steps) - 1

    def slot(self, node: Node) -> int:
        key = (node, "array")
        if key in self.slots:
            return self.slots[key]
        s = self.lower(node)
        self.slots[key] = s
        return s

    def operand(self, parent: Node, child: Node) -> int:
        """The slot of ``child`` as an operand of ``parent``: a Fill or ones node beside a
        full-shaped operand of a sum, entrywise product or quotient is its scalar (NumPy
        broadcasts it); anywhere else it is the whole array."""
        if not (isinstance(child, (Fill, Ones)) and isinstance(parent, (Add, Had, Div))
                and any(not _constant_fill(o) and o.shape == parent.shape
                        for o in parent.children)):
            return self.slot(child)
        key = (child, "scalar")
        if key not in self.slots:
            self.slots[key] = self.slot(child.value) if isinstance(child, Fill) else \
                self.emit("const", (), (1.0,), child)
        return self.slots[key]

    # -- product chains
    def chain_factors(self, node: Node) -> list[Node]:
        """Factors of a matrix-product chain; an inner product used elsewhere stays whole
        so that its value is shared."""
        if isinstance(node, MatMul):
            out = []
            for side in (node.left, node.right):
                if isinstance(side, MatMul) and self.uses.get(side, 0) <= 1 \
                        and (side, "array") not in self.slots:
                    out.extend(self.chain_factors(side))
                else:
                    out.append(side)
            return out
        return [node]

    def lower_chain(self, node: MatMul) -> int:
        factors = self.chain_factors(node)
        gram = self.lower_gram(factors, node)
        if gram is not None:
            return gram
        dims = [as_matrix(_typical(f.shape)) for f in factors]
        is_diag = [isinstance(f, Call) and f.name == "Diag" for f in factors]
        for f, diag in zip(factors, is_diag):  # operands first: their products get known
            self.slot(f.args[0] if diag else f)
        known = {(i, j) for i in range(len(factors)) for j in range(i + 1, len(factors))
                 if tuple(factors[i:j + 1]) in self.products}
        order = _best_order(dims, is_diag, known)
        return self.emit_order(order, factors, is_diag, node)

    def remember_product(self, factors: tuple, slot: int) -> None:
        from ..algebra import transpose

        self.products.setdefault(factors, (slot, False))
        self.products.setdefault(tuple(transpose(f) for f in reversed(factors)), (slot, True))

    def lower_gram(self, factors: list, node: MatMul) -> int | None:
        """Mᵀ Diag(d) M and Diag(d) Mᵀ M Diag(d): symmetric, so half the work (syrk)."""
        def is_diag(f):
            return isinstance(f, Call) and f.name == "Diag"

        shape = self.sizes(node.shape)
        if (len(factors) == 3 and isinstance(factors[0], T) and is_diag(factors[1])
                and factors[0].operand == factors[2] and len(factors[2].shape) == 2):
            m, d = factors[2], factors[1].args[0]
            if _nonnegative(d):
                # d ≥ 0 by its form (σ ⊙ (1 − σ), exp …): Bᵀ B with B = Diag(√d) M, no test
                # of d's sign at run time (a reduction costs as much as a small step)
                b = MatMul(Call("Diag", (Func("sqrt", d),)), m)
                return self.emit("matmul", (self.slot(T(b)), self.slot(b)), (shape,), node)
            return self.emit("weighted_gram", (self.slot(m), self.slot(d)), (shape,), node)
        if (len(factors) == 4 and is_diag(factors[0]) and factors[0] == factors[3]
                and isinstance(factors[1], T) and factors[1].operand == factors[2]
                and len(factors[2].shape) == 2):
            m, d = factors[2], factors[0].args[0]
            return self.emit("scaled_gram", (self.slot(m), self.slot(d)), (shape,), node)
        return None

    def emit_order(self, order, factors, is_diag, node) -> int:
        def span(tree) -> tuple[int, int]:
            if isinstance(tree, int):
                return tree, tree
            return span(tree[0])[0], span(tree[1])[1]

        def build(tree):
            """tree: int (factor index) or (left, right); returns (slot, rows, cols, kind)."""
            if not isinstance(tree, int):
                i, j = span(tree)
                key = tuple(factors[i:j + 1])
                if key in self.products:
                    slot, transposed = self.products[key]
                    r, _ = as_matrix(self.sizes(factors[i].shape))
                    _, c = as_matrix(self.sizes(factors[j].shape))
                    if transposed and _shape2(r, c) != ():
                        slot = self.emit("transpose", (slot,), (_shape2(r, c),))
                    return slot, r, c, "dense"
                result = build_pair(tree)
                if result[3] == "dense":
                    self.remember_product(key, result[0])
                return result
            if isinstance(tree, int):
                f = factors[tree]
                r, c = as_matrix(self.sizes(f.shape))
                if is_diag[tree]:
                    return self.slot(f.args[0]), r, c, "diag"
                return self.slot(f), r, c, "dense"

        def build_pair(tree):
            ls, lr, _, lk = build(tree[0])
            rs, _, rc, rk = build(tree[1])
            shape = _shape2(lr, rc)
            if lk == "diag" and rk == "diag":
                return self.emit("had", (ls, rs)), lr, rc, "diag"
            if lk == "diag":
                return self.emit("diag_left", (ls, rs), (shape,)), lr, rc, "dense"
            if rk == "diag":
                return self.emit("diag_right", (ls, rs), (shape,)), lr, rc, "dense"
            return self.emit("matmul", (ls, rs), (shape,)), lr, rc, "dense"

        slot, r, c, kind = build(order)
        if kind == "diag":
            slot = self.emit("c_Diag", (slot,))
        final_shape = self.sizes(node.shape)
        if self.steps[slot].op in ("matmul", "diag_left", "diag_right"):
            self.steps[slot].params = (final_shape,)
        return slot

    # -- lowering one node
    def lower(self, node: Node) -> int:
        if isinstance(node, INDEX_NODES):  # index notation: one step (tensors.py)
            region = Region(node, region_inputs(node))
            return self.emit("index", tuple(self.slot(n) for n in region.inputs), (region,),
                             node)
        if isinstance(node, Var):
            s = self.emit("input", (), (node.name,), node)
            self.inputs[node.name] = s
            return s
        if isinstance(node, Num):
            return self.emit("const", (), (float(node.value),), node)
        if isinstance(node, Eye):
            return self.emit("eye", (), (self.sizes((node.n,))[0],), node)
        if isinstance(node, Ones):
            return self.emit("ones", (), (self.sizes(node.shape),), node)
        if isinstance(node, Zeros):
            return self.emit("zeros", (), (self.sizes(node.shape),), node)
        if isinstance(node, Commutation):
            m, n = self.sizes((node.m, node.n))
            return self.emit("commutation", (), (m, n), node)
        if isinstance(node, Fill):  # (as an operand of a sum, see operand())
            return self.emit("fill", (self.slot(node.value),), (self.sizes(node.shape),), node)
        if isinstance(node, Add) and len(node.shape) == 2:
            diagonal = self.lower_add_diagonal(node)
            if diagonal is not None:
                return diagonal
        if isinstance(node, Add):
            signs, terms = [], []
            for t in node.terms:
                negated = isinstance(t, Scale) and isinstance(t.factor, Num) and t.factor.value == -1
                signs.append(-1 if negated else 1)
                terms.append(t.operand if negated else t)
            return self.emit("add", tuple(self.operand(node, t) for t in terms),
                             (tuple(signs),), node)
        if isinstance(node, Scale) and node.shape != ():
            fused = self.lower_det_times_inverse(node)
            if fused is not None:
                return fused
        if isinstance(node, Scale):
            # c₁ (c₂ X): multiply the scalars first, then one pass over X
            factor, operand = node.factor, node.operand
            while isinstance(operand, Scale) and operand.shape != () and \
                    self.uses.get(operand, 0) <= 1:
                factor = Scale(factor, operand.factor)
                operand = operand.operand
            return self.emit("scale", (self.slot(factor), self.slot(operand)), (), node)
        if isinstance(node, MatMul):
            return self.lower_product(node)
        if isinstance(node, Had):
            return self.emit("had", (self.operand(node, node.left),
                                     self.operand(node, node.right)), (), node)
        if isinstance(node, Div):
            return self.emit("div", (self.operand(node, node.left),
                                     self.operand(node, node.right)), (), node)
        if isinstance(node, Pow):
            return self.emit("pow", (self.slot(node.base), self.slot(node.exponent)), (), node)
        if isinstance(node, MatPow):
            return self.emit("matpow", (self.slot(node.base),), (node.k,), node)
        if isinstance(node, T):
            return self.emit("transpose", (self.slot(node.operand),),
                             (self.sizes(node.shape),), node)
        if isinstance(node, Func):
            if node.name in USER_FUNCTIONS:  # installed after this module was imported
                OPS["f_" + node.name] = Op(lookup(node.name).numpy, f"_f_{node.name}({{0}})")
            return self.emit("f_" + node.name, (self.slot(node.operand),), (), node)
        if isinstance(node, Frob):
            return self.emit("frob", (self.slot(node.left), self.slot(node.right)), (), node)
        if isinstance(node, Reshape):
            return self.emit("reshape", (self.slot(node.operand),), (self.sizes(node.shape),),
                             node)
        if isinstance(node, Slice):
            return self.emit("slice", (self.slot(node.operand),),
                             self.sizes((node.row0, node.nrows, node.col0, node.ncols)), node)
        if isinstance(node, Call):
            reduced = kron_reduced(node)  # sum(A ⊗ B) = sum(A) sum(B): never form A ⊗ B
            if reduced is not node:
                return self.slot(reduced)
            return self.emit("c_" + node.name, tuple(self.slot(a) for a in node.args), (), node)
        raise NotImplementedError(type(node).__name__)

    def lower_det_times_inverse(self, node: Scale) -> int | None:
        """c det(X) X⁻¹ (or X⁻ᵀ), the derivative of det, as c adj(X): it exists where X is
        singular too (then X⁻¹ does not). None when ``node`` is not of that form."""
        factors, operand = [], node
        while isinstance(operand, Scale) and operand.shape != ():
            factors += scalar_factors(operand.factor)
            operand = operand.operand
        inverse = operand.operand if isinstance(operand, T) else operand
        if not (isinstance(inverse, Call) and inverse.name == "inv" and
                len(inverse.shape) == 2):
            return None
        det = Call("det", inverse.args)
        if det in factors:
            factors.remove(det)
        else:  # det(X)ᵏ X⁻ᵀ = det(X)ᵏ⁻¹ adj(X)ᵀ
            power = next((f for f in factors if isinstance(f, Pow) and f.base == det and
                          isinstance(f.exponent, Num) and f.exponent.value.denominator == 1
                          and f.exponent.value > 1), None)
            if power is None:
                return None
            k = power.exponent.value
            factors[factors.index(power)] = det if k == 2 else Pow(det, Num(k - 1))
        adjugate = self.emit("adjugate", (self.slot(inverse.args[0]),),
                             (isinstance(operand, T),), operand)
        if not factors:
            return adjugate
        rest = functools.reduce(Scale, factors)
        return self.emit("scale", (self.slot(rest), adjugate), (), node)

    def lower_add_diagonal(self, node: Add) -> int | None:
        """M + Diag(v): add v to M's diagonal instead of building Diag(v)."""
        for i, term in enumerate(node.terms):
            sign, inner = 1, term
            if isinstance(term, Scale) and isinstance(term.factor, Num) and term.factor.value == -1:
                sign, inner = -1, term.operand
            rest = node.terms[:i] + node.terms[i + 1:]
            if any(isinstance(t, (Fill, Ones)) for t in rest):
                return None  # a broadcast scalar: the plain sum is right and as cheap
            diag = isinstance(inner, Call) and inner.name == "Diag"
            if not diag and not (isinstance(inner, Eye) and len(node.shape) == 2):
                continue
            dense = self.slot(rest[0] if len(rest) == 1 else Add(rest))
            diagonal = self.slot(inner.args[0]) if diag else \
                self.emit("const", (), (1.0,), None)  # M ± I: 1 on the diagonal
            return self.emit("add_diag", (dense, diagonal), (sign,), node)
        return None

    def lower_product(self, node: MatMul) -> int:
        left, right = node.left, node.right
        shape = self.sizes(node.shape)
        if isinstance(left, Call) and left.name == "kron":
            p, q = left.args
            return self.emit("kron_apply", (self.slot(p), self.slot(q), self.slot(right)),
                             (shape,), node)
        if isinstance(right, Call) and right.name == "kron":
            p, q = right.args
            return self.emit("kron_right", (self.slot(left), self.slot(p), self.slot(q)),
                             (shape,), node)
        if isinstance(left, Commutation):
            m, n = self.sizes((left.m, left.n))
            return self.emit("commute", (self.slot(right),), (m, n, shape), node)
        return self.lower_chain(node)


_TYPICAL_SIZE = 100


def _typical(shape) -> tuple:
    """Sizes for choosing a chain order: the real ones, or a typical one per open name."""
    out = []
    for d in shape:
        if isinstance(d, int):
            out.append(d)
        else:
            out.append(dim_value(d, collections.defaultdict(lambda: _TYPICAL_SIZE)))
    return tuple(out)


def _shape2(r, c):
    if c == 1:
        return () if r == 1 else (r,)
    return (r, c)


def _best_order(dims: list, is_diag: list, known: set = frozenset()):
    """Cheapest parenthesisation of a product chain (dynamic programming on flops);
    a Diag factor multiplies by scaling rows or columns; a sub-chain in ``known`` (i, j)
    is already computed and costs nothing."""
    n = len(dims)
    if n == 1:
        return 0
    cost = {}
    split = {}
    kind = {}
    for i in range(n):
        cost[i, i] = 0
        kind[i, i] = "diag" if is_diag[i] else "dense"
    for length in range(2, n + 1):
        for i in range(n - length + 1):
            j = i + length - 1
            best = None
            for k in range(i, j):
                lk, rk = kind[i, k], kind[k + 1, j]
                rows, inner, cols = dims[i][0], dims[k][1], dims[j][1]
                if lk == "diag" and rk == "diag":
                    step = rows
                elif lk == "diag" or rk == "diag":
                    step = rows * cols
                else:
                    step = rows * inner * cols
                total = cost[i, k] + cost[k + 1, j] + step
                if best is None or total < best[0]:
                    best = (total, k, "diag" if lk == rk == "diag" else "dense")
            if (i, j) in known:
                best = (0, best[1], "dense")
            cost[i, j], split[i, j], kind[i, j] = best

    def tree(i, j):
        if i == j:
            return i
        k = split[i, j]
        return (tree(i, k), tree(k + 1, j))

    return tree(0, n - 1)


def compile_plan(outputs: dict[str, Node], symbolic: bool = False) -> Plan:
    # (closed: index notation; sink_scalars: c (A B) evaluated as (c A) B where A is smaller)
    outputs = sink_scalars({name: closed(node) for name, node in outputs.items()})
    roots = list(outputs.values())
    compiler = _Compiler(symbolic)
    compiler.count_uses(roots)
    out_slots = {name: compiler.slot(node) for name, node in outputs.items()}
    plan = Plan(compiler.inputs, compiler.steps, out_slots)
    last_use: dict[int, int] = {}
    for i, step in enumerate(plan.steps):
        for a in step.args:
            last_use[a] = i
    keep = set(out_slots.values())
    for slot, i in last_use.items():
        if slot not in keep:
            plan.free_after.setdefault(i, []).append(slot)
    return plan


def _viewed_slots(plan: Plan) -> set:
    """Slots some step takes a view of (a transpose, a reshape, a ravel): writing into them
    would change the view too, so they are never reused in place."""
    viewing = {"transpose", "reshape", "c_vec", "c_diag", "fill"}
    return {a for step in plan.steps if step.op in viewing for a in step.args}


def _in_place_target(step: Step, i: int, plan: Plan, owned: list, shapes: list):
    """The argument position an entrywise step may overwrite (an operand that is a fresh
    array of the result's shape and dies at this step), or None. Decided once per plan."""
    if step.op not in ("add", "had", "scale", "div", "add_diag") or shapes[i] is None:
        return None
    dying = set(plan.free_after.get(i, ()))
    for j, slot in enumerate(step.args):
        if step.op in ("div", "add_diag") and j != 0:
            break
        if owned[slot] and slot in dying and shapes[slot] == shapes[i] and len(shapes[i]):
            return j
    return None


def _in_place_kernel(op: str, j: int, params: tuple) -> Callable:
    """The entrywise op, written into argument j."""
    if op == "add":
        signs = params[0]
        if len(signs) == 2 and signs[j] > 0:  # the common a ± b
            ufunc = np.add if signs[1 - j] > 0 else np.subtract
            if j == 0:
                return lambda a, b: ufunc(a, b, out=a)
            if ufunc is np.add:
                return lambda a, b: np.add(a, b, out=b)

        def add_into(*args):
            out = args[j]
            if signs[j] < 0:
                np.negative(out, out=out)
            for k, (sign, term) in enumerate(zip(signs, args)):
                if k != j:
                    (np.add if sign > 0 else np.subtract)(out, term, out=out)
            return out
        return add_into
    if op in ("had", "scale"):
        return lambda a, b: np.multiply(a, b, out=(a, b)[j])
    if op == "div":
        return lambda a, b: np.divide(a, b, out=a)

    def add_diagonal_into(m, v):
        m.flat[:: m.shape[0] + 1] += v if params[0] > 0 else -np.asarray(v)
        return m
    return add_diagonal_into


_BINARY_SUMS = {(1, 1): np.add, (1, -1): np.subtract,
                (-1, 1): lambda a, b: np.subtract(b, a), (-1, -1): lambda a, b: -(a + b)}


_UFUNCS = {"had": np.multiply, "scale": np.multiply, "div": np.divide, "f_exp": np.exp,
           "f_log": np.log, "f_sqrt": np.sqrt, "f_sin": np.sin, "f_cos": np.cos,
           "f_tanh": np.tanh, "f_abs": np.abs, "f_sign": np.sign}


def _sigmoid_array(x):
    """σ of a float64 array: 1/(1 + e⁻ˣ) in one buffer (the registry's kernel also takes
    scalars and other types, which costs a check per call)."""
    t = -x
    np.exp(t, out=t)
    t += 1.0
    return np.reciprocal(t, out=t)


def _softmax_vector(x):
    z = x - x.max()  # (x is a float64 array: see _ARRAY_KERNELS)
    np.exp(z, out=z)
    z /= z.sum()
    return z


def _logsumexp_vector(x):
    m = x.max()
    return m + np.log(np.exp(x - m).sum())


# Kernels for an operand known to be a float64 array (of at least one axis).
_ARRAY_KERNELS = {"f_sigmoid": _sigmoid_array, "c_softmax": _softmax_vector,
                  "c_logsumexp": _logsumexp_vector}


def _direct_ufunc(step: Step, shapes: list):
    """NumPy's own function where the general kernel would only add a Python call: entrywise
    ops, and products and transposes whose operand shapes need no adjusting."""
    if step.op in _UFUNCS:
        return _UFUNCS[step.op]
    operands = [shapes[a] for a in step.args]
    if any(shape is None for shape in operands):
        return None
    if step.op in _ARRAY_KERNELS and len(operands) == 1 and len(operands[0]) >= 1 and \
            (step.op != "c_softmax" and step.op != "c_logsumexp" or len(operands[0]) == 1):
        return _ARRAY_KERNELS[step.op]
    if step.op == "transpose" and step.node is not None and len(operands[0]) == 2 \
            and len(step.node.shape) == 2:
        return np.transpose
    if step.op == "matmul":
        (a, b), shape = operands, step.params[0]
        if len(a) == 2 and ((len(b) == 1 and len(shape) == 1) or
                            (len(b) == 2 and len(shape) == 2)):
            return np.matmul
    return None


def _slot_shapes(plan: Plan) -> list:
    """The concrete shape of every slot where it is known: its node's, or for the inner
    products of a chain (no node), the shape the step is asked to produce."""
    shaped = {"matmul", "diag_left", "diag_right", "transpose", "reshape", "fill", "ones",
              "zeros", "kron_apply", "kron_right", "weighted_gram", "scaled_gram"}
    out = []
    for step in plan.steps:
        if step.node is not None:
            shape = tuple(step.node.shape)
        elif step.op in shaped:
            shape = tuple(step.params[0])
        else:
            shape = None
        out.append(shape if shape is not None and all(isinstance(d, int) for d in shape)
                   else None)
    return out


def _executable(plan: Plan) -> list:
    """(slot, callable, argument slots, slots to free) per step, built once per plan."""
    if plan.program is not None:
        return plan.program
    viewed = _viewed_slots(plan)
    owned = [(step.op in _FRESH or step.op.startswith("f_")) and i not in viewed
             for i, step in enumerate(plan.steps)]
    shapes = _slot_shapes(plan)
    inputs, constants, program = [], [], []
    in_place = set()
    for i, step in enumerate(plan.steps):
        free = tuple(plan.free_after.get(i, ()))
        if step.op == "input":
            inputs.append((i, step.params[0]))
            continue
        if step.op == "const":
            constants.append((i, step.params[0]))
            continue
        j = _in_place_target(step, i, plan, owned, shapes)
        if j is not None:
            in_place.add(i)
            plan.in_place[i] = j
        if j is not None:
            fn = _in_place_kernel(step.op, j, step.params)
        elif step.op == "add" and len(step.args) == 2:
            fn = _BINARY_SUMS[step.params[0]]
        elif (direct := _direct_ufunc(step, shapes)) is not None:
            fn = direct
        else:
            kwargs = {f"p{k}": p for k, p in enumerate(step.params)}
            run = OPS[step.op].run
            fn = functools.partial(run, **kwargs) if kwargs else run
        program.append((i, fn, step.args, free))
    program = (inputs, constants, program)
    plan.program = program
    plan.memory = _peak(plan, shapes, in_place)
    return program


# Steps whose result is a view of their operand: they allocate nothing.
_VIEWS = {"transpose", "reshape", "c_vec", "const"}


def _peak(plan: Plan, shapes: list, in_place: set) -> tuple:
    """The most bytes the plan holds at once (inputs included), replaying which arrays are
    alive after each step; a step written into a dying operand allocates nothing. Also the
    shape of the largest array and, when it is an output, its name."""
    names = {slot: name for name, slot in plan.outputs.items()}
    live: dict[int, int] = {}
    total = peak = 0
    largest = (0, (), None)
    for i, step in enumerate(plan.steps):
        shape = shapes[i] or ()
        size = 0 if (step.op in _VIEWS or i in in_place) else 8 * math.prod(shape)
        live[i] = size
        total += size
        peak = max(peak, total)
        if size > largest[0]:
            largest = (size, shape, names.get(i))
        for slot in plan.free_after.get(i, ()):
            total -= live.pop(slot, 0)
    return peak, largest[1], largest[2]


def _require_memory(plan: Plan) -> None:
    peak, shape, name = plan.memory
    if not budget.allows(peak):
        what = "×".join(map(str, shape))
        budget.require(peak, f"the largest array: {name + ', ' if name else ''}{what} "
                             "float64 entries")


_SUM_SOURCE = {(1, 1): "{0} + {1}", (1, -1): "{0} - {1}", (-1, 1): "{1} - {0}",
               (-1, -1): "-({0} + {1})"}
@dataclass(frozen=True)
class _Augmented:
    """A step written as ``target op= other`` (the result lives on in the target's array,
    which dies at this step): no ufunc call with keyword arguments to parse."""
    target: int  # argument positions
    other: int
    op: str


def _in_place_source(step: Step, j: int):
    op = step.op
    if op in ("had", "scale"):
        return _Augmented(j, 1 - j, "*")
    if op == "div":
        return _Augmented(0, 1, "/")
    if op == "add" and len(step.args) == 2:
        if step.params[0] == (1, 1):
            return _Augmented(j, 1 - j, "+")
        if step.params[0] == (1, -1) and j == 0:
            return _Augmented(0, 1, "-")
    return None


_ONE_UFUNC = re.compile(r"np\.\w+\(\{0\}\)")


def _inline_source(step: Step, i: int, plan: Plan, shapes: list) -> str | None:
    """The step as a Python expression of its arguments ({0}, {1}), where it has one that
    needs no kernel: operators, NumPy's ufuncs writing into a dying operand, and products
    and transposes whose operands' shapes are known (an outer product by broadcasting)."""
    op, j = step.op, plan.in_place.get(i)
    if j is not None:
        return _in_place_source(step, j)
    if op in ("had", "scale"):
        return "{0} * {1}"
    if op == "div":
        return "{0} / {1}"
    if op == "add" and len(step.args) == 2:
        return _SUM_SOURCE[step.params[0]]
    if op.startswith("f_") and op[2:] in ENTRYWISE:  # np.exp({0}): the ufunc, no wrapper
        source = ENTRYWISE[op[2:]].numpy_source
        return source if _ONE_UFUNC.fullmatch(source) else None
    operands = [shapes[a] for a in step.args]
    if shapes[i] is None or any(shape is None for shape in operands):
        return None
    rank, ranks = len(shapes[i]), [len(shape) for shape in operands]
    if op == "transpose":
        return {(0, 0): "{0}", (1, 2): "{0}[None, :]", (2, 2): "{0}.T",
                (2, 1): "{0}[0]"}.get((ranks[0], rank))
    if op == "matmul" and rank == 2:
        (a, b) = operands
        if ranks == [1, 2] and b[0] == 1:  # x yᵀ
            return "{0}[:, None] * {1}"
        if ranks == [2, 2] and a[1] == 1:  # (n×1)(1×m)
            return "{0} * {1}"
        if ranks == [2, 2]:
            return "{0} @ {1}"
    if op == "matmul" and rank == 1 and ranks == [2, 1]:
        return "{0} @ {1}"
    if op == "diag_left" and ranks == [1, 2] and rank == 2:  # Diag(v) M: scale the rows
        return "{0}[:, None] * {1}"
    if op == "diag_right" and ranks == [2, 1] and rank == 2:  # M Diag(v): the columns
        return "{0} * {1}"
    return None


def _body(plan: Plan, namespace: dict, name: dict) -> list[str]:
    """The steps of ``plan`` as straight-line Python: ``s7 = s3 @ s5``, entrywise products
    and products as operators, every other step a call of its kernel (``f<slot>`` in
    ``namespace``), ``del`` where a slot's last use is. ``name`` maps the input slots to
    their names in the source; it gets the names of all the others."""
    inputs, constants, program = _executable(plan)
    shapes = _slot_shapes(plan)
    for slot, value in constants:  # constants are globals, read where they are used
        namespace[f"k{slot}"] = value
        name[slot] = f"k{slot}"
    inputs_named = {name[slot] for slot, _ in inputs}
    outputs = set(plan.outputs.values())
    uses, consumer = {}, {}
    for i, _, args, _ in program:
        for a in args:
            uses[a] = uses.get(a, 0) + 1
            consumer[a] = i
    templates = {i: _inline_source(plan.steps[i], i, plan, shapes) for i, *_ in program}
    # a transpose used once is written where it is used (a view: nothing to compute), so
    # its operand must live until that use
    fused = {i for i, *_ in program if plan.steps[i].op == "transpose"
             and templates[i] is not None and uses.get(i) == 1 and i not in outputs}
    frees = {i: list(free) for i, _, _, free in program}
    for i in sorted(fused):
        operand = plan.steps[i].args[0]
        for k, free in frees.items():
            if operand in free and k < consumer[i]:
                free.remove(operand)
                frees[consumer[i]].append(operand)
    lines = []
    for i, fn, args, _ in program:
        names = [name[a] for a in args]
        template = templates[i]
        if isinstance(template, _Augmented):
            target = names[template.target]
            lines.append(f"{target} {template.op}= {names[template.other]}")
            name[i] = target  # the same array, now holding this step's value
            dead = [name[slot] for slot in frees[i] if name[slot] != target and
                    _large(shapes[slot]) and name[slot][0] == "s"]
            if dead:
                lines.append(f"del {', '.join(dead)}")
            continue
        if template == "{0}[:, None] * {1}":  # x yᵀ with yᵀ a row view of y: y broadcasts
            names[1] = re.sub(r"^\((\w+)\[None, :\]\)$", r"\1", names[1])
        if template is not None:
            expr = template.format(*names)
        else:
            namespace[f"f{i}"] = fn
            expr = f"f{i}({', '.join(names)})"
        if i in fused:
            name[i] = f"({expr})"
            continue
        name[i] = f"s{i}"
        lines.append(f"s{i} = {expr}")
        # an array dies at its last use; only a large one is worth a del (the rest go
        # when the function returns)
        dead = [name[slot] for slot in frees[i] if _large(shapes[slot]) and (
            name[slot][0] == "s" or (name[slot] in inputs_named and
                                     sum(n == name[slot] for n in name.values()) == 1))]
        if dead:
            lines.append(f"del {', '.join(dead)}")
    return lines


def _large(shape) -> bool:
    """An array of this shape (None: unknown) is worth freeing as soon as it dies."""
    return shape is None or math.prod(shape) >= 1 << 14


def _compile_function(plan: Plan) -> Callable:
    """The plan as ONE Python function ``f(input, ...) -> (output, ...)`` (inputs in
    ``plan.inputs`` order, outputs in ``plan.outputs`` order). No per-step interpretation
    is left (no loop, no argument lists, no dispatch), which is the whole cost of a small
    evaluation. Every name in the source is generated (``s<slot>``, ``f<slot>``,
    ``k<slot>``); kernels and constants are passed in as globals, so no text of the input
    ever reaches the source."""
    inputs = _executable(plan)[0]
    namespace: dict = {"np": np}
    name = {slot: f"s{slot}" for slot, _ in inputs}
    lines = [f"def _plan({', '.join(name[slot] for slot, _ in inputs)}):"]
    lines += ["    " + line for line in _body(plan, namespace, name)]
    lines.append(f"    return ({', '.join(name[slot] for slot in plan.outputs.values())},)")
    return _define(lines, namespace, "_plan")


def _define(lines: list[str], namespace: dict, function: str) -> Callable:
    source = "\n".join(lines)
    exec(compile(source, "<matgrad plan>", "exec"), namespace)  # noqa: S102
    namespace[function].source = source  # for reading what runs (tests, debugging)
    return namespace[function]


def caller(plan: Plan, shapes: dict, targets: dict, fallback: Callable) -> tuple:
    """``(call, entry)`` for ``compile_derivatives``: the plan with its guard and its output
    shaping, generated from one text (``generated_callers``). The guard passes only when
    the arrays are exactly those it was compiled for (``shapes``: name -> shape, the plan's
    inputs among them), as float64 ndarrays of those shapes; then every output is returned,
    reshaped to ``targets[name]`` where that differs, as float64 arrays.

    ``call(arrays)`` returns None when the guard fails; ``entry(**arrays)`` — the function
    a user calls, with no layer of ours around it — returns ``fallback(arrays)`` then (the
    slow path: conversion, other shapes); ``entry.positional`` is the same with the arrays
    as arguments. A singular matrix is an EvaluationError."""
    inputs = _executable(plan)[0]
    variables = list(dict.fromkeys([*shapes, *(var for _, var in inputs)]))
    namespace: dict = {"np": np, "_ndarray": np.ndarray, "_float": np.dtype(np.float64),
                       "_finish": _finish, "_LinAlgError": np.linalg.LinAlgError,
                       "_singular": _singular}
    arg = {var: f"a{k}" for k, var in enumerate(variables)}
    guard = []
    for k, var in enumerate(variables):
        namespace[f"h{k}"] = tuple(shapes[var])
        guard.append(f"type(a{k}) is not _ndarray or a{k}.dtype is not _float "
                     f"or a{k}.shape != h{k}")
    name = {slot: arg[var] for slot, var in inputs}
    body = _body(plan, namespace, name)
    unused = [arg[var] for var in variables if var not in {v for _, v in inputs}]
    body = ([f"del {', '.join(unused)}"] if unused else []) + body
    shapes_of = _slot_shapes(plan)
    results = []
    for k, (out, slot) in enumerate(plan.outputs.items()):
        namespace[f"t{k}"] = targets.get(out) or shapes_of[slot]
        exact = (plan.steps[slot].op not in ("const", "input") and shapes_of[slot]
                 and shapes_of[slot] == targets.get(out, shapes_of[slot])
                 and _inline_source(plan.steps[slot], slot, plan, shapes_of) is not None)
        results.append(name[slot] if exact else f"_finish({name[slot]}, t{k})")
    return generated_callers(variables, list(plan.outputs), guard, body, results, namespace,
                             fallback, singular=True)


def generated_callers(variables: list, keys: list, guard: list[str], body: list[str],
                      results: list[str] | str, namespace: dict, fallback: Callable,
                      singular: bool = False) -> tuple:
    """``(call, entry)`` from one text, whose arrays are ``a0, a1, ...`` (``variables``, in
    order): ``guard`` lists conditions any of which sends the call to the slow path,
    ``body`` computes ``results`` (the outputs ``keys``, in order: expressions, or one
    expression for the tuple of them all); ``singular``: a
    LinAlgError in the body becomes an EvaluationError.

    ``call(arrays)`` returns None where the guard fails; ``entry(**arrays)`` returns
    ``fallback(arrays)`` there; ``entry.positional(*arrays)`` takes the arrays in the order
    ``entry.parameters`` and returns the tuple of outputs in the order ``entry.keys``, the
    calling convention of a hand-written function (no keyword dictionaries to build)."""
    arrays = [f"a{k}" for k in range(len(variables))]
    for k, var in enumerate(variables):
        namespace[f"n{k}"] = var
    for k, key in enumerate(keys):
        namespace[f"o{k}"] = key
    namespace["_fallback"] = fallback

    def _positional_fallback(*values):
        out = fallback(dict(zip(variables, values)))
        return tuple(out[key] for key in keys)

    namespace["_positional_fallback"] = _positional_fallback

    def computing(returned: str) -> list[str]:
        lines = ["    try:"] if singular else []  # (a try costs nothing in CPython 3.11+)
        pad = "        " if singular else "    "
        lines += [pad + line for line in body] + [pad + f"return {returned}"]
        if singular:
            lines += ["    except _LinAlgError as exc:", "        raise _singular(exc) from None"]
        return lines

    test = " or ".join(guard)
    looked_up = (["    try:"] + [f"        {a} = arrays[n{k}]" for k, a in enumerate(arrays)]
                 + ["    except KeyError:", "        return {miss}",
                    f"    if len(arrays) != {len(arrays)}{' or ' + test if test else ''}:",
                    "        return {miss}"])
    whole = results if isinstance(results, str) else None
    if whole is not None:
        results = [f"{whole}[{k}]" for k in range(len(keys))]
    as_dict = "{" + ", ".join(f"o{k}: {r}" for k, r in enumerate(results)) + "}"
    text = "\n".join(looked_up + computing(as_dict))
    call = _define(["def _call(arrays):", text.replace("{miss}", "None")], namespace, "_call")
    entry = _define(["def _entry(**arrays):", text.replace("{miss}", "_fallback(arrays)")],
                    namespace, "_entry")
    listed = ", ".join(arrays)
    missed = [f"    if {test}:", f"        return _positional_fallback({listed})"] if test else []
    as_tuple = whole or "(" + "".join(f"{r}, " for r in results).rstrip() + ")"
    positional = _define([f"def _positional({listed}):", *missed, *computing(as_tuple)],
                         namespace, "_positional")
    for function in (entry, positional):
        function.parameters, function.keys = tuple(variables), tuple(keys)
    entry.positional = positional
    return call, entry


def _singular(exc: Exception) -> EvaluationError:
    said = str(exc)  # NumPy's "Singular matrix" needs no guess after it
    if "singular" in said.lower():
        return EvaluationError(f"evaluation failed: {said[:1].lower()}{said[1:]}")
    return EvaluationError(f"evaluation failed: {said} (a singular matrix?)")


def _finish(value, shape):
    """An output as a float64 array of the shape asked for (SPEC §4's layout)."""
    value = _as_float_array(value)
    return value if shape is None or value.shape == shape else value.reshape(shape, order="F")


def _has_index_steps(plan: Plan) -> bool:
    return any(step.op == "index" for step in plan.steps)


def compiled(plan: Plan) -> Callable:
    """``plan.function``, built on first use."""
    if plan.function is None:
        plan.function = _compile_function(plan)
    return plan.function


def run_plan(plan: Plan, arrays: dict) -> dict:
    function = compiled(plan)
    _require_memory(plan)  # before any step allocates
    # No np.errstate here: entering it costs as much as a small step, and a library caller
    # keeps NumPy's own warnings; the command line evaluates under errstate (evaluate()).
    try:
        args = [arrays[name] for _, name in plan.program[0]]
        if _has_index_steps(plan):
            with shared_run():  # index notation's sub-expressions, computed once per run
                values = function(*args)
        else:
            values = function(*args)
    except np.linalg.LinAlgError as exc:
        raise _singular(exc) from None
    return {name: _as_float_array(value) for name, value in zip(plan.outputs, values)}


def _as_float_array(value):
    return value if type(value) is np.ndarray and value.dtype == np.float64 else \
        np.asarray(value, dtype=np.float64)


def evaluate(outputs: dict[str, Node], arrays: dict) -> dict:
    """Evaluate named expressions on NumPy arrays (keyed by variable name); overflow and
    invalid values give inf/nan without warnings (the caller reports non-finite results)."""
    with np.errstate(all="ignore"):
        return run_plan(compile_plan(outputs), arrays)

"""Evaluation of index notation on whole arrays (SPEC §2b): never a loop over index values.

A node with free index labels is evaluated once for all their values: its array carries one
leading axis per label (in the order of ``labels``), then the node's own axes. So
``X[:, i, :]' X[:, i, :]`` is one batched ``@`` over the i axis, and a sum of products of
indexed scalars (``sum(j: A[i, j] x[j])``) is one ``np.einsum`` with the contraction order
``optimize=True`` picks for the shapes (numpy's einsum_path: it needs no extra package and
finds the pairwise order, which is what a product of a few operands needs).

The evaluator (evaluator.py) runs a whole index expression as one step, a ``Region``: its
inputs are the sub-expressions without free labels, evaluated by the plan as usual.
"""
from __future__ import annotations

import contextlib
import contextvars
import string

import numpy as np

from ..errors import EvaluationError
from ..ir import (Add, Build, Call, Delta, Div, Fill, Frob, Func, Had, IndexSum, MatMul, Node,
                  Pow, Scale, Indexed, T)
from ..ops import lookup
from ..tensors.labels import free_indices, pattern_spec


def region_inputs(root: Node) -> list[Node]:
    """The sub-expressions of an index expression that carry no free label (evaluated
    outside it), each once, in the order met."""
    found: list[Node] = []
    seen: set = set()

    def visit(node: Node):
        for child in node.children:
            if child in seen:
                continue
            seen.add(child)
            if not free_indices(child) and not isinstance(child, Delta):
                found.append(child)
            else:
                visit(child)

    visit(root)
    return found


# One plan run's values of the index sub-expressions, shared by all its regions: the
# gradient's Φᵢᵀ Φᵢ − I is the value's, computed once (within a run the inputs are fixed).
_RUN: contextvars.ContextVar = contextvars.ContextVar("index_run", default=None)


@contextlib.contextmanager
def shared_run():
    token = _RUN.set({})
    try:
        yield
    finally:
        _RUN.reset(token)


class Region:
    """One step of a plan: an index expression over its inputs' values."""

    def __init__(self, root: Node, inputs: list[Node]):
        self.root, self.inputs = root, inputs

    def __repr__(self) -> str:
        return f"Region({type(self.root).__name__})"

    def run(self, *values):
        shared = _RUN.get()
        memo = shared if shared is not None else {}
        memo.update(zip(self.inputs, ((np.asarray(v, dtype=float), ()) for v in values)))
        array, labels = _ev(self.root, memo)
        assert not labels, labels
        return array


def _letters(labels) -> dict:
    return {label: string.ascii_letters[k] for k, label in enumerate(labels)}


def _align(array, labels: tuple, target: tuple):
    """array (labels + own axes) with its label axes in target's order, size 1 where a
    target label is missing (so NumPy broadcasts)."""
    own = array.ndim - len(labels)
    present = [labels.index(t) for t in target if t in labels]
    perm = present + list(range(len(labels), array.ndim))
    if perm != list(range(array.ndim)):
        array = array.transpose(perm)
    shape = []
    it = iter(array.shape[:len(present)])
    for t in target:
        shape.append(next(it) if t in labels else 1)
    return array.reshape(tuple(shape) + array.shape[len(present):]) if own >= 0 else array


def _union(*label_lists) -> tuple:
    out: list = []
    for labels in label_lists:
        out.extend(k for k in labels if k not in out)
    return tuple(out)


def _ev(node: Node, memo: dict):
    hit = memo.get(node)
    if hit is not None:
        return hit
    result = _evaluate(node, memo)
    memo[node] = result
    return result


def _scalar_factors(node: Node) -> list[Node]:
    """The factors of a product of scalars (a Scale tree of scalar shape)."""
    if isinstance(node, Scale) and node.shape == () and node.operand.shape == ():
        return _scalar_factors(node.factor) + _scalar_factors(node.operand)
    if isinstance(node, Had) and node.shape == ():
        return _scalar_factors(node.left) + _scalar_factors(node.right)
    return [node]


def _einsum_sum(node: IndexSum, memo: dict):
    """Σ over labels of a product of indexed scalars: one einsum, its order optimised."""
    factors = [_ev(f, memo) for f in _scalar_factors(node.body)]
    every = _union(*[labels for _, labels in factors], node.labels)
    letter = _letters(every)
    keep = tuple(k for k in every if k not in node.labels)
    operands, subscripts = [], []
    for array, labels in factors:
        operands.append(array)
        subscripts.append("".join(letter[k] for k in labels))
    spec = ",".join(subscripts) + "->" + "".join(letter[k] for k in keep)
    out = np.einsum(spec, *operands, optimize=len(operands) > 2)
    missing = [size for k, size in zip(node.labels, node.sizes)
               if not any(k in labels for _, labels in factors)]
    for size in missing:  # a summed label no factor carries: Σ of a constant
        out = out * size
    return out, keep


def _evaluate(node: Node, memo: dict):
    if isinstance(node, Indexed):
        array, labels = _ev(node.operand, memo)
        new = [e for e in dict.fromkeys(node.pattern) if e is not None and e not in labels]
        letter = _letters(_union(labels, new))
        spec, _ = pattern_spec(node.pattern, letter, labels, new)
        out = np.einsum(spec, array)
        return out.reshape(out.shape[:len(labels) + len(new)] + _concrete(node.shape)), \
            labels + tuple(new)
    if isinstance(node, Delta):
        n = int(node.n)
        if node.i == node.j:
            return np.ones(n), (node.i,)
        return np.eye(n), (node.i, node.j)
    if isinstance(node, IndexSum):
        if node.shape == () and len(_scalar_factors(node.body)) > 1:
            return _einsum_sum(node, memo)
        array, labels = _ev(node.body, memo)
        axes = tuple(labels.index(k) for k in node.labels if k in labels)
        out = array.sum(axis=axes) if axes else array
        for k, size in zip(node.labels, node.sizes):
            if k not in labels:
                out = out * size
        return out, tuple(k for k in labels if k not in node.labels)
    if isinstance(node, Build):
        return _build(node, memo)
    if isinstance(node, Scale) and isinstance(node.operand, Scale) and node.operand.shape:
        # c₁ (c₂ X): multiply the (per-index) scalars first, then one pass over X
        factor: Node = node.factor
        operand = node.operand
        while isinstance(operand, Scale) and operand.shape:
            factor = Scale(factor, operand.factor)
            operand = operand.operand
        return _ev(Scale(factor, operand), memo)
    children = [_ev(c, memo) for c in node.children]
    labels = _union(*[lab for _, lab in children])
    arrays = [_align(a, lab, labels) for a, lab in children]
    return _pointwise(node, arrays, len(labels)), labels


def _concrete(shape) -> tuple:
    return tuple(int(d) for d in shape)


def _build(node: Build, memo: dict):
    body, labels = _ev(node.body, memo)
    pattern_labels = [e for e in node.pattern if e is not None]
    outer = tuple(k for k in labels if k not in pattern_labels)
    unique = tuple(dict.fromkeys(pattern_labels))
    own = body.ndim - len(labels)
    if len(unique) == len(pattern_labels) and set(unique) <= set(labels) and \
            own == node.pattern.count(None) and not outer:
        # every axis is there: the tensor is the body with its axes moved (a view)
        colon = iter(range(len(labels), body.ndim))
        axes = [labels.index(e) if e is not None else next(colon) for e in node.pattern]
        return body.transpose(axes), ()
    out = np.zeros(tuple(int(free_indices(node)[k]) for k in outer) + _concrete(node.dims))
    view = np.einsum(pattern_spec(node.pattern, _letters(outer + unique), outer, unique)[0],
                     out)
    aligned = _align(body, labels, outer + unique)
    view[...] = aligned.reshape(aligned.shape[:len(outer + unique)] + view.shape[
        len(outer + unique):])
    return out, outer


def _own(array, batch: int) -> tuple:
    return array.shape[batch:]


def _as_matrix(array, own_ndim: int):
    return array[..., None] if own_ndim == 1 else array


def _pointwise(node: Node, arrays: list, batch: int):
    """node's operation on arrays that all carry ``batch`` leading label axes (aligned)."""
    own = [a.ndim - batch for a in arrays]

    def trailing(a, k):  # a scalar operand beside a k-axis one: broadcast over the k axes
        return a.reshape(a.shape + (1,) * k)

    if isinstance(node, Add):
        k = len(node.shape)
        total = None
        for a, n in zip(arrays, own):
            a = trailing(a, k - n) if n < k else a
            total = a if total is None else total + a
        return total
    if isinstance(node, Scale):
        c, x = arrays
        return trailing(c, own[1]) * x
    if isinstance(node, (Had, Div)):
        a, b = arrays
        a = trailing(a, own[1] - own[0]) if own[0] < own[1] else a
        b = trailing(b, own[0] - own[1]) if own[1] < own[0] else b
        return a * b if isinstance(node, Had) else a / b
    if isinstance(node, Pow):
        base, p = arrays
        return np.power(base, trailing(p, own[0]))
    if isinstance(node, Fill):
        value = arrays[0]
        shape = np.broadcast_shapes(value.shape, value.shape[:batch])
        return np.broadcast_to(trailing(value, len(node.shape)),
                               shape + _concrete(node.shape))
    if isinstance(node, Func):
        return lookup(node.name).numpy(arrays[0])
    if isinstance(node, MatMul):
        a, b = arrays
        out = np.matmul(_as_matrix(a, own[0]), _as_matrix(b, own[1]))
        return out.reshape(out.shape[:-2] + _concrete(node.shape))
    if isinstance(node, T):
        a = arrays[0]
        if own[0] == 0:
            return a
        m = _as_matrix(a, own[0])
        out = np.swapaxes(m, -1, -2)
        return out.reshape(out.shape[:-2] + _concrete(node.shape))
    if isinstance(node, Frob):
        a, b = arrays
        return (a * b).sum(axis=tuple(range(-own[0], 0))) if own[0] else a * b
    if isinstance(node, Call):
        return _call(node, arrays, own)
    raise EvaluationError(f"{type(node).__name__} inside index notation (with a free index) "
                          "is not supported by the evaluator")


def _call(node: Call, arrays: list, own: list):
    a, k = arrays[0], own[0]
    axes = tuple(range(-k, 0))
    name = node.name
    if name == "sum":
        return a.sum(axis=axes) if k else a
    if name == "norm":
        return np.sqrt((a * a).sum(axis=axes)) if k else np.abs(a)
    if name == "norm1":
        return np.abs(a).sum(axis=axes) if k else np.abs(a)
    if name == "tr":
        return np.trace(a, axis1=-2, axis2=-1) if k == 2 else a
    if name == "mean":
        return a.mean(axis=axes) if k else a
    if k == 2 and name[:-2] in ("sum", "mean", "logsumexp", "softmax") and name[-2:] in (
            "_1", "_2"):  # along one dimension of each matrix (MATLAB's k)
        axis, op = (-2 if name.endswith("_1") else -1), name[:-2]
        keep = name.endswith("_1")  # k = 1 gives a 1×n row
        if op == "softmax":
            e = np.exp(a - a.max(axis=axis, keepdims=True))
            return e / e.sum(axis=axis, keepdims=True)
        if op == "logsumexp":
            top = a.max(axis=axis, keepdims=True)
            out = np.log(np.exp(a - top).sum(axis=axis, keepdims=True)) + top
        else:
            out = getattr(a, op)(axis=axis, keepdims=True)
        return out if keep else out[..., 0]
    if name == "vec":  # column-major over the node's own axes
        if k < 2:
            return a
        batch = a.shape[:a.ndim - k]
        return np.swapaxes(a, -1, -2).reshape(batch + (-1,))
    if name == "diag":
        return np.diagonal(a, axis1=-2, axis2=-1) if k == 2 else a
    if name == "inv":
        return np.linalg.inv(a) if k == 2 else 1.0 / a
    if name == "det":
        return np.linalg.det(a) if k == 2 else a
    if name == "logdet":
        return np.linalg.slogdet(a)[1] if k == 2 else np.log(np.abs(a))
    if name == "logsumexp" and k == 1:
        top = a.max(axis=-1, keepdims=True)
        return np.log(np.exp(a - top).sum(axis=-1)) + top[..., 0]
    if name == "softmax" and k == 1:
        e = np.exp(a - a.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name in ("max", "min") and len(arrays) == 2:
        b = arrays[1]
        if own[0] < own[1]:
            a = a.reshape(a.shape + (1,) * (own[1] - own[0]))
        if own[1] < own[0]:
            b = b.reshape(b.shape + (1,) * (own[0] - own[1]))
        return np.maximum(a, b) if name == "max" else np.minimum(a, b)
    raise EvaluationError(f"{name}(...) of an expression with a free index is not supported "
                          "by the evaluator: compute it outside the sum")

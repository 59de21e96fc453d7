"""The derivative rules of the index nodes, registered beside the operators' (ops/operators.py).

Indexed (a gather) and Build (a scatter) are each other's adjoints, and a sum over an index
passes its adjoint on unchanged (the body's adjoint is the same for every value of the
index): with the reverse sweep's rule that an adjoint is summed over the labels its node
does not carry (labels.sum_labels_not_in), that is the whole of reverse mode for index
notation: ``G : dX[:, i, :]`` summed over i is ``Build(G)[:, i, :] : dX``.
"""
from __future__ import annotations

from ..errors import EvaluationError
from ..ir import Build, Delta, IndexSum, Indexed
from ..ops.operators import operator
from .labels import free_indices, summable


def _slice_vjp(node: Indexed, G):
    own = free_indices(node.operand)
    labels = {e for e in node.pattern if e is not None}
    extra = {k: v for k, v in free_indices(G).items()
             if k not in labels and k not in own and summable(k)}
    if extra:
        G = IndexSum(G, tuple(extra), tuple(extra.values()))
    return (Build(G, node.pattern, node.operand.shape),)


def _no_jacobian(node, js):
    # non-scalar f of index notation goes through tensors/jacobian.py instead
    raise EvaluationError("internal: the vec-form Jacobian of index notation is taken by "
                          "reverse sweeps (tensors/jacobian.py)")


operator(Indexed, "G : dX[:, i, :] (summed over i) = Build(G) : dX",
         "d(X[:, i, :]) = dX[:, i, :]", _slice_vjp)(_no_jacobian)
operator(Build, "G : dB with B[:, i, :] = Yᵢ is Σᵢ G[:, i, :] : dYᵢ",
         "d(B)[:, i, :] = dYᵢ", lambda node, G: (Indexed(G, node.pattern),))(_no_jacobian)
operator(IndexSum, "G : d Σᵢ Yᵢ = Σᵢ G : dYᵢ", "d Σᵢ Yᵢ = Σᵢ dYᵢ",
         lambda node, G: (G,))(_no_jacobian)
operator(Delta, "δ is a constant", "dδ = 0", lambda node, G: ())(_no_jacobian)

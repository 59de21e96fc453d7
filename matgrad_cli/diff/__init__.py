"""Derivatives as expressions: reverse mode for gradients, vec-form forward mode for
Jacobians and Hessians. See reverse.py and jacobian.py for the rule tables."""
from __future__ import annotations

from dataclasses import dataclass

from .. import algebra as alg
from ..ops import lookup
from ..ir import Call, Div, Fill, Func, MatMul, MatPow, Node, Pow, T, walk
from ..language.shapes import _constant_value
from ..tensors import rules as _tensor_rules  # noqa: F401  (registers the index nodes' rules)
from .jacobian import jacobian as vec_jacobian
from ..tensors.jacobian import index_jacobian
from ..tensors.labels import uses_indices
from .reverse import dependents, gradients


@dataclass(frozen=True)
class Condition:
    """Where a derivative fails to exist: '{arg}' is filled in by the printer."""

    template: str
    argument: Node
    other: Node | None = None  # '{arg2}': the second operand (max(a, b): where a ≠ b)


def _norm_squared_as_frobenius(node: Node) -> Node:
    """‖u‖² → u : u, so the gradient reads 2u instead of 2‖u‖ u/‖u‖; and sum(A ⊗ B) →
    sum(A) sum(B), tr(A ⊗ B) → tr(A) tr(B), so it never holds the Kronecker product."""
    memo: dict[Node, Node] = {}

    def go(n: Node) -> Node:
        if n in memo:
            return memo[n]
        children = tuple(go(c) for c in n.children)
        unchanged = all(a is b for a, b in zip(children, n.children))
        new = n if unchanged else n.with_children(children)
        if (isinstance(new, Pow) and isinstance(new.base, Call) and new.base.name == "norm"
                and isinstance(new.exponent, alg.Num) and new.exponent.value == 2):
            u = new.base.args[0]
            new = alg.frob(u, u) if u.shape else alg.power(u, alg.num(2))
        new = alg.kron_reduced(new)  # sum/tr of a Kronecker product: no big intermediate
        memo[n] = new
        return new

    return go(node)


def prepare(f: Node) -> Node:
    """f in the form that is differentiated: ‖u‖² as u : u, and the identities that make f
    shorter (logdet(X⁻¹) = −logdet X, tr(A ⊗ B) = tr A tr B …) applied first."""
    from ..simplify.identities import rewrite_function

    return _norm_squared_as_frobenius(rewrite_function(f))


def derivative(f: Node, name: str, shape: tuple) -> Node:
    """∂f/∂X in the matrix form of SPEC §4: the gradient (shaped like X) for scalar f; the
    derivative shaped like f for scalar X; otherwise the vec-form Jacobian."""
    f = prepare(f)
    if f.shape == ():
        return gradients(f, {name: shape})[name]
    if uses_indices(f) or len(shape) > 2:  # index notation: one seeded reverse sweep
        return index_jacobian(f, name, shape)
    j = vec_jacobian(f, name, shape)
    if shape == ():
        return alg.unvec(j, f.shape)
    return j


def all_gradients(f: Node, variables: dict[str, tuple]) -> dict[str, Node]:
    return gradients(prepare(f), variables)


def jacobian(f: Node, name: str, shape: tuple, seed: Node | None = None) -> Node:
    """∂vec(f)/∂vec(X)ᵀ: the vec-form sweep (jacobian.py), or for index notation one seeded
    reverse sweep (tensors/jacobian.py; with a direction ``seed``, the vec-form sweep)."""
    if seed is None and (uses_indices(f) or len(shape) > 2):
        j = index_jacobian(f, name, shape)
        return j if shape else alg.vec(j)
    return vec_jacobian(f, name, shape, seed)


def hessian(f: Node, name: str, shape: tuple) -> Node:
    """len(vec X) × len(vec X): the Jacobian of the gradient (f scalar)."""
    from ..simplify import simplify

    g = simplify(derivative(f, name, shape))
    return jacobian(g, name, shape)


def hessian_vector_product(gradient: Node, name: str, shape: tuple, direction: Node) -> Node:
    """H·v shaped like X: the directional derivative of the gradient along v, one forward
    sweep seeded with vec(v) — the Hessian itself is never formed."""
    if uses_indices(gradient):
        # index notation has no vec-form forward sweep: H v = ∇(∇f : v), a reverse sweep
        # over the gradient (H is symmetric), still without H
        return gradients(prepare(alg.frob(gradient, direction) if shape else
                                 alg.scale(gradient, direction)), {name: shape})[name]
    vec_hv = jacobian(gradient, name, shape, seed=alg.vec(direction) if shape else direction)
    return alg.unvec(vec_hv, shape) if shape else vec_hv


_POSITIVE_FUNCTIONS = {"exp", "sigmoid", "softplus", "cosh"}
_NONNEGATIVE_FUNCTIONS = {"abs", "relu", "step", "sqrt"}


def _sign_known(node: Node, strict: bool) -> bool:
    """Provably > 0 (strict) or ≥ 0 in every entry, whatever the variables: 1 + exp(x),
    σ(x), softmax(z), x ⊙ x + 1 … — a condition on such an argument always holds."""
    from ..ir import Add, Div, Fill, Had, Num, Ones, Scale

    if isinstance(node, Fill):
        return _sign_known(node.value, strict)
    if isinstance(node, Num):
        return node.value > 0 or (not strict and node.value == 0)
    if isinstance(node, Ones):
        return True
    if isinstance(node, Func):
        if node.name in _POSITIVE_FUNCTIONS:
            return True
        return not strict and node.name in _NONNEGATIVE_FUNCTIONS
    if isinstance(node, Call) and node.name in ("softmax", "softmax_1", "softmax_2"):
        return True  # (along a dimension too)
    if isinstance(node, Call) and node.name == "diag" and isinstance(node.args[0], Call) \
            and node.args[0].name == "chol":
        return True  # the Cholesky factor's diagonal is positive (it is where chol exists)
    if isinstance(node, Call) and node.name in ("sum", "mean", "tr") and node.args[0].shape \
            and (node.name != "tr" or isinstance(node.args[0], Func)):
        # a sum of entries that are all > 0 (≥ 0): sum(exp(x)) > 0; tr of an entrywise f
        return _sign_known(node.args[0], strict)
    if isinstance(node, Add) and len(node.terms) == 2:  # 1 − σ(t) > 0
        one, other = node.terms
        if isinstance(one, (Ones, Fill, Num)) and _sign_known(one, True) and \
                isinstance(other, Scale) and isinstance(other.factor, Num) and \
                other.factor.value == -1 and isinstance(other.operand, Func) and \
                other.operand.name == "sigmoid" and (
                    not isinstance(one, (Fill, Num)) or
                    (one.value if isinstance(one, Num) else one.value.value) == 1):
            return True
    if isinstance(node, Add):  # all terms ≥ 0 and, for > 0, one of them > 0
        return all(_sign_known(t, False) for t in node.terms) and (
            not strict or any(_sign_known(t, True) for t in node.terms))
    if isinstance(node, (Had, Div)):
        return _sign_known(node.left, strict) and _sign_known(node.right, strict)
    if isinstance(node, Scale):
        return _sign_known(node.factor, strict) and _sign_known(node.operand, strict)
    if isinstance(node, Pow) and isinstance(node.exponent, alg.Num):
        e = node.exponent.value
        if e.denominator == 1 and e.numerator % 2 == 0:
            return not strict  # an even power is ≥ 0
        return _sign_known(node.base, strict)
    return False


def _always_holds(template: str, arg: Node) -> bool:
    if "det" in template and isinstance(arg, Call) and arg.name == "chol":
        return True  # a Cholesky factor has a positive diagonal: it is invertible
    if "> 0" in template or "no zero entries" in template or "≠ 0" in template:
        return "det" not in template and "cos" not in template and _sign_known(arg, True)
    if "> −1" in template:  # log1p(t) with t ≥ 0
        return _sign_known(arg, False)
    return False


def _nonzero(divisor: Node) -> tuple:
    """(template, argument) of "divisor has no zero entries", said of what the divisor is:
    1/‖u‖ needs u ≠ 0, det(X)⁻¹ det X ≠ 0 (the conditions of norm and det themselves)."""
    if isinstance(divisor, Fill):  # x / ‖x‖: the scalar broadcast
        divisor = divisor.value
    if isinstance(divisor, Call) and divisor.name in ("norm", "det"):
        return lookup(divisor.name).condition, divisor.args[0]
    if isinstance(divisor, MatMul) and isinstance(divisor.left, T) and \
            divisor.left.operand == divisor.right and len(divisor.right.shape) == 1:
        return lookup("norm").condition, divisor.right  # xᵀx ≠ 0 is x ≠ 0
    return "where {arg} has no zero entries", divisor


def conditions(f: Node, name: str) -> list[Condition]:
    """Where ∂f/∂X may not exist: kinks, log/sqrt domains, singular matrices, zero norms —
    only for the operations the derivative w.r.t. X differentiates through (an operation
    whose argument does not depend on X contributes only its value)."""
    # log(det X) is differentiated as logdet X (log|det X|); its own domain is det X > 0
    positive_det = [node.operand.args[0] for node in walk(f) if isinstance(node, Func)
                    and node.name == "log" and isinstance(node.operand, Call)
                    and node.operand.name == "det"]
    f = prepare(f)
    dep = dependents(f, {name})
    found: list[Condition] = [Condition("where det {arg} > 0", arg, None)
                              for arg in dict.fromkeys(positive_det) if arg in dep]

    def record(node, template, arg, other) -> None:
        if template and arg is not None and _always_holds(template, arg):
            return
        if template and arg is not None and (arg in dep or isinstance(node, Pow)):
            if arg.shape == () and (other is None or other.shape == ()):  # no entries
                template = template.replace(" entrywise", "").replace(
                    " has no zero entries", " ≠ 0")
            cond = Condition(template, arg, other)
            if template == "where det {arg} ≠ 0" and arg in positive_det:
                return  # det X > 0 says it
            if cond not in found:
                found.append(cond)

    for node in walk(f):
        template, arg, other = None, None, None
        if isinstance(node, Func):
            template, arg = lookup(node.name).condition, node.operand
        elif isinstance(node, Call):
            template, arg = lookup(node.name).condition, node.args[0]
            if template and "{arg2}" in template:
                other = node.args[1]
                if other in dep and arg not in dep:
                    arg, other = other, arg  # the side that depends on X first
        elif isinstance(node, Div) and node.right in dep:  # 1/(xᵀx), sum(1 ./ x)
            for factor in alg.scalar_factors(node.right):  # 1/(‖x‖ ‖y‖): x ≠ 0 and y ≠ 0
                if factor in dep:
                    record(node, *_nonzero(factor), None)
            continue
        elif isinstance(node, MatPow) and node.k < 0:
            template, arg = "where det {arg} ≠ 0", node.base
        elif isinstance(node, Pow) and not (
                (k := _constant_value(node.exponent)) is not None and k.denominator == 1
                and k >= 0):
            integer = k is not None and k.denominator == 1  # x.^−2: any sign will do
            template, arg = _nonzero(node.base) if integer else (
                "where {arg} > 0 entrywise", node.base)
            if node.exponent not in dep and node.base not in dep:
                template = None
        record(node, template, arg, other)
    return found

"""Reverse mode: the gradient of a scalar f, as an expression, by adjoint propagation.

Each rule reads the adjoint G of a node (same shape as the node: ``df = G : d(node)``)
and returns the adjoints of its children — the Frobenius-product rearrangement of the
textbooks (``G : A dB = AᵀG : dB``). One entry per node type or function; a missing rule
is an error that names the operation. All gradients of f come from one sweep, so their
cost is a small constant times the cost of f.
"""
from __future__ import annotations

from typing import Callable

from .. import algebra as alg
from ..functions import ENTRYWISE
from ..ir import (Add, Call, Div, Fill, Frob, Func, Had, MatMul, MatPow, Node, Pow, Reshape,
                  Scale, T, Var, walk)

# node type -> rule(node, G) -> adjoints of node.children (None where not needed)
VJP: dict[type, Callable] = {}
# structural function name -> rule(node, G) -> adjoints of node.args
CALL_VJP: dict[str, Callable] = {}
# Each rule's identity, shown by --steps.
IDENTITY: dict[str, str] = {}


def vjp(node_type, identity: str):
    def register(rule):
        VJP[node_type] = rule
        IDENTITY[node_type.__name__] = identity
        return rule
    return register


def call_vjp(name: str, identity: str):
    def register(rule):
        CALL_VJP[name] = rule
        IDENTITY[name] = identity
        return rule
    return register


# ---------------------------------------------------------------- operators

@vjp(Add, "G : (dA + dB) = G : dA + G : dB")
def _add(node: Add, G):
    return tuple(G for _ in node.terms)


@vjp(Scale, "G : d(c X) = (G : X) dc + c G : dX")
def _scale(node: Scale, G):
    c, x = node.factor, node.operand
    return alg.frob(G, x), alg.scale(c, G)


@vjp(MatMul, "G : d(A B) = G Bᵀ : dA + Aᵀ G : dB")
def _matmul(node: MatMul, G):
    a, b = node.left, node.right
    return alg.matmul(G, alg.transpose(b)), alg.matmul(alg.transpose(a), G)


@vjp(Had, "G : d(A ⊙ B) = G ⊙ B : dA + G ⊙ A : dB")
def _had(node: Had, G):
    return alg.had(G, node.right), alg.had(G, node.left)


@vjp(Div, "G : d(A ./ B) = G ./ B : dA − G ⊙ (A ./ B) ./ B : dB")
def _div(node: Div, G):
    b = node.right
    return alg.div(G, b), alg.neg(alg.div(alg.had(G, node), b))


@vjp(Pow, "G : d(A.^p) = p G ⊙ A.^(p−1) : dA + (G : A.^p ⊙ log A) dp")
def _pow(node: Pow, G):
    a, p = node.base, node.exponent
    da = alg.had(G, alg.scale(p, alg.power(a, alg.sub(p, alg.ONE))))
    dp = alg.frob(G, alg.had(node, alg.func("log", a))) if G.shape else \
        alg.scale(G, alg.scale(node, alg.func("log", a)))
    return da, dp


@vjp(MatPow, "G : d(Xᵏ) = Σᵢ (Xⁱ)ᵀ G (Xᵏ⁻¹⁻ⁱ)ᵀ : dX")
def _matpow(node: MatPow, G):
    x, k = node.base, node.k
    base = x if k > 0 else alg.call("inv", x)
    m = abs(k)
    terms = [alg.matmul(alg.matmul(alg.transpose(alg.matpow(base, i)), G),
                        alg.transpose(alg.matpow(base, m - 1 - i))) for i in range(m)]
    adjoint = alg.add(*terms)
    if k < 0:  # through Y = inv(X): G_Y : dY = −Yᵀ G_Y Yᵀ : dX
        yt = alg.transpose(base)
        adjoint = alg.neg(alg.matmul(alg.matmul(yt, adjoint), yt))
    return (adjoint,)


@vjp(T, "G : dXᵀ = Gᵀ : dX")
def _transpose(node: T, G):
    return (alg.transpose(G),)


@vjp(Func, "G : d f(X) = f′(X) ⊙ G : dX")
def _func(node: Func, G):
    derivative = ENTRYWISE[node.name].derivative(node.operand, node)
    return (alg.had(derivative, G),)


@vjp(Fill, "G : (dc 𝟏) = sum(G) dc")
def _fill(node: Fill, G):
    return (alg.call("sum", G),)


@vjp(Frob, "G d(A : B) = G B : dA + G A : dB")
def _frob(node: Frob, G):
    return alg.scale(G, node.right), alg.scale(G, node.left)


@vjp(Reshape, "G : d unvec(v) = vec(G) : dv")
def _reshape(node: Reshape, G):
    return (alg.vec(G),)


@vjp(Call, "")
def _call(node: Call, G):
    rule = CALL_VJP.get(node.name)
    if rule is None:
        raise NotImplementedError(f"no gradient rule for {node.name}")
    return rule(node, G)


# ---------------------------------------------------------------- structural functions

@call_vjp("sum", "G d sum(X) = G 𝟏 : dX")
def _sum(node, G):
    return (alg.fill(G, node.args[0].shape),)


@call_vjp("tr", "G d tr(X) = G I : dX")
def _tr(node, G):
    x = node.args[0]
    return (alg.scale(G, alg.eye(x.shape[0])) if x.shape else G,)


@call_vjp("det", "G d det(X) = G det(X) X⁻ᵀ : dX")
def _det(node, G):
    x = node.args[0]
    return (alg.scale(alg.scale(G, node), alg.transpose(alg.call("inv", x))),)


@call_vjp("logdet", "G d log|det X| = G X⁻ᵀ : dX")
def _logdet(node, G):
    return (alg.scale(G, alg.transpose(alg.call("inv", node.args[0]))),)


@call_vjp("inv", "G : d X⁻¹ = −X⁻ᵀ G X⁻ᵀ : dX")
def _inv(node, G):
    yt = alg.transpose(node)
    return (alg.neg(alg.matmul(alg.matmul(yt, G), yt)),)


@call_vjp("diag", "g : d diag(X) = Diag(g) : dX")
def _diag(node, G):
    return (alg.diag_matrix(G),)


@call_vjp("Diag", "G : d Diag(x) = diag(G) : dx")
def _Diag(node, G):
    return (alg.call("diag", G) if G.shape else G,)


@call_vjp("vec", "g : d vec(X) = unvec(g) : dX")
def _vec(node, G):
    return (alg.unvec(G, node.args[0].shape),)


@call_vjp("kron", "G : d(A ⊗ B) = unvec(P_Aᵀ vec G) : dA + unvec(P_Bᵀ vec G) : dB")
def _kron(node, G):
    from .jacobian import kron_partials

    a, b = node.args
    pa, pb = kron_partials(a, b)
    g = alg.vec(G)
    return (alg.unvec(alg.matmul(alg.transpose(pa), g), a.shape),
            alg.unvec(alg.matmul(alg.transpose(pb), g), b.shape))


@call_vjp("softmax", "g : d softmax(x) = (s ⊙ g − (sᵀg) s) : dx, s = softmax(x)")
def _softmax(node, G):
    s = node
    return (alg.sub(alg.had(s, G), alg.scale(alg.matmul(alg.transpose(s), G), s)),)


@call_vjp("logsumexp", "G d logsumexp(x) = G softmax(x) : dx")
def _logsumexp(node, G):
    return (alg.scale(G, alg.call("softmax", node.args[0])),)


@call_vjp("norm", "G d‖X‖ = G X / ‖X‖ : dX")
def _norm(node, G):
    return (alg.scale(alg.div(G, node), node.args[0]),)


@call_vjp("norm1", "G d‖X‖₁ = G sign(X) : dX")
def _norm1(node, G):
    return (alg.scale(G, alg.func("sign", node.args[0])),)


# ---------------------------------------------------------------- the sweep

def dependents(expr: Node, names: set[str]) -> set[Node]:
    """The nodes of expr whose value depends on one of the named variables."""
    dep: set[Node] = set()
    for node in walk(expr):
        if (isinstance(node, Var) and node.name in names) or any(c in dep for c in node.children):
            dep.add(node)
    return dep


def _frontier(adjoints: dict, done: dict, just_done: Var | None) -> list:
    pending = [(v, alg.add(*[g for _, g, _ in sorted(items, key=lambda i: i[0])]))
               for v, items in adjoints.items()]
    if just_done is not None:
        pending.append((just_done, done[just_done.name]))
    return pending


def gradients(f: Node, variables: dict[str, tuple], trace: list | None = None) -> dict[str, Node]:
    """∂f/∂X for every named variable (f scalar), shaped like X.

    ``trace`` (optional) receives, after each node is processed, (node, its adjoint, the
    rules that contributed to it, the frontier): the frontier is the list of (v, G_v)
    still pending, so that at every point df = Σ G_v : dv over the frontier — the lines
    --steps shows.
    """
    if f.shape != ():
        raise ValueError("gradients() needs a scalar f")
    names = set(variables)
    dep = dependents(f, names)
    order = walk(f)
    position = {node: i for i, node in enumerate(order)}
    # adjoint contributions, tagged with the contributing parent's position so that a sum
    # of them reads in the order of f's own terms (left subtree first)
    adjoints: dict[Node, list[tuple[int, Node, str]]] = {f: [(0, alg.ONE, "")]}
    result: dict[str, Node] = {}
    for node in reversed(order):
        if node not in adjoints or node not in dep:
            continue
        contributions = sorted(adjoints.pop(node), key=lambda item: item[0])
        G = alg.add(*[g for _, g, _ in contributions])
        rules = tuple(dict.fromkeys(r for _, _, r in contributions if r))
        if isinstance(node, Var):
            result[node.name] = G
            if trace is not None:
                trace.append((node, G, rules, _frontier(adjoints, result, node)))
            continue
        rule = VJP.get(type(node))
        if rule is None:
            raise NotImplementedError(f"no gradient rule for {type(node).__name__}")
        rule_name = node.name if isinstance(node, Call) else type(node).__name__
        for child, adjoint in zip(node.children, rule(node, G)):
            if child in dep and adjoint is not None:
                adjoints.setdefault(child, []).append((position[node], adjoint, rule_name))
        if trace is not None:
            trace.append((node, G, rules, _frontier(adjoints, result, None)))
    for name, shape in variables.items():
        if name not in result:
            result[name] = alg.zeros(shape)
    return result

"""``derive --steps``: the derivation as a good answer writes it, produced by the engine.

1. the named intermediate quantities (s = σ(x), y = A s, …);
2. the differential of each, from the vec-Jacobian rule table applied to placeholder
   differentials of its operands (vec(ds) for ds), brought back to matrix form by the
   simplifier (``(Bᵀ ⊗ A) vec(dX)`` → ``A dX B``);
3. the chain from df back to dX: the reverse sweep's own adjoints, one line
   ``df = G : du`` per intermediate, labelled with the Frobenius identity of the rule that
   produced it; it ends in ``df = G : dX`` and the formula ``derive`` prints.

Every step is kept as data (Step) so tests can check each one numerically.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import algebra as alg
from .api import Derivation
from ..diff import prepare
from ..diff.reverse import dependents, gradients
from ..ops import differential, identity, operator_of, rule_key
from ..ir import Call, Func, Node, Scale, T, Var, size_of, walk
from ..printers import to_latex, to_text
from ..simplify import simplify
from ..tensors.labels import uses_indices
from ..tensors.steps import index_steps


_FUNCTION_LETTERS = {"sigmoid": "s", "relu": "r", "tanh": "t", "exp": "e", "softmax": "p",
                     "log": "l", "softplus": "q", "abs": "a", "sin": "v", "cos": "w"}
_POOL = ["u", "v", "w", "y", "z", "q", "h", "g", "k"]


@dataclass(frozen=True)
class Step:
    kind: str  # "define" | "differential" | "chain" | "result"
    lhs: str  # "s", "ds", "df", "∂f/∂x"
    rhs: Node  # in terms of named intermediates and placeholder differentials (Var "d…")
    rule: str  # the identity used
    subject: Node | None = None  # the intermediate (define, differential) or None
    adjoint: Node | None = None  # result: the sweep's own (unnamed) gradient
    terms: tuple = ()  # chain steps: ((v, G_v), ...) with df = Σ G_v : dv


class _Namer:
    def __init__(self, taken: set[str], preferred: dict[Node, str]):
        self.taken = set(taken)
        self.names: dict[Node, str] = {}
        self.preferred = preferred
        self.counter = 0

    def name(self, node: Node) -> str:
        if node in self.names:
            return self.names[node]
        candidate = self.preferred.get(node)
        if candidate is None and isinstance(node, Func):
            candidate = _FUNCTION_LETTERS.get(node.name)
        if candidate is None or candidate in self.taken:
            candidate = next((p for p in _POOL if p not in self.taken), None)
        while candidate is None or candidate in self.taken:
            self.counter += 1
            candidate = f"u{self.counter}"
        self.taken.add(candidate)
        self.taken.add("d" + candidate)
        self.names[node] = candidate
        return candidate


def _worth_naming(node: Node) -> bool:
    """Intermediates get names; a scaling by a number or a transpose of a named thing is
    read inline."""
    if isinstance(node, Var) or not node.children:
        return False
    if isinstance(node, T):
        return False
    if isinstance(node, Scale) and isinstance(node.factor, alg.Num):
        return False
    return True


def _placeholder(name: str, shape) -> Var:
    return Var("d" + name, tuple(shape))


def _one_level_differential(node: Node, child_differentials: list[Node]) -> Node:
    """d(node) from its operands' differentials, by the node's Jacobian rule."""
    seeds = [alg.vec(d) if d is not None else alg.zeros((size_of(c.shape),) if c.shape else ())
             for c, d in zip(node.children, child_differentials)]
    vec_d = operator_of(node).jacobian(node, seeds)
    return simplify(alg.unvec(vec_d, node.shape) if len(node.shape) == 2 else vec_d)


def build_steps(derivation: Derivation, name: str) -> list[Step]:
    program = derivation.program
    f = prepare(program.expr)
    x_shape = program.variables[name]
    dep = dependents(f, {name})
    preferred = {node: n for n, node in program.definitions.items()}
    dims = {str(d) for shape in program.variables.values() for d in shape if isinstance(d, str)}
    taken = set(program.variables) | {v.lower() for v in program.variables} | dims | {
        "f", "d", "I"} | {"d" + v for v in program.variables}
    namer = _Namer(taken, preferred)
    intermediates = [n for n in walk(f) if n in dep and _worth_naming(n) and n is not f]
    names: dict[Node, str] = {}
    for node in intermediates:
        names[node] = namer.name(node)
    names_with_f = dict(names)
    steps: list[Step] = []
    for node in intermediates + [f]:
        own = {k: v for k, v in names.items() if k != node}
        steps.append(Step("define", names.get(node, "f"), _renamed(node, own), "", node))
    # differentials: d(node) from operands' placeholders
    differential_of: dict[Node, Node] = {}
    for node in walk(f):
        if node not in dep:
            continue
        if isinstance(node, Var):
            differential_of[node] = _placeholder(node.name, node.shape)
            continue
        childs = [differential_of.get(c) if c in dep else None for c in node.children]
        d = _one_level_differential(node, childs)
        if node in names or node is f:
            label = names_with_f.get(node, "f")
            # the node's own value may appear (ds = s ⊙ (1 − s) ⊙ dx): it is defined by now
            steps.append(Step("differential", "d" + label, _renamed(d, names),
                              differential(rule_key(node)), node))
            differential_of[node] = _placeholder(label, node.shape)
        else:
            differential_of[node] = d
    if f.shape == ():
        trace: list = []
        grads = gradients(f, {name: x_shape}, trace=trace)
        shown: list = []
        pending_rules: list[str] = []
        for node, _, _, frontier in trace:
            # the rule that rewrote this node's term is the node's own (its VJP)
            pending_rules.append(rule_key(node))
            labels = [_frontier_label(v, names, name) for v, _ in frontier]
            if not frontier or any(label is None for label in labels):
                continue  # a line only when every pending term has a name
            key = tuple(v for v, _ in frontier)
            if key == tuple(shown):
                continue
            shown = list(key)
            terms = tuple((v, simplify(g)) for v, g in frontier)
            identities = "; ".join(dict.fromkeys(identity(r) for r in pending_rules
                                                 if identity(r)))
            pending_rules = []
            display = alg.add(*[_frobenius_display(g, label, names)
                                for (v, g), label in zip(terms, labels)])
            steps.append(Step("chain", "df", display, identities, None, None, terms))
        result = derivation.derivatives[name]
        rule = "df = G : dX ⇒ ∂f/∂X = G"
        if derivation.symmetric(name):  # G : dS = sym(G) : dS for every symmetric dS
            rule = f"d{name} symmetric: G : d{name} = sym(G) : d{name} ⇒ ∂f/∂{name} = sym(G)"
        steps.append(Step("result", f"∂f/∂{name}", _renamed(result, names), rule, None,
                          simplify(grads[name])))
    else:
        result = derivation.derivatives[name]
        steps.append(Step("result", "J", _renamed(result, names),
                          "vec(A dX B) = (Bᵀ ⊗ A) vec(dX) ⇒ ∂vec(f)/∂vec(X)ᵀ", None, None))
    return steps


def _frontier_label(v: Node, names: dict, wrt: str) -> str | None:
    if v in names:
        return names[v]
    if isinstance(v, Var) and v.name == wrt:
        return wrt
    return None


def _renamed(node: Node, names: dict[Node, str]) -> Node:
    """node with its named sub-trees replaced by variables of those names (for printing)."""
    memo: dict[Node, Node] = {}

    def go(n: Node) -> Node:
        if n in names:
            return Var(names[n], n.shape)
        if n in memo:
            return memo[n]
        new = n.with_children(tuple(go(c) for c in n.children)) if n.children else n
        memo[n] = new
        return new

    return go(node)


def _frobenius_display(g: Node, label: str, names: dict) -> Node:
    """G : du as a node, for printing (a scalar G reads G du)."""
    du = Var("d" + label, g.shape)
    return alg.frob(_renamed(g, names), du) if g.shape else alg.scale(_renamed(g, names), du)


def derivation_steps(derivation: Derivation, latex: bool = False) -> list[str]:
    """The steps of every --wrt, as printed lines."""
    printer = to_latex if latex else to_text
    lines: list[str] = []
    for name in derivation.wrt:
        if uses_indices(derivation.program.expr):  # index notation: tensors/steps.py
            lines += index_steps(derivation, name, latex)
            continue
        steps = build_steps(derivation, name)
        lines.append(f"Derivation for {name}:" if not latex else rf"\text{{Derivation for }} {name}:")
        sections = {"define": "intermediates", "differential": "differentials",
                    "chain": f"chain back to d{name} (df = Σ G : dv over what is left)",
                    "result": "result"}
        current = None
        for step in steps:
            if step.kind != current:
                current = step.kind
                lines.append(f"  {sections[current]}:" if not latex else
                             rf"\text{{{sections[current]}:}}")
            rhs = printer(step.rhs)
            rule = f"    [{step.rule}]" if step.rule and not latex else (
                rf" \quad \text{{[{step.rule}]}}" if step.rule else "")
            lhs = step.lhs
            if step.kind == "result" and derivation.order == 1:
                lhs = "⇒ " + _result_label(derivation, name)
            if latex:
                lines.append(f"{lhs} = {rhs}{rule}".replace("∂", r"\partial ").replace("⇒",
                                                                                     r"\Rightarrow"))
            else:
                lines.append(f"    {lhs} = {rhs}{rule}")
        if derivation.order == 2:
            dg = printer(hessian_differential(derivation, name))
            if latex:
                lines += [r"\text{second derivative: the differential of } g = \partial f"
                          rf"/\partial {name}:", rf"dg = {dg}",
                          r"\text{and } \operatorname{vec}(dg) = H\,"
                          rf"\operatorname{{vec}}(d{name})"]
            else:
                lines += [f"  second derivative: the differential of g = ∂f/∂{name}",
                          f"    dg = {dg}    [the same differential rules, applied to g]",
                          f"    vec(dg) = H vec(d{name})    [read H off]"]
    return lines


def _result_label(derivation: Derivation, name: str) -> str:
    from .render import derivative_label

    return derivative_label(derivation, name)


def hessian_differential(derivation: Derivation, name: str) -> Node:
    """d(∂f/∂X) in terms of dX (for the Hessian's steps and their tests)."""
    from ..diff.jacobian import jacobian

    shape = derivation.program.variables[name]
    dx = _placeholder(name, shape)
    g = derivation.derivatives[name]
    vec_dg = jacobian(g, name, shape, seed=alg.vec(dx))
    return simplify(alg.unvec(vec_dg, g.shape) if len(g.shape) == 2 else vec_dg)


__all__ = ["Step", "build_steps", "derivation_steps", "hessian_differential"]

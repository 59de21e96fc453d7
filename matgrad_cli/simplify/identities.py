"""Textbook identities, each a rule named after what it applies, for the long tail of
printed derivatives (softmax sums, the logistic function, signs, determinants of
inverses, Kronecker traces). Like rules.py: a rule takes a node whose children are
simplified and returns a new node or None.

``rewrite_function`` applies the identities that change f itself before it is
differentiated (logdet(X⁻¹) = −logdet X, tr(A ⊗ B) = tr A tr B …), so the derivative is
taken of the shorter form.
"""
from __future__ import annotations

from fractions import Fraction
from math import gcd

from .. import algebra as alg
from ..ir import Add, Call, Fill, Func, MatMul, Node, Num, Ones, Scale, T
from .rules import transposed


def _is_call(node: Node, name: str) -> bool:
    return isinstance(node, Call) and node.name == name


def _is_one(node: Node) -> bool:
    return (isinstance(node, Num) and node.value == 1) or isinstance(node, Ones) or (
        isinstance(node, Fill) and isinstance(node.value, Num) and node.value.value == 1)


# ---------------------------------------------------------------- signs and factors

def _fraction_gcd(values: list[Fraction]) -> Fraction:
    numerator = 0
    denominator = 1
    for v in values:
        numerator = gcd(numerator, v.numerator)
        denominator = denominator * v.denominator // gcd(denominator, v.denominator)
    return Fraction(numerator, denominator)


def common_numeric_factor(node: Node):
    """2 a − 2 b = 2 (a − b);  −a − b = −(a + b) (the factor a textbook writes outside)"""
    if not isinstance(node, Add) or len(node.terms) < 2:
        return None
    split = [alg.split_coefficient(t) for t in node.terms]
    if any(rest is None for _, rest in split):
        return None
    coefficients = [Fraction(c) for c, _ in split]
    factor = _fraction_gcd(coefficients)
    if all(c < 0 for c in coefficients):
        factor = -factor
    if factor in (0, 1):
        return None
    # only where the sum gets simpler: equal magnitudes (½ a + ½ b), or a whole factor
    # (2 a − 4 b); ½ a + b stays as it is rather than become ½ (a + 2 b)
    if not (all(abs(c) == abs(factor) for c in coefficients) or
            abs(factor).denominator == 1):
        return None
    inner = alg.add(*[alg.scale(Num(c / factor), rest) for c, rest in split])
    return alg.scale(Num(factor), inner)


def _mixed_sum(node: Node) -> bool:
    if not isinstance(node, Add):
        return False
    signs = {alg.split_coefficient(t)[0] < 0 for t in node.terms}
    return signs == {True, False}


def _negated(node: Node) -> Node:
    return alg.add(*[alg.scale(Num(-1), t) for t in node.terms])


def negation_into_difference(node: Node):
    """−(a − b) M = (b − a) M;  −M (a − b) = M (b − a) (no sign in front of a difference)"""
    if not (isinstance(node, Scale) and isinstance(node.factor, Num) and node.factor.value < 0):
        return None
    factor, inner = -node.factor.value, node.operand
    if _mixed_sum(inner):
        return alg.scale(Num(factor), _negated(inner))
    if isinstance(inner, MatMul):
        if inner.right == transposed(inner.left):
            return None  # u uᵀ stays whole: −(x − m)(x − m)ᵀ, not (m − x)(x − m)ᵀ
        if _mixed_sum(inner.left):
            return alg.scale(Num(factor), alg.matmul(_negated(inner.left), inner.right))
        if _mixed_sum(inner.right):
            return alg.scale(Num(factor), alg.matmul(inner.left, _negated(inner.right)))
    return None


# ---------------------------------------------------------------- the logistic function

def _exp_argument(node: Node) -> Node | None:
    return node.operand if isinstance(node, Func) and node.name == "exp" else None


def _one_plus(node: Node) -> Node | None:
    """t when node is 1 + t (the 1 a scalar or a filled array)."""
    if isinstance(node, Add) and len(node.terms) == 2:
        a, b = node.terms
        if _is_one(a):
            return b
        if _is_one(b):
            return a
    return None


def logistic_from_exponentials(node: Node):
    """exp(t) ./ (1 + exp(t)) = σ(t);  1 ./ (1 + exp(−t)) = σ(t)"""
    from ..ir import Div

    if not isinstance(node, Div):
        return None
    rest = _one_plus(node.right)
    if rest is None or _exp_argument(rest) is None:
        return None
    t = _exp_argument(rest)
    if node.left == rest:
        return alg.func("sigmoid", t)
    if _is_one(node.left):
        return alg.func("sigmoid", alg.scale(Num(-1), t))
    return None


def logistic_times_exponential(node: Node):
    """exp(t) ⊙ σ(−t) = σ(t) (softplus′ = σ, reached through 1 ./ (1 + exp(t)))"""
    from ..ir import Had

    if not isinstance(node, Had):
        return None
    for a, b in ((node.left, node.right), (node.right, node.left)):
        t = _exp_argument(a)
        if t is not None and isinstance(b, Func) and b.name == "sigmoid" and \
                b.operand == alg.scale(Num(-1), t):
            return alg.func("sigmoid", t)
    return None


def division_by_number(node: Node):
    """a / c = (1/c) a for a number c (so −2 (e / 2) is −e)"""
    from ..ir import Div

    if isinstance(node, Div) and isinstance(node.right, Num) and node.right.value != 0 \
            and not isinstance(node.left, Num):
        return alg.scale(Num(1 / node.right.value), node.left)
    return None


# ---------------------------------------------------------------- entrywise polynomials

def _had_factors(node: Node) -> list[Node]:
    from ..ir import Had

    if isinstance(node, Had):
        return _had_factors(node.left) + _had_factors(node.right)
    return [node]


def _had_of(factors: list[Node], shape) -> Node:
    out = alg.ones(shape)
    for f in factors:
        out = alg.had(out, f)
    return out


def hadamard_cancels_quotients(node: Node):
    """a ⊙ c ⊙ (b ./ c − d ./ a) = a ⊙ b − c ⊙ d (each quotient meets its denominator:
    the derivative of a log-likelihood, s ⊙ (1 − s) ⊙ (y ./ s − (1 − y) ./ (1 − s)))"""
    from ..ir import Div, Had

    if not isinstance(node, Had):
        return None
    factors = _had_factors(node)
    for i, candidate in enumerate(factors):
        if not isinstance(candidate, Add):
            continue
        others = factors[:i] + factors[i + 1:]
        terms = []
        for term in candidate.terms:
            coef, rest = alg.split_coefficient(term)
            if not isinstance(rest, Div) or rest.right not in others:
                break
            kept = list(others)
            kept.remove(rest.right)
            terms.append(alg.scale(Num(coef), alg.had(_had_of(kept, node.shape), rest.left)))
        else:
            return alg.add(*terms)
    return None


_MAX_MONOMIALS = 16


def _monomials(node: Node) -> list[tuple[Fraction, tuple]] | None:
    """node as a sum of c·(entrywise product of factors); None when it grows too big."""
    from ..ir import Had

    if isinstance(node, Ones):
        return [(Fraction(1), ())]
    if isinstance(node, Fill) and isinstance(node.value, Num):
        return [(Fraction(node.value.value), ())]
    if isinstance(node, Scale) and isinstance(node.factor, Num):
        inner = _monomials(node.operand)
        return None if inner is None else [(node.factor.value * c, f) for c, f in inner]
    if isinstance(node, Add):
        out = []
        for t in node.terms:
            part = _monomials(t)
            if part is None:
                return None
            out += part
        return out if len(out) <= _MAX_MONOMIALS else None
    if isinstance(node, Had):
        left, right = _monomials(node.left), _monomials(node.right)
        if left is None or right is None or len(left) * len(right) > _MAX_MONOMIALS:
            return None
        return [(a * b, tuple(sorted(fa + fb, key=repr))) for a, fa in left for b, fb in right]
    return [(Fraction(1), (node,))]


def _size(node: Node) -> int:
    from ..ir import walk

    return sum(1 for _ in walk(node))


def expand_entrywise_if_shorter(node: Node):
    """(1 − s) ⊙ y − s ⊙ (1 − y) = y − s: multiply out entrywise products of sums and
    collect, kept only when the result is shorter"""
    from ..ir import Had

    if not isinstance(node, Add) or node.shape == () or not any(
            isinstance(f, Add) for t in node.terms
            for f in _had_factors(alg.split_coefficient(t)[1] or t)
            if isinstance(alg.split_coefficient(t)[1], Had)):
        return None
    monomials = _monomials(node)
    if monomials is None:
        return None
    collected: dict[tuple, Fraction] = {}
    for c, factors in monomials:
        collected[factors] = collected.get(factors, Fraction(0)) + c
    terms = []
    for factors, c in collected.items():
        if c == 0:
            continue
        base = _had_of(list(factors), node.shape)
        terms.append(alg.scale(Num(c), base))
    expanded = alg.add(*terms) if terms else alg.zeros(node.shape)
    return expanded if _size(expanded) < _size(node) else None


# ---------------------------------------------------------------- normalised functions

def softmax_sums_to_one(node: Node):
    """sum(softmax(z)) = 1;  𝟏ᵀ softmax(z) = softmax(z)ᵀ 𝟏 = 1"""
    if _is_call(node, "sum") and _is_call(node.args[0], "softmax") and \
            len(node.args) == 1 and len(node.args[0].args) == 1:
        return alg.ONE
    if isinstance(node, MatMul) and node.shape == ():
        left, right = node.left, node.right
        for row, column in ((left, right), (right, left)):
            if isinstance(row, T) and _is_call(row.operand, "softmax") and \
                    len(row.operand.args) == 1 and isinstance(column, Ones):
                return alg.ONE
            if isinstance(row, T) and isinstance(row.operand, Ones) and \
                    _is_call(column, "softmax") and len(column.args) == 1:
                return alg.ONE
    return None


def sum_of_ones(node: Node):
    """sum(𝟏) = the number of entries, where the sizes are numbers"""
    if _is_call(node, "sum") and len(node.args) == 1 and isinstance(node.args[0], Ones):
        sizes = node.args[0].shape
        if all(isinstance(d, int) for d in sizes):
            count = 1
            for d in sizes:
                count *= d
            return Num(Fraction(count))
    return None


IDENTITIES = [
    common_numeric_factor,
    negation_into_difference,
    logistic_from_exponentials,
    logistic_times_exponential,
    division_by_number,
    hadamard_cancels_quotients,
    expand_entrywise_if_shorter,
    softmax_sums_to_one,
    sum_of_ones,
]


# ---------------------------------------------------------------- f before differentiation

def _function_identity(node: Node) -> Node | None:
    """logdet(X⁻¹) = −logdet X;  log(det X) = logdet X;  det(X⁻¹) = 1/det X;
    tr(A ⊗ B) = tr A tr B;  sum(A ⊗ B) = sum A sum B"""
    from ..ir import Div

    if isinstance(node, Func) and node.name == "log":
        if _is_call(node.operand, "det"):
            return alg.call("logdet", node.operand.args[0])
        if isinstance(node.operand, Div) and _is_one(node.operand.left):  # log(1/t) = −log t
            inner = node.operand.right
            log = alg.call("logdet", inner.args[0]) if _is_call(inner, "det") \
                else alg.func("log", inner)
            return alg.scale(Num(-1), log)
    if _is_call(node, "logdet") and _is_call(node.args[0], "inv"):
        return alg.scale(Num(-1), alg.call("logdet", node.args[0].args[0]))
    if _is_call(node, "det") and _is_call(node.args[0], "inv"):
        return alg.div(alg.ONE, alg.call("det", node.args[0].args[0]))
    for name in ("tr", "sum"):
        if _is_call(node, name) and len(node.args) == 1 and _is_call(node.args[0], "kron"):
            a, b = node.args[0].args
            if name == "tr" and not all(len(m.shape) == 2 and m.shape[0] == m.shape[1]
                                        for m in (a, b)):
                continue
            return alg.scale(alg.call(name, a), alg.call(name, b))
    return None


def rewrite_function(f: Node) -> Node:
    """f with the identities above applied bottom-up (iteratively: deep inputs)."""
    from ..ir import walk

    memo: dict[Node, Node] = {}
    for node in walk(f):
        if node in memo:
            continue
        new = node.with_children(tuple(memo[c] for c in node.children)) \
            if node.children else node
        for _ in range(8):  # each identity shortens f, so a few rounds reach the end
            changed = _function_identity(new)
            if changed is None:
                break
            new = changed
        memo[node] = new
    return memo[f]

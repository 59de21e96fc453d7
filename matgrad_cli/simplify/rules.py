"""The rewrite rules, each named after the identity it applies (SymPy strategies style).

A rule takes a node whose children are already simplified and returns a new node, or
None when it does not apply. The driver (driver.py) runs them to a fixed point.
"""
from __future__ import annotations

import functools
import math

from fractions import Fraction

from .. import algebra as alg
from ..ir import (Add, Call, Commutation, Div, Eye, Fill, Frob, Func, Had, MatMul, MatPow,
                  Node, Num, Ones, Pow, Scale, T)


def _is_call(node: Node, name: str) -> bool:
    return isinstance(node, Call) and node.name == name


def _vec_operand(node: Node) -> Node | None:
    """D when node is vec(D) (a vector counts as its own vec)."""
    if _is_call(node, "vec"):
        return node.args[0]
    return None


# ---------------------------------------------------------------- transposes to the leaves

def transpose_of_product(node: Node):
    """(A B)ᵀ = Bᵀ Aᵀ"""
    if isinstance(node, T) and isinstance(node.operand, MatMul):
        inner = node.operand
        return alg.matmul(alg.transpose(inner.right), alg.transpose(inner.left))
    return None


def transpose_of_sum(node: Node):
    """(A + B)ᵀ = Aᵀ + Bᵀ"""
    if isinstance(node, T) and isinstance(node.operand, Add):
        return alg.add(*[alg.transpose(t) for t in node.operand.terms])
    return None


def transposed(node: Node) -> Node:
    """Nᵀ with the transpose pushed through products, sums and symmetric constants."""
    if isinstance(node, MatMul):
        return alg.matmul(transposed(node.right), transposed(node.left))
    if isinstance(node, Add):
        return alg.add(*[transposed(t) for t in node.terms])
    if isinstance(node, Scale):
        return alg.scale(node.factor, transposed(node.operand))
    if isinstance(node, (Func, Had, Div, Pow)) and is_symmetric(node):
        return node
    if _is_call(node, "Diag") or _is_symmetric_function(node):
        return node
    return alg.transpose(node)


def is_symmetric(node: Node) -> bool:
    """Structurally symmetric: Aᵀ A, A + Aᵀ, I, Diag(v), f(S) for symmetric S …"""
    if len(node.shape) != 2 or node.shape[0] != node.shape[1]:
        return False
    if isinstance(node, Func):
        return is_symmetric(node.operand)
    if isinstance(node, (Had, Div)):
        return is_symmetric(node.left) and is_symmetric(node.right)
    if isinstance(node, Pow):
        return is_symmetric(node.base)
    if isinstance(node, (Eye, Ones)) or _is_call(node, "Diag"):
        return True
    if _is_symmetric_function(node):
        return True
    if transposed(node) == node:
        return True
    return _mirrored_sum(node) or _mirrored_chain(node)


def _mirrored_sum(node: Node) -> bool:
    """A + Aᵀ (its terms are closed under transposition, in any order)."""
    if not isinstance(node, Add) or len(node.terms) > 8:
        return False
    from collections import Counter

    return Counter(node.terms) == Counter(transposed(t) for t in node.terms)


def _mirrored_chain(node: Node) -> bool:
    """Bᵀ A B with A symmetric (L⁻ᵀ (Φ + Φᵀ) L⁻¹ of the Cholesky gradient)."""
    while isinstance(node, Scale):
        node = node.operand
    if not isinstance(node, MatMul):
        return False
    factors = _chain(node)
    k = len(factors)
    if any(transposed(factors[i]) != factors[k - 1 - i] for i in range(k // 2)):
        return False
    return k % 2 == 0 or is_symmetric(factors[k // 2])


def _is_symmetric_function(node: Node) -> bool:
    """inv(S), pinv(S), expm(S), S^k of a symmetric S (a declared symmetric variable
    included)."""
    if any(_is_call(node, name) for name in ("inv", "pinv", "expm")) and \
            is_symmetric(node.args[0]):
        return True
    return isinstance(node, MatPow) and is_symmetric(node.base)


def transpose_of_symmetric_function(node: Node):
    """S⁻ᵀ = S⁻¹, (Sᵏ)ᵀ = Sᵏ for symmetric S (with S declared symmetric: ∂ logdet S = S⁻¹)"""
    if isinstance(node, T) and _is_symmetric_function(node.operand):
        return node.operand
    return None


def _chain(node: Node) -> list[Node]:
    """The factors of a matrix product, left to right."""
    if isinstance(node, MatMul):
        return _chain(node.left) + _chain(node.right)
    return [node]


def _product(factors: list[Node]) -> Node:
    out = factors[0]
    for f in factors[1:]:
        out = alg.matmul(out, f)
    return out


def factor_inverse_sandwich(node: Node):
    """c A⁻¹ + d A⁻¹ M A⁻¹ = c A⁻¹ (A + (d/c) M) A⁻¹ for symmetric A (the textbook's
    ½ Σ⁻¹ (Σ − r rᵀ) Σ⁻¹ for a Gaussian's negative log-likelihood)"""
    if not isinstance(node, Add):
        return None
    split = [alg.split_coefficient(t) for t in node.terms]
    for i, (c, rest) in enumerate(split):
        if not (_is_call(rest, "inv") and is_symmetric(rest.args[0])):
            continue
        inner, used = [], {i}
        for j, (d, other) in enumerate(split):
            factors = _chain(other) if other is not None else []
            if j != i and len(factors) >= 3 and factors[0] == rest and factors[-1] == rest:
                inner.append(alg.scale(Num(d / c), _product(factors[1:-1])))
                used.add(j)
        if not inner:
            continue
        # the textbook pulls out the data term's coefficient: ½ Σ⁻¹ (N Σ − R Rᵀ) Σ⁻¹
        d = abs(alg.split_coefficient(inner[0])[0]) * abs(c)
        middle = alg.add(alg.scale(Num(c / d), rest.args[0]),
                         *[alg.scale(Num(c / d), t) for t in inner])
        sandwich = alg.scale(Num(d), alg.matmul(alg.matmul(rest, middle), rest))
        others = [t for j, t in enumerate(node.terms) if j not in used]
        return alg.add(sandwich, *others)
    return None


def transpose_of_symmetric_entrywise(node: Node):
    """f(S)ᵀ = f(S), (S ⊙ R)ᵀ = S ⊙ R for symmetric S, R (e.g. sign(PᵀP − I)ᵀ)"""
    if isinstance(node, T) and isinstance(node.operand, (Func, Had, Div, Pow)) \
            and is_symmetric(node.operand):
        return node.operand
    return None


def transpose_of_symmetric(node: Node):
    """Diag(v)ᵀ = Diag(v), (A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ, K_{m,n}ᵀ = K_{n,m}, (Aᵀ)⁻ᵀ… = inv(A)ᵀ kept"""
    if not isinstance(node, T):
        return None
    inner = node.operand
    if _is_call(inner, "Diag"):
        return inner
    if _is_call(inner, "kron"):
        return alg.kron(alg.transpose(inner.args[0]), alg.transpose(inner.args[1]))
    if isinstance(inner, Commutation):
        return Commutation(inner.n, inner.m)
    if _is_call(inner, "inv") and isinstance(inner.args[0], T):
        return alg.call("inv", inner.args[0].operand)
    return None


# ---------------------------------------------------------------- sums

def collect_like_terms(node: Node):
    """a X + b X = (a + b) X"""
    if not isinstance(node, Add):
        return None
    order: list[Node | None] = []
    coefficients: dict = {}
    representative: dict = {}
    for term in node.terms:
        coef, rest = alg.split_coefficient(term)
        # (A B) C and A (B C) are one term: compare products by their chain of factors
        key = _associated(rest) if rest is not None else None
        representative.setdefault(key, rest)
        if key not in coefficients:
            order.append(key)
            coefficients[key] = Fraction(0)
        coefficients[key] += coef
    if len(order) == len(node.terms):
        return None
    terms = []
    for key in order:
        coef = coefficients[key]
        if coef == 0:
            continue
        rest = representative[key]
        terms.append(Num(coef) if rest is None else alg.scale(Num(coef), rest))
    if not terms:
        return alg.zeros(node.shape)
    return alg.add(*terms)


@functools.lru_cache(maxsize=1 << 16)  # shared sub-trees: without it, deep nets re-walk them
def _associated(node: Node) -> Node:
    """node with every product chain nested one way (a key for like terms, never shown)."""
    if isinstance(node, MatMul):
        factors = [_associated(f) for f in _chain(node)]
        return _product(factors)
    if not node.children:
        return node
    return node.with_children(tuple(_associated(c) for c in node.children))


def _had_factors(node: Node) -> list[Node]:
    if isinstance(node, Had):
        return _had_factors(node.left) + _had_factors(node.right)
    return [node]


def _had_of(factors: list[Node], shape) -> Node:
    if not factors:
        return alg.ones(shape)
    out = factors[0]
    for f in factors[1:]:
        out = alg.had(out, f)
    return out


def factor_common_hadamard(node: Node):
    """a ⊙ c + b ⊙ c = (a + b) ⊙ c (entrywise distributivity)"""
    if not isinstance(node, Add) or node.shape == ():
        return None
    split = [alg.split_coefficient(t) for t in node.terms]
    if any(rest is None or not isinstance(rest, Had) for _, rest in split):
        return None
    factor_lists = [_had_factors(rest) for _, rest in split]
    for candidate in factor_lists[0]:
        if all(candidate in fl for fl in factor_lists[1:]):
            remainders = []
            for (coef, _), fl in zip(split, factor_lists):
                rest = list(fl)
                rest.remove(candidate)
                remainders.append(alg.scale(Num(coef), _had_of(rest, node.shape)))
            return alg.had(alg.add(*remainders), candidate)
    return None


def factor_common_matrix_factor(node: Node):
    """A C + B C = (A + B) C;  C A + C B = C (A + B)"""
    if not isinstance(node, Add) or len(node.terms) < 2:
        return None
    split = [alg.split_coefficient(t) for t in node.terms]
    if any(not isinstance(rest, MatMul) for _, rest in split):
        return None
    for side in ("right", "left"):
        common = getattr(split[0][1], side)
        if all(getattr(rest, side) == common for _, rest in split[1:]):
            other = "left" if side == "right" else "right"
            inner = alg.add(*[alg.scale(Num(c), getattr(rest, other)) for c, rest in split])
            return alg.matmul(inner, common) if side == "right" else alg.matmul(common, inner)
    return None


def factor_common_kron_factor(node: Node):
    """P ⊗ A + P ⊗ B = P ⊗ (A + B);  A ⊗ P + B ⊗ P = (A + B) ⊗ P"""
    if not isinstance(node, Add) or len(node.terms) < 2:
        return None
    split = [alg.split_coefficient(t) for t in node.terms]
    if any(not _is_call(rest, "kron") for _, rest in split):
        return None
    for index in (0, 1):
        common = split[0][1].args[index]
        if all(rest.args[index] == common and rest.args[1 - index].shape ==
               split[0][1].args[1 - index].shape for _, rest in split[1:]):
            inner = alg.add(*[alg.scale(Num(c), rest.args[1 - index]) for c, rest in split])
            return alg.kron(common, inner) if index == 0 else alg.kron(inner, common)
    return None


def _reciprocal_of(node: Node) -> Node | None:
    """a when node is 1 ./ a."""
    if isinstance(node, Div) and _is_all_ones(node.left):
        return node.right
    return None


def _is_all_ones(node: Node) -> bool:
    return isinstance(node, Ones) or (isinstance(node, Fill) and isinstance(node.value, Num)
                                      and node.value.value == 1)


def _quotient_parts(node: Node) -> tuple[Node, Node] | None:
    """(b, a) when node is b ./ a."""
    return (node.left, node.right) if isinstance(node, Div) else None


def cancel_reciprocal(node: Node):
    """a ⊙ (b ./ a) = b (the derivative of log meets its argument: p ⊙ (y ./ p) = y)"""
    if not isinstance(node, Had):
        return None
    factors = _had_factors(node)
    for f in factors:
        parts = _quotient_parts(f)
        if parts is not None and parts[1] in factors:
            rest = list(factors)
            rest.remove(f)
            rest.remove(parts[1])
            numerator = parts[0]
            if not (_is_all_ones(numerator) and rest):
                rest.append(numerator)
            return _had_of(rest, node.shape)
    return None


def inner_product_with_reciprocal(node: Node):
    """aᵀ ((b ./ a) ⊙ y) = sum(b ⊙ y)"""
    if isinstance(node, MatMul) and isinstance(node.left, T) and len(node.right.shape) == 1:
        a = node.left.operand
        factors = _had_factors(node.right)
        for f in factors:
            parts = _quotient_parts(f)
            if parts is not None and parts[1] == a:
                rest = list(factors)
                rest.remove(f)
                if not _is_all_ones(parts[0]):
                    rest.append(parts[0])
                return alg.call("sum", _had_of(rest, node.right.shape))
    return None


def quotient_of_hadamard(node: Node):
    """(1 ./ a) ⊙ b = b ./ a"""
    if not isinstance(node, Had):
        return None
    factors = _had_factors(node)
    for f in factors:
        a = _reciprocal_of(f)
        if a is not None:
            rest = list(factors)
            rest.remove(f)
            return alg.div(_had_of(rest, node.shape), a)
    return None


def positive_term_first(node: Node):
    """−a + b = b − a (a sum reads from a positive term)"""
    if not isinstance(node, Add):
        return None
    signs = [alg.split_coefficient(t)[0] < 0 for t in node.terms]
    if signs[0] and not all(signs):
        first = signs.index(False)
        terms = node.terms
        return Add((terms[first],) + terms[:first] + terms[first + 1:])
    return None


def numeric_factor_out_of_quotient(node: Node):
    """a / (c b) = (1/c) (a / b) for a number c"""
    if isinstance(node, Div):
        inner = node.right
        target = inner.value if isinstance(inner, Fill) else inner
        if isinstance(target, Scale) and isinstance(target.factor, Num) and target.factor.value:
            rest = target.operand
            divisor = alg.fill(rest, inner.shape) if isinstance(inner, Fill) else rest
            return alg.scale(Num(1 / target.factor.value), alg.div(node.left, divisor))
    return None


def reciprocal_of_filled(node: Node):
    """𝟏 ./ (c 𝟏) = (1/c) 𝟏"""
    if isinstance(node, Div) and isinstance(node.right, Fill) and (
            isinstance(node.left, Ones) or _reciprocal_of(node) is not None):
        return alg.fill(alg.div(alg.ONE, node.right.value), node.shape)
    return None


def diagonal_times_ones(node: Node):
    """Diag(v) 𝟏 = v"""
    if isinstance(node, MatMul) and _is_call(node.left, "Diag") and isinstance(node.right, Ones) \
            and len(node.right.shape) == 1:
        return node.left.args[0]
    return None


def _flatten_scalar(node: Node, sign: int, numbers: list, powers: dict) -> bool:
    """Add scalar ``node`` (to the power ``sign``, ±1) to ``numbers`` and ``powers`` (base ->
    integer exponents, in order of first use); False where it cannot be taken apart."""
    if isinstance(node, Num):
        if sign < 0 and node.value == 0:
            return False
        numbers.append(node.value if sign > 0 else 1 / node.value)
        return True
    if isinstance(node, Scale) and node.factor.shape == () and node.operand.shape == ():
        return (_flatten_scalar(node.factor, sign, numbers, powers)
                and _flatten_scalar(node.operand, sign, numbers, powers))
    if isinstance(node, Div) and node.shape == () and node.right.shape == ():
        return (_flatten_scalar(node.left, sign, numbers, powers)
                and _flatten_scalar(node.right, -sign, numbers, powers))
    if isinstance(node, Pow) and isinstance(node.exponent, Num) and \
            node.exponent.value.denominator == 1:
        powers.setdefault(node.base, []).append(sign * node.exponent.value)
        return True
    powers.setdefault(node, []).append(Fraction(sign))
    return True


def _raised(base: Node, k: Fraction) -> Node:
    """baseᵏ (base itself for k = 1)."""
    return base if k == 1 else alg.power(base, Num(k))


def _untransposed(term: Node) -> Node:
    if isinstance(term, T):
        return term.operand
    if isinstance(term, Scale) and isinstance(term.operand, T):
        return alg.scale(term.factor, term.operand.operand)
    return term


def diagonal_ignores_transpose(node: Node):
    """I ⊙ Mᵀ = I ⊙ M: I ⊙ (A + Aᵀ) = 2 (I ⊙ A) (the Cookbook form A + Aᵀ − I ⊙ A)"""
    if not isinstance(node, Had):
        return None
    for eye, other in ((node.left, node.right), (node.right, node.left)):
        if not isinstance(eye, Eye):
            continue
        terms = other.terms if isinstance(other, Add) else (other,)
        plain = [_untransposed(t) for t in terms]
        if plain != list(terms):
            return alg.had(eye, alg.add(*plain))
    return None


def sum_of_scaled_or_product(node: Node):
    """sum(c X) = c sum(X), sum(X / c) = sum(X) / c, sum(a ⊙ b) = aᵀb (a : b for matrices)"""
    if not (_is_call(node, "sum") and len(node.args) == 1):
        return None
    x = node.args[0]
    if isinstance(x, Scale) and x.factor.shape == () and x.operand.shape:
        return alg.scale(x.factor, alg.call("sum", x.operand))
    if isinstance(x, Div) and isinstance(x.right, Fill):
        return alg.div(alg.call("sum", x.left), x.right.value)
    if isinstance(x, Had) and x.left.shape == x.right.shape and len(x.shape) in (1, 2) \
            and x.left != x.right and not any(isinstance(o, (Ones, Fill, Eye))
                                              for o in (x.left, x.right)):
        if len(x.shape) == 1:
            return alg.matmul(alg.transpose(x.left), x.right)
        return alg.frob(x.left, x.right)
    return None


def _divided_out(v: Node, term: Node) -> Node | None:
    """Diag(1 ./ v) term without the division, where term is Diag(v), v wᵀ or c of one."""
    if isinstance(term, Scale) and term.factor.shape == ():
        inner = _divided_out(v, term.operand)
        return None if inner is None else alg.scale(term.factor, inner)
    if _is_call(term, "Diag") and term.args[0] == v:
        return alg.eye(v.shape[0])
    if isinstance(term, MatMul) and term.left == v:
        return alg.matmul(alg.ones(v.shape), term.right)
    return None


def reciprocal_diagonal_cancels(node: Node):
    """Diag(1 ./ v) (Diag(v) − v wᵀ) = I − 𝟏 wᵀ (log softmax′ = I − 𝟏 pᵀ)"""
    if not (isinstance(node, MatMul) and _is_call(node.left, "Diag")):
        return None
    d = node.left.args[0]
    if not (isinstance(d, Div) and _is_all_ones(d.left) and len(d.shape) == 1):
        return None
    terms = node.right.terms if isinstance(node.right, Add) else (node.right,)
    parts = [_divided_out(d.right, t) for t in terms]
    return None if any(p is None for p in parts) else alg.add(*parts)


def matrix_before_its_transpose(node: Node):
    """Aᵀ + A = A + Aᵀ: one order for the symmetric part, whichever way f was written
    (tr(X A Xᵀ) and tr(Xᵀ A X) both print A + Aᵀ)"""
    if isinstance(node, Add) and len(node.terms) == 2:
        first, second = node.terms
        if isinstance(first, T) and first.operand == second and not isinstance(second, T):
            return alg.add(second, first)
    return None


def repeated_scalar_factor(node: Node):
    """c (c X) = c² X, γ c γ X = γ² c X, (a / c⁴) c = a / c³, (−(a / c²) / c) = −a / c³: the
    powers of a scalar that a product of scalar factors repeats are added up."""
    if isinstance(node, Scale):
        factors, rest = [], node
        while isinstance(rest, Scale):
            factors.append(rest.factor)
            rest = rest.operand
        if rest.shape == ():
            factors.append(rest)
            rest = None
    elif isinstance(node, Div) and node.shape == () and node.right.shape == ():
        factors, rest = [node], None
    else:
        return None
    numbers: list = []
    powers: dict = {}
    if not all(_flatten_scalar(f, 1, numbers, powers) for f in factors):
        return None
    if not any(len(ks) > 1 for ks in powers.values()):
        return None
    # det(X)ᵏ (k ≥ 1) stays last, next to the X⁻ᵀ it multiplies: det(X) X⁻ᵀ is evaluated as
    # the adjugate, which exists where X is singular
    last = [b for b, ks in powers.items() if _is_call(b, "det") and sum(ks) >= 1]
    up = [_raised(b, sum(ks)) for b, ks in powers.items() if sum(ks) > 0 and b not in last]
    down = [_raised(b, -sum(ks)) for b, ks in powers.items() if sum(ks) < 0]
    scalar = functools.reduce(alg.scale, up) if up else alg.ONE
    if down:
        scalar = alg.div(scalar, functools.reduce(alg.scale, down))
    coefficient = math.prod(numbers, start=Fraction(1))
    result = rest if rest is not None else alg.ONE
    for b in last:
        result = alg.scale(_raised(b, sum(powers[b])), result)
    result = alg.scale(scalar, result)
    return alg.scale(Num(coefficient), result)


def sum_of_diagonals(node: Node):
    """Diag(a) + Diag(b) = Diag(a + b)"""
    if not isinstance(node, Add):
        return None
    diags = [t for t in node.terms if _is_call(alg.split_coefficient(t)[1], "Diag")]
    if len(diags) < 2:
        return None
    merged = alg.add(*[alg.scale(Num(c), d.args[0]) for c, d in
                       (alg.split_coefficient(t) for t in diags)])
    others = [t for t in node.terms if t not in diags]
    return alg.add(alg.diag_matrix(merged), *others)


# ---------------------------------------------------------------- products with vec / Diag

def kron_vec_product(node: Node):
    """(P ⊗ Q) vec(D) = vec(Q D Pᵀ)"""
    if isinstance(node, MatMul) and _is_call(node.left, "kron"):
        d = _vec_operand(node.right)
        p, q = node.left.args
        from ..ir import as_matrix

        if d is not None and as_matrix(d.shape) == (as_matrix(q.shape)[1],
                                                    as_matrix(p.shape)[1]):
            return alg.vec(alg.matmul(alg.matmul(q, d), alg.transpose(p)))
        # (1 ⊗ Q) v with v a plain vector is Q v
        v = node.right
        if len(v.shape) == 1 and isinstance(p, Eye) and p.n == 1:
            return alg.matmul(q, v)
    return None


def diag_vec_product(node: Node):
    """Diag(vec D) vec(E) = vec(D ⊙ E);  Diag(d) e = d ⊙ e"""
    if isinstance(node, MatMul) and _is_call(node.left, "Diag"):
        d = node.left.args[0]
        e = node.right
        if len(e.shape) == 1:
            inner_d, inner_e = _vec_operand(d), _vec_operand(e)
            if inner_d is not None and inner_e is not None and inner_d.shape == inner_e.shape:
                return alg.vec(alg.had(inner_d, inner_e))
            return alg.had(d, e)
    return None


def commutation_vec_product(node: Node):
    """K_{m,n} vec(D) = vec(Dᵀ)"""
    if isinstance(node, MatMul) and isinstance(node.left, Commutation):
        d = _vec_operand(node.right)
        if d is not None and d.shape == (node.left.m, node.left.n):
            return alg.vec(alg.transpose(d))
    return None


def vec_inner_product(node: Node):
    """vec(A)ᵀ vec(B) = A : B"""
    if isinstance(node, MatMul) and isinstance(node.left, T):
        a, b = _vec_operand(node.left.operand), _vec_operand(node.right)
        if a is not None and b is not None and a.shape == b.shape:
            return alg.frob(a, b)
    return None


def _is_ones_row(node: Node) -> bool:
    return (isinstance(node, T) and isinstance(node.operand, Ones)) or (
        isinstance(node, Ones) and len(node.shape) == 2 and node.shape[0] == 1)


def ones_inner_product(node: Node):
    """𝟏ᵀ vec(D) = sum(D)"""
    if isinstance(node, MatMul) and _is_ones_row(node.left):
        d = _vec_operand(node.right)
        if d is not None:
            return alg.call("sum", d)
        if len(node.right.shape) == 1:
            return alg.call("sum", node.right)
    return None


def kron_mixed_product(node: Node):
    """(A ⊗ B)(C ⊗ D) = A C ⊗ B D when the sizes allow"""
    if isinstance(node, MatMul) and _is_call(node.left, "kron") and _is_call(node.right, "kron"):
        (a, b), (c, d) = node.left.args, node.right.args
        from ..ir import as_matrix

        if as_matrix(a.shape)[1] == as_matrix(c.shape)[0] and \
                as_matrix(b.shape)[1] == as_matrix(d.shape)[0]:
            return alg.kron(alg.matmul(a, c), alg.matmul(b, d))
    return None


def product_of_diagonals(node: Node):
    """Diag(a) Diag(b) = Diag(a ⊙ b)"""
    if isinstance(node, MatMul) and _is_call(node.left, "Diag") and _is_call(node.right,
                                                                             "Diag"):
        return alg.diag_matrix(alg.had(node.left.args[0], node.right.args[0]))
    if isinstance(node, MatMul) and isinstance(node.left, MatMul) and _is_call(
            node.left.right, "Diag") and _is_call(node.right, "Diag"):
        inner = alg.diag_matrix(alg.had(node.left.right.args[0], node.right.args[0]))
        return alg.matmul(node.left.left, inner)
    if isinstance(node, MatMul) and _is_call(node.left, "Diag") and isinstance(
            node.right, MatMul) and _is_call(node.right.left, "Diag"):  # Diag(a) (Diag(b) R)
        inner = alg.diag_matrix(alg.had(node.left.args[0], node.right.left.args[0]))
        return alg.matmul(inner, node.right.right)
    return None


def frobenius_with_identity(node: Node):
    """I : X = tr(X);  𝟏 : X = sum(X);  (c 𝟏) : X = c sum(X)"""
    if not isinstance(node, Frob):
        return None
    a, b = node.left, node.right
    for x, y in ((a, b), (b, a)):
        if isinstance(x, Eye):
            return alg.call("tr", y)
        if isinstance(x, Ones):
            return alg.call("sum", y)
        if isinstance(x, Fill):
            return alg.scale(x.value, alg.call("sum", y))
    return None


def unvec_of_sum(node: Node):
    """unvec(a + b) = unvec(a) + unvec(b) (so unvec(vec(dA B) + vec(A dB)) reads dA B + A dB)"""
    from ..ir import Reshape

    if isinstance(node, Reshape) and isinstance(node.operand, Add):
        return alg.add(*[alg.unvec(t, node.shape) for t in node.operand.terms])
    return None


def diag_of_Diag(node: Node):
    """diag(Diag(v)) = v;  diag(I) = 𝟏"""
    if _is_call(node, "diag") and _is_call(node.args[0], "Diag"):
        return node.args[0].args[0]
    if _is_call(node, "diag") and isinstance(node.args[0], Eye):
        return alg.ones(node.shape)
    return None


RULES = [
    transpose_of_product,
    transpose_of_sum,
    transpose_of_symmetric_entrywise,
    transpose_of_symmetric,
    transpose_of_symmetric_function,
    collect_like_terms,
    factor_common_hadamard,
    cancel_reciprocal,
    inner_product_with_reciprocal,
    quotient_of_hadamard,
    positive_term_first,
    numeric_factor_out_of_quotient,
    reciprocal_of_filled,
    diagonal_times_ones,
    repeated_scalar_factor,
    matrix_before_its_transpose,
    reciprocal_diagonal_cancels,
    sum_of_scaled_or_product,
    diagonal_ignores_transpose,
    factor_common_matrix_factor,
    factor_common_kron_factor,
    sum_of_diagonals,
    kron_vec_product,
    diag_vec_product,
    commutation_vec_product,
    vec_inner_product,
    ones_inner_product,
    kron_mixed_product,
    product_of_diagonals,
    frobenius_with_identity,
    diag_of_Diag,
    unvec_of_sum,
    factor_inverse_sandwich,
]

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
from ..ir import Add, Call, Eye, Fill, Func, MatMul, Node, Num, Ones, Scale, T, as_matrix
from .rules import _chain, _product, transposed


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


def softmax_from_exponentials(node: Node):
    """exp(x) / sum(exp(x)) = softmax(x) for a vector x (logsumexp′ = softmax)"""
    from ..ir import Div

    if isinstance(node, Scale) and isinstance(node.factor, Div) \
            and isinstance(node.factor.left, Num):
        coefficient, exponentials, total = node.factor.left, node.operand, node.factor.right
        if isinstance(exponentials, MatMul) and len(exponentials.shape) == 2:
            # (1 / sum(e)) e xᵀ = softmax(t) xᵀ (the outer product of logsumexp(W x))
            first = exponentials.left
            if _exp_argument(first) is not None and len(first.shape) == 1 and \
                    total == alg.call("sum", first):
                return alg.scale(coefficient, alg.matmul(alg.call("softmax",
                                                                   _exp_argument(first)),
                                                         exponentials.right))
            return None
    elif isinstance(node, Div) and node.left.shape != ():
        coefficient, exponentials, total = Num(1), node.left, _divisor(node.right)
    else:
        return None
    t = _exp_argument(exponentials)
    if t is None or len(t.shape) != 1 or total != alg.call("sum", exponentials):
        return None
    return alg.scale(coefficient, alg.call("softmax", t))


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


_RATIO_FUNCTIONS = {("sinh", "cosh"): "tanh", ("sin", "cos"): "tan"}


def ratio_of_functions(node: Node):
    """sinh(u) ./ cosh(u) = tanh(u), sin(u) ./ cos(u) = tan(u) (log cosh′ = tanh)"""
    from ..ir import Div

    if isinstance(node, Div) and isinstance(node.left, Func) and \
            isinstance(node.right, Func) and node.left.operand == node.right.operand:
        name = _RATIO_FUNCTIONS.get((node.left.name, node.right.name))
        if name is not None:
            return alg.func(name, node.left.operand)
    return None


def division_by_number(node: Node):
    """a / c = (1/c) a for a number c (so −2 (e / 2) is −e)"""
    from ..ir import Div

    if isinstance(node, Div) and isinstance(node.right, Num) and node.right.value != 0 \
            and not isinstance(node.left, Num):
        return alg.scale(Num(1 / node.right.value), node.left)
    return None


def number_into_reciprocal(node: Node):
    """c ((a / d) X) = (c a / d) X for numbers c, a (2 (1 / N) Xᵀ r reads (2 / N) Xᵀ r)"""
    from ..ir import Div

    if isinstance(node, Scale) and isinstance(node.factor, Num) and \
            isinstance(node.operand, Scale) and isinstance(node.operand.factor, Div) and \
            isinstance(node.operand.factor.left, Num) and node.operand.factor.shape == ():
        quotient = node.operand.factor
        c = node.factor.value * quotient.left.value
        if c == -1 and quotient.left.value == 1:
            return None  # −((1 / d) X) is already the textbook's form
        out = alg.scale(alg.div(Num(abs(c)), quotient.right), node.operand.operand)
        return alg.scale(Num(-1), out) if c < 0 else out  # −(4 / N) x, not (−4 / N) x
    return None


def negative_numerator_out(node: Node):
    """(−a / d) = −(a / d) for a number a > 0, so (1/τ) Zᵀp + (−1/τ) z is a difference and
    its common factor 1/τ comes out"""
    from ..ir import Div

    if isinstance(node, Div) and node.shape == () and isinstance(node.left, Num) and \
            node.left.value < 0:
        return alg.scale(Num(-1), alg.div(Num(-node.left.value), node.right))
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


def step_of_relu(node: Node):
    """step(z) ⊙ relu(z) = relu(z) (relu is 0 where step is: the squared hinge's gradient)"""
    from ..ir import Had

    if not isinstance(node, Had):
        return None
    factors = _had_factors(node)
    relus = {f.operand for f in factors if isinstance(f, Func) and f.name == "relu"}
    kept = [f for f in factors if not (isinstance(f, Func) and f.name == "step"
                                       and f.operand in relus)]
    return _had_of(kept, node.shape) if len(kept) < len(factors) else None


def hadamard_cancels_quotients(node: Node):
    """a ⊙ c ⊙ (b ./ c − d ./ a) = a ⊙ b − c ⊙ d (each quotient meets its denominator:
    the derivative of a log-likelihood, s ⊙ (1 − s) ⊙ (y ./ s − (1 − y) ./ (1 − s)));
    s ⊙ (y ./ s − M) = y − s ⊙ M (a term that is no quotient takes the factors along)"""
    from ..ir import Div, Had

    if not isinstance(node, Had):
        return None
    factors = _had_factors(node)
    for i, candidate in enumerate(factors):
        if not isinstance(candidate, Add):
            continue
        others = factors[:i] + factors[i + 1:]

        def cancels(term):
            rest = alg.split_coefficient(term)[1]
            return isinstance(rest, Div) and rest.right in others and rest.shape == node.shape

        if not any(cancels(term) for term in candidate.terms):
            continue  # (before building anything: deep inputs meet this rule at every level)
        terms, cancelled = [], False
        for term in candidate.terms:
            coef, rest = alg.split_coefficient(term)
            if isinstance(rest, Div) and rest.right in others and rest.shape == node.shape:
                kept = list(others)
                kept.remove(rest.right)
                terms.append(alg.scale(Num(coef), alg.had(_had_of(kept, node.shape),
                                                          rest.left)))
                cancelled = True
            elif term.shape == node.shape:
                terms.append(alg.had(_had_of(others, node.shape), term))
            else:
                break
        else:
            if cancelled:
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


# ---------------------------------------------------------------- powers and quotients

def _divisor(node: Node) -> Node | None:
    """c when node is a scalar c or c filled to an array."""
    if isinstance(node, Fill):
        return node.value
    return node if node.shape == () else None


def repeated_division(node: Node):
    """(a / c) / c = a / c²;  x ./ y ./ y = x ./ y.^2 (entrywise)"""
    from ..ir import Div

    if isinstance(node, Div) and isinstance(node.left, Div):
        c, inner = _divisor(node.right), _divisor(node.left.right)
        if c is not None and c == inner and not isinstance(c, Num):
            return alg.div(node.left.left, alg.power(c, Num(2)))
        if node.right == node.left.right and node.right.shape == node.shape and \
                not isinstance(node.right, (Num, Fill, Ones)):
            return alg.div(node.left.left, alg.power(node.right, Num(2)))
    return None


def quotient_of_powers(node: Node):
    """cᵖ / c = cᵖ⁻¹ (scalars)"""
    from ..ir import Div, Pow

    if isinstance(node, Div) and node.shape == ():
        top, bottom = node.left, node.right
        coef = Fraction(1)
        if isinstance(top, Scale) and isinstance(top.factor, Num):
            coef, top = top.factor.value, top.operand
        if isinstance(top, Pow) and isinstance(top.exponent, Num) and top.base == bottom:
            return alg.scale(Num(coef), alg.power(bottom, Num(top.exponent.value - 1)))
    return None


def _power_parts(node: Node) -> tuple[Node, int, bool] | None:
    """(X, k, transposed) for X, Xᵀ, Xᵏ, (Xᵏ)ᵀ with X a variable (or its inverse)."""
    from ..ir import MatPow, Var

    transposed = isinstance(node, T)
    inner = node.operand if transposed else node
    k = 1
    if isinstance(inner, MatPow):
        inner, k = inner.base, inner.k
    elif _is_call(inner, "inv"):
        inner, k = inner.args[0], -1
    if isinstance(inner, Var) and len(inner.shape) == 2 and inner.shape[0] == inner.shape[1]:
        return inner, k, transposed
    return None


def product_of_powers(node: Node):
    """X X = X²;  Xᵀ Xᵀ = (X²)ᵀ;  X⁻¹ X⁻¹ = X⁻² (also at the end of a longer chain)"""
    if not isinstance(node, MatMul):
        return None
    left = node.left.right if isinstance(node.left, MatMul) else node.left
    a, b = _power_parts(left), _power_parts(node.right)
    if a is None or b is None or a[0] != b[0] or a[2] != b[2] or (a[1] > 0) != (b[1] > 0):
        return None
    power = alg.matpow(a[0], a[1] + b[1])
    merged = alg.transpose(power) if a[2] else power
    return alg.matmul(node.left.left, merged) if isinstance(node.left, MatMul) else merged


def _inverse_pair(a: Node, b: Node) -> bool:
    """a b = I: X⁻¹ X, X X⁻¹, Xᵀ X⁻ᵀ, X⁻ᵀ Xᵀ (X square; where X⁻¹ exists, as its condition
    says)."""
    if isinstance(a, T) and isinstance(b, T):
        a, b = b.operand, a.operand  # Xᵀ X⁻ᵀ = (X⁻¹ X)ᵀ
    return (_is_call(a, "inv") and a.args[0] == b) or (_is_call(b, "inv") and b.args[0] == a)


def inverse_cancels(node: Node):
    """X⁻¹ X = X X⁻¹ = I;  Lᵀ L⁻ᵀ = I (also inside a longer chain)"""
    if not isinstance(node, MatMul):
        return None
    left = node.left.right if isinstance(node.left, MatMul) else node.left
    right = node.right.left if isinstance(node.right, MatMul) else node.right
    if not _inverse_pair(left, right) or len(left.shape) != 2:
        return None
    rest = [f for f in ((node.left.left if isinstance(node.left, MatMul) else None),
                        (node.right.right if isinstance(node.right, MatMul) else None))
            if f is not None]
    if not rest:
        return alg.eye(left.shape[0])
    return rest[0] if len(rest) == 1 else alg.matmul(rest[0], rest[1])


def diagonal_times_ones_in_chain(node: Node):
    """Diag(v) (𝟏 R) = v R;  (L Diag(v)) 𝟏 = L v"""
    if isinstance(node, MatMul) and _is_call(node.left, "Diag") and \
            isinstance(node.right, MatMul) and isinstance(node.right.left, Ones) and \
            len(node.right.left.shape) == 1:
        return alg.matmul(node.left.args[0], node.right.right)
    if isinstance(node, MatMul) and isinstance(node.right, Ones) and \
            len(node.right.shape) == 1 and isinstance(node.left, MatMul) and \
            _is_call(node.left.right, "Diag"):
        return alg.matmul(node.left.left, node.left.right.args[0])
    return None


def _column_kron_identity(node: Node):
    """(a, p) for a ⊗ I_p with a a column vector or a row (aᵀ ⊗ I_p)."""
    from ..ir import Eye

    if _is_call(node, "kron") and isinstance(node.args[1], Eye):
        a = node.args[0]
        if len(a.shape) == 1 or (len(a.shape) == 2 and a.shape[0] == 1):
            return a, node.args[1].n
    return None


def kron_sandwich(node: Node):
    """(a ⊗ I) M (bᵀ ⊗ I) = (a bᵀ) ⊗ M (the mixed-product rule with M = 1 ⊗ M: the
    Hessian of f(X x) in the textbook's layout, (x xᵀ) ⊗ ∇²)"""
    if not isinstance(node, MatMul):
        return None
    factors = _chain(node)
    for i, left in enumerate(factors):
        column = _column_kron_identity(left)
        if column is None or len(column[0].shape) != 1:
            continue
        for j in range(i + 2, len(factors)):
            row_part = _column_kron_identity(factors[j])
            if row_part is None or len(row_part[0].shape) != 2:
                continue
            middle = _product(factors[i + 1:j])
            if len(middle.shape) != 2 or (middle.shape[0], middle.shape[1]) != \
                    (column[1], row_part[1]):
                continue
            sandwich = alg.kron(alg.matmul(column[0], row_part[0]), middle)
            return _product(factors[:i] + [sandwich] + factors[j + 1:])
    return None


def _scalar_quotient(node: Node):
    """(a, s) for a ./ s with s a scalar filled to a's shape (x / ‖x‖), or its transpose."""
    from ..ir import Div

    transposed = isinstance(node, T)
    inner = node.operand if transposed else node
    if isinstance(inner, Div) and inner.shape and _divisor(inner.right) is not None:
        a = inner.left
        return (alg.transpose(a) if transposed else a), _divisor(inner.right)
    return None


def scalar_quotient_out_of_product(node: Node):
    """(x / c²) (x / c)ᵀ = (1 / c²) (1 / c) x xᵀ: a scalar divisor of a factor of a matrix
    product stands in front (then 1 / c³)"""
    if not isinstance(node, MatMul):
        return None
    for side in ("left", "right"):
        parts = _scalar_quotient(getattr(node, side))
        if parts is not None:
            a, c = parts
            other = node.right if side == "left" else node.left
            product = alg.matmul(a, other) if side == "left" else alg.matmul(other, a)
            return alg.scale(alg.div(alg.ONE, c), product)
    return None


def kron_mixed_product(node: Node):
    """(A ⊗ B)(C ⊗ D) = (A C) ⊗ (B D) where the sizes fit ((Vᵀ ⊗ I)(I ⊗ U) = Vᵀ ⊗ U in
    a mixed Hessian block)"""
    if not isinstance(node, MatMul):
        return None
    factors = _chain(node)
    for i in range(len(factors) - 1):
        left, right = factors[i], factors[i + 1]
        if not (_is_call(left, "kron") and _is_call(right, "kron")):
            continue
        (a, b), (c, d) = left.args, right.args
        if as_matrix(a.shape)[1] != as_matrix(c.shape)[0] or \
                as_matrix(b.shape)[1] != as_matrix(d.shape)[0]:
            continue
        merged = alg.kron(alg.matmul(a, c), alg.matmul(b, d))
        return _product(factors[:i] + [merged] + factors[i + 2:])
    return None


def _upper_triangular(node: Node) -> bool:
    """Structurally upper triangular: Lᵀ for L = chol(·), a diagonal, their products."""
    if isinstance(node, T):
        return _is_call(node.operand, "chol")
    if _is_call(node, "Diag"):
        return True
    if isinstance(node, Scale) and node.factor.shape == ():
        return _upper_triangular(node.operand)
    if isinstance(node, MatMul):
        return _upper_triangular(node.left) and _upper_triangular(node.right)
    return False


def tril_half_of_upper_triangular(node: Node):
    """Φ(U) = ½ Diag(diag U) for an upper-triangular U (Φ(2 Lᵀ Diag(1 ./ diag L)) = I in the
    gradient of logdet through chol)"""
    if _is_call(node, "tril_half") and isinstance(node.args[0], Eye):  # Φ(I) = ½ I
        return alg.scale(Num(Fraction(1, 2)), node.args[0])
    if _is_call(node, "tril_half") and _upper_triangular(node.args[0]):
        return alg.scale(Num(Fraction(1, 2)), alg.diag_matrix(alg.call("diag", node.args[0])))
    return None


def diagonal_of_scaled_product(node: Node):
    """diag(c A Diag(v)) = c diag(A) ⊙ v;  diag(Aᵀ) = diag(A);  diag(a bᵀ) = a ⊙ b"""
    if not _is_call(node, "diag") or len(node.args[0].shape) != 2:
        return None
    inner, factor = node.args[0], None
    if isinstance(inner, Scale) and inner.factor.shape == ():
        factor, inner = inner.factor, inner.operand
    if isinstance(inner, T):
        out = alg.call("diag", inner.operand)
    elif isinstance(inner, MatMul) and len(inner.left.shape) == 1 and \
            isinstance(inner.right, T) and len(inner.right.operand.shape) == 1:
        out = alg.had(inner.left, inner.right.operand)
    elif isinstance(inner, MatMul) and _is_call(inner.right, "Diag"):
        out = alg.had(alg.call("diag", inner.left), inner.right.args[0])
    elif isinstance(inner, MatMul) and _is_call(inner.left, "Diag"):
        out = alg.had(inner.left.args[0], alg.call("diag", inner.right))
    elif factor is not None:
        out = alg.call("diag", inner)
    else:
        return None
    return out if factor is None else alg.scale(factor, out)


def inverse_cholesky_gram(node: Node):
    """L⁻ᵀ L⁻¹ = S⁻¹ for L = chol(S) (S = L Lᵀ)"""
    if isinstance(node, MatMul) and isinstance(node.left, T) and \
            _is_call(node.left.operand, "inv") and node.left.operand == node.right and \
            _is_call(node.right.args[0], "chol"):
        return alg.call("inv", node.right.args[0].args[0])
    return None


def common_scalar_factor(node: Node):
    """c A + c B = c (A + B) for a scalar expression c (c = 1 / (xᵀ A x) …), also for the
    terms of a longer sum that share c (c A x + d x + c Aᵀ x = c (A + Aᵀ) x + d x)"""
    if not isinstance(node, Add) or len(node.terms) < 2:
        return None
    groups: dict[Node, list[int]] = {}
    split = [alg.split_coefficient(t) for t in node.terms]
    for i, (_, rest) in enumerate(split):
        if isinstance(rest, Scale) and not isinstance(rest.factor, Num):
            groups.setdefault(rest.factor, []).append(i)
    shared = [members for members in groups.values() if len(members) > 1]
    if not shared:
        return None
    collected, terms = set(), []
    for i, term in enumerate(node.terms):
        if i in collected:
            continue
        members = next((m for m in shared if m[0] == i), None)
        if members is None:
            terms.append(term)
            continue
        collected.update(members)
        factor = split[i][1].factor
        terms.append(alg.scale(factor, alg.add(*[alg.scale(Num(split[j][0]),
                                                           split[j][1].operand)
                                                 for j in members])))
    return alg.add(*terms)


def logistic_times_exponential_scalar(node: Node):
    """exp(−t) σ(t) = σ(−t) among the scalar factors of a product"""
    if not isinstance(node, Scale) or node.factor.shape != ():
        return None
    factors = alg.scalar_factors(node.factor)
    for e in factors:
        t = _exp_argument(e)
        if t is None:
            continue
        for sg in factors:
            if isinstance(sg, Func) and sg.name == "sigmoid" and \
                    alg.scale(Num(-1), sg.operand) == t:
                rest = list(factors)
                rest.remove(e)
                rest.remove(sg)
                out = alg.func("sigmoid", t)
                for r in rest:
                    out = alg.scale(r, out)
                return alg.scale(out, node.operand)
    return None


def transpose_of_symmetric_inverse(node: Node):
    """(S⁻¹)ᵀ = S⁻¹ and (Sᵏ)ᵀ = Sᵏ for symmetric S (Xᵀ X, A + Aᵀ …)"""
    from ..ir import MatPow
    from .rules import is_symmetric

    if isinstance(node, T):
        inner = node.operand
        base = inner.args[0] if _is_call(inner, "inv") else (
            inner.base if isinstance(inner, MatPow) else None)
        if base is not None and is_symmetric(base):
            return inner
    return None


def frechet_derivative_of_commuting_direction(node: Node):
    """expm_frechet(X, E) = E expm(X) where X and E commute (E = c I, X = c E), and
    expm(Xᵀ) = expm(X)ᵀ"""
    from ..ops.matrix_functions import expm_of, frechet

    if _is_call(node, "expm_frechet"):
        out = frechet(*node.args)
        return None if out == node else out
    if _is_call(node, "expm") and isinstance(node.args[0], T):
        return expm_of(node.args[0])
    return None


IDENTITIES = [
    common_numeric_factor,
    negation_into_difference,
    logistic_from_exponentials,
    softmax_from_exponentials,
    kron_sandwich,
    kron_mixed_product,
    scalar_quotient_out_of_product,
    tril_half_of_upper_triangular,
    inverse_cholesky_gram,
    diagonal_of_scaled_product,
    logistic_times_exponential,
    ratio_of_functions,
    division_by_number,
    number_into_reciprocal,
    negative_numerator_out,
    hadamard_cancels_quotients,
    step_of_relu,
    expand_entrywise_if_shorter,
    softmax_sums_to_one,
    sum_of_ones,
    repeated_division,
    quotient_of_powers,
    product_of_powers,
    inverse_cancels,
    diagonal_times_ones_in_chain,
    common_scalar_factor,
    logistic_times_exponential_scalar,
    transpose_of_symmetric_inverse,
    frechet_derivative_of_commuting_direction,
]


# ---------------------------------------------------------------- f before differentiation

def _function_identity(node: Node) -> Node | None:
    """logdet(X⁻¹) = −logdet X;  log(det X) = logdet X;  det(X⁻¹) = 1/det X;
    tr(A ⊗ B) = tr A tr B;  sum(A ⊗ B) = sum A sum B;  Diag(a) B v = a ⊙ (B v)"""
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
    if isinstance(node, MatMul) and len(node.shape) == 1:  # Diag(a) B v = a ⊙ (B v)
        first, rest = node.left, None
        while isinstance(first, MatMul):
            first, rest = first.left, (first.right if rest is None else
                                       alg.matmul(first.right, rest))
        if _is_call(first, "Diag") and len(first.args[0].shape) == 1:
            tail = node.right if rest is None else alg.matmul(rest, node.right)
            return alg.had(first.args[0], tail)
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

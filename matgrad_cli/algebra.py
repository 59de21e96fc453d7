"""Smart constructors: build nodes while removing what is trivially zero or one.

The derivative rules build their results only through these, so derivative trees stay
proportional in size to the input. Each shortcut is an identity a reader checks at a
glance (0 + A = A, 1·A = A, A I = A, (Aᵀ)ᵀ = A, numbers folded); the textbook rewriting
lives in simplify/.
"""
from __future__ import annotations

from fractions import Fraction

from .ir import (
    Add, Call, Div, Eye, Fill, Frob, Func, Had, MatMul, MatPow, Node, Num, Ones, Pow,
    Reshape, Scale, T, Var, Zeros, as_matrix, dim_mul, size_of, transpose_shape,
)

ZERO = Num(Fraction(0))
ONE = Num(Fraction(1))


def num(value) -> Num:
    return Num(Fraction(value))


def zeros(shape) -> Node:
    return ZERO if shape == () else Zeros(tuple(shape))


def ones(shape) -> Node:
    return ONE if shape == () else Ones(tuple(shape))


def eye(n) -> Node:
    return ONE if n == 1 else Eye(n)


def is_zero(node: Node) -> bool:
    return isinstance(node, Zeros) or (isinstance(node, Num) and node.value == 0) or (
        isinstance(node, Fill) and is_zero(node.value)
    )


def is_one(node: Node) -> bool:
    return isinstance(node, Num) and node.value == 1


def split_coefficient(node: Node) -> tuple[Fraction, Node | None]:
    """c·X → (c, X); a bare number → (c, None)."""
    if isinstance(node, Num):
        return node.value, None
    if isinstance(node, Scale) and isinstance(node.factor, Num):
        return node.factor.value, node.operand
    return Fraction(1), node


def add(*terms: Node) -> Node:
    flat: list[Node] = []
    for term in terms:
        if isinstance(term, Add):
            flat.extend(term.terms)
        elif not is_zero(term):
            flat.append(term)
    shape = terms[0].shape
    numbers = [t for t in flat if isinstance(t, Num)]
    if len(numbers) > 1:
        total = sum((t.value for t in numbers), Fraction(0))
        flat = [t for t in flat if not isinstance(t, Num)] + ([Num(total)] if total else [])
    if not flat:
        return zeros(shape)
    if len(flat) == 1:
        return flat[0]
    return Add(tuple(flat))


def neg(node: Node) -> Node:
    return scale(num(-1), node)


def sub(a: Node, b: Node) -> Node:
    return add(a, neg(b))


def scalar_factors(node: Node) -> list[Node]:
    """The factors of a product of scalars (c a of ‖x‖ ‖y‖: a Scale tree of scalar shape),
    else [node]."""
    if isinstance(node, Scale) and node.shape == ():
        return scalar_factors(node.factor) + scalar_factors(node.operand)
    return [node]


def scale(factor: Node, operand: Node) -> Node:
    """factor (a scalar) times operand (any shape)."""
    if factor.shape != ():
        if operand.shape == ():
            factor, operand = operand, factor
        else:
            raise AssertionError("scale by a non-scalar")
    if is_zero(factor) or is_zero(operand):
        return zeros(operand.shape)
    if is_one(factor):
        return operand
    if operand.shape == () and is_one(operand):
        return factor
    if isinstance(factor, Num) and isinstance(operand, Num):
        return Num(factor.value * operand.value)
    if operand.shape == () and isinstance(operand, Num):
        factor, operand = operand, factor
    if isinstance(operand, Scale) and isinstance(factor, Num) and isinstance(operand.factor, Num):
        return scale(Num(factor.value * operand.factor.value), operand.operand)
    if isinstance(factor, Scale) and isinstance(factor.factor, Num):
        return scale(factor.factor, scale(factor.operand, operand))
    if isinstance(operand, Scale) and isinstance(operand.factor, Num):
        return scale(operand.factor, scale(factor, operand.operand))
    if isinstance(operand, Fill):
        return fill(scale(factor, operand.value), operand.shape)
    return Scale(factor, operand)


def matmul(a: Node, b: Node) -> Node:
    if a.shape == () or b.shape == ():
        return scale(a, b)
    rows, _ = as_matrix(a.shape)
    _, cols = as_matrix(b.shape)
    if is_zero(a) or is_zero(b):
        from .ir import normalize_shape

        return zeros(normalize_shape(rows, cols))
    if isinstance(a, Eye):
        return b
    if isinstance(b, Eye):
        return a
    if isinstance(a, Scale):
        return scale(a.factor, matmul(a.operand, b))
    if isinstance(b, Scale):
        return scale(b.factor, matmul(a, b.operand))
    return MatMul(a, b)


def had(a: Node, b: Node) -> Node:
    if a.shape == () or b.shape == ():
        return scale(a, b)
    if is_zero(a) or is_zero(b):
        return zeros(a.shape)
    if isinstance(a, Ones):
        return b
    if isinstance(b, Ones):
        return a
    if isinstance(a, Fill):
        return scale(a.value, b)
    if isinstance(b, Fill):
        return scale(b.value, a)
    if isinstance(a, Scale):
        return scale(a.factor, had(a.operand, b))
    if isinstance(b, Scale):
        return scale(b.factor, had(a, b.operand))
    return Had(a, b)


def div(a: Node, b: Node) -> Node:
    if a.shape != b.shape:
        if b.shape == ():
            b = fill(b, a.shape)
        else:
            a = fill(a, b.shape)
    if is_zero(b):  # found while simplifying (sum(y) − sum(y)): the input divides by 0
        from .errors import ZeroDivisor

        raise ZeroDivisor("division by zero: the divisor is identically 0")
    if is_zero(a):
        return zeros(a.shape)
    if isinstance(b, Fill) and isinstance(b.value, Num):
        return scale(Num(1 / b.value.value), a)
    if isinstance(a, Num) and isinstance(b, Num):
        return Num(a.value / b.value)
    if is_one(b):
        return a
    return Div(a, b)


def power(base: Node, exponent: Node) -> Node:
    if isinstance(exponent, Num):
        if exponent.value == 0:
            return ones(base.shape)
        if exponent.value == 1:
            return base
        if isinstance(base, Num) and exponent.value.denominator == 1:
            if base.value != 0 or exponent.value > 0:
                return Num(base.value ** int(exponent.value))
    if isinstance(base, Pow) and isinstance(base.exponent, Num) and isinstance(exponent, Num):
        if exponent.value.denominator == 1 and base.exponent.value.denominator == 1:
            return power(base.base, Num(base.exponent.value * exponent.value))
    return Pow(base, exponent)


def matpow(base: Node, k: int) -> Node:
    if k == 0:
        return eye(base.shape[0]) if base.shape else ONE
    if k == 1:
        return base
    if k == -1:
        return call("inv", base)
    if base.shape == ():
        return power(base, num(k))
    return MatPow(base, k)


def transpose(node: Node) -> Node:
    if node.shape == ():
        return node
    if isinstance(node, T):
        return node.operand
    if isinstance(node, Var) and node.symmetric:  # Sᵀ = S for a declared symmetric S
        return node
    if isinstance(node, (Eye,)):
        return node
    if isinstance(node, Zeros):
        return zeros(transpose_shape(node.shape))
    if isinstance(node, Ones):
        return ones(transpose_shape(node.shape))
    if isinstance(node, Fill):
        return fill(node.value, transpose_shape(node.shape))
    if isinstance(node, Scale):
        return scale(node.factor, transpose(node.operand))
    return T(node)


def func(name: str, operand: Node) -> Node:
    return Func(name, operand)


def call(name: str, *args: Node) -> Node:
    return Call(name, tuple(args))


def frob(a: Node, b: Node) -> Node:
    if a.shape == ():
        return scale(a, b)
    if is_zero(a) or is_zero(b):
        return ZERO
    return Frob(a, b)


def fill(value: Node, shape) -> Node:
    if shape == ():
        return value
    if is_zero(value):
        return zeros(shape)
    if is_one(value):
        return ones(shape)
    return Fill(value, tuple(shape))


def vec(node: Node) -> Node:
    """vec of anything, as a column vector (a scalar stays a scalar)."""
    if len(node.shape) < 2:
        return node
    if node.shape[0] == 1:
        return transpose(node)
    if isinstance(node, Reshape):
        return node.operand
    if isinstance(node, Zeros):
        return zeros((size_of(node.shape),))
    if isinstance(node, Scale):
        return scale(node.factor, vec(node.operand))
    return call("vec", node)


def unvec(node: Node, shape) -> Node:
    """The inverse of vec: a vector back to ``shape``."""
    if node.shape == tuple(shape) or len(shape) < 2:
        return node
    if shape[0] == 1:
        return transpose(node)
    if isinstance(node, Call) and node.name == "vec" and node.args[0].shape == tuple(shape):
        return node.args[0]
    if isinstance(node, Zeros):
        return zeros(shape)
    if isinstance(node, Scale):
        return scale(node.factor, unvec(node.operand, shape))
    return Reshape(node, tuple(shape))


def kron(a: Node, b: Node) -> Node:
    if a.shape == () or b.shape == ():
        return scale(a, b)
    if is_zero(a) or is_zero(b):
        ar, ac = as_matrix(a.shape)
        br, bc = as_matrix(b.shape)
        from .ir import normalize_shape

        return zeros(normalize_shape(dim_mul(ar, br), dim_mul(ac, bc)))
    if isinstance(a, Eye) and isinstance(b, Eye):
        return eye(dim_mul(a.n, b.n))
    if isinstance(a, Scale):
        return scale(a.factor, kron(a.operand, b))
    if isinstance(b, Scale):
        return scale(b.factor, kron(a, b.operand))
    return call("kron", a, b)


def diag_matrix(v: Node) -> Node:
    """Diag(v) for a vector v (a scalar stays itself)."""
    if v.shape == ():
        return v
    if isinstance(v, Ones):
        return eye(v.shape[0])
    if isinstance(v, Zeros):
        return zeros((v.shape[0], v.shape[0]))
    if isinstance(v, Fill):
        return scale(v.value, eye(v.shape[0]))
    if isinstance(v, Scale):
        return scale(v.factor, diag_matrix(v.operand))
    return call("Diag", v)


def _is_square(node: Node) -> bool:
    return len(node.shape) == 2 and node.shape[0] == node.shape[1]


def kron_reduced(node: Node) -> Node:
    """sum(A ⊗ B) = sum(A) sum(B) and tr(A ⊗ B) = tr(A) tr(B) (A, B square), through
    nested Kronecker products: the same scalar without the product's entries (30×30
    factors: sum(X ⊗ X ⊗ X ⊗ X) would otherwise build a 810000×810000 matrix). Any other
    node is returned as it is."""
    if not (isinstance(node, Call) and node.name in ("sum", "tr") and len(node.args) == 1):
        return node
    inner = node.args[0]
    if not (isinstance(inner, Call) and inner.name == "kron"):
        return node
    a, b = inner.args
    if node.name == "tr" and not (_is_square(a) and _is_square(b)):
        return node
    return scale(kron_reduced(call(node.name, a)), kron_reduced(call(node.name, b)))

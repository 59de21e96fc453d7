"""SymPy at run time, for user-defined functions only: a scalar body (IR over one scalar
variable) → SymPy, its exact derivative simplified by SymPy, → IR again. SymPy is imported
inside these functions, so an input that defines no function never loads it."""
from __future__ import annotations

from fractions import Fraction

from .. import algebra as alg
from ..ir import Add, Div, Fill, Func, Had, MatMul, Node, Num, Pow, Scale, Var


def _forward():
    import sympy as sp

    t = sp.Symbol("t", real=True)  # real: |t|′ = sign(t), not re/im parts
    return {
        "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos,
        "tan": sp.tan, "tanh": sp.tanh, "sinh": sp.sinh, "cosh": sp.cosh,
        "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "erf": sp.erf,
        "abs": sp.Abs, "sign": sp.sign, "step": lambda a: sp.Heaviside(a, 0),
        "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
        "softplus": lambda a: sp.log(1 + sp.exp(a)),
        "relu": lambda a: sp.Max(a, 0),
        "log1p": lambda a: sp.log(1 + a), "expm1": lambda a: sp.exp(a) - 1,
        "softsign": lambda a: a / (1 + sp.Abs(a)),
    }, t


def to_sympy(body: Node):
    """The body as a SymPy expression in the symbol t (the parameter)."""
    from . import USER_FUNCTIONS

    table, t = _forward()

    def conv(node):
        if isinstance(node, Num):
            import sympy as sp

            return sp.Rational(node.value.numerator, node.value.denominator)
        if isinstance(node, Var):
            return t
        if isinstance(node, Add):
            out = 0
            for term in node.terms:
                out = out + conv(term)
            return out
        if isinstance(node, (Scale, Had, MatMul)):
            left, right = node.children
            return conv(left) * conv(right)
        if isinstance(node, Div):
            return conv(node.left) / conv(node.right)
        if isinstance(node, Pow):
            return conv(node.base) ** conv(node.exponent)
        if isinstance(node, Fill):
            return conv(node.value)
        if isinstance(node, Func):
            if node.name in USER_FUNCTIONS:  # a user function calling another
                inner = USER_FUNCTIONS[node.name]
                return to_sympy(inner.body)[0].subs(t, conv(node.operand))
            return table[node.name](conv(node.operand))
        raise AssertionError(f"{type(node).__name__} in a function body")

    return conv(body), t


def from_sympy(expr, param: str) -> Node:
    """A SymPy expression in t → scalar IR over Var(param)."""
    import sympy as sp

    from . import ENTRYWISE

    backward = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan",
                sp.tanh: "tanh", sp.sinh: "sinh", sp.cosh: "cosh", sp.asin: "arcsin",
                sp.acos: "arccos", sp.atan: "arctan", sp.erf: "erf", sp.Abs: "abs",
                sp.sign: "sign"}
    var = Var(param, ())

    def conv(e) -> Node:
        if e.is_Rational:
            return alg.num(Fraction(int(e.p), int(e.q)))
        if e.is_Symbol:
            return var
        if e == sp.E:
            return alg.func("exp", alg.ONE)
        if e == sp.pi and "arccos" in ENTRYWISE:  # no named constants: π = arccos(−1)
            return alg.func("arccos", alg.num(-1))
        if isinstance(e, sp.NumberSymbol) or e.is_Float:  # otherwise its value
            return alg.num(Fraction(repr(float(e))))
        if e.is_Add:
            return alg.add(*(conv(a) for a in e.args))
        if e.is_Mul:
            numerator, denominator = sp.fraction(e)
            if denominator != 1:
                return alg.div(conv(numerator), conv(denominator))
            out = conv(e.args[0])
            for a in e.args[1:]:
                out = alg.scale(out, conv(a))
            return out
        if e.is_Pow:
            base, exp = e.args
            if exp == sp.Rational(1, 2):
                return alg.func("sqrt", conv(base))
            if exp == sp.Rational(-1, 2):
                return alg.div(alg.ONE, alg.func("sqrt", conv(base)))
            if exp.is_Rational and exp < 0:
                return alg.div(alg.ONE, conv(base ** -exp))
            return alg.power(conv(base), conv(exp))
        if isinstance(e, (sp.Max, sp.Min)) and len(e.args) == 2 and 0 in e.args:
            other = conv(e.args[1] if e.args[0] == 0 else e.args[0])
            if isinstance(e, sp.Max):  # max(0, a) = relu(a); min(0, a) = −relu(−a)
                return alg.func("relu", other)
            return alg.neg(alg.func("relu", alg.neg(other)))
        if isinstance(e, sp.Heaviside):
            return alg.func("step", conv(e.args[0]))
        name = backward.get(e.func)
        if name is not None and name in ENTRYWISE:
            return alg.func(name, conv(e.args[0]))
        raise UnsupportedDerivative(e)

    return conv(expr)


class UnsupportedDerivative(Exception):
    def __init__(self, expr):
        super().__init__(f"the derivative contains {expr}, which matgrad cannot write")


def differentiate(body: Node, param: str) -> Node:
    """The exact derivative of the body, simplified by SymPy, as IR."""
    import sympy as sp

    expr, t = to_sympy(body)
    # the derivative almost everywhere: δ (of a kink's step) is 0 off the kink
    d = sp.diff(expr, t).replace(sp.DiracDelta, lambda *a: sp.Integer(0))
    candidates = [sp.simplify(d), sp.factor(d), d]
    best = min(candidates, key=sp.count_ops)
    for candidate in [best] + candidates:
        try:
            return from_sympy(candidate, param)
        except UnsupportedDerivative:
            continue
    from ..errors import MatgradError

    raise MatgradError(f"cannot write the derivative {d} in the language")

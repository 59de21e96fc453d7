"""User-defined entrywise functions (SPEC §2): ``gelu(t) = 0.5*t*(1 + erf(t/sqrt(2)))``.

A definition becomes an ``Entrywise`` entry of the registry, installed when the input that
defines it is shape-checked, so every layer (printers, evaluator, diff, check) treats
``gelu(W*x)`` as it treats ``tanh(W*x)``. Its body is a scalar IR expression over one
scalar variable, the parameter. The derivative is the body's exact derivative, computed and
simplified by SymPy the first time a derivative asks for it — SymPy is imported here and
nowhere else, only then — and is itself a user function (``gelu′``, internally
``gelu_prime``), so second derivatives follow the same path.

The entries live beside the built-in registry (``ENTRIES`` here; ``ops.lookup`` reads
both), for the rest of the process, so the built-in tables stay what the source says. A key (the
``Func`` node's name) is the name as spelled unless an earlier input in the same process
gave that name another body (a ``check --claim`` may define its own ``f``): then the key
gets a ``~2``, ``~3`` … suffix, so two programs never share an entry by accident; the
printers always write the spelled name.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .. import algebra as alg
from ..ir import Add, Div, Fill, Func, Had, MatMul, Node, Num, Pow, Scale, Var, walk
from .base import Entrywise, _np

_PRIMES = {1: "′", 2: "″", 3: "‴"}


@dataclass(frozen=True)
class UserFunction:
    """What a definition says: f(param) = body; ``base``/``order``: f is the order-th
    derivative of the user's function ``base`` (0 for the user's own)."""

    name: str  # the registry key (the Func node's name)
    param: str
    body: Node
    base: str  # the user's function, as spelled
    order: int = 0
    of: Node | None = None  # the body this one is the derivative of

    @property
    def spelled(self) -> str:
        """The function's name in the language (dsl lines, definitions)."""
        if self.order == 0:
            return self.base
        return f"{self.base}_prime" + (str(self.order) if self.order > 1 else "")


# key -> UserFunction / its Entrywise entry, for every user function installed so far
USER: dict[str, UserFunction] = {}
ENTRIES: dict[str, Entrywise] = {}


def is_user(name: str) -> bool:
    return name in USER


def display(fn: UserFunction) -> str:
    if fn.order == 0:
        return fn.base
    return fn.base + _PRIMES.get(fn.order, f"^({fn.order})")


def _key(fn: UserFunction) -> str:
    """The spelled name, or the first free ``name~k`` when that key holds another body."""
    candidate, k = fn.spelled, 1
    while candidate in USER and (USER[candidate].body, USER[candidate].param,
                                 USER[candidate].order) != (fn.body, fn.param, fn.order):
        k += 1
        candidate = f"{fn.spelled}~{k}"
    return candidate


def install(spelled: str, param: str, body: Node, base: str | None = None,
            order: int = 0, of: Node | None = None) -> str:
    """Install f(param) = body in the registry; returns the key its calls use."""
    fn = UserFunction("", param, body, base or spelled, order, of)
    fn = UserFunction(_key(fn), param, body, fn.base, order, of)
    name = fn.name
    from . import lookup

    used = [lookup(n.name) for n in walk(body) if isinstance(n, Func)]
    positive = any(u.domain == "positive" for u in used)
    entry = Entrywise(
        name,
        lambda x, fn=fn: evaluate_body(fn, x),
        f"_u_{fn.spelled}({{0}})",
        lambda a, y, fn=fn: alg.func(derivative(fn).name, a),
        display(fn),
        rf"\operatorname{{{fn.base}}}" + "'" * fn.order,
        domain="positive" if positive else "real",
        kink=any(u.kink for u in used),
    )
    USER[name] = fn
    ENTRIES[name] = entry
    return name


def derivative(fn: UserFunction) -> UserFunction:
    """f′ as a user function, installed on first use (SymPy differentiates the body)."""
    for known in USER.values():
        if known.of == fn.body and known.param == fn.param and known.base == fn.base:
            return known
    from .sympy_bridge import differentiate

    key = install(fn.base, fn.param, differentiate(fn.body, fn.param), fn.base,
                  fn.order + 1, fn.body)
    return USER[key]


def needed(*roots: Node) -> list[UserFunction]:
    """The user functions the roots call, each after those its body calls."""
    out: list[UserFunction] = []

    def visit(name):
        fn = USER[name]
        if fn in out:
            return
        for n in walk(fn.body):
            if isinstance(n, Func) and n.name in USER:
                visit(n.name)
        out.append(fn)

    for node in walk(*roots):
        if isinstance(node, Func) and node.name in USER:
            visit(node.name)
    return out


# ---------------------------------------------------------------- NumPy


def evaluate_body(fn: UserFunction, x):
    """The body at every entry of x (the parameter bound to the whole array)."""
    from . import lookup

    np = _np()
    memo: dict = {}

    def ev(node):
        if node in memo:
            return memo[node]
        if isinstance(node, Num):
            out = float(node.value)
        elif isinstance(node, Var):
            out = x
        elif isinstance(node, Add):
            out = sum(ev(t) for t in node.terms)
        elif isinstance(node, (Scale, Had, MatMul)):
            out = np.multiply(*(ev(c) for c in node.children))
        elif isinstance(node, Div):
            out = np.divide(ev(node.left), ev(node.right))
        elif isinstance(node, Pow):
            out = np.power(ev(node.base), ev(node.exponent))
        elif isinstance(node, Fill):
            out = ev(node.value)
        elif isinstance(node, Func):
            out = lookup(node.name).numpy(ev(node.operand))
        else:
            raise AssertionError(f"{type(node).__name__} in the body of {fn.name}")
        memo[node] = out
        return out

    return np.multiply(ev(fn.body), np.ones_like(x, dtype=float))


def _constant(node: Node):
    """The float value of a body part without the parameter (sqrt(2), 1/√π), else None."""
    import math

    from . import lookup

    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Var):
        return None
    parts = [_constant(c) for c in node.children]
    if any(p is None for p in parts):
        return None
    if isinstance(node, Func):
        value = float(lookup(node.name).numpy(_np().float64(parts[0])))
    elif isinstance(node, Add):
        value = sum(parts)
    elif isinstance(node, (Scale, Had, MatMul)):
        value = math.prod(parts)
    elif isinstance(node, Div) and parts[1] != 0:
        value = parts[0] / parts[1]
    elif isinstance(node, Pow) and parts[0] > 0:
        value = parts[0] ** parts[1]
    elif isinstance(node, Fill):
        value = parts[0]
    else:
        return None
    return value if math.isfinite(value) else None


def numpy_source(fn: UserFunction, spell=None) -> str:
    """``def _u_f(t): return …`` for generated code; ``spell(op, numpy_template)`` gives a
    function's template in the library printed for (default NumPy's own). Parts without
    the parameter are numbers (√2 as 1.4142135623730951: torch.sqrt takes no float)."""
    from . import lookup

    spell = spell or (lambda op, template: template)

    def src(node) -> str:
        constant = _constant(node)
        if constant is not None:
            return repr(constant)
        if isinstance(node, Var):
            return "t"
        if isinstance(node, Add):
            return "(" + " + ".join(src(t) for t in node.terms) + ")"
        if isinstance(node, (Scale, Had, MatMul)):
            return "(" + " * ".join(src(c) for c in node.children) + ")"
        if isinstance(node, Div):
            return f"({src(node.left)} / {src(node.right)})"
        if isinstance(node, Pow):
            return f"np.power({src(node.base)}, {src(node.exponent)})"
        if isinstance(node, Fill):
            return src(node.value)
        if isinstance(node, Func):
            return spell(node.name, lookup(node.name).numpy_source).format(src(node.operand))
        raise AssertionError(type(node).__name__)

    return (f"def _u_{fn.spelled}(t):\n"
            f"    return {src(fn.body)} * np.ones_like(t, dtype=float)")


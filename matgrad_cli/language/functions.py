"""User-defined entrywise functions: the body of ``f(t) = body`` → a scalar IR expression.

SPEC §2: the body may use only its parameter, numbers and scalar functions (the entrywise
functions of the language, and user functions defined before it). Anything else — another
name, a matrix function, a norm, a transpose, ``:`` — is an error with a caret under it.
"""
from __future__ import annotations

from .. import algebra as alg
from .. import ir
from ..errors import ParseError
from ..ops import ENTRYWISE
from ..ops.user import install
from .parser import (Binary, CallExpr, FunctionDef, Name, Negate, NormExpr, NumberLit,
                     Transpose)


def build_body(fn: FunctionDef, source: str, earlier: dict) -> ir.Node:
    param = ir.Var(fn.param, ())

    def bad(message, span):
        return ParseError(f"in the body of {fn.name}({fn.param}): {message}", span, source)

    def b(node) -> ir.Node:
        if isinstance(node, NumberLit):
            return alg.num(node.value)
        if isinstance(node, Name):
            if node.name != fn.param:
                raise bad(f"'{node.name}' is not the parameter '{fn.param}' (a function's "
                          "body may use only its parameter, numbers and scalar functions)",
                          node.span)
            return param
        if isinstance(node, Negate):
            return alg.neg(b(node.operand))
        if isinstance(node, CallExpr):
            builtin = node.name in ENTRYWISE
            if builtin and len(node.args) != 1:
                raise bad(f"the two-argument {node.name} is not allowed in a function body "
                          "(use relu: max(t, 0) = relu(t))", node.name_span)
            if not (builtin or node.name in earlier):
                raise bad(f"{node.name} is not a scalar function", node.name_span)
            return alg.func(earlier.get(node.name, node.name), b(node.args[0]))
        if isinstance(node, Binary):
            left, right = b(node.left), b(node.right)
            op = node.op
            if op == "+":
                return alg.add(left, right)
            if op == "-":
                return alg.sub(left, right)
            if op in ("*", ".*"):
                return alg.scale(left, right)
            if op in ("/", "./"):
                return alg.div(left, right)
            if op in ("^", ".^"):
                return alg.power(left, right)
            raise bad(f"'{node.op_text or op}' has no meaning for scalars", node.op_span)
        if isinstance(node, Transpose):
            raise bad("a transpose has no place in a scalar function", node.span)
        if isinstance(node, NormExpr):
            raise bad("a norm has no place in a scalar function: use abs", node.span)
        raise bad("not allowed in a scalar function", node.span)

    return b(fn.body)


def install_functions(functions: tuple, source: str) -> dict:
    """Install each definition in the operation registry, in order; {name: registry key}."""
    earlier: dict = {}
    for fn in functions:
        earlier[fn.name] = install(fn.name, fn.param, build_body(fn, source, earlier))
    return earlier

"""The language's grammar (SPEC §2): what parses to what, and the exact message — source
line and caret line included — for input that does not parse or does not type-check."""
from __future__ import annotations

import json

import numpy as np
import pytest

from matgrad_cli.errors import MatgradError, ParseError, ShapeError
from matgrad_cli.language.parser import (
    Binary,
    CallExpr,
    Name,
    Negate,
    NormExpr,
    NumberLit,
    Transpose,
    parse_syntax,
)
from matgrad_cli.language.shapes import parse_program


def sexpr(node) -> str:
    """The syntax tree, fully parenthesised: ``(op left right)``."""
    if isinstance(node, NumberLit):
        return node.text
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Negate):
        return f"(neg {sexpr(node.operand)})"
    if isinstance(node, Transpose):
        return f"(T {sexpr(node.operand)})"
    if isinstance(node, NormExpr):
        sub = f"_{node.subscript}" if node.subscript else ""
        return f"(norm{sub} {sexpr(node.operand)})"
    if isinstance(node, CallExpr):
        return f"({node.name} {' '.join(sexpr(a) for a in node.args)})"
    if isinstance(node, Binary):
        return f"({node.op} {sexpr(node.left)} {sexpr(node.right)})"
    raise AssertionError(node)


def parsed(source: str) -> str:
    program = parse_syntax(source)
    defs = [f"{d.name}={sexpr(d.value)}" for d in program.definitions]
    return "; ".join(defs + [sexpr(program.expr)])


# ---------------------------------------------------------------- what parses to what

PRECEDENCE = [
    # level 1 vs 2 vs 3
    ("a + b : c", "(+ a (: b c))"),
    ("a : b + c", "(+ (: a b) c)"),
    ("a : b * c", "(: a (* b c))"),
    ("a * b : c", "(: (* a b) c)"),
    ("a - b - c", "(- (- a b) c)"),
    ("a - b + c", "(+ (- a b) c)"),
    ("a : b : c", "(: (: a b) c)"),
    # level 3: all products left to right
    ("A*B.*C", "(.* (* A B) C)"),
    ("A.*B*C", "(* (.* A B) C)"),
    ("a ./ b / c", "(/ (./ a b) c)"),
    ("a / b * c", "(* (/ a b) c)"),
    ("a ⊙ b ∘ c", "(.* (.* a b) c)"),
    ("a·b", "(* a b)"),
    # level 4 vs 5: negation is looser than powers, tighter than products
    ("-x^2", "(neg (^ x 2))"),
    ("-a*b", "(* (neg a) b)"),
    ("a*-b", "(* a (neg b))"),
    ("--a", "(neg (neg a))"),
    ("a − b", "(- a b)"),
    # level 5: powers right to left, exponent is a level-4 operand
    ("2^3^2", "(^ 2 (^ 3 2))"),
    ("a.^b.^c", "(.^ a (.^ b c))"),
    ("a^b.^c", "(^ a (.^ b c))"),
    ("2^-x^2", "(^ 2 (neg (^ x 2)))"),
    ("x.^-2", "(.^ x (neg 2))"),
    ("X^-1", "(^ X (neg 1))"),
    ("a^b*c", "(* (^ a b) c)"),
    # level 6: transpose binds tightest
    ("X'^2", "(^ (T X) 2)"),
    ("x'^2", "(^ (T x) 2)"),
    ("-x'", "(neg (T x))"),
    ("A''", "(T (T A))"),
    ("Aᵀ", "(T A)"),
    ("A.T", "(T A)"),
    ("A’", "(T A)"),
    ("A.T'", "(T (T A))"),
    ("A.T x", "(* (T A) x)"),
]


@pytest.mark.parametrize("source, tree", PRECEDENCE, ids=[s for s, _ in PRECEDENCE])
def test_precedence_and_associativity(source, tree):
    assert parsed(source) == tree


JUXTAPOSITION = [
    ("2x", "(* 2 x)"),
    ("P'P", "(* (T P) P)"),
    ("A(x+y)", "(* A (+ x y))"),
    ("2||x||^2", "(* 2 (^ (norm x) 2))"),
    ("||x|| ||y||", "(* (norm x) (norm y))"),
    ("||x||||y||", "(* (norm x) (norm y))"),
    ("‖x‖‖y‖", "(* (norm x) (norm y))"),
    ("‖x‖ ||y||", "(* (norm x) (norm y))"),
    ("2exp(x)", "(* 2 (exp x))"),
    ("2e", "(* 2 e)"),
    ("2e-3", "2e-3"),
    ("2E+x", "(+ (* 2 E) x)"),
    ("A x y", "(* (* A x) y)"),
    ("x'A x", "(* (* (T x) A) x)"),
    ("2x^2", "(* 2 (^ x 2))"),
    ("2x'", "(* 2 (T x))"),
    ("a b.^2", "(* a (.^ b 2))"),
    ("2 -x", "(- 2 x)"),
    ("2(x)", "(* 2 x)"),
    ("(x)(y)", "(* x y)"),
    ("A (x)'", "(* A (T x))"),
    ("f(x)", "(* f x)"),
    ("2.*x", "(.* 2 x)"),
    ("2.5x", "(* 2.5 x)"),
    (".5x", "(* .5 x)"),
    ("W1 x_1", "(* W1 x_1)"),
    ("λx", "λx"),
    ("λ x", "(* λ x)"),
]


@pytest.mark.parametrize("source, tree", JUXTAPOSITION, ids=[s for s, _ in JUXTAPOSITION])
def test_juxtaposition(source, tree):
    assert parsed(source) == tree


BARS = [
    ("||x||", "(norm x)"),
    ("‖x‖", "(norm x)"),
    ("||x||_1", "(norm_1 x)"),
    ("||X||_F", "(norm_F X)"),
    ("||x||_f", "(norm_F x)"),
    ("||X||_*", "(norm_* X)"),
    ("||x||_2", "(norm_2 x)"),
    ("||x||_1 ||y||_2", "(* (norm_1 x) (norm_2 y))"),
    ("||A*x - b||^2", "(^ (norm (- (* A x) b)) 2)"),
    ("||x'||", "(norm (T x))"),
    ("||x||'", "(T (norm x))"),
    ("|| ||x|| ||", "(norm (norm x))"),
    ("‖ ||x|| ‖", "(norm (norm x))"),
    ("||(x ||y||)||", "(norm (* x (norm y)))"),
    ("||exp(x)||", "(norm (exp x))"),
    ("||-x||", "(norm (neg x))"),
    ("||norm(x) y||", "(norm (* (norm x) y))"),
    ("(||x||)", "(norm x)"),
]


@pytest.mark.parametrize("source, tree", BARS, ids=[s for s, _ in BARS])
def test_norm_bars(source, tree):
    assert parsed(source) == tree


NUMBERS = [
    ("2", "2", 2), ("0.5", "0.5", 0.5), (".5", ".5", 0.5), ("1e-3", "1e-3", 1e-3),
    ("2.5E+4", "2.5E+4", 25000), ("10", "10", 10), ("3e2", "3e2", 300),
]


@pytest.mark.parametrize("source, text, value", NUMBERS, ids=[s for s, _, _ in NUMBERS])
def test_number_forms(source, text, value):
    node = parse_syntax(source).expr
    assert isinstance(node, NumberLit)
    assert node.text == text
    assert float(node.value) == value


STATEMENTS = [
    ("s = sigmoid(x); ||A*s||^2", "s=(sigmoid x); (^ (norm (* A s)) 2)"),
    ("s = sigmoid(x)\n||A*s||^2", "s=(sigmoid x); (^ (norm (* A s)) 2)"),
    ("\n\ns = x;;\n t = s'\n\nt s\n\n", "s=x; t=(T s); (* t s)"),
    ("u = (x +\n y)\nu", "u=(+ x y); u"),
    ("y = 2 # comment\n# whole-line comment\ny", "y=2; y"),
    ("kron(A, B)", "(kron A B)"),
    ("ones(m, n)", "(ones m n)"),
    ("commutation(2, 3)", "(commutation 2 3)"),
    ("sum(x ./ (1 + x))", "(sum (./ x (+ 1 x)))"),
]


@pytest.mark.parametrize("source, tree", STATEMENTS, ids=[s for s, _ in STATEMENTS])
def test_statements_and_calls(source, tree):
    assert parsed(source) == tree


def test_spans_point_into_the_source():
    source = "x'A x + 2||y||_1"
    expr = parse_syntax(source).expr
    assert source[expr.span.start:expr.span.end] == source
    assert source[expr.left.span.start:expr.left.span.end] == "x'A x"
    assert source[expr.right.right.span.start:expr.right.right.span.end] == "||y||_1"
    assert source[expr.op_span.start:expr.op_span.end] == "+"


# ---------------------------------------------------------------- errors: exact text

ERRORS = [
    ("syntax-error", "x + * y", ParseError,
     "expected an operand, found '*' (column 5)\n  x + * y\n      ^"),
    ("unexpected-end", "x +", ParseError,
     "unexpected end of input: an operand is missing (column 4)\n  x +\n     ^"),
    ("unexpected-end-of-line", "s = x +\ns", ParseError,
     "expected an operand, found end of line (column 8)\n  s = x +\n         ^"),
    ("unmatched-paren", "(x))", ParseError, "unmatched ')' (column 4)\n  (x))\n     ^"),
    ("unclosed-paren", "2*(x + y", ParseError, "unclosed '(' (column 3)\n  2*(x + y\n    ^"),
    ("unclosed-call", "exp(x", ParseError, "unclosed '(' of exp( (column 4)\n  exp(x\n     ^"),
    ("empty-parens", "2*()", ParseError, "empty parentheses (column 3)\n  2*()\n    ^^"),
    ("unclosed-norm", "||x", ParseError, "unclosed norm '||' (column 1)\n  ||x\n  ^^"),
    ("unclosed-second-norm", "||x|| ||y", ParseError,
     "unclosed norm '||' (column 7)\n  ||x|| ||y\n        ^^"),
    ("unclosed-unicode-norm", "‖x", ParseError, "unclosed norm '‖' (column 1)\n  ‖x\n  ^"),
    ("norm-bar-mismatch", "‖x||", ParseError,
     "'||' cannot close the norm opened with '‖' ('‖' pairs only with '‖', '||' only with "
     "'||') (column 3)\n  ‖x||\n    ^^"),
    ("norm-bar-mismatch-2", "||x‖", ParseError,
     "'‖' cannot close the norm opened with '||' ('‖' pairs only with '‖', '||' only with "
     "'||') (column 4)\n  ||x‖\n     ^"),
    ("empty-norm", "||||", ParseError, "empty norm (column 1)\n  ||||\n  ^^^^"),
    ("norm-closes-in-parens", "||(x||)", ParseError,
     "a norm cannot close inside parentheses it did not open (column 5)\n  ||(x||)\n      ^^"),
    ("norm-closes-outside-parens", "(||x)||", ParseError,
     "a norm cannot close inside parentheses it did not open (column 5)\n  (||x)||\n      ^"),
    ("single-bar", "|x|", ParseError,
     "a single '|' is not an operator: write ||x|| for a norm or abs(x) for absolute values "
     "(column 1)\n  |x|\n  ^"),
    ("bad-subscript", "||x||_3", ParseError,
     "a norm subscript must be _1, _2, _F or _* (column 6)\n  ||x||_3\n       ^^"),
    ("unknown-function-hint", "trace(X)", ParseError,
     "unknown function 'trace' — did you mean tr? (column 1)\n  trace(X)\n  ^^^^^"),
    ("unknown-function", "foo(x, y)", ParseError,
     "unknown function 'foo' (column 1)\n  foo(x, y)\n  ^^^"),
    ("arity-kron", "kron(A)", ParseError,
     "kron takes 2 arguments, got 1 (column 1)\n  kron(A)\n  ^^^^"),
    ("arity-sum", "1 + sum(x, 1, 2)", ParseError,
     "sum takes 1 or 2 arguments, got 3 (column 5)\n  1 + sum(x, 1, 2)\n      ^^^"),
    ("dimension-not-a-literal", "1 + sum(X, y)", ParseError,
     "the dimension k in sum(X, k) must be the number 1 (down each column) or 2 (along each "
     "row) (column 12)\n  1 + sum(X, y)\n             ^"),
    ("dimension-three", "softmax(X, 3)", ParseError,
     "the dimension k in softmax(X, k) must be the number 1 (down each column) or 2 (along "
     "each row) (column 12)\n  softmax(X, 3)\n             ^"),
    ("arity-max", "max(x)", ParseError,
     "max takes 2 arguments, got 1 (column 1)\n  max(x)\n  ^^^"),
    ("arity-ones", "ones(1, 2, 3)", ParseError,
     "ones takes 1 or 2 arguments, got 3 (column 1)\n  ones(1, 2, 3)\n  ^^^^"),
    ("no-argument", "exp()", ParseError, "exp() needs an argument (column 1)\n  exp()\n  ^^^^^"),
    ("I-size-unknown", "2*I", ShapeError,
     "cannot infer the size of I here: use eye(n) or give the shapes (column 3)\n  2*I\n    ^"),
    ("defined-twice", "s = x; s = y; s", ParseError,
     "'s' is defined twice (column 8)\n  s = x; s = y; s\n         ^"),
    ("define-function-name", "exp = x; exp", ParseError,
     "'exp' is a function and cannot be defined (column 1)\n  exp = x; exp\n  ^^^"),
    ("define-I", "I = x; I", ParseError,
     "'I' is the identity and cannot be defined (column 1)\n  I = x; I\n  ^"),
    ("used-before-definition", "t = s; s = x; t", ParseError,
     "'s' is used before its definition (column 8)\n  t = s; s = x; t\n         ^"),
    ("used-in-own-definition", "x = A*x; x'*x", ParseError,
     "'x' is used in its own definition: give the definition another name (column 7)\n"
     "  x = A*x; x'*x\n        ^"),
    ("function-name-as-value", "g(t) = t^2; sum(g(y)) + sum(g)", ParseError,
     "'g' is the function defined above, not a value: apply it, g(...) (column 29)\n"
     "  g(t) = t^2; sum(g(y)) + sum(g)\n                              ^"),
    ("vector-power-variable-exponent", "x^beta", ShapeError,
     "'^' of a vector: x is a vector of length n; use x.^beta for an entrywise power "
     "(column 2)\n  x^beta\n   ^"),
    ("definition-without-value", "s = ; s", ParseError,
     "definition of 's' has no value (column 5)\n  s = ; s\n      ^"),
    ("vector-power", "x^2 + 1", ShapeError,
     "'^' of a vector: x is a vector of length n; use x.^2 for an entrywise power or "
     "||x||^2 for the squared norm (column 2)\n  x^2 + 1\n   ^"),
    ("matrix-non-integer-power", "X^0.5", ShapeError,
     "a matrix power needs an integer exponent (X is m×n): use .^ for an entrywise power "
     "(column 2)\n  X^0.5\n   ^"),
    ("matrix-variable-power", "X^alpha", ShapeError,
     "a matrix power needs an integer exponent (X is m×n): use .^ for an entrywise power "
     "(column 2)\n  X^alpha\n   ^"),
    ("expression-then-literal", "A*B' + C^2; 1", ParseError,
     "a second expression: only the last statement is an expression, the ones before it "
     "must be definitions (NAME = expr) (column 13)\n  A*B' + C^2; 1\n              ^"),
    ("vector-exponent", "2^x", ShapeError,
     "the exponent of '^' must be a scalar, but x is a vector of length n (column 2)\n"
     "  2^x\n   ^"),
    ("slash-non-scalar", "x / y", ShapeError,
     "shape conflict in '/': x is a vector of length n but y is a vector of length m ('/' "
     "needs a scalar divisor: use './' for entrywise division) (column 3)\n  x / y\n    ^"),
    ("bad-character", "x $ y", ParseError,
     "unexpected character '$' (column 3)\n  x $ y\n    ^"),
    ("bracket", "[1, 2", ParseError,
     "unclosed '[' of a block matrix (column 1)\n  [1, 2\n  ^"),
    ("double-star", "x ** 2", ParseError,
     "'**' is not an operator: write ^ for a power (.^ entrywise) (column 3)\n  x ** 2\n    ^^"),
    ("double-equals", "x == y", ParseError,
     "'==' is not an operator: a definition is NAME = expr (column 3)\n  x == y\n    ^^"),
    ("unary-plus", "+x", ParseError, "unary '+' is not part of the language (column 1)\n  +x\n  ^"),
    ("underscore-name", "_x", ParseError,
     "a name must start with a letter (column 1)\n  _x\n  ^"),
    ("dot-T-in-name", "x.Total", ParseError,
     "unexpected character '.' (column 2)\n  x.Total\n   ^"),
    ("empty", "", ParseError, "empty expression (column 1)\n  \n  ^"),
    ("only-blanks", "  \n ", ParseError, "empty expression (column 2)\n   \n   ^"),
    ("only-definitions", "s = x", ParseError,
     "the input ends with a definition: a final expression is missing (column 6)\n"
     "  s = x\n       ^"),
    ("definition-after-final", "x + y; s = 2", ParseError,
     "a definition must come before the final expression (column 8)\n  x + y; s = 2\n"
     "         ^"),
    ("second-expression", "x\ny", ParseError,
     "a second expression: only the last statement is an expression, the ones before it "
     "must be definitions (NAME = expr) (column 1)\n  y\n  ^"),
    ("error-on-second-line", "s = x\n||s|| +", ParseError,
     "unexpected end of input: an operand is missing (column 8)\n  ||s|| +\n         ^"),
    ("size-not-integer", "ones(2.5)", ShapeError,
     "a size must be a positive integer, not 2.5 (column 6)\n  ones(2.5)\n       ^^^"),
    ("size-zero", "eye(0)", ShapeError,
     "a size must be a positive integer, not 0 (column 5)\n  eye(0)\n      ^"),
    ("size-expression", "ones(n / 2)", ShapeError,
     "the size in ones(...) must be an integer or a dimension name, or +, - and * of them "
     "(column 6)\n  ones(n / 2)\n       ^^^^^"),
    ("define-size-name", "n = 2; ones(n)", ParseError,
     "'n' is a size in eye/ones/zeros/commutation and cannot be defined: give its value "
     "with --dim n=N (column 1)\n  n = 2; ones(n)\n  ^"),
    ("size-and-value", "x'ones(n) + n", ShapeError,
     "'n' is used both as a size and as a value (column 13)\n  x'ones(n) + n\n"
     "              ^"),
    ("not-a-function-product", "f(x)", ShapeError,
     "shape conflict in the product (juxtaposition): f is a vector of length n but (x) is a "
     "vector of length m ('f' is not a function, so f(...) is a product) (column 1)\n"
     "  f(x)\n  ^^^^"),
]


@pytest.mark.parametrize("source, kind, message", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_error_message(source, kind, message):
    with pytest.raises(kind) as info:
        parse_program(source)
    assert str(info.value) == message


@pytest.mark.parametrize("source, message", [
    ("x +", "unexpected end of input: an operand is missing (column 4)\n  x +\n     ^"),
    ("x^2", "'^' of a vector: x is a vector of length n; use x.^2 for an entrywise power or "
            "||x||^2 for the squared norm (column 2)\n  x^2\n   ^"),
    ("trace(X)", "unknown function 'trace' — did you mean tr? (column 1)\n  trace(X)\n  ^^^^^"),
], ids=["parse", "shape", "unknown-function"])
@pytest.mark.parametrize("command", ["derive", "eval"])
def test_cli_reports_errors_on_stderr_with_exit_2(cli, command, source, message):
    args = [command, source] + (["--wrt", "x"] if command == "derive" else [])
    result = cli(args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"matgrad: error: {message}\n"
    assert "Traceback" not in result.output


def test_error_caret_is_under_the_operator_of_a_shape_conflict():
    with pytest.raises(ShapeError) as info:
        parse_program("A*x + y'")
    text = str(info.value)
    line, carets = text.splitlines()[1:]
    assert line[carets.index("^")] == "+"


def test_every_error_is_a_matgrad_error():
    for _, source, _, _ in ERRORS:
        with pytest.raises(MatgradError):
            parse_program(source)


# ---------------------------------------------------------------- EXPR from the CLI

def test_expression_starting_with_minus_with_or_without_double_dash(cli):
    without = cli(["eval", "-x'x", "-i", "x=2", "--format", "json"])  # SPEC §5
    assert without.exit_code == 0, without.output
    assert json.loads(without.stdout)["value"] == -4.0
    with_dash = cli(["eval", "-i", "x=2", "--format", "json", "--", "-x'x"])
    assert with_dash.exit_code == 0, with_dash.output
    assert json.loads(with_dash.stdout)["value"] == -4.0


def test_derive_expression_starting_with_minus(cli):
    result = cli(["derive", "--wrt", "x", "--format", "dsl", "--", "-||x||^2"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 1


def test_expression_from_file(cli, tmp_path):
    source = tmp_path / "f.mg"
    source.write_text("# a sigmoid layer\ns = sigmoid(x)\n||A*s||^2\n", encoding="utf-8")
    x = np.array([0.5, -1.0, 2.0])
    a = np.arange(6.0).reshape(2, 3)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "A.npy", a)
    result = cli(["eval", f"@{source}", "-i", f"x={tmp_path / 'x.npy'}",
                  "-i", f"A={tmp_path / 'A.npy'}", "--format", "json"])
    assert result.exit_code == 0, result.output
    want = np.sum((a @ (1 / (1 + np.exp(-x)))) ** 2)
    assert np.isclose(json.loads(result.stdout)["value"], want)


def test_expression_from_missing_file(cli, tmp_path):
    result = cli(["eval", f"@{tmp_path / 'nope.mg'}"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"matgrad: error: cannot read {tmp_path / 'nope.mg'}")


def test_expression_from_stdin(cli):
    result = cli(["eval", "-", "-i", "x=3", "--format", "json"], stdin="y = x^2\n2*y\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["value"] == 18.0


def test_error_in_file_points_at_its_line(cli, tmp_path):
    source = tmp_path / "bad.mg"
    source.write_text("s = x\nt = s +\n2*t\n", encoding="utf-8")
    result = cli(["derive", f"@{source}", "--wrt", "x"])
    assert result.exit_code == 2
    assert result.stderr == ("matgrad: error: expected an operand, found end of line "
                             "(column 8)\n  t = s +\n         ^\n")

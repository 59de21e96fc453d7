"""``matgrad check``: is a claimed formula ∂f/∂X?

The claim is a formula of the input language over f's variables (and sized constants),
parsed with f's shapes. It is compared with matgrad's own symbolic derivative in the
matrix form of SPEC §4 (the gradient, shaped like X, for a scalar f; otherwise the
Jacobian / vec-form Jacobian), numerically:

* on random in-domain inputs (see ``sampling``): POINTS_PER_SIZE points at each of up to
  SIZE_SETS sets of concrete sizes. The open dimensions of f get different sizes from one
  set to the next, and within a set distinct sizes (3, 4, 5, … then 4, 2, 6, … then 5, 3,
  2, …), so a formula that holds only for square matrices or equal sizes is caught.
  Sizes bound by ``--dim``/``--shape`` are kept. A set of sizes where no in-domain point
  is found (``inv(A'A)`` needs A tall) is skipped for the next candidate.
* or, with ``-i``, on the given inputs only.

Error at a point: max|claim − truth| / max(max|truth|, 1e-12); the claim is CORRECT when
the largest error over all points is at most TOLERANCE = 1e-6 (rounding gives ~1e-14 on
these well-conditioned inputs; a wrong formula is off by order 1).

When it is wrong, the table of named diagnoses in ``diagnoses`` tries, in order: the claim cannot be evaluated / is not
finite; the claim is the transpose of the derivative; the claim is c × the derivative
with the same c at every point (or c varying as a scalar variable); claim − truth is a
fixed combination of the derivatives of f's own additive terms (``f = Σ terms``, scalar
factors distributed: λ(‖W1‖² + ‖W2‖²) gives the terms λ‖W1‖² and λ‖W2‖²), so the
coefficient of one term is off; claim − truth is c × a variable (or c·s × a variable for a
scalar variable s); the claim is right only when a square matrix variable is symmetric
(``2*A*x`` for ``x'*A*x``); the claim is right at some sizes only (or only when the open
sizes are equal, e.g. square matrices); otherwise the largest error and where it occurs.
A claim of another shape is wrong with a message naming both shapes (and "the transpose of
the gradient" when its transpose matches). Errors in the claim (syntax, a name f does not
have, a shape conflict) are raised with the claim as the source, so the caret points into
the claim; a claim that uses f's definitions (``s`` in ``s = sigmoid(x); …``) without
defining them gets f's definitions put in front.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import api
from .pipeline import load_problem
from ..errors import BudgetError, EvaluationError, MatgradError, ShapeError, UsageError
from ..numeric.evaluator import evaluate
from ..ir import (Add, Frob, Node, Num, Program, Scale, depends_on, dim_symbols, dim_value,
                  walk)
from ..language.parser import Name, parse_syntax, syntax_children
from ..numeric.sampling import fill_points, size_sets
from .verdict import TOLERANCE, Verdict, _sizes_text

POINTS_PER_SIZE = 3
SIZE_SETS = 3
_FLOOR = 1e-12
_EQUAL_SIZE = 3  # the probe for "right only when the sizes are equal"
# What building a diagnosis may raise (a case the engine does not cover); never fatal.
_DIAGNOSIS_FAILURES = (MatgradError, NotImplementedError, ArithmeticError, ValueError,
                       AssertionError)


# ---------------------------------------------------------------- the claim's text

def _value_names(syntax) -> dict:
    """Names used as values (not as sizes), each with the span of its first use."""
    found: dict = {}

    def visit(node):
        if isinstance(node, Name) and node.name not in found:
            found[node.name] = node.span
        for child in syntax_children(node, into_sizes=False):
            visit(child)

    for definition in syntax.definitions:
        visit(definition.value)
    visit(syntax.expr)
    return found


def _claim_text(expr_source: str, program: Program, claim_source: str) -> str:
    """The claim, with f's definitions put in front when it uses their names (and defines
    none of them itself). Names that are neither f's variables nor defined are an error
    pointing into the claim."""
    claim_syntax = parse_syntax(claim_source)
    defined = {d.name for d in claim_syntax.definitions}
    used = _value_names(claim_syntax)
    unknown = [n for n in used if n not in program.variables and n not in defined and n != "I"]
    f_syntax = parse_syntax(expr_source)
    f_defs = [d.name for d in f_syntax.definitions]
    text = claim_source
    if any(n in f_defs for n in unknown) and not defined & set(f_defs):
        prefix = "\n".join(
            f"{d.name} = {expr_source[d.value.span.start:d.value.span.end]}"
            for d in f_syntax.definitions)
        text = prefix + "\n" + claim_source
        unknown = [n for n in unknown if n not in f_defs]
    if unknown:
        name = unknown[0]
        known = ", ".join(program.variables) or "none"
        hint = ""
        if name in f_defs:
            hint = f"; '{name}' is a definition of f: define it in the claim too"
        raise UsageError(f"the claim uses '{name}', which is not a variable of f "
                         f"(f's variables: {known}){hint}", used[name], claim_source)
    return text


# ---------------------------------------------------------------- sizes

def _dim_names(shape) -> list[str]:
    names = []
    for d in shape:
        names += dim_symbols(d)
    return names


def _open_dims(program: Program, roots: list[Node]) -> list[str]:
    found: list[str] = []
    for shape in program.variables.values():
        for name in _dim_names(shape):
            if name not in found:
                found.append(name)
    for root in roots:
        for node in walk(root):
            for name in _dim_names(node.shape):
                if name not in found:
                    found.append(name)
    return found


def _size(d, sizes: dict) -> int:
    return dim_value(d, sizes)


def _numeric_shape(shape) -> tuple:
    return tuple(int(d) for d in shape)


def describe(shape) -> str:
    """'a scalar', 'a vector of length n', 'a row vector (1×n)', 'm×n'."""
    if len(shape) == 0:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of length {_dim(shape[0])}"
    if shape[0] == 1:
        return f"a row vector (1×{_side(shape[1])})"
    return f"{_side(shape[0])}×{_side(shape[1])}"


def _dim(d) -> str:
    return str(d).replace("*", "")


def _side(d) -> str:
    """A side of m×n; a sum of sizes in parentheses: (m+p)×n."""
    text = _dim(d)
    return f"({text})" if "+" in text or "-" in text else text


def _shape_text(shape) -> str:
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return _dim(shape[0])
    return "×".join(_side(d) for d in shape)  # a tensor too: l×m×n


# ---------------------------------------------------------------- f's additive terms

@dataclass
class _Term:
    label: str
    node: Node


def _contains_add(node: Node) -> bool:
    while isinstance(node, Scale):
        node = node.operand
    return isinstance(node, Add)


def _is_negation(node: Node) -> bool:
    return isinstance(node, Num) and node.value == -1 and node.span is None


def _node_text(node: Node, source: str) -> str:
    from ..printers import to_dsl

    if node.span is not None and source and node.span.end <= len(source):
        return source[node.span.start:node.span.end].strip()
    return to_dsl(node)


def _wrapped(text: str, node: Node) -> str:
    if isinstance(node, (Add, Frob)) or text.startswith("-"):
        return f"({text})"
    return text


def additive_terms(expr: Node, source: str) -> list[_Term]:
    """f = Σ terms: sums flattened, scalar factors distributed over sums."""
    found: list[tuple[list, Node]] = []

    def expand(node: Node, factors: list):
        if isinstance(node, Add):
            for t in node.terms:
                expand(t, factors)
        elif isinstance(node, Scale) and _contains_add(node):
            expand(node.operand, factors + [node.factor])
        else:
            found.append((factors, node))

    expand(expr, [])
    terms = []
    for factors, base in found:
        sign, parts = 1, []
        for factor in factors:
            if _is_negation(factor):
                sign = -sign
            else:
                parts.append(_wrapped(_node_text(factor, source), factor))
        inner = base
        while isinstance(inner, Scale) and _is_negation(inner.factor) and inner.span is None:
            sign, inner = -sign, inner.operand
        body = _node_text(inner, source)
        if parts:
            body = "*".join(parts + [_wrapped(body, inner)])
        node = base
        for factor in reversed(factors):
            node = Scale(factor, node)
        terms.append(_Term(("-" if sign < 0 else "") + body, node))
    return terms


def _term_derivatives(program: Program, wrt: str) -> list[tuple[_Term, Node]]:
    """(term, its derivative) for the terms of f that depend on wrt."""
    out = []
    for term in additive_terms(program.expr, program.source):
        if not depends_on(term.node, wrt):
            continue
        sub = Program(program.source, term.node, program.definitions, program.variables,
                      program.dims, program.structures)
        out.append((term, api.derive(sub, [wrt]).derivatives[wrt]))
    return out


# ---------------------------------------------------------------- one set of sizes

@dataclass
class _Case:
    sizes: dict
    program: Program
    derivation: api.Derivation
    claim: Program
    points: list = field(default_factory=list)
    truths: list = field(default_factory=list)
    claims: list = field(default_factory=list)  # array, or None when it cannot be evaluated
    failure: str | None = None  # why the claim could not be evaluated
    _terms: list | None = None

    @property
    def truth_node(self) -> Node:
        return self.derivation.derivatives[self.derivation.wrt[0]]

    def errors(self) -> list[float]:
        return [_relative_error(c, t) for c, t in zip(self.claims, self.truths)]

    def terms(self):
        if self._terms is None:
            wrt = self.derivation.wrt[0]
            pairs = _term_derivatives(self.program, wrt)
            values = []
            for _, node in pairs:
                values.append([evaluate({"d": node}, p)["d"] for p in self.points])
            self._terms = values
        return self._terms


def _relative_error(claim, truth) -> float:
    if claim is None:
        return float("inf")
    claim = np.asarray(claim, dtype=float)
    truth = np.asarray(truth, dtype=float)
    if claim.shape != truth.shape:
        return float("inf")
    if not np.all(np.isfinite(claim)):
        return float("inf")
    scale = max(float(np.max(np.abs(truth), initial=0.0)), _FLOOR)
    return float(np.max(np.abs(claim - truth), initial=0.0)) / scale


class _Checker:
    def __init__(self, expr_source, wrt, claim_source, shapes, dims, inputs, seed):
        self.expr_source = expr_source
        self.wrt = wrt
        self.claim_source = claim_source
        self.shapes = dict(shapes or {})
        self.dims = dict(dims or {})
        self.rng = np.random.default_rng(seed)
        self.warnings: list[str] = []
        self.arrays = None
        if inputs:  # the same loading and name checks as matgrad eval
            problem = load_problem(expr_source, list(inputs), self.shapes, self.dims)
            self.program, self.arrays = problem.program, problem.arrays
            self.warnings += problem.warnings
        else:
            self.program = api.parse(expr_source, self.shapes, self.dims)
        api.check_wrt(self.program, [wrt])
        self.claim_text = _claim_text(expr_source, self.program, claim_source)
        self.claim_symbolic, self.claim_error = self._parse_claim_symbolic()
        self.derivation = api.derive(self.program, [wrt])
        self.bound = {**self.dims, **self.program.dims}

    # -- parsing
    def _parse_claim_symbolic(self):
        shapes = {name: self._declared(name, shape)
                  for name, shape in self.program.variables.items()
                  if not any(isinstance(d, str) and "*" in d for d in shape)}
        try:
            return api.parse(self.claim_text, shapes, {**self.dims, **self.program.dims},
                             expect=self._expected(self.program.variables[self.wrt])), None
        except ShapeError as exc:
            return None, exc

    def _expected(self, sizes) -> tuple | None:
        """The claim's shape where it is known: a gradient's is its variable's (scalar f)."""
        if self.program.expr.shape != () or any(
                isinstance(d, str) and not d.isidentifier() for d in sizes):
            return None  # (a product size m*n has no one name to unify with)
        return tuple(sizes)

    def _declared(self, name: str, sizes) -> list:
        """A variable's sizes, with its structure (sym / spd) when it has one."""
        structure = self.program.structures.get(name)
        return list(sizes) + ([structure] if structure else [])

    def build_case(self, sizes: dict) -> _Case:
        var_shapes = {name: self._declared(name, [_size(d, sizes) for d in shape])
                      for name, shape in self.program.variables.items()}
        dims = {**self.bound, **sizes}
        if sizes:
            program = api.parse(self.expr_source, {**self.shapes, **var_shapes}, dims)
            derivation = api.derive(program, [self.wrt])
        else:
            program, derivation = self.program, self.derivation
        try:
            claim = api.parse(self.claim_text, var_shapes, dims,
                              expect=self._expected([_size(d, sizes) for d in
                                                     self.program.variables[self.wrt]]))
        except ShapeError as exc:
            if self.claim_error is not None:
                raise self.claim_error from None
            raise ShapeError(f"{exc.message} — with the sizes {_sizes_text(sizes)}: the "
                             "claim's shapes fit f's only when some of these sizes are equal",
                             exc.span, exc.source) from None
        return _Case(sizes, program, derivation, claim)

    # -- sampling
    def fill(self, case: _Case, count: int) -> str | None:
        """Draw ``count`` in-domain points for the case; the reason when none is found."""
        shapes = {name: _numeric_shape(shape) for name, shape in case.program.variables.items()}
        reason = fill_points(shapes, [case.program.expr], [case.program.expr, case.claim.expr],
                             self.rng, lambda point: self.evaluate_point(case, point),
                             lambda: len(case.points) >= count, case.program.structures)
        return None if case.points else reason

    def evaluate_point(self, case: _Case, point: dict) -> str | None:
        try:
            values = evaluate({"f": case.program.expr, "t": case.truth_node}, point)
        except BudgetError:
            raise  # not a property of this point: the whole check cannot be done
        except MatgradError as exc:
            return exc.message
        if not (np.all(np.isfinite(values["f"])) and np.all(np.isfinite(values["t"]))):
            return f"f or ∂f/∂{self.wrt} is not finite"
        claim = None
        try:
            claim = evaluate({"c": case.claim.expr}, point)["c"]
        except BudgetError:
            raise
        except MatgradError as exc:
            case.failure = exc.message
        case.points.append(point)
        case.truths.append(values["t"])
        case.claims.append(claim)
        return None

    def cases(self) -> list[_Case]:
        if self.arrays is not None:
            return [self.given_case()]
        roots = [self.program.expr, self.derivation.derivatives[self.wrt]]
        if self.claim_symbolic is not None:
            roots.append(self.claim_symbolic.expr)
        open_dims = _open_dims(self.program, roots)
        if not open_dims:
            case = self.build_case({})
            reason = self.fill(case, POINTS_PER_SIZE * 2)
            if reason:
                raise self.no_points([reason])
            return [case]
        cases, reasons = [], []
        for sizes in size_sets(open_dims):
            if len(cases) == SIZE_SETS:
                break
            case = self.build_case(sizes)
            reason = self.fill(case, POINTS_PER_SIZE)
            if reason:
                reasons.append(f"{_sizes_text(sizes)}: {reason}")
            else:
                cases.append(case)
        if not cases:
            raise self.no_points(reasons)
        self.open_dims = open_dims
        return cases

    def no_points(self, reasons: list[str]) -> EvaluationError:
        last = reasons[-1] if reasons else ""
        message = (f"could not find inputs where f and ∂f/∂{self.wrt} are defined ({last}); "
                   "give inputs")
        error = EvaluationError(message)
        error.cli_message = message + " with -i NAME=FILE"
        return error

    def given_case(self) -> _Case:
        point = dict(self.arrays)
        case = self.build_case({})
        reason = self.evaluate_point(case, point)
        if reason:
            raise EvaluationError(f"at the given inputs: {reason}")
        return case


# ---------------------------------------------------------------- the check

def check_claim(expr_source: str, wrt: str, claim_source: str, shapes: dict | None = None,
                dims: dict | None = None, inputs: list[str] | None = None,
                seed: int = 0, max_memory: int | None = None) -> Verdict:
    """Decide whether ``claim_source`` is ∂f/∂``wrt`` (see the module docstring).
    ``max_memory``: the memory budget in bytes (None: the default of SPEC §5)."""
    from ..numeric.budget import limited

    with limited(max_memory):
        return _check_claim(expr_source, wrt, claim_source, shapes, dims, inputs, seed)


def _check_claim(expr_source, wrt, claim_source, shapes, dims, inputs, seed) -> Verdict:
    checker = _Checker(expr_source, wrt, claim_source, shapes, dims, inputs, seed)
    cases = checker.cases()
    verdict = _base_verdict(checker, cases)
    truth_shape = cases[0].truth_node.shape
    mismatch = next((c for c in cases if c.claim.expr.shape != c.truth_node.shape), None)
    if mismatch is not None:
        from .diagnoses import shape_diagnosis

        shape_diagnosis(checker, cases, mismatch, verdict)
        return verdict
    errors = [(e, i, j) for i, case in enumerate(cases) for j, e in enumerate(case.errors())]
    # the first point whose error is the largest up to rounding (a constant-factor error is
    # the same everywhere: which point shows it must not depend on the last bits)
    largest = max(errors, key=lambda item: item[0])
    worst, ci, pj = next((item for item in errors if item[0] >= largest[0] * (1 - 1e-9)),
                         largest)  # (nan compares false: then max's choice)
    verdict.error = worst
    verdict.correct = bool(worst <= TOLERANCE)
    if not verdict.correct:
        verdict.counterexample = dict(cases[ci].points[pj])
        verdict.worst_sizes = dict(cases[ci].sizes) or None
        from .diagnoses import diagnose

        diagnose(checker, cases, verdict, truth_shape)
    return verdict


def _base_verdict(checker: _Checker, cases: list[_Case]) -> Verdict:
    from ..language.names import text_name
    from ..printers import render_definitions, to_text
    from .render import _slice_form, convention, dsl_line, json_shape, named

    derivation, wrt = checker.derivation, checker.wrt
    whole, label, node, each = _slice_form(derivation, wrt, 1, derivation.derivatives[wrt])
    defs, names = named(derivation.program, [node])
    where = [f"{text_name(name)} = {body}"
             for name, body in render_definitions(defs, names, to_text)]
    claim_shape = (checker.claim_symbolic.expr.shape if checker.claim_symbolic is not None
                   else cases[0].claim.expr.shape)
    return Verdict(
        correct=False, wrt=wrt,
        claim="; ".join(line.strip() for line in checker.claim_source.strip().splitlines()),
        claim_shape=_shape_text(claim_shape), claim_dims=json_shape(claim_shape),
        derivative_dims=json_shape(node.shape),
        label=label,
        derivative_text=to_text(node, names), derivative_where=where,
        derivative_dsl=dsl_line(derivation, whole, wrt),
        derivative_shape=_shape_text(node.shape) + each,
        error=None,
        sizes=[dict(c.sizes) for c in cases],
        points=sum(len(c.points) for c in cases),
        inputs_given=checker.arrays is not None,
        warnings=checker.warnings,
        convention=convention(derivation, wrt),
    )

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

When it is wrong, the diagnosis tries, in order: the claim cannot be evaluated / is not
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

import json
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from . import api
from .errors import EvaluationError, MatgradError, ShapeError, UsageError
from .app import MissingInputs, as_variable
from .arrays import as_matrix
from .evaluator import evaluate
from .ir import Add, Frob, Node, Num, Program, Scale, depends_on, transpose_shape, walk
from .parser import Name, parse_syntax, syntax_children
from .sampling import analyse, draw, inadmissible

TOLERANCE = 1e-6
POINTS_PER_SIZE = 3
SIZE_SETS = 3
MAX_ATTEMPTS = 30  # random draws per set of sizes before giving up on it
_FLOOR = 1e-12
# Sizes for the open dimensions, in the order they first appear in f; one pattern per
# set of sizes. Distinct within a pattern (so m ≠ n), different across patterns; never 1
# (an n×1 matrix would read as a vector). Later patterns are fallbacks for sets where no
# in-domain point exists.
_SIZE_PATTERNS = [
    (3, 4, 5, 6, 7, 2, 8, 9),
    (4, 2, 6, 3, 5, 7, 8, 9),
    (5, 3, 2, 4, 6, 7, 8, 9),
    (2, 3, 4, 5, 6, 7, 8, 9),
    (6, 5, 4, 3, 2, 7, 8, 9),
    (3, 2, 4, 5, 6, 7, 8, 9),
]
_EQUAL_SIZE = 3  # the probe for "right only when the sizes are equal"
# What building a diagnosis may raise (a case the engine does not cover); never fatal.
_DIAGNOSIS_FAILURES = (MatgradError, NotImplementedError, ArithmeticError, ValueError,
                       AssertionError)


# ---------------------------------------------------------------- the verdict

@dataclass
class Verdict:
    correct: bool
    wrt: str
    claim: str  # the claim as given (one line)
    claim_shape: str
    label: str  # ∂f/∂X, ∂vec(f)/∂vec(X)ᵀ …
    derivative_text: str  # matgrad's derivative, Unicode text form
    derivative_where: list  # its "where" definitions (text form)
    derivative_dsl: str  # the same as an input of the language
    derivative_shape: str
    error: float | None  # largest relative error (None when the shapes differ)
    kind: str | None = None  # transpose | factor | term | variable | shape | sizes | …
    diagnosis: str | None = None
    factor: float | None = None  # for kind == 'factor'
    sizes: list = field(default_factory=list)  # one dict (dimension -> size) per set
    points: int = 0
    inputs_given: bool = False
    counterexample: dict | None = None  # the inputs at the worst point (for -o)
    worst_sizes: dict | None = None
    warnings: list = field(default_factory=list)
    tolerance: float = TOLERANCE

    @property
    def verdict(self) -> str:
        return "CORRECT" if self.correct else "WRONG"

    def sizes_text(self) -> str:
        if self.inputs_given:
            return "the given inputs"
        texts = [_sizes_text(s) for s in self.sizes]
        if texts == ["fixed"] or not texts:
            return f"fixed sizes ({self.points} random points)"
        return "; ".join(texts) + f" ({self.points} random points in all)"

    def to_text(self) -> str:
        lines = [f"warning: {w}" for w in self.warnings]
        if self.correct:
            lines.append(f"CORRECT: the claim is {self.label}")
        else:
            lines.append(f"WRONG: the claim is not {self.label}")
            if self.diagnosis:
                lines.append(f"  diagnosis: {self.diagnosis}")
        lines.append(f"  claim:    {self.claim}    ({self.claim_shape})")
        lines.append(f"  matgrad:  {self.label} = {self.derivative_text}    "
                     f"({self.derivative_shape})")
        for line in self.derivative_where:
            lines.append(f"              where {line}")
        lines.append(f"            as input: {self.derivative_dsl}")
        if self.error is not None:
            lines.append(f"  largest relative error: {_error_text(self.error)} "
                         f"(tolerance {self.tolerance:g})")
        else:
            lines.append("  largest relative error: not comparable (the shapes differ)")
        lines.append(f"  sizes tried: {self.sizes_text()}")
        if not self.correct and self.counterexample is not None and not self.inputs_given:
            where = f"at sizes {_sizes_text(self.worst_sizes)} " if self.worst_sizes else ""
            lines.append(f"  worst point: {where}(save its inputs with -o OUT.npz)")
        return "\n".join(lines)

    def to_json(self) -> str:
        finite = self.error is not None and np.isfinite(self.error)
        payload = {
            "verdict": self.verdict,
            "correct": self.correct,
            "wrt": self.wrt,
            "error": float(self.error) if finite else None,
            "tolerance": self.tolerance,
            "diagnosis": self.diagnosis,
            "diagnosis_kind": self.kind,
            "factor": self.factor,
            "claim": {"source": self.claim, "shape": self.claim_shape},
            "derivative": {"label": self.label, "dsl": self.derivative_dsl,
                           "text": self.derivative_text, "where": self.derivative_where,
                           "shape": self.derivative_shape},
            "sizes": self.sizes,
            "points": self.points,
            "inputs_given": self.inputs_given,
            "worst_sizes": self.worst_sizes,
            "warnings": self.warnings,
        }
        return json.dumps(payload, ensure_ascii=False)


def _error_text(error: float) -> str:
    return "inf (not finite)" if not np.isfinite(error) else f"{error:.2e}"


def _sizes_text(sizes: dict) -> str:
    if not sizes:
        return "fixed"
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


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
        if isinstance(d, str):
            names += [p for p in d.split("*") if not p.isdigit()]
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
    if isinstance(d, int):
        return d
    total = 1
    for part in d.split("*"):
        total *= int(part) if part.isdigit() else sizes[part]
    return total


def _numeric_shape(shape) -> tuple:
    return tuple(int(d) for d in shape)


def describe(shape) -> str:
    """'a scalar', 'a vector of length n', 'a row vector (1×n)', 'm×n'."""
    if len(shape) == 0:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of length {_dim(shape[0])}"
    if shape[0] == 1:
        return f"a row vector (1×{_dim(shape[1])})"
    return f"{_dim(shape[0])}×{_dim(shape[1])}"


def _dim(d) -> str:
    return str(d).replace("*", "")


def _shape_text(shape) -> str:
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return _dim(shape[0])
    return f"{_dim(shape[0])}×{_dim(shape[1])}"


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
    from .printers import to_dsl

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
                      program.dims)
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
        if inputs:
            from .arrays import load_inputs

            self.arrays, warnings = load_inputs(list(inputs))
            self.warnings += warnings
        array_shapes = {n: a.shape for n, a in (self.arrays or {}).items()}
        self.program = api.parse(expr_source, self.shapes, self.dims, array_shapes)
        api.check_wrt(self.program, [wrt])
        self.claim_text = _claim_text(expr_source, self.program, claim_source)
        self.claim_symbolic, self.claim_error = self._parse_claim_symbolic()
        self.derivation = api.derive(self.program, [wrt])
        self.bound = {**self.dims, **self.program.dims}

    # -- parsing
    def _parse_claim_symbolic(self):
        shapes = {name: list(shape) for name, shape in self.program.variables.items()
                  if not any(isinstance(d, str) and "*" in d for d in shape)}
        try:
            return api.parse(self.claim_text, shapes, {**self.dims, **self.program.dims}), None
        except ShapeError as exc:
            return None, exc

    def build_case(self, sizes: dict) -> _Case:
        var_shapes = {name: [_size(d, sizes) for d in shape]
                      for name, shape in self.program.variables.items()}
        dims = {**self.bound, **sizes}
        if sizes:
            program = api.parse(self.expr_source, {**self.shapes, **var_shapes}, dims)
            derivation = api.derive(program, [self.wrt])
        else:
            program, derivation = self.program, self.derivation
        try:
            claim = api.parse(self.claim_text, var_shapes, dims)
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
        f_domains = analyse([case.program.expr])
        all_domains = analyse([case.program.expr, case.claim.expr])
        reason = None
        for attempt in range(MAX_ATTEMPTS):
            if len(case.points) >= count:
                break
            point = draw(shapes, all_domains, self.rng, attempt)
            # The claim's own domain (its logs, kinks) is respected while that is easy.
            domains = all_domains if attempt < MAX_ATTEMPTS // 2 else f_domains
            reason = inadmissible(point, domains)
            if reason is None:
                reason = self.evaluate_point(case, point)
        return None if case.points else (reason or "no point found")

    def evaluate_point(self, case: _Case, point: dict) -> str | None:
        try:
            values = evaluate({"f": case.program.expr, "t": case.truth_node}, point)
        except MatgradError as exc:
            return exc.message
        if not (np.all(np.isfinite(values["f"])) and np.all(np.isfinite(values["t"]))):
            return f"f or ∂f/∂{self.wrt} is not finite"
        claim = None
        try:
            claim = evaluate({"c": case.claim.expr}, point)["c"]
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
        for pattern in _SIZE_PATTERNS:
            if len(cases) == SIZE_SETS:
                break
            sizes = {name: pattern[i] if i < len(pattern) else 2 + i % 7
                     for i, name in enumerate(open_dims)}
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
        return EvaluationError(f"could not find inputs where f and ∂f/∂{self.wrt} are defined "
                               f"({last}); give inputs with -i NAME=FILE")

    def given_case(self) -> _Case:
        arrays = self.arrays
        for name in arrays:
            if name not in self.program.variables:
                self.warnings.append(f"input {name} is not used by the expression")
        missing = [n for n in self.program.variables if n not in arrays]
        if missing:
            raise MissingInputs(missing)
        point = {name: as_variable(arrays[name], shape)
                 for name, shape in self.program.variables.items()}
        case = self.build_case({})
        reason = self.evaluate_point(case, point)
        if reason:
            raise EvaluationError(f"at the given inputs: {reason}")
        return case


# ---------------------------------------------------------------- numbers in messages

def _nice_fraction(x: float) -> Fraction | None:
    frac = Fraction(x).limit_denominator(64)
    if abs(float(frac) - x) <= 1e-6 * max(1.0, abs(x)):
        return frac
    return None


def _num(x: float) -> str:
    """0.5, -0.75, 2, 1/3 — or 6 significant digits."""
    frac = _nice_fraction(x)
    if frac is None:
        return f"{x:.6g}"
    if frac.denominator == 1:
        return str(frac.numerator)
    decimal = f"{float(frac):.6g}"
    if Fraction(decimal) == frac:
        return decimal
    return f"{frac.numerator}/{frac.denominator}"


def _consistent(values: list[float]) -> bool:
    ref = max(1.0, max(abs(v) for v in values))
    return max(values) - min(values) <= 1e-6 * ref


def _proportional(r: np.ndarray, t: np.ndarray, scale: float) -> float | None:
    """c with r ≈ c·t (relative to scale), or None."""
    tt = float(np.vdot(t, t))
    if tt == 0.0:
        return 0.0 if float(np.max(np.abs(r), initial=0.0)) <= TOLERANCE * scale else None
    c = float(np.vdot(r, t)) / tt
    if float(np.max(np.abs(r - c * t), initial=0.0)) <= TOLERANCE * scale:
        return c
    return None


# ---------------------------------------------------------------- the check

def check_claim(expr_source: str, wrt: str, claim_source: str, shapes: dict | None = None,
                dims: dict | None = None, inputs: list[str] | None = None,
                seed: int = 0) -> Verdict:
    """Decide whether ``claim_source`` is ∂f/∂``wrt`` (see the module docstring)."""
    checker = _Checker(expr_source, wrt, claim_source, shapes, dims, inputs, seed)
    cases = checker.cases()
    verdict = _base_verdict(checker, cases)
    truth_shape = cases[0].truth_node.shape
    mismatch = next((c for c in cases if c.claim.expr.shape != c.truth_node.shape), None)
    if mismatch is not None:
        _shape_diagnosis(checker, cases, mismatch, verdict)
        return verdict
    errors = [(e, i, j) for i, case in enumerate(cases) for j, e in enumerate(case.errors())]
    worst, ci, pj = max(errors, key=lambda item: item[0])
    verdict.error = worst
    verdict.correct = bool(worst <= TOLERANCE)
    if not verdict.correct:
        verdict.counterexample = dict(cases[ci].points[pj])
        verdict.worst_sizes = dict(cases[ci].sizes) or None
        _diagnose(checker, cases, verdict, truth_shape)
    return verdict


def _base_verdict(checker: _Checker, cases: list[_Case]) -> Verdict:
    from .printers import to_text
    from .render import derivative_label, dsl_line, named

    derivation, wrt = checker.derivation, checker.wrt
    node = derivation.derivatives[wrt]
    defs, names = named(derivation.program, [node])
    where = []
    for name, sub in defs:
        own = {k: v for k, v in names.items() if v != name}
        where.append(f"{name} = {to_text(sub, own)}")
    claim_shape = (checker.claim_symbolic.expr.shape if checker.claim_symbolic is not None
                   else cases[0].claim.expr.shape)
    return Verdict(
        correct=False, wrt=wrt,
        claim="; ".join(line.strip() for line in checker.claim_source.strip().splitlines()),
        claim_shape=_shape_text(claim_shape),
        label=derivative_label(derivation, wrt),
        derivative_text=to_text(node, names), derivative_where=where,
        derivative_dsl=dsl_line(derivation, node),
        derivative_shape=_shape_text(node.shape),
        error=None,
        sizes=[dict(c.sizes) for c in cases],
        points=sum(len(c.points) for c in cases),
        inputs_given=checker.arrays is not None,
        warnings=checker.warnings,
    )


def _what(derivation: api.Derivation, wrt: str) -> str:
    kind = derivation.kind(wrt)
    return {"gradient": "gradient", "derivative": "derivative", "jacobian": "Jacobian",
            "vec": "vec-form Jacobian"}[kind]


def _layout(derivation: api.Derivation, wrt: str) -> str:
    kind = derivation.kind(wrt)
    if kind == "gradient":
        return f"shaped like {wrt}"
    if kind == "derivative":
        return "shaped like f"
    if kind == "jacobian":
        return f"one row per entry of f and one column per entry of {wrt}"
    return "the Magnus–Neudecker form ∂vec(f)/∂vec(X)ᵀ, len(vec f) × len(vec X)".replace(
        "X", wrt)


def _transposed(claim, shape):
    if claim is None:
        return None
    return np.reshape(as_matrix(claim).T, shape)


def _shape_diagnosis(checker, cases, mismatch: _Case, verdict: Verdict) -> None:
    derivation, wrt = checker.derivation, checker.wrt
    what = _what(derivation, wrt)
    verdict.correct = False
    verdict.counterexample = dict(mismatch.points[0])
    verdict.worst_sizes = dict(mismatch.sizes) or None
    if checker.claim_symbolic is not None:
        claim_shape = checker.claim_symbolic.expr.shape
        truth_shape = derivation.derivatives[wrt].shape
        if claim_shape == truth_shape:  # equal only symbolically: show the numbers
            claim_shape, truth_shape = mismatch.claim.expr.shape, mismatch.truth_node.shape
    else:
        claim_shape, truth_shape = mismatch.claim.expr.shape, mismatch.truth_node.shape
    shapes = (f"the claim is {describe(claim_shape)} but {verdict.label} is "
              f"{describe(truth_shape)} ({_layout(derivation, wrt)})")
    if all(transpose_shape(c.claim.expr.shape) == c.truth_node.shape for c in cases):
        errors = [_relative_error(_transposed(cl, c.truth_node.shape), t)
                  for c in cases for cl, t in zip(c.claims, c.truths)]
        if max(errors) <= TOLERANCE:
            verdict.kind = "transpose"
            extra = ""
            if derivation.kind(wrt) == "jacobian":
                extra = (f"; matgrad's Jacobian ∂f/∂{wrt}ᵀ has one row per entry of f "
                         "(numerator layout), the claim is in gradient (denominator) layout")
            verdict.diagnosis = (f"the claim is the transpose of the {what}: {shapes}; its "
                                 f"transpose matches{extra}")
            return
    verdict.kind = "shape"
    verdict.diagnosis = shapes


def _diagnose(checker: _Checker, cases: list[_Case], verdict: Verdict, truth_shape) -> None:
    wrt, derivation = checker.wrt, checker.derivation
    what = _what(derivation, wrt)
    pairs = [(c, cl, t, p) for c in cases for cl, t, p in zip(c.claims, c.truths, c.points)]
    # (0) the claim cannot be evaluated, or is not finite, where the derivative is
    failed = [c for c in cases if c.failure]
    if failed:
        verdict.kind = "undefined"
        verdict.diagnosis = (f"the claim cannot be evaluated at inputs where {verdict.label} "
                             f"can: {failed[0].failure}")
        return
    if any(not np.all(np.isfinite(cl)) for _, cl, _, _ in pairs):
        verdict.kind = "undefined"
        verdict.diagnosis = (f"the claim is not finite (NaN or ±Inf) at inputs where "
                             f"{verdict.label} is finite")
        return
    # (1) the transpose
    if len(truth_shape) == 2 and truth_shape[0] == truth_shape[1]:
        if all(_relative_error(_transposed(cl, t.shape), t) <= TOLERANCE
               for _, cl, t, _ in pairs):
            probe = _equal_sizes_probe(checker, cases)
            if probe:
                verdict.kind = "sizes"
                verdict.diagnosis = (f"{probe}; it is the transpose of the {what}, which "
                                     "equals it only then")
                return
            verdict.kind = "transpose"
            verdict.diagnosis = (f"the claim is the transpose of the {what} (the two differ "
                                 "unless it is symmetric): transpose the claim")
            return
    # (2) a constant factor, or a factor that is a scalar variable
    scales = [max(float(np.max(np.abs(t), initial=0.0)), _FLOOR) for _, _, t, _ in pairs]
    factors = [_proportional(np.asarray(cl).ravel(), np.asarray(t).ravel(), s)
               for (_, cl, t, _), s in zip(pairs, scales)]
    # (one number at one point is always "a multiple": say nothing from so little)
    informative = sum(np.size(t) for _, _, t, _ in pairs) >= 2
    if informative and all(f is not None for f in factors):
        if _consistent(factors):
            c = float(np.mean(factors))
            verdict.kind, verdict.factor = "factor", c
            verdict.diagnosis = _factor_text(c, verdict.label)
            return
        text = _scalar_factor(checker, pairs, factors)
        if text:
            verdict.kind = "factor"
            verdict.diagnosis = text
            return
    # (3) claim − truth = a fixed combination of the derivatives of f's own terms
    text = _term_diagnosis(checker, cases, pairs, scales)
    if text:
        verdict.kind = "term"
        verdict.diagnosis = text
        return
    # (3b) claim − truth = c × a variable (or c·s × a variable)
    text = _variable_diagnosis(checker, cases, pairs, scales, truth_shape) if informative \
        else None
    if text:
        verdict.kind = "variable"
        verdict.diagnosis = text
        return
    # (4) right only for symmetric matrices (matgrad never assumes symmetry)
    text = _symmetric_diagnosis(checker, cases)
    if text:
        verdict.kind = "symmetric"
        verdict.diagnosis = text
        return
    # (5) right at some sizes only
    text = _size_diagnosis(checker, cases)
    if text:
        verdict.kind = "sizes"
        verdict.diagnosis = text
        return
    where = (" at the given inputs" if checker.arrays is not None else
             f" (worst at sizes {_sizes_text(verdict.worst_sizes)})" if verdict.worst_sizes
             else "")
    verdict.kind = "other"
    verdict.diagnosis = (f"the claim differs from {verdict.label}: largest relative error "
                         f"{_error_text(verdict.error)}{where}; no simple relation found "
                         "(transpose, constant factor, one term's coefficient)")


def _factor_text(c: float, label: str) -> str:
    if abs(c) <= 1e-9:
        return f"the claim is zero where {label} is not"
    if abs(c + 1) <= 1e-6:
        return f"the claim has the wrong sign: it is -1 × the correct derivative {label}"
    return (f"the claim is {_num(c)} × the correct derivative (off by a constant factor: "
            f"{label} = {_num(1 / c)} × the claim)")


def _scalar_factor(checker, pairs, factors) -> str | None:
    """The factor c varies between points: is it k·s or k/s for a scalar variable s?"""
    program = checker.program
    for name, shape in program.variables.items():
        if shape != ():
            continue
        values = [float(p[name]) for _, _, _, p in pairs]
        if any(v == 0 for v in values):
            continue
        times = [f / v for f, v in zip(factors, values)]
        if _consistent(times):
            k = float(np.mean(times))
            coef = "" if abs(k - 1) < 1e-9 else f"{_num(k)}·"
            return (f"the claim is {coef}{name} × the correct derivative: it has an extra "
                    f"factor {name}" + ("" if not coef else " (and a constant factor)"))
        over = [f * v for f, v in zip(factors, values)]
        if _consistent(over):
            k = float(np.mean(over))
            coef = "" if abs(k - 1) < 1e-9 else f"{_num(k)} × "
            return (f"the claim is {coef}the correct derivative divided by {name}: it misses "
                    f"a factor {name}")
    return None


def _term_diagnosis(checker, cases, pairs, scales) -> str | None:
    try:
        symbolic = _term_derivatives(checker.program, checker.wrt)
        if len(symbolic) < 2:
            return None
        per_case = [c.terms() for c in cases]
    except _DIAGNOSIS_FAILURES:  # a diagnosis is a courtesy: never fail the check on it
        return None
    if any(len(t) != len(symbolic) for t in per_case):
        return None
    rows, columns = [], [[] for _ in symbolic]
    index = 0
    for case, terms in zip(cases, per_case):
        for j in range(len(case.points)):
            w = 1.0 / scales[index]
            _, cl, t, _ = pairs[index]
            rows.append(w * (np.asarray(cl) - np.asarray(t)).ravel())
            for k, values in enumerate(terms):
                columns[k].append(w * np.asarray(values[j]).ravel())
            index += 1
    r = np.concatenate(rows)
    design = np.stack([np.concatenate(col) for col in columns], axis=1)
    if design.shape[0] < design.shape[1] + 2:
        return None
    coef, _, rank, _ = np.linalg.lstsq(design, r, rcond=None)
    if rank < design.shape[1]:
        return None
    if float(np.max(np.abs(design @ coef - r), initial=0.0)) > 10 * TOLERANCE:
        return None
    coef = [float(_nice_fraction(c)) if _nice_fraction(c) is not None else float(c)
            for c in coef]
    parts = []
    for (term, node), c in zip(symbolic, coef):
        if abs(c) <= 1e-6:
            continue
        parts.append(_term_text(checker, term, node, c))
    return "; ".join(parts) if parts else None


def _term_text(checker, term: _Term, node: Node, c: float) -> str:
    from . import algebra as alg
    from .render import dsl_line
    from .simplify import simplify

    sub = api.Derivation(checker.program, [checker.wrt], 1)
    wrt = checker.wrt
    derivative = dsl_line(sub, node)
    label = f"∂({term.label})/∂{wrt}"
    have = 1 + c
    difference, claimed = "", ""
    frac, have_frac = _nice_fraction(c), _nice_fraction(have)
    try:  # the message is a courtesy: never fail on it
        if frac is not None:
            difference = dsl_line(sub, simplify(alg.scale(alg.num(frac), node)))
        if have_frac is not None:
            claimed = dsl_line(sub, simplify(alg.scale(alg.num(have_frac), node)))
    except _DIAGNOSIS_FAILURES:
        pass
    if abs(have) <= 1e-9:
        return (f"the claim leaves out the term {term.label}: its derivative {label} = "
                f"{derivative} is missing")
    if abs(have + 1) <= 1e-9:
        return (f"the claim has the sign of the term {term.label} flipped: it has "
                f"-({derivative}) where {label} = {derivative}")
    claimed_text = f"{claimed} ({_num(have)} × that)" if claimed else \
        f"{_num(have)} × that"
    differs = f"; the claim differs from the correct derivative by {difference}" \
        if difference else ""
    return (f"the coefficient of the term {term.label} is off: {label} = {derivative}, but "
            f"the claim's matching term is {claimed_text}{differs}")


def _variable_diagnosis(checker, cases, pairs, scales, truth_shape) -> str | None:
    program = checker.program
    candidates = []
    scalars = [n for n, s in program.variables.items() if s == ()]
    for name in program.variables:
        if cases[0].program.variables[name] != truth_shape or truth_shape == ():
            continue
        candidates.append((name, None))
        candidates += [(name, s) for s in scalars]
    for name, scalar in candidates:
        cs = []
        for (_, cl, t, p), s in zip(pairs, scales):
            candidate = np.asarray(p[name], dtype=float)
            if scalar is not None:
                candidate = candidate * float(p[scalar])
            r = (np.asarray(cl) - np.asarray(t)).ravel()
            c = _proportional(r, candidate.ravel(), s)
            if c is None:
                break
            cs.append(c)
        else:
            if cs and _consistent(cs) and abs(float(np.mean(cs))) > 1e-9:
                c = float(np.mean(cs))
                term = name if scalar is None else f"{scalar}*{name}"
                amount = {"1": term, "-1": f"-{term}"}.get(_num(c), f"{_num(c)}*{term}")
                return (f"the claim differs from the correct derivative by {amount} "
                        f"(claim − {checker_label(checker)} = {amount}): a term in {term} "
                        "has the wrong coefficient, or is extra or missing")
    return None


def _symmetric_diagnosis(checker: _Checker, cases: list[_Case]) -> str | None:
    """Is the claim right when some square matrix variables are symmetric?"""
    case = cases[0]
    square = [n for n, s in case.program.variables.items() if len(s) == 2 and s[0] == s[1]]
    groups = [[n] for n in square] + ([square] if len(square) > 1 else [])
    for group in groups:
        if all(_matches_symmetrised(case, point, group) for point in case.points):
            names = " and ".join(group)
            verb = "is" if len(group) == 1 else "are"
            return (f"the claim is right only when {names} {verb} symmetric; matgrad does not "
                    "assume symmetry (its gradient is the plain, unsymmetrised one), and for a "
                    f"general {names} the claim is wrong")
    return None


def _matches_symmetrised(case: _Case, point: dict, group: list) -> bool:
    point = dict(point)
    for name in group:
        point[name] = (point[name] + point[name].T) / 2
    try:
        values = evaluate({"t": case.truth_node, "c": case.claim.expr}, point)
    except _DIAGNOSIS_FAILURES:
        return False
    if not np.all(np.isfinite(values["t"])):
        return False
    return _relative_error(values["c"], values["t"]) <= TOLERANCE


def checker_label(checker: _Checker) -> str:
    from .render import derivative_label

    return derivative_label(checker.derivation, checker.wrt)


def _size_diagnosis(checker: _Checker, cases: list[_Case]) -> str | None:
    if checker.arrays is not None:
        return None
    per_case = [max(c.errors()) for c in cases]
    good = [c for c, e in zip(cases, per_case) if e <= TOLERANCE]
    bad = [c for c, e in zip(cases, per_case) if e > TOLERANCE]
    if good and bad:
        return (f"the claim is right at sizes {_sizes_text(good[0].sizes)} but not at "
                f"{_sizes_text(bad[0].sizes)}: it holds only for some sizes")
    return _equal_sizes_probe(checker, cases)


def _equal_sizes_probe(checker: _Checker, cases: list[_Case]) -> str | None:
    """Is the claim right when all open sizes are equal (square matrices)?"""
    if checker.arrays is not None:
        return None
    open_dims = getattr(checker, "open_dims", [])
    fixed = sorted({v for v in checker.bound.values() if isinstance(v, int) and v > 1})
    if len(open_dims) + (1 if fixed and open_dims else 0) < 2:
        return None
    for value in [_EQUAL_SIZE] + fixed:
        sizes = {name: value for name in open_dims}
        try:
            case = checker.build_case(sizes)
            if checker.fill(case, POINTS_PER_SIZE) is not None:
                continue
        except _DIAGNOSIS_FAILURES:
            continue
        if case.claim.expr.shape != case.truth_node.shape:
            continue
        if max(case.errors()) <= TOLERANCE:
            names = list(open_dims) + [k for k, v in checker.bound.items()
                                       if v == value and k not in open_dims]
            return (f"the claim is right only when {' = '.join(names)} (e.g. for square "
                    f"matrices): it matches at {_sizes_text(sizes)} but not at "
                    f"{_sizes_text(cases[0].sizes)}")
    return None

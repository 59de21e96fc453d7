"""Why a claim is wrong: a table of named diagnoses (``DIAGNOSES``), each a small
function registered with its name — undefined, cookbook, plain (a symmetric variable's two
other conventions), transpose, factor, term, variable, symmetric, sizes — tried in order
by ``diagnose``; and the shape diagnosis for a claim
of another shape (``shape_diagnosis``). A diagnosis is a courtesy: building one never
fails the check.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from . import api
from ..numeric.arrays import as_matrix
from .claims import (_DIAGNOSIS_FAILURES, _EQUAL_SIZE, _FLOOR, POINTS_PER_SIZE, _Case,
                     _Checker, _relative_error, _Term, _term_derivatives, describe)
from ..numeric.evaluator import evaluate
from ..ir import Node, transpose_shape
from .verdict import TOLERANCE, Verdict, _error_text, _sizes_text


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


def shape_diagnosis(checker, cases, mismatch: _Case, verdict: Verdict) -> None:
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


@dataclass
class Evidence:
    """What every diagnosis looks at: the claim and the truth at every point."""
    checker: _Checker
    cases: list
    verdict: Verdict
    truth_shape: tuple
    pairs: list  # (case, claim value, true value, point)
    scales: list  # max|truth| per point (floored)
    factors: list  # c with claim ≈ c·truth per point, or None
    informative: bool  # enough numbers to call the claim a multiple of anything

    @property
    def what(self) -> str:
        return _what(self.checker.derivation, self.checker.wrt)


# The table of named diagnoses, tried in order; the first that recognises the error wins.
# Each takes the Evidence and returns the diagnosis text, (kind, text) to name another
# kind, or None.
DIAGNOSES: list = []


def diagnosis(kind: str):
    def register(function):
        DIAGNOSES.append((kind, function))
        return function
    return register


@diagnosis("undefined")
def claim_cannot_be_evaluated(ev: Evidence) -> str | None:
    failed = [c for c in ev.cases if c.failure]
    if failed:
        return (f"the claim cannot be evaluated at inputs where {ev.verdict.label} "
                f"can: {failed[0].failure}")
    if any(not np.all(np.isfinite(cl)) for _, cl, _, _ in ev.pairs):
        return (f"the claim is not finite (NaN or ±Inf) at inputs where "
                f"{ev.verdict.label} is finite")
    return None


def _symmetric_gradient(ev: Evidence) -> bool:
    """Is the derivative the gradient w.r.t. a declared symmetric variable?"""
    checker = ev.checker
    return (checker.wrt in checker.program.structures
            and checker.derivation.kind(checker.wrt) == "gradient")


def _answer(ev: Evidence) -> str:
    where = "".join(f" (where {w})" for w in ev.verdict.derivative_where[:1])
    return f"{ev.verdict.label} = sym(G) = {ev.verdict.derivative_text}{where}"


@diagnosis("cookbook")
def cookbook_form(ev: Evidence) -> str | None:
    """2 G − I ⊙ G: the Matrix Cookbook's partial derivatives w.r.t. the independent
    entries S_ij, i ≥ j (an off-diagonal one moves S_ij and S_ji, so it counts twice)."""
    if not _symmetric_gradient(ev):
        return None
    for _, cl, t, _ in ev.pairs:
        t = np.asarray(t, dtype=float)
        if _relative_error(cl, 2 * t - np.diag(np.diag(t))) > TOLERANCE:
            return None
    wrt = ev.checker.wrt
    return (f"this is the Matrix Cookbook's independent-entries form 2G − I ⊙ G (the "
            f"partial derivatives w.r.t. {wrt}_ij, i ≥ j, off-diagonal entries counted "
            f"twice); as a gradient on symmetric matrices the answer is {_answer(ev)}, "
            "i.e. (claim + I ⊙ claim)/2")


@diagnosis("plain")
def plain_gradient(ev: Evidence) -> str | None:
    """G with sym(G) right: the plain gradient of one way of writing f (tr(A S) has
    G = Aᵀ, tr(Sᵀ A) has G = A; both have sym(G) = (A + Aᵀ)/2)."""
    if not _symmetric_gradient(ev):
        return None
    for _, cl, t, _ in ev.pairs:
        cl = np.asarray(cl, dtype=float)
        if _relative_error((cl + cl.T) / 2, t) > TOLERANCE:
            return None
    wrt = ev.checker.wrt
    return (f"this is a plain (unsymmetrised) gradient G of one way of writing f, as "
            f"jax.grad or matrixcalculus.org give it for a general {wrt}; on symmetric "
            f"matrices it is not unique, and the gradient is {_answer(ev)}, "
            "i.e. (claim + claimᵀ)/2")


@diagnosis("transpose")
def transpose(ev: Evidence):
    shape = ev.truth_shape
    if not (len(shape) == 2 and shape[0] == shape[1]):
        return None
    if not all(_relative_error(_transposed(cl, t.shape), t) <= TOLERANCE
               for _, cl, t, _ in ev.pairs):
        return None
    probe = _equal_sizes_probe(ev.checker, ev.cases)
    if probe:
        return "sizes", (f"{probe}; it is the transpose of the {ev.what}, which equals it "
                         "only then")
    return (f"the claim is the transpose of the {ev.what} (the two differ unless it is "
            "symmetric): transpose the claim")


@diagnosis("factor")
def constant_factor(ev: Evidence) -> str | None:
    if not (ev.informative and all(f is not None for f in ev.factors)):
        return None
    if _consistent(ev.factors):
        c = float(np.mean(ev.factors))
        ev.verdict.factor = c
        return _factor_text(c, ev.verdict.label)
    return _scalar_factor(ev.checker, ev.pairs, ev.factors)


@diagnosis("term")
def term_coefficient(ev: Evidence) -> str | None:
    return _term_diagnosis(ev.checker, ev.cases, ev.pairs, ev.scales)


@diagnosis("variable")
def variable_term(ev: Evidence) -> str | None:
    if not ev.informative:
        return None
    return _variable_diagnosis(ev.checker, ev.cases, ev.pairs, ev.scales, ev.truth_shape)


@diagnosis("symmetric")
def symmetric_only(ev: Evidence) -> str | None:
    return _symmetric_diagnosis(ev.checker, ev.cases)


@diagnosis("sizes")
def some_sizes_only(ev: Evidence) -> str | None:
    return _size_diagnosis(ev.checker, ev.cases)


def diagnose(checker: _Checker, cases: list[_Case], verdict: Verdict, truth_shape) -> None:
    """Set verdict.kind and verdict.diagnosis from the first diagnosis in the table that
    recognises how the claim is wrong."""
    pairs = [(c, cl, t, p) for c in cases for cl, t, p in zip(c.claims, c.truths, c.points)]
    scales = [max(float(np.max(np.abs(t), initial=0.0)), _FLOOR) for _, _, t, _ in pairs]
    failed = any(c.failure for c in cases) or any(
        not np.all(np.isfinite(cl)) for _, cl, _, _ in pairs)
    factors = [] if failed else [
        _proportional(np.asarray(cl).ravel(), np.asarray(t).ravel(), s)
        for (_, cl, t, _), s in zip(pairs, scales)]
    # (one number at one point is always "a multiple": say nothing from so little)
    informative = sum(np.size(t) for _, _, t, _ in pairs) >= 2
    ev = Evidence(checker, cases, verdict, truth_shape, pairs, scales, factors, informative)
    for kind, function in DIAGNOSES:
        found = function(ev)
        if found:
            verdict.kind, verdict.diagnosis = found if isinstance(found, tuple) else \
                (kind, found)
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
    from .. import algebra as alg
    from .render import dsl_line
    from ..simplify import simplify

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
    square = [n for n, s in case.program.variables.items() if len(s) == 2 and s[0] == s[1]
              and n not in case.program.structures]  # a declared one is drawn symmetric
    groups = [[n] for n in square] + ([square] if len(square) > 1 else [])
    for group in groups:
        if all(_matches_symmetrised(case, point, group) for point in case.points):
            names = " and ".join(group)
            verb = "is" if len(group) == 1 else "are"
            return (f"the claim is right only when {names} {verb} symmetric; matgrad does not "
                    "assume symmetry (its gradient is the plain, unsymmetrised one), and for a "
                    f"general {names} the claim is wrong; if {names} {verb} symmetric in your "
                    "problem, declare it (a shape n,n,sym)")
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

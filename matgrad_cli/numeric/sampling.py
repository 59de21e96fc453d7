"""Random inputs inside the domain of an expression, for ``matgrad check``.

The rules are simple and read off the expression tree (f and the claim together):

* positive — a variable anywhere inside the argument of a function with domain
  'positive' (``log``, ``sqrt``) or inside the base of a power whose exponent is not an
  integer literal (``x.^0.5``, ``A.^p``) gets entries drawn uniformly from [0.5, 2]
  (every other retry from [0.1, 0.9], for arguments such as ``log(1 - x)``).
* nonzero — a variable inside the argument of a function with a kink (``abs``, ``sign``,
  ``relu``, ``step``, ``||·||_1``), inside a denominator, inside the base of a negative
  integer power, or a scalar under ``inv``/``det``/``logdet`` gets entries of random sign
  with magnitude uniform in [0.2, 1].
* conditioned — a square matrix variable inside the argument of ``inv``, ``det``,
  ``logdet`` or a negative matrix power gets n·I added (n its size): the random part is
  at most 1 in magnitude per entry, so the matrix is far from singular.
* spd — a square matrix variable that is the argument of ``chol``, or a term of the sum
  that is (K in ``chol(K + σ² I)``), is drawn symmetric positive definite, V Vᵀ/n + I
  (V standard normal); any other argument (``chol(X'X + I)``) only has to be positive
  definite at the drawn point.
* small — a variable inside the argument of ``arcsin``/``arccos`` (domain −1 < t < 1) or
  ``log1p`` (t > −1) gets entries uniform in [−0.5, 0.5] (every other retry [−0.2, 0.2]),
  of magnitude at least 0.05 when it is also nonzero, within [0.1, 0.5] when also positive.
* anything else: standard normal entries.
* a variable declared symmetric is then symmetrised, (V + Vᵀ)/2, and one declared SPD
  also shifted along its diagonal to a smallest eigenvalue in [0.5, 1.5].

A drawn point is then *admissible* only when every such argument, evaluated as a whole
(``P'P - I``, ``1 + x'x``), has no entry within 1e-3 of zero (kinks, denominators), is
positive beyond 1e-3 (log, sqrt, fractional powers), inside (−1, 1) or above −1 by more than
1e-3 (arcsin, arccos; log1p) or, for the matrices under
inv/det/logdet, has a condition number below 1e8. ``fill_points`` retries up to MAX_ATTEMPTS times.

``size_sets`` gives the sets of concrete sizes ``matgrad check`` tries for the open
dimensions (see ``claims``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import BudgetError, MatgradError
from .evaluator import evaluate
from .structure import draw_structured
from ..ops import lookup
from ..ir import Call, Div, Fill, Func, MatPow, Node, Num, Pow, free_vars, walk

POSITIVE_RANGE = (0.5, 2.0)
POSITIVE_RANGE_ALT = (0.1, 0.9)
NONZERO_RANGE = (0.2, 1.0)
SMALL_RANGE = (-0.5, 0.5)
SMALL_RANGE_ALT = (-0.2, 0.2)
KINK_MARGIN = 1e-3  # no kinked argument, denominator or log argument this close to zero
MAX_CONDITION = 1e8  # matrices under inv/det/logdet

MAX_ATTEMPTS = 30  # random draws per set of sizes before giving up on it
# Sizes for the open dimensions, in the order they first appear in f; one pattern per
# set of sizes. Distinct within a pattern (so m ≠ n), different across patterns; never 1
# (an n×1 matrix would read as a vector). Later patterns are fallbacks for sets where no
# in-domain point exists.
SIZE_PATTERNS = [
    (3, 4, 5, 6, 7, 2, 8, 9),
    (4, 2, 6, 3, 5, 7, 8, 9),
    (5, 3, 2, 4, 6, 7, 8, 9),
    (2, 3, 4, 5, 6, 7, 8, 9),
    (6, 5, 4, 3, 2, 7, 8, 9),
    (3, 2, 4, 5, 6, 7, 8, 9),
]



@dataclass
class Domains:
    """What the variables of an expression need, and the arguments to check."""

    positive: set = field(default_factory=set)
    nonzero: set = field(default_factory=set)
    conditioned: set = field(default_factory=set)
    small: set = field(default_factory=set)
    spd: set = field(default_factory=set)  # square matrices drawn SPD (chol's argument)
    # (kind, node): 'positive' | 'nonzero' | 'invertible' | 'unit' | 'above_minus_one' | 'spd'
    checks: list = field(default_factory=list)

    def add(self, kind: str, node: Node, variables: set | None = None) -> None:
        if variables is None and not free_vars(node):
            return  # a constant (the π = arccos(−1) of erf′): no draw can move it
        if (kind, node) not in self.checks:
            self.checks.append((kind, node))
        names = free_vars(node) if variables is None else variables
        if kind == "spd":
            self.spd.update(_spd_terms(node))
            return
        {"positive": self.positive, "nonzero": self.nonzero, "invertible": self.conditioned,
         "unit": self.small, "above_minus_one": self.small}[kind].update(names)


def _spd_terms(node: Node) -> set:
    """The square matrix variables drawn SPD for chol(node): node itself, or a term of the
    sum it is (K in chol(K + σ² I)); the parts of any other argument (X in X'X + I) stay
    normal, and the drawn point is then checked."""
    from ..ir import Add, Var

    terms = node.terms if isinstance(node, Add) else (node,)
    return {t.name for t in terms if isinstance(t, Var) and len(t.shape) == 2}


def _integer_literal(node: Node) -> int | None:
    if isinstance(node, Num) and node.value.denominator == 1:
        return int(node.value)
    return None


def analyse(roots: list[Node]) -> Domains:
    """The domain needs of every variable in ``roots`` (f and the claim)."""
    domains = Domains()
    for root in roots:
        for node in walk(root):
            if isinstance(node, Func):
                entry = lookup(node.name)
                if entry.domain != "real":
                    domains.add(entry.domain, node.operand)
                if entry.kink:
                    domains.add("nonzero", node.operand)
            elif isinstance(node, Call) and lookup(node.name).kink is not None:
                domains.add("nonzero", lookup(node.name).kink(node))
            elif isinstance(node, Call) and lookup(node.name).domain != "real":
                domains.add(lookup(node.name).domain, node.args[0])
            elif isinstance(node, MatPow) and node.k < 0:
                domains.add("invertible", node.base)
            elif isinstance(node, Pow):
                k = _integer_literal(node.exponent)
                if k is None:
                    domains.add("positive", node.base)
                elif k < 0:
                    domains.add("nonzero", node.base)
            elif isinstance(node, Div):
                right = node.right.value if isinstance(node.right, Fill) else node.right
                if free_vars(right):
                    domains.add("nonzero", right)
    return domains


def draw(shapes: dict, domains: Domains, rng: np.random.Generator, attempt: int = 0,
         structures: dict | None = None) -> dict:
    """One random point: name -> array of the given NumPy shape, following the rules above;
    a variable declared symmetric (positive definite) is drawn so (numeric/structure.py)."""
    point = {}
    structures = structures or {}
    for name, shape in shapes.items():
        shape = tuple(shape)
        if name in domains.small:
            lo, hi = SMALL_RANGE if attempt % 2 == 0 else SMALL_RANGE_ALT
            if name in domains.positive:
                value = rng.uniform(0.1, hi, shape)
            elif name in domains.nonzero:
                value = rng.uniform(0.05, hi, shape) * rng.choice([-1.0, 1.0], shape)
            else:
                value = rng.uniform(lo, hi, shape)
        elif name in domains.positive:
            lo, hi = POSITIVE_RANGE if attempt < 4 or attempt % 2 == 0 else POSITIVE_RANGE_ALT
            value = rng.uniform(lo, hi, shape)
        elif name in domains.nonzero or (name in domains.conditioned and shape == ()):
            value = rng.uniform(*NONZERO_RANGE, shape) * rng.choice([-1.0, 1.0], shape)
        else:
            value = rng.standard_normal(shape)
        if name in domains.conditioned and len(shape) == 2 and shape[0] == shape[1]:
            value = value + shape[0] * np.eye(shape[0])
        if name in domains.spd and len(shape) == 2 and shape[0] == shape[1]:
            value = value @ value.T / shape[0] + np.eye(shape[0])
        if name in structures and len(shape) == 2:
            value = draw_structured(value, structures[name], rng)
        point[name] = np.asarray(value, dtype=float)
    return point


def inadmissible(point: dict, domains: Domains) -> str | None:
    """Why ``point`` is outside the domain (a short reason), or None when it is fine."""
    if not domains.checks:
        return None
    outputs = {f"a{i}": node for i, (_, node) in enumerate(domains.checks)}
    try:
        values = evaluate(outputs, point)
    except BudgetError:
        raise
    except MatgradError as exc:
        return exc.message
    for i, (kind, _) in enumerate(domains.checks):
        value = np.asarray(values[f"a{i}"])
        if not np.all(np.isfinite(value)):
            return "an argument is not finite"
        if kind == "positive" and np.min(value, initial=np.inf) <= KINK_MARGIN:
            return "an argument of log/sqrt/a power is not positive"
        if kind == "unit" and np.max(np.abs(value), initial=0.0) >= 1 - KINK_MARGIN:
            return "an argument of arcsin/arccos is not inside (−1, 1)"
        if kind == "above_minus_one" and np.min(value, initial=np.inf) <= -1 + KINK_MARGIN:
            return "an argument of log1p is not above −1"
        if kind == "nonzero" and np.min(np.abs(value), initial=np.inf) <= KINK_MARGIN:
            return "an argument is at (or near) a kink or a zero denominator"
        if kind == "spd" and value.ndim == 2 and \
                np.linalg.eigvalsh((value + value.T) / 2)[0] <= KINK_MARGIN:
            return "an argument of chol is not positive definite"
        if kind == "invertible":
            if value.ndim == 2:
                if np.linalg.cond(value) > MAX_CONDITION:
                    return "a matrix under inv/det/logdet is (nearly) singular"
            elif np.min(np.abs(value), initial=np.inf) <= KINK_MARGIN:
                return "a scalar under inv/det/logdet is (nearly) zero"
    return None


def size_sets(open_dims: list[str]):
    """One dict (dimension -> size) per pattern of SIZE_PATTERNS, in order."""
    for pattern in SIZE_PATTERNS:
        yield {name: pattern[i] if i < len(pattern) else 2 + i % 7
               for i, name in enumerate(open_dims)}


def fill_points(shapes: dict, f_roots: list[Node], all_roots: list[Node], rng, accept,
                enough, structures: dict | None = None) -> str | None:
    """Draw points until ``enough()``; ``accept(point)`` takes an admissible point and
    returns None or why it was refused. The domains of all_roots (f and the claim) are
    respected for the first half of the attempts, then only those of f_roots. Returns the
    last reason a point was refused ("no point found" when there was none)."""
    f_domains = analyse(f_roots)
    all_domains = analyse(all_roots)
    reason = None
    for attempt in range(MAX_ATTEMPTS):
        if enough():
            break
        point = draw(shapes, all_domains, rng, attempt, structures)
        domains = all_domains if attempt < MAX_ATTEMPTS // 2 else f_domains
        reason = inadmissible(point, domains)
        if reason is None:
            reason = accept(point)
    return reason or "no point found"

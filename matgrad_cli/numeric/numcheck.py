"""Numerical checks of symbolic derivatives: central finite differences at a point, and
the kink warnings of ``eval``.

The error reported is max|D − D_fd| / (max|D_fd| + 1e-6·(1 + max|f|)): relative where the
derivative is sizeable, absolute (scaled to f) where it is near zero, so an exactly zero
derivative does not fail on rounding noise. TOLERANCE is far above the error of a central
difference with a step of 6e-6·max(1, |x|) on well-scaled inputs (about 1e-9) and far
below the error of a wrong formula (order 1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..app.api import Derivation, output_arrays
from .evaluator import compile_plan, evaluate, run_plan
from ..ops import ENTRYWISE, lookup
from ..ir import Call, Func, walk

TOLERANCE = 1e-4
_STEP = 6e-6
_MAX_COORDINATES = 64  # above this many entries, check random directions instead
_DIRECTIONS = 24


@dataclass(frozen=True)
class CheckResult:
    output: str  # grad_x / hess_x
    error: float
    checked: str  # "all 12 entries" / "24 random directions"

    @property
    def ok(self) -> bool:
        return bool(self.error <= TOLERANCE)


def _directions(shape, rng, symmetric: bool = False):
    size = int(np.prod(shape)) if shape else 1
    if symmetric:  # a symmetric variable moves only in symmetric directions
        from .structure import symmetric_directions

        n = shape[0]
        basis = n * (n + 1) // 2 <= _MAX_COORDINATES
        kind = "symmetric coordinate" if basis else "symmetric direction"
        for v in symmetric_directions(n, None if basis else _DIRECTIONS, rng):
            yield v, kind
        return
    if size <= _MAX_COORDINATES:
        for i in range(size):
            e = np.zeros(size)
            e[i] = 1.0
            yield e.reshape(shape, order="F"), "coordinate"
    else:
        for _ in range(_DIRECTIONS):
            v = rng.standard_normal(size)
            yield (v / np.linalg.norm(v)).reshape(shape, order="F"), "direction"


def _central(fn, arrays, name, direction):
    x = arrays[name]
    h = _STEP * max(1.0, float(np.max(np.abs(x))) if np.size(x) else 1.0)
    plus = fn({**arrays, name: x + h * direction})
    minus = fn({**arrays, name: x - h * direction})
    return (plus - minus) / (2 * h)


def check(derivation: Derivation, arrays: dict, values: dict, seed: int = 0) -> list[CheckResult]:
    """Compare every evaluated derivative in ``values`` with central differences."""
    with np.errstate(all="ignore"):
        return _check(derivation, arrays, values, seed)


def _check(derivation: Derivation, arrays: dict, values: dict, seed: int) -> list[CheckResult]:
    rng = np.random.default_rng(seed)
    f_plan = compile_plan({"value": derivation.program.expr})
    f_value = np.asarray(values["value"])
    floor = 1e-6 * (1.0 + float(np.max(np.abs(f_value))) if f_value.size else 1.0)
    results = []
    structures = derivation.program.structures
    for name in derivation.wrt:
        x_shape = np.shape(arrays[name])
        targets = [("grad_" + name, lambda a: run_plan(f_plan, a)["value"],
                    values["grad_" + name], f_value.shape)]
        if derivation.order == 2:
            g_plan = compile_plan({"g": output_arrays(derivation)["grad_" + name]})
            grad_shape = tuple(int(d) for d in derivation.program.variables[name])

            def gradient(a, plan=g_plan, shape=grad_shape):
                return np.reshape(run_plan(plan, a)["g"], shape, order="F")

            if name in derivation.hessians:
                targets.append(("hess_" + name, gradient, values["hess_" + name], x_shape))
            if name in derivation.hvps:
                targets.append(("hvp_" + name, gradient, None, x_shape))
        for (x, y) in derivation.mixed:
            if y == name:  # ∂²f/∂x∂yᵀ: the gradient w.r.t. x, differentiated along y
                g_plan = compile_plan({"g": output_arrays(derivation)["grad_" + x]})
                x_grad_shape = tuple(int(d) for d in derivation.program.variables[x])

                def x_gradient(a, plan=g_plan, shape=x_grad_shape):
                    return np.reshape(run_plan(plan, a)["g"], shape, order="F")

                targets.append((f"hess_{x}_{y}", x_gradient, values[f"hess_{x}_{y}"],
                                x_grad_shape))
        for output, fn, symbolic, out_shape in targets:
            if output.startswith("hvp_"):
                results.append(_check_hvp(name, fn, arrays, values, floor, structures))
                continue
            sym = np.reshape(symbolic, (int(np.prod(out_shape)), -1), order="F")
            worst, scale, kind = 0.0, 0.0, "coordinate"
            count = 0
            for direction, kind in _directions(x_shape, rng, name in structures):
                fd = np.ravel(_central(fn, arrays, name, direction), order="F")
                predicted = sym @ np.ravel(direction, order="F")
                worst = max(worst, float(np.max(np.abs(predicted - fd), initial=0.0)))
                scale = max(scale, float(np.max(np.abs(fd), initial=0.0)))
                count += 1
            if output.startswith("grad_") and name in structures and \
                    derivation.kind(name) == "gradient":
                # sym(G) itself must be symmetric: the directions above see only its
                # symmetric part
                g = np.asarray(symbolic)
                worst = max(worst, float(np.max(np.abs(g - g.T), initial=0.0)))
            error = worst / (scale + floor)
            what = (f"all {count} entries of {name}" if kind == "coordinate"
                    else f"all {count} symmetric directions E_ii, (E_ij + E_ji)/√2"
                    if kind == "symmetric coordinate"
                    else f"{count} random {'symmetric ' if name in structures else ''}"
                         "directions")
            results.append(CheckResult(output, error, what))
    return results


def _check_hvp(name, gradient, arrays, values, floor, structures) -> CheckResult:
    """H·v against the central difference of the gradient along v itself."""
    from ..app.api import HVP_DIRECTION

    v = arrays[HVP_DIRECTION]
    if name in structures:  # H·v = H·sym(v) on the symmetric space
        v = (v + v.T) / 2
    point = {k: a for k, a in arrays.items() if k != HVP_DIRECTION}
    fd = _central(gradient, point, name, v)
    got = values["hvp_" + name]
    error = float(np.max(np.abs(got - fd), initial=0.0)) / (
        float(np.max(np.abs(fd), initial=0.0)) + floor)
    return CheckResult("hvp_" + name, error, "along the given direction")


_KINKED = {name for name, e in ENTRYWISE.items() if e.kink}


def kink_warnings(derivation: Derivation, arrays: dict, values: dict | None = None
                  ) -> list[str]:
    """Arguments of relu/abs/sign/step/‖·‖₁ that sit exactly on a kink at this point. A
    zero norm is only worth a warning when it made a derivative in ``values`` non-finite
    (‖x‖² at x = 0 is smooth: its gradient 2x is right there)."""
    derivatives_finite = values is not None and all(
        np.all(np.isfinite(v)) for k, v in values.items() if k != "value")
    watched = {}
    for node in walk(derivation.program.expr):
        if isinstance(node, Func) and node.name in _KINKED:
            watched[f"{node.name}"] = watched.get(node.name, []) + [node.operand]
        elif isinstance(node, Call) and node.name == "norm1" or (
                isinstance(node, Call) and node.name == "norm" and not derivatives_finite):
            watched[node.name] = watched.get(node.name, []) + [node.args[0]]
        elif isinstance(node, Call) and lookup(node.name).kink is not None:
            watched[node.name] = watched.get(node.name, []) + [lookup(node.name).kink(node)]
    warnings = []
    for name, arguments in watched.items():
        values = evaluate({f"a{i}": a for i, a in enumerate(arguments)}, arrays)
        for value in values.values():
            if name == "norm":
                on_kink = not np.any(value)
            else:
                on_kink = bool(np.any(value == 0))
            if on_kink and name in ("max", "min"):
                warnings.append(f"warning: the two arguments of {name} are equal in some "
                                "entries at this point: the derivative does not exist there "
                                "(it is taken to go to the first argument)")
                break
            if on_kink:
                label = {"norm1": "||·||_1", "norm": "a norm"}.get(name, name)
                what = "is zero" if name == "norm" else "has zero entries"
                rule = {"relu": "relu'(0) = step(0) = 0", "abs": "abs'(0) = sign(0) = 0",
                        "norm1": "sign(0) = 0", "norm": "the gradient is NaN there"}.get(
                    name, "the derivative is taken as 0")
                warnings.append(f"warning: the argument of {label} {what} at this point: "
                                f"the derivative does not exist there ({rule})")
                break
    return warnings


# The matrix functions whose derivative needs a spectral gap (ops/matrix_functions.py):
# the argument's name in the warning, and the singular or eigen values that must not meet.
_GAP_FUNCTIONS = {"eigvals": "eigenvalues", "eigvecs": "eigenvalues",
                  "spectral_norm": "largest singular value", "nuclear_norm": "rank"}
GAP_TOLERANCE = 1e-10  # relative to the largest magnitude


def spectral_warnings(derivation: Derivation, arrays: dict) -> list[str]:
    """Arguments of eigvals/eigvecs with (numerically) repeated eigenvalues, of ‖X‖₂ whose
    largest singular value is repeated, of ‖X‖_* of deficient rank, at this point: the
    derivative does not exist there, and the number printed is one of many."""
    nodes = [n for n in walk(derivation.program.expr)
             if isinstance(n, Call) and n.name in _GAP_FUNCTIONS and len(n.args[0].shape) == 2]
    if not nodes:
        return []
    args = evaluate({f"a{i}": n.args[0] for i, n in enumerate(nodes)}, arrays)
    warnings = []
    for i, node in enumerate(nodes):
        a = np.asarray(args[f"a{i}"], dtype=float)
        if not np.all(np.isfinite(a)):
            continue  # reported as a non-finite result already
        if node.name in ("eigvals", "eigvecs"):
            values = np.linalg.eigvalsh((a + a.T) / 2)
            scale = max(float(np.max(np.abs(values))), 1e-300)
            bad = values.size > 1 and float(np.min(np.diff(values))) <= GAP_TOLERANCE * scale
            what = f"the eigenvalues of the argument of {node.name} are not distinct"
        else:
            sigma = np.linalg.svd(a, compute_uv=False)
            scale = max(float(sigma[0]), 1e-300)
            if node.name == "spectral_norm":
                bad = sigma.size > 1 and sigma[0] - sigma[1] <= GAP_TOLERANCE * scale
                what = "the largest singular value of the argument of ||·||_2 is not simple"
            else:
                bad = float(sigma[-1]) <= GAP_TOLERANCE * scale
                what = "the argument of ||·||_* does not have full rank"
        message = (f"warning: {what} at this point: the derivative does not exist there "
                   "(the value shown is one of its one-sided limits or subgradients)")
        if bad and message not in warnings:
            warnings.append(message)
    return warnings

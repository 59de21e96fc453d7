"""Inputs for symmetric / SPD variables (``--shape S=n,n,sym|spd``): checked, symmetrised,
and drawn at random.

A derivative w.r.t. a symmetric S (diff/symmetric.py) is only meaningful at symmetric
points (the simplifier used Sᵀ = S), so an input that is not exactly symmetric is
evaluated at (S + Sᵀ)/2, with a warning naming the largest asymmetry when it is more than
rounding; an ``spd`` input that is not positive definite gets a warning naming its
smallest eigenvalue (it is still evaluated: log|det S| and S⁻¹ may exist there).
"""
from __future__ import annotations

import numpy as np

# asymmetry below this (relative to max|S|) is rounding, not worth a warning
ROUNDING = 1e-12


def symmetrised(name: str, array: np.ndarray, structure: str) -> tuple[np.ndarray, list[str]]:
    """(S + Sᵀ)/2 and the warnings about S."""
    array = np.asarray(array, dtype=float)
    warnings = []
    asymmetry = np.abs(array - array.T)
    worst = float(np.max(asymmetry, initial=0.0))
    scale = max(1.0, float(np.max(np.abs(array), initial=0.0)))
    if worst > ROUNDING * scale or not np.isfinite(worst):
        i, j = np.unravel_index(int(np.argmax(asymmetry)), asymmetry.shape)
        warnings.append(f"{name} is declared {_WORDS[structure]} but is not symmetric: the "
                        f"largest asymmetry is |{name}[{i},{j}] − {name}[{j},{i}]| = "
                        f"{worst:.3g}; evaluating at ({name} + {name}ᵀ)/2")
    array = (array + array.T) / 2
    if structure == "spd" and np.all(np.isfinite(array)):
        smallest = float(np.linalg.eigvalsh(array)[0])
        if smallest <= 0:
            warnings.append(f"{name} is declared symmetric positive definite but its smallest "
                            f"eigenvalue is {smallest:.3g}")
    return array, warnings


_WORDS = {"sym": "symmetric", "spd": "symmetric positive definite"}


def draw_structured(value: np.ndarray, structure: str, rng: np.random.Generator) -> np.ndarray:
    """A drawn square matrix made symmetric (entries keep their range), and for ``spd``
    shifted along the diagonal so that its smallest eigenvalue lies in [0.5, 1.5]."""
    value = (value + value.T) / 2
    if structure == "spd":
        smallest = float(np.linalg.eigvalsh(value)[0])
        value = value + (rng.uniform(0.5, 1.5) - min(smallest, 0.0)) * np.eye(len(value))
    return value


def symmetric_directions(n: int, count: int | None, rng: np.random.Generator):
    """Unit symmetric directions: the basis E_ii, (E_ij + E_ji)/√2 (count None), or
    ``count`` random ones."""
    if count is None:
        for j in range(n):
            for i in range(j, n):
                e = np.zeros((n, n))
                e[i, j] = e[j, i] = 1.0
                yield e / np.linalg.norm(e)
        return
    for _ in range(count):
        v = rng.standard_normal((n, n))
        v = v + v.T
        yield v / np.linalg.norm(v)

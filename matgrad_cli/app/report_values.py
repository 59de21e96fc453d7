"""Evaluated values → what ``eval`` prints (text or one JSON object)."""
from __future__ import annotations

import json
import math

import numpy as np

from ..numeric.numcheck import TOLERANCE


def _array_text(value) -> str:
    # + 0.0 turns −0 into 0: a zero's sign depends on how a product was evaluated (an
    # outer product by broadcasting gives 0·(−y) = −0, a matrix product 0 + 0·(−y) = 0)
    value = np.asarray(value) + 0.0
    if value.ndim == 0:
        return f"{float(value):.10g}"
    return np.array2string(value, precision=8, suppress_small=False, max_line_width=100)


def _labelled(label: str, value, note: str = "") -> list[str]:
    """A scalar on its label's line; an array on the lines below it, indented."""
    value = np.asarray(value)
    suffix = f"    ({note})" if note else ""
    if value.ndim == 0:
        return [f"{label} = {_array_text(value)}{suffix}"]
    body = _array_text(value).split("\n")
    return [f"{label} ={suffix}"] + ["  " + line for line in body]


def values_text(program, derivation, values: dict, checks) -> str:
    from .render import derivative_label

    lines = _labelled("f", values["value"])
    if derivation is not None:
        for name in derivation.wrt:
            grad = values[f"grad_{name}"]
            lines.append("")
            if derivation.kind(name) == "vec":
                # the printed matrix form is what a reader can check; -o has the full array
                matrix = np.reshape(grad, (np.size(values["value"]), -1), order="F")
                lines += _labelled(derivative_label(derivation, name), matrix,
                                   f"-o writes it with shape {tuple(np.shape(grad))}")
            elif derivation.symmetric(name):
                lines += _labelled(derivative_label(derivation, name), grad,
                                   "sym(G): the gradient on symmetric matrices")
            else:
                lines += _labelled(derivative_label(derivation, name), grad)
            if f"hess_{name}" in values:
                hess = values[f"hess_{name}"]
                lines.append("")
                matrix = np.reshape(hess, (int(np.sqrt(hess.size)), -1), order="F") \
                    if hess.ndim == 4 else hess
                lines += _labelled(derivative_label(derivation, name, 2), matrix)
            if f"hvp_{name}" in values:
                lines.append("")
                lines += _labelled(f"({derivative_label(derivation, name, 2)}) v",
                                   values[f"hvp_{name}"], "v: the given direction")
        for (x, y) in derivation.mixed:
            block = values[f"hess_{x}_{y}"]
            rows = int(np.prod(np.shape(values[f"grad_{x}"])))
            lines.append("")
            lines += _labelled(derivative_label(derivation, (x, y)),
                               np.reshape(block, (rows, -1), order="F"))
    if checks:
        lines.append("")
        for c in checks:
            verdict = "ok" if c.ok else "FAILED"
            lines.append(f"check {c.output}: largest relative error {c.error:.2e} against "
                         f"central differences ({c.checked}; tolerance {TOLERANCE:g}): "
                         f"{verdict}")
    return "\n".join(lines)


def _strict(value):
    """Nested lists of floats with NaN and ±inf as None: JSON has no NaN (RFC 8259), and a
    strict parser refuses Python's."""
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value if not isinstance(value, float) or math.isfinite(value) else None


def values_json(values: dict, checks, derivation=None) -> str:
    payload = {name: _strict(np.asarray(v).tolist()) for name, v in values.items()}
    payload["shapes"] = {name: list(np.shape(v)) for name, v in values.items()}
    if derivation is not None and derivation.program.structures:
        # which derivative a symmetric variable's grad_/hess_ arrays are (SPEC §4)
        from .render import convention

        payload["conventions"] = {
            key: note for key, note in (
                [(f"grad_{n}", convention(derivation, n)) for n in derivation.derivatives] +
                [(f"hess_{n}", convention(derivation, n, 2)) for n in derivation.hessians] +
                [(f"hess_{x}_{y}", convention(derivation, (x, y), 2))
                 for x, y in derivation.mixed])
            if note}
    if checks is not None:
        payload["check"] = {c.output: {"error": _strict(float(c.error)), "ok": c.ok,
                                       "checked": c.checked} for c in checks}
        payload["check_tolerance"] = TOLERANCE
    return json.dumps(payload, allow_nan=False)

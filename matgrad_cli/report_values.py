"""Evaluated values → what ``eval`` prints (text or one JSON object)."""
from __future__ import annotations

import json

import numpy as np

from .numcheck import TOLERANCE


def _array_text(value) -> str:
    value = np.asarray(value)
    if value.ndim == 0:
        return f"{float(value):.10g}"
    return np.array2string(value, precision=8, suppress_small=False, max_line_width=100)


def values_text(program, derivation, values: dict, checks) -> str:
    from .render import derivative_label, shape_text

    lines = [f"f = {_array_text(values['value'])}"]
    if derivation is not None:
        for name in derivation.wrt:
            grad = values[f"grad_{name}"]
            note = f"shape {tuple(np.shape(grad))}"
            if derivation.kind(name) == "vec":
                note += (f"; its matrix form {derivative_label(derivation, name)} is "
                         f"{shape_text(derivation.derivatives[name].shape)}")
            lines.append("")
            lines.append(f"∂f/∂{name} =    ({note})")
            lines.append(_array_text(grad))
            if f"hess_{name}" in values:
                lines.append("")
                lines.append(f"∂²f/∂{name}∂{name} =    "
                             f"(shape {tuple(np.shape(values['hess_' + name]))})")
                lines.append(_array_text(values[f"hess_{name}"]))
    if checks:
        lines.append("")
        for c in checks:
            verdict = "ok" if c.ok else "FAILED"
            lines.append(f"check {c.output}: largest relative error {c.error:.2e} against "
                         f"central differences ({c.checked}; tolerance {TOLERANCE:g}): "
                         f"{verdict}")
    return "\n".join(lines)


def values_json(values: dict, checks) -> str:
    payload = {name: np.asarray(v).tolist() for name, v in values.items()}
    payload["shapes"] = {name: list(np.shape(v)) for name, v in values.items()}
    if checks is not None:
        payload["check"] = {c.output: {"error": c.error, "ok": c.ok, "checked": c.checked}
                            for c in checks}
        payload["check_tolerance"] = TOLERANCE
    return json.dumps(payload)

"""The verdict of ``matgrad check``: whether the claim is ∂f/∂X, the evidence (error,
sizes, points) and the diagnosis, as text or one JSON object."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

TOLERANCE = 1e-6  # the largest relative error of a CORRECT claim (see claims)


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
    convention: str | None = None  # for a symmetric variable: which gradient (sym(G))
    # the shapes as JSON writes every shape: a list of sizes (numbers, or names)
    claim_dims: list = field(default_factory=list)
    derivative_dims: list = field(default_factory=list)

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
        if self.convention:
            lines.append(f"            ({self.convention})")
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
            "claim": {"source": self.claim, "shape": self.claim_dims},
            "derivative": {"label": self.label, "dsl": self.derivative_dsl,
                           "text": self.derivative_text, "where": self.derivative_where,
                           "shape": self.derivative_dims, "convention": self.convention},
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

"""Regressions from the hardening pass: each test runs the command line and asserts the
exact exit status and message (the caret line included where there is a place)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import input_args, invoke


def _eval_json(args, arrays, tmp_path):
    result = invoke(["eval", "--format", "json", *input_args(arrays, tmp_path), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ---------------------------------------------------------------- 1. plan sharing

@pytest.mark.parametrize("expr, wrt, grads", [
    ("x'x + sum(h + x)", ["h", "x"], {"h": [1, 1, 1], "x": [1, 3, 5]}),
    ("sum(A*x) + sum(h) + sum(x)", ["h", "x"], {"h": [1, 1, 1], "x": [2, 2, 2]}),
])
def test_a_ones_vector_output_is_not_the_broadcast_scalar_one(tmp_path, expr, wrt, grads):
    arrays = {"x": np.arange(3.0), "h": np.ones(3), "A": np.eye(3)}
    arrays = {k: v for k, v in arrays.items() if k in expr}
    out = _eval_json([a for w in wrt for a in ("--wrt", w)] + ["--", expr], arrays, tmp_path)
    for name, expected in grads.items():
        np.testing.assert_allclose(out["grad_" + name], expected)

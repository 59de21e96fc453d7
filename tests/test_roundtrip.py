"""Round trips through the command line, for every expression of the shared tables (the
derivative rules and Hessians of test_derivative_rules.py, the identities of
test_cookbook.py):

- ``derive --format dsl``: each printed line, evaluated by ``eval LINE``, equals
  ``eval EXPR --wrt X -o OUT.npz``'s own ``grad_<X>`` (SPEC §4 shape f.shape + X.shape),
  brought to the matrix form the line evaluates to (``G.reshape(f.size, X.size,
  order='F')`` where G has three or four axes);
- ``derive --format numpy``: the generated module, imported, gives the same value and
  gradients (and Hessians) as ``eval``;
- ``--order 2``: the Hessian dsl lines equal ``hess_<X>`` in vec form.

No finite differences here: the point is that the three outputs of one derivation agree
(the numbers themselves are checked against finite differences elsewhere).
"""
from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest
from helpers import (
    assert_close,
    hessian_matrix_form,
    input_args,
    invoke,
    matrix_form,
    shape_args,
    split_shapes,
)
from test_cookbook import IDENTITIES
from test_derivative_rules import HESSIANS, RULES, _params


class Row:
    """One expression with its inputs, from any of the shared tables."""

    def __init__(self, id, expr, wrt, shapes, arrays, concrete=True):
        self.id, self.expr, self.wrt = id, expr, tuple(wrt)
        self.shapes, self.arrays, self.concrete = shapes, arrays, concrete

    def derive_args(self) -> list[str]:
        """--shape/--dim for a concrete derivation; only --dim for a symbolic one."""
        if self.concrete:
            return shape_args(self.shapes)
        return shape_args({k: v for k, v in self.shapes.items() if isinstance(v, int)})

    def dim_args(self) -> list[str]:
        return shape_args({k: v for k, v in self.shapes.items() if isinstance(v, int)})


def _rule_rows(cases):
    return [Row(c.id, c.expr, c.wrt, c.shapes[0], c.inputs(c.shapes[0], 0)) for c in cases]


def _cookbook_rows():
    from test_cookbook import _inputs

    rows = []
    for identity in IDENTITIES:
        shapes = identity.sizes[0]
        rows.append(Row(f"cookbook-{identity.id}", identity.expr, [identity.wrt], shapes,
                        _inputs(identity, shapes, 0), concrete=identity.concrete))
    return rows


FIRST_ORDER = _rule_rows(RULES) + _rule_rows(HESSIANS) + _cookbook_rows()
SECOND_ORDER = _rule_rows(HESSIANS)


def _eval_outputs(row: Row, tmp_path, order: int = 1) -> dict:
    """``eval EXPR --wrt ... -o OUT.npz`` → the arrays written."""
    out = tmp_path / "out.npz"
    args = ["eval", *input_args(row.arrays, tmp_path), *row.dim_args(), "-o", out]
    args += [a for w in row.wrt for a in ("--wrt", w)]
    if order == 2:
        args += ["--order", "2"]
    result = invoke(args + ["--", row.expr])
    assert result.exit_code == 0, result.output
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


def _derive(row: Row, fmt: str, order: int = 1) -> str:
    args = ["derive", "--format", fmt, *row.derive_args()]
    args += [a for w in row.wrt for a in ("--wrt", w)]
    if order == 2:
        args += ["--order", "2"]
    result = invoke(args + ["--", row.expr])
    assert result.exit_code == 0, result.output
    return result.stdout


def _eval_line(line: str, row: Row, tmp_path) -> np.ndarray:
    import json

    result = invoke(["eval", "--format", "json", *input_args(row.arrays, tmp_path),
                     *row.dim_args(), "--", line])
    assert result.exit_code == 0, f"{line!r}: {result.output}"
    payload = json.loads(result.stdout)
    return np.asarray(payload["value"], dtype=float).reshape(payload["shapes"]["value"])


_counter = itertools.count()


def _import_generated(code: str, tmp_path):
    path = tmp_path / f"generated_{next(_counter)}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("row", _params(FIRST_ORDER))
def test_dsl_line_evaluates_to_eval_gradient(row: Row, tmp_path):
    outputs = _eval_outputs(row, tmp_path)
    f_shape = outputs["value"].shape
    lines = _derive(row, "dsl").rstrip("\n").split("\n")
    assert len(lines) == len(row.wrt), lines
    for name, line in zip(row.wrt, lines):
        grad = outputs[f"grad_{name}"]
        x_shape = np.shape(row.arrays[name])
        assert grad.shape == f_shape + x_shape, (name, grad.shape)
        assert_close(_eval_line(line, row, tmp_path), matrix_form(grad, f_shape, x_shape),
                     f"{row.expr} d/d{name}: dsl {line!r}", rtol=1e-9, atol_scale=1e-11)


@pytest.mark.parametrize("row", _params(FIRST_ORDER))
def test_numpy_code_matches_eval(row: Row, tmp_path):
    outputs = _eval_outputs(row, tmp_path)
    module = _import_generated(_derive(row, "numpy"), tmp_path)
    value, grads = module.f_and_grad(**row.arrays)
    assert_close(value, outputs["value"], f"value of {row.expr}", rtol=1e-9, atol_scale=1e-11)
    assert list(grads) == list(row.wrt)
    for name in row.wrt:
        assert_close(grads[name], outputs[f"grad_{name}"], f"{row.expr} d/d{name} (numpy)",
                     rtol=1e-9, atol_scale=1e-11)


@pytest.mark.parametrize("row", _params(SECOND_ORDER))
def test_hessian_dsl_and_numpy_match_eval(row: Row, tmp_path):
    outputs = _eval_outputs(row, tmp_path, order=2)
    lines = _derive(row, "dsl", order=2).rstrip("\n").split("\n")
    assert len(lines) == len(row.wrt), lines
    module = _import_generated(_derive(row, "numpy", order=2), tmp_path)
    value, grads, hessians = module.f_and_grad(**row.arrays)
    assert_close(value, outputs["value"], f"value of {row.expr}")
    for name, line in zip(row.wrt, lines):
        x_shape = np.shape(row.arrays[name])
        hess = outputs[f"hess_{name}"]
        assert hess.shape == x_shape + x_shape
        assert_close(_eval_line(line, row, tmp_path), hessian_matrix_form(hess, x_shape),
                     f"hessian of {row.expr} w.r.t. {name}: dsl {line!r}", rtol=1e-9,
                     atol_scale=1e-11)
        assert_close(hessians[name], hess, f"hessian of {row.expr} (numpy)", rtol=1e-9,
                     atol_scale=1e-11)
        assert_close(grads[name], outputs[f"grad_{name}"], f"gradient of {row.expr} (numpy)",
                     rtol=1e-9, atol_scale=1e-11)


def test_numpy_code_with_symbolic_sizes_runs_at_several_sizes(tmp_path):
    """Derived without shapes, the generated function reads the sizes off its arguments:
    one module serves several sizes (and rejects inconsistent ones)."""
    result = invoke(["derive", "--format", "numpy", "--wrt", "x", "--wrt", "A", "--",
                     "||A*sigmoid(x)||^2"])
    assert result.exit_code == 0, result.output
    module = _import_generated(result.stdout, tmp_path)
    rng = np.random.default_rng(3)
    for m, n in [(2, 3), (4, 2), (3, 3)]:
        A, x = rng.standard_normal((m, n)), rng.standard_normal(n)
        value, grads = module.f_and_grad(A=A, x=x)
        s = 1 / (1 + np.exp(-x))
        assert_close(value, np.sum((A @ s) ** 2), "value")
        assert_close(grads["x"], 2 * s * (1 - s) * (A.T @ A @ s), "grad x")
        assert_close(grads["A"], 2 * np.outer(A @ s, s), "grad A")
    with pytest.raises(ValueError):
        module.f_and_grad(A=rng.standard_normal((2, 3)), x=rng.standard_normal(4))


def test_tables_are_large():
    """The round trip covers every shared table (a guard against an import that silently
    yields nothing)."""
    assert len(FIRST_ORDER) > 250 and len(SECOND_ORDER) >= 10
    assert split_shapes(FIRST_ORDER[0].shapes)[0]

"""The ``numpy`` format computes what ``eval`` computes: for every row of the rule table (and
its Hessian rows) and every ``matgrad eval`` command of the samples, the printed function
is compiled, called on the same inputs and compared with the evaluator's values.

Rows are derived twice: with the concrete shapes of the inputs (as ``eval`` derives) and,
for the samples, with the symbolic shapes ``derive`` prints, so the generated shape checks
and sizes are exercised on real arrays."""
from __future__ import annotations

import re

import shlex
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_close, derive_for, split_shapes
from test_derivative_rules import HESSIANS, RULES

from matgrad_cli.app import api
from matgrad_cli.app.pipeline import load_problem, run_eval
from matgrad_cli.cli import parse_dims, parse_shapes
from matgrad_cli.printers.numpy_code import to_numpy_code

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _function(derivation):
    namespace: dict = {}
    code = to_numpy_code(derivation)
    exec(compile(code, "<generated>", "exec"), namespace)  # noqa: S102 - our own output
    return namespace["f_and_grad"], code


def _compare(derivation, arrays, expected: dict, what: str):
    f_and_grad, code = _function(derivation)
    value, first, *second = f_and_grad(*(arrays[v] for v in derivation.program.variables))
    assert_close(value, expected["value"], f"{what}: value\n{code}")
    for name in derivation.wrt:
        assert_close(first[name], expected[f"grad_{name}"], f"{what}: d/d{name}\n{code}")
        assert np.shape(first[name]) == np.shape(expected[f"grad_{name}"])
        if derivation.order == 2:
            assert_close(second[0][name], expected[f"hess_{name}"], f"{what}: hess {name}")


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in RULES])
def test_rule_row_numpy_code_equals_eval(c):
    for seed, shapes in enumerate(c.shapes):
        _, dims = split_shapes(shapes)
        arrays = c.inputs(shapes, seed)
        derivation = derive_for(c.expr, c.wrt, arrays, dims)
        _compare(derivation, arrays, api.evaluate(derivation, arrays), c.expr)


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in HESSIANS])
def test_hessian_row_numpy_code_equals_eval(c):
    for seed, shapes in enumerate(c.shapes):
        _, dims = split_shapes(shapes)
        arrays = c.inputs(shapes, seed)
        derivation = derive_for(c.expr, c.wrt, arrays, dims, order=2)
        _compare(derivation, arrays, api.evaluate(derivation, arrays), c.expr)


def _eval_commands():
    for readme in sorted(SAMPLES.glob("*/README.md")):
        for line in readme.read_text(encoding="utf-8").splitlines():
            if line.startswith("$ matgrad eval "):
                yield pytest.param(readme.parent, shlex.split(line[2:])[2:],
                                   id=f"{readme.parent.name}: {line[15:60]}")


def _options(words: list[str]) -> dict:
    """The options of an ``eval`` command line that decide the derivation."""
    opts = {"source": words[0], "wrt": [], "inputs": [], "shapes": [], "dims": [], "order": 1}
    flags = {"--wrt": "wrt", "-i": "inputs", "--input": "inputs", "--shape": "shapes",
             "--dim": "dims"}
    rest = iter(words[1:])
    for word in rest:
        if word in flags:
            opts[flags[word]].append(next(rest))
        elif word == "--order":
            opts["order"] = int(next(rest))
        elif word in ("-o", "--output", "--format"):
            next(rest)
    return opts


@pytest.mark.parametrize("folder, words", list(_eval_commands()))
def test_sample_numpy_code_equals_eval(folder, words, monkeypatch):
    monkeypatch.chdir(folder)
    opts = _options(words)
    source = opts["source"]
    if source.startswith("@"):
        source = Path(source[1:]).read_text(encoding="utf-8")
    shapes, dims = parse_shapes(tuple(opts["shapes"])), parse_dims(tuple(opts["dims"]))
    result = run_eval(source, opts["wrt"], opts["inputs"], shapes, dims, opts["order"])
    arrays = load_problem(source, opts["inputs"], shapes, dims).arrays
    # as eval derives it (concrete shapes) ...
    _compare(result.derivation, arrays, result.values, f"{folder.name} (concrete)")
    # ... and as derive prints it (symbolic sizes: one name per size other than 1, so that
    # the generated code reads its sizes off the arrays), called on the same arrays; an
    # input that names a size itself (ones(N)) keeps its own name, which n6 cannot replace
    if re.search(r"\b(eye|ones|zeros|commutation)\([^)]*[^\W\d]", source):
        return
    symbolic = [f"{name}=" + ("scalar" if not np.ndim(a) else
                              ",".join("1" if d == 1 else f"n{d}" for d in np.shape(a)))
                for name, a in arrays.items()]
    program = api.parse(source, parse_shapes(tuple(symbolic)), {})
    derivation = api.derive(program, opts["wrt"], opts["order"])
    _compare(derivation, arrays, result.values, f"{folder.name} (symbolic)")


"""The evaluation plan compiled to one Python function (numeric/evaluator.py: ``caller``,
``compiled``): it computes what the hand-written closed forms of the benchmark compute,
at sizes small and large enough for the early frees (``del``) to be in play; its source
holds only names matgrad generates; an outer product is a broadcast, not a GEMM; and
``compile_derivatives`` takes the slow path (and gets it right) for new shapes, lists and
integer arrays."""
from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import assert_close

from bench import problems
from matgrad_cli import compile_derivatives
from matgrad_cli.app import api
from matgrad_cli.numeric import evaluator as ev

PROBLEMS = [pytest.param(p, id=f"{p.key}-order{p.order}")
            for p in problems.GRADIENTS + problems.HESSIANS]


def _keys(p):
    return [("grad_" if p.order == 1 else "hess_") + w for w in p.wrt]


@pytest.mark.parametrize("p", PROBLEMS)
@pytest.mark.parametrize("n", [3, 150])
def test_compiled_derivatives_equal_the_hand_written_closed_form(p, n):
    arrays = p.inputs(n)
    want = p.numpy(*p.positional(arrays))
    fn = compile_derivatives(p.expr, list(p.wrt), order=p.order, outputs=_keys(p))
    for _ in range(2):  # the first call compiles (slow path), the second runs the fast one
        got = fn(**arrays)
        for key, value in zip(_keys(p), want):
            assert_close(got[key], value, f"{p.expr} n={n}: {key}")


def _source(expr, wrt, shapes, order=1):
    derivation = api.derive(api.parse(expr, array_shapes=shapes), wrt, order)
    outputs = api.output_arrays(derivation)
    plan = ev.compile_plan(outputs)
    return ev.caller(plan, shapes, api.spec_shapes(derivation, outputs)).source


def test_compiled_source_has_generated_names_only():
    shapes = {"W_1": (200, 200), "λ": (), "x": (200,)}
    source = _source("λ*||W_1*tanh(x)||^2 + sum(exp(x))", ["W_1", "x"], shapes)
    names = set(re.findall(r"[^\W\d]\w*", source))
    allowed = {"def", "try", "except", "KeyError", "return", "None", "if", "or", "len",
               "type", "is", "not", "del", "np", "multiply", "add", "subtract", "divide",
               "out", "dtype", "shape", "T", "arrays", "_call", "_ndarray", "_float",
               "_finish"}
    generated = {n for n in names if re.fullmatch(r"[asfkhnot]\d+", n)}
    assert names - generated <= allowed, names - generated - allowed
    assert "del " in source  # 200×200 arrays are freed at their last use


def test_outer_product_is_a_broadcast_not_a_matrix_product():
    source = _source("logsumexp(W*x) - y'*W*x", ["W"], {"W": (50, 50), "x": (50,),
                                                       "y": (50,)})
    assert "[:, None] *" in source
    assert source.count("@") == 1  # W x only


def test_compile_derivatives_slow_path_for_new_shapes_lists_and_ints():
    fn = compile_derivatives("||A*x||^2", ["x"])
    rng = np.random.default_rng(1)
    for m, n in [(3, 2), (5, 4), (3, 2)]:
        A, x = rng.standard_normal((m, n)), rng.standard_normal(n)
        assert_close(fn(A=A, x=x)["grad_x"], 2 * A.T @ (A @ x), "grad_x")
    got = fn(A=[[1, 2], [3, 4]], x=np.array([1, 1]))  # a list and an int array
    assert_close(got["grad_x"], 2 * np.array([[10, 14], [14, 20]]) @ [1, 1], "ints")
    assert got["grad_x"].dtype == np.float64


def test_compiled_plan_keeps_the_memory_check():
    from matgrad_cli.errors import MatgradError
    from matgrad_cli.numeric import budget

    with budget.limited(1 << 20), pytest.raises(MatgradError, match="memory|GiB|MiB|MB"):
        ev.evaluate({"v": api.parse("x*x'", array_shapes={"x": (2000,)}).expr},
                    {"x": np.ones(2000)})

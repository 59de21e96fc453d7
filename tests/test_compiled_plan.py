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
from matgrad_cli.ops import ENTRYWISE

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
    call, entry = ev.caller(plan, shapes, api.spec_shapes(derivation, outputs), fallback=dict)
    assert call.source.replace("_call(arrays)", "") == entry.source.replace(
        "_entry(**arrays)", "").replace("_fallback(arrays)", "None")
    return entry.source


def test_compiled_source_has_generated_names_only():
    shapes = {"W_1": (200, 200), "λ": (), "x": (200,)}
    source = _source("λ*||W_1*tanh(x)||^2 + sum(exp(x))", ["W_1", "x"], shapes)
    # NumPy's ufuncs are spelled as the registry spells them (ops.ENTRYWISE), not as input
    registry = {m for entry in ENTRYWISE.values()
                for m in re.findall(r"np\.(\w+)", entry.numpy_source)}
    ufuncs = set(re.findall(r"np\.(\w+)", source))
    assert {"exp", "tanh"} <= ufuncs <= registry
    names = set(re.findall(r"[^\W\d]\w*", re.sub(r"np\.\w+", "np", source)))
    allowed = {"def", "try", "except", "KeyError", "return", "None", "if", "or", "len",
               "type", "is", "not", "del", "np", "multiply", "add", "subtract", "divide",
               "out", "dtype", "shape", "T", "arrays", "_entry", "_ndarray", "_float",
               "_finish", "_fallback", "_LinAlgError", "as", "exc", "raise", "_singular",
               "from"}
    generated = {n for n in names if re.fullmatch(r"[asfkhnot]\d+", n)}
    assert names - generated <= allowed, names - generated - allowed
    assert "del " in source  # 200×200 arrays are freed at their last use


def test_outer_product_is_a_broadcast_not_a_matrix_product():
    source = _source("logsumexp(W*x) - y'*W*x", ["W"], {"W": (50, 50), "x": (50,),
                                                       "y": (50,)})
    assert "[:, None] *" in source
    assert source.count("@") == 1  # W x only


def _plan(expr, wrt, shapes, order=1):
    derivation = api.derive(api.parse(expr, array_shapes=shapes), wrt, order)
    outputs = api.output_arrays(derivation)
    return ev.compile_plan({k: v for k, v in outputs.items() if k != "value"}), derivation


def test_a_shared_residual_is_scaled_once_not_each_gradient():
    """2 (D ⊙ (W₂ᵀ R)) Xᵀ and 2 R Zᵀ: one pass 2R (o×B), no pass over an n×n product."""
    shapes = {"W1": (40, 40), "W2": (3, 40), "X": (40, 40), "Y": (3, 40)}
    plan, _ = _plan(problems.MLP2, ["W1", "W2"], shapes)
    scaled = [ev._slot_shapes(plan)[i] for i, step in enumerate(plan.steps)
              if step.op == "scale"]
    assert scaled == [(3, 40)]
    arrays = problems.GRADIENTS[4].inputs(40)
    want = problems.GRADIENTS[4].numpy(*problems.GRADIENTS[4].positional(arrays))
    got = compile_derivatives(problems.MLP2, ["W1", "W2"])(**arrays)
    assert_close(got["grad_W1"], want[0], "W1")
    assert_close(got["grad_W2"], want[1], "W2")


@pytest.mark.parametrize("expr, wrt, shapes", [
    ("3*sum((A*B*x).^2)", ["x"], {"A": (2, 30), "B": (30, 30), "x": (30,)}),
    ("tr(5*A'*(B .* C))", ["B"], {"A": (4, 6), "B": (4, 6), "C": (4, 6)}),
    ("x'*Diag(2*exp(x))*A*x", ["A"], {"x": (5,), "A": (5, 5)}),
])
def test_a_scalar_factor_moved_into_a_product_keeps_the_value(expr, wrt, shapes):
    rng = np.random.default_rng(5)
    arrays = {k: rng.standard_normal(v) for k, v in shapes.items()}
    derivation = api.derive(api.parse(expr, array_shapes=shapes), wrt)
    outputs = api.output_arrays(derivation)
    unmoved = {k: np.asarray(v) for k, v in
               api.evaluate(derivation, arrays, backend="numpy").items()}
    from matgrad_cli.numeric import scalars

    moved = scalars.sink_scalars(outputs)
    assert moved.keys() == outputs.keys()
    for key, node in moved.items():
        plain = ev.run_plan(ev.compile_plan({key: outputs[key]}), arrays)[key]
        assert_close(plain, unmoved[key], key)
        again = ev.run_plan(ev.compile_plan({key: node}), arrays)[key]
        assert_close(again, unmoved[key], f"{expr}: {key} with the factor moved")


def test_identity_in_a_sum_is_added_on_the_diagonal_not_built():
    plan, _ = _plan(problems.ABS_GRAM, ["P"], {"P": (50, 50), "beta": ()})
    assert not any(step.op == "eye" for step in plan.steps)
    assert any(step.op == "add_diag" for step in plan.steps)


def test_weights_nonnegative_by_their_form_need_no_sign_test():
    """Xᵀ Diag(σ(1 − σ)) X: (√d X)ᵀ(√d X) with no run-time test of d's sign; a weight of
    unknown sign keeps the kernel that tests it."""
    plan, _ = _plan(problems.LOGISTIC, ["w"], {"X": (30, 8), "w": (8,), "y": (30,)}, 2)
    ops_used = [step.op for step in plan.steps]
    assert "weighted_gram" not in ops_used and "f_sqrt" in ops_used
    plan, _ = _plan("x'*A'*Diag(y)*A*x", ["x"], {"A": (6, 4), "x": (4,), "y": (6,)}, 2)
    assert "weighted_gram" in [step.op for step in plan.steps]


def test_entrywise_ufuncs_are_called_directly():
    source = _source("sum(sqrt(exp(x)))", ["x"], {"x": (300,)})
    assert "np.exp(" in source and "np.sqrt(" in source


def test_compile_derivatives_slow_path_for_new_shapes_lists_and_ints():
    fn = compile_derivatives("||A*x||^2", ["x"])
    rng = np.random.default_rng(1)
    for m, n in [(3, 2), (5, 4), (3, 2)]:
        A, x = rng.standard_normal((m, n)), rng.standard_normal(n)
        assert_close(fn(A=A, x=x)["grad_x"], 2 * A.T @ (A @ x), "grad_x")
    got = fn(A=[[1, 2], [3, 4]], x=np.array([1, 1]))  # a list and an int array
    assert_close(got["grad_x"], 2 * np.array([[10, 14], [14, 20]]) @ [1, 1], "ints")
    assert got["grad_x"].dtype == np.float64


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_compiled_for_given_shapes_takes_the_slow_path_for_anything_else(backend):
    """With ``shapes``, the function returned is the generated one itself; other shapes,
    other dtypes, lists, numbers, a missing or an extra array still get the right answer."""
    if backend != "numpy":
        pytest.importorskip(backend)
    fn = compile_derivatives("c*||A*x||^2", ["x"], shapes={"A": (3, 2), "x": (2,), "c": ()},
                             backend=backend)
    rng = np.random.default_rng(2)

    def check(A, x, c, **extra):
        got = fn(A=A, x=x, c=c, **extra)
        A, x = np.asarray(A, dtype=float), np.asarray(x, dtype=float)
        assert_close(np.asarray(got["grad_x"], dtype=float), 2 * c * A.T @ (A @ x),
                     f"{backend} {A.shape}")
        assert_close(np.asarray(got["value"], dtype=float), c * np.sum((A @ x) ** 2), "f")

    for m, n in [(3, 2), (5, 4), (3, 2), (5, 4)]:
        check(rng.standard_normal((m, n)), rng.standard_normal(n), 0.5)
    check([[1, 2], [3, 4], [5, 6]], np.array([1, 1]), 2)         # a list, an int array
    check(rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal(2), 1.0)
    check(rng.standard_normal((3, 2)), rng.standard_normal(2), np.array(1.5), unused=np.ones(4))
    from matgrad_cli.errors import MatgradError

    with pytest.raises(MatgradError):  # c missing: by its name a vector, of no known size
        fn(A=np.ones((3, 2)), x=np.ones(2))


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_positional_entry_takes_the_arrays_in_the_order_of_shapes(backend):
    """``fn.positional(*arrays)``: the arrays in the order ``fn.parameters`` (that of
    ``shapes``), the outputs as a tuple in the order ``fn.keys``; the same numbers as the
    keyword call, and the slow path for other shapes, lists and integer arrays."""
    if backend != "numpy":
        pytest.importorskip(backend)
    fn = compile_derivatives("c*||A*x||^2", ["A", "x"], shapes={"x": (2,), "A": (3, 2), "c": ()},
                             backend=backend)
    assert fn.parameters == ("x", "A", "c") and fn.keys == ("value", "grad_A", "grad_x")
    rng = np.random.default_rng(4)
    for m, n, c in [(3, 2, np.array(0.5)), (4, 5, 0.5), (3, 2, np.array(0.5))]:
        x, A = rng.standard_normal(n), rng.standard_normal((m, n))
        got = fn.positional(x, A, c)  # (3, 2): the guarded fast path; (4, 5): the slow one
        want = (0.5 * np.sum((A @ x) ** 2), np.outer(A @ x, x), A.T @ (A @ x))
        assert isinstance(got, tuple) and len(got) == 3
        for value, expected in zip(got, want):
            assert_close(np.asarray(value, dtype=float), expected, f"{backend} {m}x{n}")
    got = fn.positional([1, 1], [[1, 2], [3, 4], [5, 6]], 2)     # lists and ints
    assert_close(np.asarray(got[2], dtype=float),
                 4 * np.array([[1, 2], [3, 4], [5, 6]]).T @ [3, 7, 11], "lists")


def test_positional_source_has_the_guard_and_no_dictionaries():
    fn = compile_derivatives("||A*x||^2", ["x"], shapes={"A": (3, 2), "x": (2,)},
                             outputs=["grad_x"])
    source = fn.positional.source
    assert source.startswith("def _positional(a0, a1):")
    assert "a0.shape != h0" in source and "_positional_fallback(a0, a1)" in source
    assert "{" not in source and "arrays" not in source


def test_a_singular_matrix_in_a_compiled_function_is_an_evaluation_error():
    from matgrad_cli.errors import EvaluationError

    fn = compile_derivatives("logdet(X)", ["X"], shapes={"X": (2, 2)})
    assert_close(fn(X=np.diag([2.0, 4.0]))["grad_X"], np.diag([0.5, 0.25]), "inv")
    with pytest.raises(EvaluationError, match="singular"):
        fn(X=np.zeros((2, 2)))
    with pytest.raises(EvaluationError, match="singular"):
        fn.positional(np.zeros((2, 2)))


def test_compiled_plan_keeps_the_memory_check():
    from matgrad_cli.errors import MatgradError
    from matgrad_cli.numeric import budget

    with budget.limited(1 << 20), pytest.raises(MatgradError, match="memory|GiB|MiB|MB"):
        ev.evaluate({"v": api.parse("x*x'", array_shapes={"x": (2000,)}).expr},
                    {"x": np.ones(2000)})

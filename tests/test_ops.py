"""The operation registry (matgrad_cli/ops/): every operation has every part, and an
operation the engine does not know is a clear error, never an AssertionError."""
import inspect

import pytest

from matgrad_cli import ir, ops
from matgrad_cli.ops import (ENTRYWISE, OPERATORS, REGISTRY, STRUCTURAL, UnknownOperation,
                             lookup)


@pytest.mark.parametrize("name", sorted(ENTRYWISE))
def test_every_entrywise_function_has_every_part(name):
    entry = ENTRYWISE[name]
    assert callable(entry.numpy) and callable(entry.derivative)
    assert "{0}" in entry.numpy_source and entry.text and entry.latex
    assert entry.domain in ("real", "positive", "unit", "above_minus_one")
    assert entry.kink == bool(entry.condition and "zero entries" in entry.condition)


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_every_structural_function_has_every_part(name):
    entry = STRUCTURAL[name]
    for part in (entry.shape, entry.numpy, entry.vjp, entry.jacobian):
        assert callable(part), part
    assert len(inspect.signature(entry.shape).parameters) >= 2  # the algebra, then shapes
    assert all(f"{{{i}}}" in entry.numpy_source for i in range(entry.arity))
    assert entry.text and entry.latex and entry.identity and entry.differential
    assert entry.accepts in ("any", "square", "vector", "broadcast")
    assert (entry.accepts == "broadcast") == (entry.arity == 2 and entry.kink is not None)
    assert entry.domain in ("real", "nonzero", "invertible", "spd")


def test_every_composite_node_type_has_derivative_rules():
    composites = {cls for cls in vars(ir).values() if isinstance(cls, type)
                  and issubclass(cls, ir.Node) and cls is not ir.Node
                  and cls not in ir.LEAVES}
    assert composites == set(OPERATORS)
    for rules in OPERATORS.values():
        assert callable(rules.vjp) and callable(rules.jacobian)


def test_no_name_is_registered_twice_and_every_callable_name_is_a_function():
    assert set(REGISTRY) == set(ENTRYWISE) | set(STRUCTURAL)
    assert not set(ENTRYWISE) & set(STRUCTURAL)
    assert ops.FUNCTION_NAMES >= {n for n, e in STRUCTURAL.items() if e.callable_by_name}
    assert "norm1" not in ops.FUNCTION_NAMES  # ||X||_1, not callable by name


def test_unknown_operation_is_a_clear_error():
    with pytest.raises(UnknownOperation) as raised:
        lookup("frobnicate")
    assert str(raised.value).startswith("internal error: matgrad has no operation "
                                        "'frobnicate'")
    assert raised.value.exit_code == 1
    with pytest.raises(UnknownOperation):
        ir.Call("frobnicate", (ir.Var("x", (3,)),))


def test_a_node_type_without_rules_is_a_clear_error():
    class Mystery(ir.Node):
        pass

    with pytest.raises(UnknownOperation, match="no derivative rules for Mystery"):
        ops.operator_of(Mystery())


def test_the_one_shape_rule_serves_symbolic_and_resolved_dimensions():
    from matgrad_cli.language.shapes import parse_program

    program = parse_program("kron(A, pinv(B))", {"A": ["m", "n"], "B": [2, 3]})
    assert program.expr.shape == ("3*m", "2*n")  # pinv(B) is 3×2
    assert ops.call_shape("pinv", [(3, 2)]) == (2, 3)
    assert ops.call_shape("pinv", [(4,)]) == (1, 4)
    assert ops.call_shape("vec", [(1, 5)]) == (5,)


LINEAR = sorted(name for name, entry in STRUCTURAL.items() if entry.linear is not None)


def _argument_shapes(entry):
    if entry.along:  # along one dimension of a matrix
        return [(3, 4), (2, 5)]
    return {"square": [(3, 3)], "vector": [(4,)]}.get(entry.accepts, [(3, 4), (4,)])


@pytest.mark.parametrize("name", LINEAR)
def test_a_linear_operation_is_its_matrix_and_its_reverse_rule_the_transpose(name):
    """vec L(X) = M vec X (so the derived Jacobian rule M J is right), and vec of the
    reverse rule's adjoint is Mᵀ vec G (so vjp and Jacobian are one rule, transposed)."""
    import numpy as np

    from matgrad_cli import algebra as alg
    from matgrad_cli.numeric.evaluator import evaluate

    entry = STRUCTURAL[name]
    rng = np.random.default_rng(len(name))
    for shape in _argument_shapes(entry):
        x = ir.Var("X", shape)
        node = alg.call(name, x)
        g = ir.Var("G", node.shape)
        outputs = {"value": node, "adjoint": entry.vjp(node, g)[0]}
        matrix = entry.linear(x)
        if matrix is not None:
            outputs["M"] = matrix
        arrays = {"X": rng.standard_normal(shape), "G": rng.standard_normal(node.shape)}
        got = evaluate(outputs, arrays)
        m = np.atleast_2d(got["M"]) if matrix is not None else np.eye(arrays["X"].size)
        vec = lambda a: np.ravel(a, order="F")  # noqa: E731
        np.testing.assert_allclose(vec(got["value"]), m @ vec(arrays["X"]), atol=1e-12)
        np.testing.assert_allclose(vec(got["adjoint"]), m.T @ vec(arrays["G"]), atol=1e-12)


def test_the_linear_operations_are_the_ones_expected():
    assert set(LINEAR) >= {"sum", "tr", "diag", "Diag", "vec", "mean", "sum_1", "sum_2",
                           "mean_1", "mean_2"}

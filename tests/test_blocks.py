"""Block matrices (SPEC §2): ``[A, B; C, D]``, and the block selection rows(X, a, b) /
cols(X, a, b) that their derivatives print with.

Every case goes through the command line: ``eval`` gives f and the symbolic derivative,
checked against NumPy's own ``np.block`` (f) and central differences of it (the
derivative) at several shapes; the ``derive --format dsl`` line, read back by ``eval``,
gives the same numbers; so does the function that ``--format numpy`` writes. Shape errors
are asserted whole, caret line included.
"""
from __future__ import annotations

import numpy as np
import pytest

from helpers import (assert_close, cli_derive_dsl, cli_eval_json, cli_eval_value, fd_jacobian,
                     invoke, matrix_form, random_value, shape_args)


def _col(v):
    v = np.asarray(v, dtype=float)
    return v.reshape(1, 1) if v.ndim == 0 else (v[:, None] if v.ndim == 1 else v)


def block(rows):
    """NumPy's block matrix of matgrad's values (a vector is a column), back in matgrad's
    shapes (an n×1 result is a vector)."""
    out = np.block([[_col(b) for b in row] for row in rows])
    return out[:, 0] if out.shape[1] == 1 else out


def _sigmoid(t):
    return 1 / (1 + np.exp(-t))


# id, f, --wrt, shape sets, NumPy reference of f, input domains
CASES = [
    ("quadratic-form-of-stacked-vectors", "[x; y]'*S*[x; y]", ("x", "y", "S"),
     [{"x": (2,), "y": (3,), "S": (5, 5)}, {"x": (4,), "y": (1,), "S": (5, 5)}],
     lambda a: block([[a["x"]], [a["y"]]]) @ a["S"] @ block([[a["x"]], [a["y"]]]), {}),
    ("norm-of-block-row-times-vector", "||[A, B]*x||^2", ("A", "B", "x"),
     [{"A": (3, 2), "B": (3, 4), "x": (6,)}, {"A": (2, 3), "B": (2, 2), "x": (5,)}],
     lambda a: np.sum((block([[a["A"], a["B"]]]) @ a["x"]) ** 2), {}),
    ("trace-of-2x2-block-matrix", "tr([A, B; C, D])", ("A", "B", "D"),
     [{"A": (2, 2), "B": (2, 3), "C": (3, 2), "D": (3, 3)},
      {"A": (3, 3), "B": (3, 2), "C": (2, 3), "D": (2, 2)}],
     lambda a: np.trace(block([[a["A"], a["B"]], [a["C"], a["D"]]])), {}),
    ("quadratic-form-of-block-matrix", "x'*[A, B; C, D]*x", ("A", "C", "x"),
     [{"A": (2, 2), "B": (2, 3), "C": (3, 2), "D": (3, 3), "x": (5,)},
      {"A": (1, 1), "B": (1, 2), "C": (2, 1), "D": (2, 2), "x": (3,)}],
     lambda a: a["x"] @ block([[a["A"], a["B"]], [a["C"], a["D"]]]) @ a["x"], {}),
    ("frobenius-norm-of-block-matrix", "||[A, B; C, D]||_F^2", ("B", "C"),
     [{"A": (2, 3), "B": (2, 2), "C": (4, 3), "D": (4, 2)}],
     lambda a: np.sum(block([[a["A"], a["B"]], [a["C"], a["D"]]]) ** 2), {}),
    ("block-of-a-variable-selected-rows", "sum(exp(rows(x, 2, 4)))", ("x",),
     [{"x": (5,)}, {"x": (4,)}],
     lambda a: np.sum(np.exp(a["x"][1:4])), {}),
    ("block-of-a-variable-selected-columns", "||cols(A, 2, 3)*y - z||^2", ("A", "y"),
     [{"A": (3, 4), "y": (2,), "z": (3,)}, {"A": (2, 3), "y": (2,), "z": (2,)}],
     lambda a: np.sum((a["A"][:, 1:3] @ a["y"] - a["z"]) ** 2), {}),
    ("block-jacobian-of-matrix-valued-product", "[A, B]*X", ("A", "X"),
     [{"A": (2, 3), "B": (2, 1), "X": (4, 2)}, {"A": (3, 2), "B": (3, 2), "X": (4, 3)}],
     lambda a: block([[a["A"], a["B"]]]) @ a["X"], {}),
    ("block-jacobian-of-stacked-product", "[A; C]*X", ("A", "C", "X"),
     [{"A": (2, 3), "C": (3, 3), "X": (3, 2)}, {"A": (1, 2), "C": (2, 2), "X": (2, 3)}],
     lambda a: block([[a["A"]], [a["C"]]]) @ a["X"], {}),
    ("gram-of-two-columns", "[x, y]'*[x, y]", ("x", "y"),
     [{"x": (3,), "y": (3,)}, {"x": (4,), "y": (4,)}],
     lambda a: block([[a["x"], a["y"]]]).T @ block([[a["x"], a["y"]]]), {}),
    ("bordered-matrix-logdet", "logdet([S, u; u', alpha])", ("S", "u", "alpha"),
     [{"S": (2, 2), "u": (2,), "alpha": ()}, {"S": (3, 3), "u": (3,), "alpha": ()}],
     lambda a: np.linalg.slogdet(block([[a["S"], a["u"]], [a["u"][None, :], a["alpha"]]]))[1],
     {"S": "spd", "u": "small", "alpha": "pos"}),
    ("affine-layer-with-bias-column", "sigmoid([W, b]*[x; 1])", ("W", "b", "x"),
     [{"W": (3, 2), "b": (3,), "x": (2,)}, {"W": (2, 4), "b": (2,), "x": (4,)}],
     lambda a: _sigmoid(block([[a["W"], a["b"]]]) @ block([[a["x"]], [np.ones(())]])), {}),
    ("matrix-valued-block-of-scalar-vector-matrix", "[alpha, x'; x, A]", ("alpha", "x", "A"),
     [{"alpha": (), "x": (2,), "A": (2, 2)}, {"alpha": (), "x": (3,), "A": (3, 3)}],
     lambda a: block([[a["alpha"], a["x"][None, :]], [a["x"], a["A"]]]), {}),
    ("block-product-of-block-row-and-column", "tr([A, B]*[C; D])", ("A", "D"),
     [{"A": (2, 3), "B": (2, 2), "C": (3, 2), "D": (2, 2)}],
     lambda a: np.trace(block([[a["A"], a["B"]]]) @ block([[a["C"]], [a["D"]]])), {}),
    ("nested-block-with-literal-zero-blocks", "x'*[A, zeros(2, 3); zeros(3, 2), D]*x",
     ("A", "D", "x"), [{"A": (2, 2), "D": (3, 3), "x": (5,)}],
     lambda a: a["x"] @ block([[a["A"], np.zeros((2, 3))], [np.zeros((3, 2)), a["D"]]])
     @ a["x"], {}),
    ("transposed-block-row-times-vector", "[A, B]'*y", ("A", "B", "y"),
     [{"A": (3, 2), "B": (3, 1), "y": (3,)}, {"A": (2, 2), "B": (2, 3), "y": (2,)}],
     lambda a: block([[a["A"], a["B"]]]).T @ a["y"], {}),
    ("transposed-block-column-times-matrix", "[A; C]'*X", ("A", "C", "X"),
     [{"A": (2, 3), "C": (1, 3), "X": (3, 2)}, {"A": (3, 2), "C": (2, 2), "X": (5, 4)}],
     lambda a: block([[a["A"]], [a["C"]]]).T @ a["X"], {}),
    ("rows-of-a-matrix-times-matrix", "rows(X, 2, 3)*Y", ("X", "Y"),
     [{"X": (4, 3), "Y": (3, 2)}],
     lambda a: a["X"][1:3, :] @ a["Y"], {}),
    ("block-of-blocks", "sum([[A, B]; C] .* E)", ("A", "C"),
     [{"A": (2, 2), "B": (2, 2), "C": (1, 4), "E": (3, 4)}],
     lambda a: np.sum(block([[block([[a["A"], a["B"]]])], [a["C"]]]) * a["E"]), {}),
]

PARAMS = [pytest.param(expr, wrt, shapes, ref, domains, id=f"{cid}-{i}")
          for cid, expr, wrt, sets, ref, domains in CASES for i, shapes in enumerate(sets)]


def _inputs(shapes: dict, domains: dict, seed: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape in shapes.items():
        value = random_value(shape, domains.get(name, "real"), rng)
        if name == "alpha" and domains:  # the bordered matrix stays well away from singular
            value = value + 3.0
        arrays[name] = value
    return arrays


def _gradients(payload: dict, wrt) -> dict:
    return {w: np.asarray(payload[f"grad_{w}"], dtype=float).reshape(
        payload["shapes"][f"grad_{w}"]) for w in wrt}


@pytest.mark.parametrize("expr, wrt, shapes, reference, domains", PARAMS)
def test_eval_matches_np_block_and_central_differences(expr, wrt, shapes, reference, domains,
                                                        tmp_path):
    arrays = _inputs(shapes, domains)
    payload = cli_eval_json(expr, arrays, tmp_path, [a for w in wrt for a in ("--wrt", w)])
    value = np.asarray(payload["value"], dtype=float).reshape(payload["shapes"]["value"])
    assert_close(value, reference(arrays), "f")
    for w, grad in _gradients(payload, wrt).items():
        assert_close(grad, fd_jacobian(reference, arrays, w), f"∂f/∂{w}", rtol=1e-5)


@pytest.mark.parametrize("expr, wrt, shapes, reference, domains", PARAMS)
def test_dsl_line_read_back_by_eval_gives_the_eval_gradient(expr, wrt, shapes, reference,
                                                            domains, tmp_path):
    arrays = _inputs(shapes, domains)
    lines = cli_derive_dsl(expr, wrt, shape_args(shapes))
    grads = _gradients(cli_eval_json(expr, arrays, tmp_path,
                                     [a for w in wrt for a in ("--wrt", w)]), wrt)
    f_shape = np.shape(reference(arrays))
    for w, line in zip(wrt, lines):
        used = {k: v for k, v in arrays.items() if _mentions(line, k)}
        printed = cli_eval_value(line, used, tmp_path)
        expected = matrix_form(grads[w], f_shape, np.shape(arrays[w]))
        assert_close(printed.reshape(expected.shape) if printed.size == expected.size
                     else printed, expected, f"dsl line for {w}: {line}")


def _mentions(line: str, name: str) -> bool:
    import re

    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w(])", line) is not None


@pytest.mark.parametrize("expr, wrt, shapes, reference, domains", PARAMS[::2])
def test_numpy_format_function_equals_eval(expr, wrt, shapes, reference, domains, tmp_path):
    arrays = _inputs(shapes, domains)
    result = invoke(["derive", "--format", "numpy", *shape_args(shapes),
                     *[a for w in wrt for a in ("--wrt", w)], "--", expr])
    assert result.exit_code == 0, result.output
    namespace: dict = {}
    exec(compile(result.stdout, "<generated>", "exec"), namespace)
    fn = namespace["f_and_grad"]
    import inspect

    params = list(inspect.signature(fn).parameters)
    value, grads = fn(*[arrays[p] for p in params])
    payload = cli_eval_json(expr, arrays, tmp_path, [a for w in wrt for a in ("--wrt", w)])
    assert_close(value, np.asarray(payload["value"]).reshape(payload["shapes"]["value"]), "f")
    for w, grad in _gradients(payload, wrt).items():
        assert_close(grads[w], grad, f"∂f/∂{w}")


# ---------------------------------------------------------------- the printed forms

@pytest.mark.parametrize("expr, wrt, expected", [
    # the block of G = 2 [A, B] x xᵀ that belongs to A: x splits, x[1:n] is its first block
    ("||[A, B]*x||^2", "A", "∂f/∂A = 2 [A, B] x x[1:n]ᵀ    (m×n)"),
    ("||[A, B]*x||^2", "B", "∂f/∂B = 2 [A, B] x x[n+1:n+k]ᵀ    (m×k)"),
    ("tr([A, B; C, D])", "A", "∂f/∂A = I_m    (m×m)"),
    ("tr([A, B; C, D])", "B", "∂f/∂B = 0    (m×n)"),
    # a block of a block matrix literal is that block: [y; z] selects y
    ("||[A, B]*[y; z]||^2", "A", "∂f/∂A = 2 (A y + B z) yᵀ    (k×n)"),
    ("[A, B]*X", "A", "∂vec(f)/∂vec(A)ᵀ = X[1:n, :]ᵀ ⊗ I_m    (mp×mn)"),
    ("[A; C]*X", "A", "∂vec(f)/∂vec(A)ᵀ = Xᵀ ⊗ [I_m; 0]    ((mp+kp)×mn)"),
    ("sum(exp(rows(x, 2, 4)))", "x", "∂f/∂x = [0; exp(x[2:4]); 0]    (n)"),
])
def test_derivative_through_a_block_matrix_prints_its_block(expr, wrt, expected):
    result = invoke(["derive", "--wrt", wrt, "--", expr])
    assert result.exit_code == 0, result.output
    assert expected in result.stdout.splitlines(), result.stdout


@pytest.mark.parametrize("args, expected", [
    # rows (columns) of the identity print as the selector a textbook writes
    (["--shape", "X=4x3", "--", "rows(X, 2, 3)"], "∂vec(f)/∂vec(X)ᵀ = I_3 ⊗ [0, I_2, 0]    (6×12)"),
    (["--shape", "X=3x3", "--", "tr(rows(X, 1, 2)*Y)"], "∂f/∂X = [Yᵀ; 0]    (3×3)"),
])
def test_selectors_print_as_blocks_of_the_identity(args, expected):
    result = invoke(["derive", "--wrt", "X", *args])
    assert expected in result.stdout.splitlines(), result.stdout


def test_jacobian_through_a_transposed_block_row():
    result = invoke(["derive", "--wrt", "A", "--", "[A, B]'*y"])
    assert "∂f/∂vec(A)ᵀ = (yᵀ ⊗ [I_m; 0]) K_{n,m}    ((m+k)×mn)" in result.stdout.splitlines()


def test_jacobian_through_a_transposed_block_column_selects_the_rows_of_x():
    result = invoke(["derive", "--wrt", "A", "--", "[A; C]'*X"])
    assert "∂vec(f)/∂vec(A)ᵀ = (X[1:m, :]ᵀ ⊗ I_n) K_{m,n}    (np×mn)" in \
        result.stdout.splitlines(), result.stdout


def test_steps_show_the_differential_of_a_block_matrix():
    result = invoke(["derive", "--wrt", "A", "--steps", "--", "||[A, B]*x||^2"])
    lines = result.stdout.splitlines()
    assert "    du = [dA, 0]    [d[A, B] = [dA, dB]]" in lines, result.stdout
    assert "    df = 2 v x[1:n]ᵀ : dA    [G : d[A, B] = G[:, 1:n] : dA + G[:, n+1:n+p] : dB]" \
        in lines, result.stdout


def test_hessian_through_a_block_matrix_matches_differences_of_the_gradient(tmp_path):
    rng = np.random.default_rng(5)
    arrays = {"A": rng.standard_normal((3, 2)), "B": rng.standard_normal((3, 3)),
              "x": rng.standard_normal(5)}
    from helpers import input_args

    result = invoke(["eval", "--order", "2", "--wrt", "x", "--wrt", "A", "--check",
                     *input_args(arrays, tmp_path), "--", "||[A, B]*x||^2"])
    assert result.exit_code == 0, result.output
    payload = cli_eval_json("||[A, B]*x||^2", arrays, tmp_path,
                            ["--order", "2", "--wrt", "x"])
    M = block([[arrays["A"], arrays["B"]]])
    hess = np.asarray(payload["hess_x"]).reshape(payload["shapes"]["hess_x"])
    assert_close(hess, 2 * M.T @ M, "hess_x")


def test_text_latex_and_dsl_forms_of_a_block_matrix():
    expr = "[A, B; C, D]*x"
    text = invoke(["derive", "--wrt", "x", "--", expr]).stdout
    assert "f = [A, B; C, D] x" in text
    latex = invoke(["derive", "--wrt", "x", "--format", "latex", "--", expr]).stdout
    assert r"\begin{bmatrix} A & B \\ C & D \end{bmatrix} x" in latex
    assert cli_derive_dsl(expr, ["x"]) == ["[A, B; C, D]"]
    code = invoke(["derive", "--wrt", "x", "--format", "numpy", "--", expr]).stdout
    assert "np.block(" in code


def test_blocks_of_vectors_and_scalars_have_the_spec_shapes(tmp_path):
    x, y = np.arange(3.0), np.arange(3.0, 6.0)
    assert cli_eval_value("[x, y]", {"x": x, "y": y}, tmp_path).shape == (3, 2)
    assert cli_eval_value("[x; y]", {"x": x, "y": y}, tmp_path).shape == (6,)
    assert cli_eval_value("[x', 1]", {"x": x}, tmp_path).shape == (1, 4)
    np.testing.assert_array_equal(cli_eval_value("[1, 2; 3, 4]", {}, tmp_path),
                                  [[1, 2], [3, 4]])


def test_newline_inside_brackets_separates_block_rows(tmp_path):
    out = cli_eval_value("[1, 2\n 3, 4]", {}, tmp_path)
    np.testing.assert_array_equal(out, [[1, 2], [3, 4]])


def test_a_space_before_bracket_is_a_product_with_a_block_matrix(tmp_path):
    x = np.array([1.0, 2.0])
    out = cli_eval_value("x' [x, x]", {"x": x}, tmp_path)
    np.testing.assert_allclose(out, [[5.0, 5.0]])


def test_symbolic_sizes_of_blocks_add_up():
    result = invoke(["derive", "--wrt", "x", "--", "||[A, B]*x||^2"])
    assert "  A: m×n, B: m×k, x: n+k" in result.stdout.splitlines()
    result = invoke(["derive", "--wrt", "A", "--", "[A, B; C, D]"])
    assert "f = [A, B; C, D]    ((m+p)×(n+k))" in result.stdout.splitlines()


def test_one_known_block_width_and_the_total_give_the_other():
    result = invoke(["derive", "--shape", "A=3x2", "--shape", "x=5", "--wrt", "B", "--",
                     "||[A, B]*x||^2"])
    assert "  A: 3×2, B: 3×3, x: 5" in result.stdout.splitlines(), result.stdout


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("expr, shapes, message", [
    ("[A, x]", ["A=3x2", "x=4"],
     "shape conflict in ',' (horizontal join): A is 3×2 but x is a vector of length 4 "
     "(blocks side by side need the same number of rows) (column 3)\n  [A, x]\n    ^"),
    ("[A, B; C]", ["A=3x2", "B=3x3", "C=2x4"],
     "shape conflict in ';' (vertical join): the block row A, B is 3×5 but the block row C "
     "is 2×4 (stacked blocks need the same number of columns) (column 6)\n"
     "  [A, B; C]\n       ^"),
    ("[x, y]", ["x=n", "y=m"],
     "shape conflict in ',' (horizontal join): x is a vector of length n but y is a vector "
     "of length m (blocks side by side need the same number of rows) (column 3)\n"
     "  [x, y]\n    ^"),
    ("[A; x']", ["A=3x2", "x=4"],
     "shape conflict in ';' (vertical join): the block row A is 3×2 but the block row x' is "
     "a row vector (1×4) (stacked blocks need the same number of columns) (column 3)\n"
     "  [A; x']\n    ^"),
    ("[1, 2]*[3; 4; 5]", [],
     "shape conflict in the product: [1, 2] is a row vector (1×2) but [3; 4; 5] is a vector "
     "of length 3 (column 7)\n  [1, 2]*[3; 4; 5]\n        ^"),
    ("rows(x, 2, 6)", ["x=4"],
     "rows(x, 2, 6) is out of range: x has 4 rows (column 1)\n  rows(x, 2, 6)\n"
     "  ^^^^^^^^^^^^^"),
])
def test_shape_errors_name_the_join_both_operands_and_point_at_it(expr, shapes, message):
    args = [a for s in shapes for a in ("--shape", s)]
    result = invoke(["derive", *args, "--wrt", "x" if "x" in expr else "A", "--", expr])
    assert result.exit_code == 2
    assert result.stderr == f"matgrad: error: {message}\n"


@pytest.mark.parametrize("expr, message", [
    ("[A, B", "unclosed '[' of a block matrix (column 1)\n  [A, B\n  ^"),
    ("[]", "empty block matrix '[]' (column 1)\n  []\n  ^^"),
    ("[A, B]]", "unmatched ']' (column 7)\n  [A, B]]\n        ^"),
    ("[A; ; B]", "an empty block row (column 5)\n  [A; ; B]\n      ^"),
])
def test_malformed_block_matrices_are_parse_errors(expr, message):
    result = invoke(["derive", "--wrt", "A", "--", expr])
    assert result.exit_code == 2
    assert result.stderr == f"matgrad: error: {message}\n"


# ---------------------------------------------------------------- random block expressions

_ATOMS = ["A", "B", "x", "y", "1", "alpha", "C'", "x'", "eye(2)", "rows(x, 1, 1)",
          "cols(A, 2, 2)", "rows(A, 1, 1)"]


def _random_expr(rng, depth=0) -> str:
    r = rng.random()
    if depth < 2 and r < 0.35:
        rows = [", ".join(_random_expr(rng, depth + 1) for _ in range(rng.integers(1, 3)))
                for _ in range(rng.integers(1, 3))]
        return "[" + "; ".join(rows) + "]"
    if depth < 2 and r < 0.6:
        op = ["*", " + ", " .* ", "'*"][rng.integers(4)]
        return _random_expr(rng, depth + 1) + op + _random_expr(rng, depth + 1)
    if depth < 2 and r < 0.7:
        return "sin(" + _random_expr(rng, depth + 1) + ")"
    return _ATOMS[rng.integers(len(_ATOMS))]


def test_random_block_expressions_check_and_round_trip(tmp_path):
    """Random nestings of blocks, products, sums and selections of 2×2 matrices, vectors
    and scalars: every one that is well-shaped passes eval --check, and its dsl lines
    read back to the eval gradient (a shape error is fine, anything else fails)."""
    import json
    import re

    from helpers import input_args

    rng = np.random.default_rng(11)
    arrays = {"A": rng.standard_normal((2, 2)), "B": rng.standard_normal((2, 2)),
              "C": rng.standard_normal((2, 2)), "x": rng.standard_normal(2),
              "y": rng.standard_normal(2), "alpha": np.array(0.7)}
    shapes = {"A": (2, 2), "B": (2, 2), "C": (2, 2), "x": (2,), "y": (2,), "alpha": ()}
    inputs = input_args(arrays, tmp_path)
    checked = 0
    while checked < 25:
        expr = _random_expr(rng)
        wrt = [w for w in ("A", "x", "alpha", "C") if re.search(rf"\b{w}\b", expr)]
        if not wrt:
            continue
        wrt_args = [a for w in wrt for a in ("--wrt", w)]
        result = invoke(["eval", "--check", "--format", "json", *wrt_args, *inputs, "--", expr])
        assert result.exit_code in (0, 2), (expr, result.output)
        if result.exit_code == 2:
            assert result.stderr.startswith("matgrad: error: shape conflict"), result.stderr
            continue
        payload = json.loads(result.stdout)
        lines = cli_derive_dsl(expr, wrt, shape_args(shapes))
        for w, line in zip(wrt, lines):
            used = {k: v for k, v in arrays.items() if _mentions(line, k)}
            printed = cli_eval_value(line, used, tmp_path)
            grad = np.asarray(payload[f"grad_{w}"]).reshape(payload["shapes"][f"grad_{w}"])
            expected = matrix_form(grad, tuple(payload["shapes"]["value"]), np.shape(arrays[w]))
            assert_close(printed.reshape(expected.shape), expected, f"{expr} d/d{w}: {line}")
        checked += 1

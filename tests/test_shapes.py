"""Shape inference (SPEC §3): symbolic dimensions and their unification, --shape and
--dim, the naming convention, shapes taken from eval's arrays, and conflict messages."""
from __future__ import annotations

import json

import numpy as np
import pytest

from matgrad_cli.errors import ShapeError, UsageError
from matgrad_cli.ir import dim_mul
from matgrad_cli.language.shapes import convention_kind, parse_program, parse_shape_spec


def shapes_of(source, **kwargs):
    program = parse_program(source, **kwargs)
    return program.variables, program.expr.shape


# ---------------------------------------------------------------- symbolic dimensions

SYMBOLIC = [
    ("x'*A*x", {"x": ("n",), "A": ("n", "n")}, ()),
    ("A*x", {"A": ("m", "n"), "x": ("n",)}, ("m",)),
    ("P'P", {"P": ("m", "n")}, ("n", "n")),
    ("A*B*C", {"A": ("m", "n"), "B": ("n", "k"), "C": ("k", "p")}, ("m", "p")),
    ("W2*relu(W1*x)", {"W2": ("m", "k"), "W1": ("k", "n"), "x": ("n",)}, ("m",)),
    ("x'*X*y", {"x": ("n",), "X": ("n", "m"), "y": ("m",)}, ()),
    ("Diag(x)*A", {"x": ("n",), "A": ("n", "m")}, ("n", "m")),
    ("s = A*x; s's + y's", {"A": ("m", "n"), "x": ("n",), "y": ("m",)}, ()),
    ("x'*A*x + y", {"x": ("n",), "A": ("n", "n"), "y": ("m",)}, ("m",)),
    ("x*y'", {"x": ("n",), "y": ("m",)}, ("n", "m")),
]


@pytest.mark.parametrize("source, variables, shape", SYMBOLIC, ids=[s for s, _, _ in SYMBOLIC])
def test_symbolic_dimensions_are_unified_and_named(source, variables, shape):
    assert shapes_of(source) == (variables, shape)


@pytest.mark.parametrize("source", ["tr(X)", "det(X)", "inv(X)", "X^2", "X + I", "diag(X)",
                                    "logdet(X)", "X^-1"])
def test_square_operations_make_a_square_matrix(source):
    variables, _ = shapes_of(source)
    rows, cols = variables["X"]
    assert rows == cols and isinstance(rows, str)


def test_kron_dimensions_are_products():
    variables, shape = shapes_of("kron(A, B)")
    (ar, ac), (br, bc) = variables["A"], variables["B"]
    assert len({ar, ac, br, bc}) == 4
    assert shape == (dim_mul(ar, br), dim_mul(ac, bc))


def test_kron_with_concrete_shapes():
    assert shapes_of("kron(A, B)", shapes={"A": [2, 3], "B": [4, 5]})[1] == (8, 15)


def test_vec_dimension_is_a_product():
    variables, shape = shapes_of("vec(A)")
    assert shape == (dim_mul(*variables["A"]),)


def test_dimension_name_bound_by_unification_with_an_array():
    program = parse_program("x'*ones(n)", array_shapes={"x": (5,)})
    assert program.variables == {"x": (5,)}
    assert program.dims == {"n": 5}
    assert program.expr.shape == ()


def test_dimension_name_bound_by_unification_in_eval(eval_json):
    x = np.arange(1.0, 6.0)
    value, shape = eval_json("x'*ones(n) + sum(ones(n))", {"x": x})
    assert shape == ()
    assert value == x.sum() + 5


# ---------------------------------------------------------------- --shape and --dim

SPECS = [
    ("3x4", [3, 4]), ("3×4", [3, 4]), ("m,n", ["m", "n"]), ("m x n", ["m", "n"]),
    ("mxn", ["m", "n"]), ("n", ["n"]), ("5", [5]), ("scalar", []), ("1,l", [1, "l"]),
    ("nx,ny", ["nx", "ny"]), ("nx", ["nx"]), (" 2 , k ", [2, "k"]),
]


@pytest.mark.parametrize("text, sizes", SPECS, ids=[t for t, _ in SPECS])
def test_shape_spec_forms(text, sizes):
    assert parse_shape_spec(text) == sizes


def test_tensor_shape_spec():
    """A tensor is declared with three or more sizes (SPEC §2b)."""
    assert parse_shape_spec("3x4x5") == [3, 4, 5]
    assert parse_shape_spec("l,m,n") == ["l", "m", "n"]


@pytest.mark.parametrize("text, message", [
    ("a-b", "bad shape 'a-b': use forms like 3x4, m,n, n or scalar"),
    ("3,", "bad shape '3,': use forms like 3x4, m,n, n or scalar"),
    ("2.5", "bad shape '2.5': use forms like 3x4, m,n, n or scalar"),
], ids=["minus", "trailing-comma", "fraction"])
def test_bad_shape_spec(text, message):
    with pytest.raises(UsageError) as info:
        parse_shape_spec(text)
    assert str(info.value) == message


DECLARED = [
    ("A*x", {"A": [3, 4]}, {}, {"A": (3, 4), "x": (4,)}, (3,)),
    ("A*x", {"A": ["m", "n"]}, {}, {"A": ("m", "n"), "x": ("n",)}, ("m",)),
    ("A*x", {"x": ["n"]}, {}, {"A": ("m", "n"), "x": ("n",)}, ("m",)),
    ("beta*x", {"beta": [], "x": ["n"]}, {}, {"beta": (), "x": ("n",)}, ("n",)),
    ("A*x", {"A": [1, "l"]}, {}, {"A": (1, "l"), "x": ("l",)}, ()),
    ("A*x", {"A": ["m", "n"]}, {"m": 2}, {"A": (2, "n"), "x": ("n",)}, (2,)),
    ("ones(n)", {}, {"n": 4}, {}, (4,)),
    ("eye(n)*x", {}, {"n": 3}, {"x": (3,)}, (3,)),
    ("A + x", {"A": [4, 1]}, {}, {"A": (4,), "x": (4,)}, (4,)),
    ("A + x", {"A": [1, 1]}, {}, {"A": (), "x": ("n",)}, ("n",)),
    ("x + y", {"x": ["n"], "y": ["m"]}, {"n": 3, "m": 3}, {"x": (3,), "y": (3,)}, (3,)),
]


@pytest.mark.parametrize("source, shapes, dims, variables, shape", DECLARED,
                         ids=[f"{s} {sh} {d}" for s, sh, d, _, _ in DECLARED])
def test_declared_shapes_and_dims(source, shapes, dims, variables, shape):
    assert shapes_of(source, shapes=shapes, dims=dims) == (variables, shape)


@pytest.mark.parametrize("args, variables", [
    (["A*x", "--shape", "A=3x4"], {"A": [3, 4], "x": [4]}),
    (["A*x", "--shape", "A=m,n"], {"A": ["m", "n"], "x": ["n"]}),
    (["x'*y", "--shape", "x=n"], {"x": ["n"], "y": ["n"]}),
    (["beta*x", "--shape", "beta=scalar"], {"beta": [], "x": ["n"]}),
    (["A*x", "--shape", "A=1,l"], {"A": [1, "l"], "x": ["l"]}),
    (["x'*ones(n)", "--dim", "n=4"], {"x": [4]}),
    (["A*x", "--shape", "A=m,n", "--dim", "n=2"], {"A": ["m", 2], "x": [2]}),
], ids=["3x4", "m,n", "x=n", "scalar", "row", "dim", "shape+dim"])
def test_cli_shape_and_dim_options(cli, args, variables):
    result = cli(["derive", "--format", "json", "--wrt", "x"] + args)
    assert result.exit_code == 0, result.output
    # derive's JSON writes every size as a string ("3"); compare the texts.
    printed = {name: [str(d) for d in dims]
               for name, dims in json.loads(result.stdout)["variables"].items()}
    assert printed == {name: [str(d) for d in dims] for name, dims in variables.items()}


@pytest.mark.parametrize("option, message", [
    (["--shape", "A"], "matgrad: error: --shape A: use NAME=SPEC, e.g. A=3x4, A=m,n, x=n, "
                       "beta=scalar\n"),
    (["--shape", "A=3x"], "matgrad: error: bad shape '3x': use forms like 3x4, m,n, n or "
                          "scalar\n"),
    (["--dim", "n=0"], "matgrad: error: --dim n=0: use NAME=N with a positive integer, e.g. "
                       "n=4\n"),
    (["--dim", "n=four"], "matgrad: error: --dim n=four: use NAME=N with a positive integer, "
                          "e.g. n=4\n"),
], ids=["no-equals", "3x", "dim-zero", "dim-word"])
def test_cli_bad_shape_options(cli, option, message):
    result = cli(["derive", "A*x", "--wrt", "x"] + option)
    assert result.exit_code == 2
    assert result.stderr == message


# ---------------------------------------------------------------- the convention

@pytest.mark.parametrize("name, kind", [
    ("A", "matrix"), ("W1", "matrix"), ("Sigma", "matrix"), ("Σ", "matrix"), ("Ω", "matrix"),
    ("x", "vector"), ("x_1", "vector"), ("w2", "vector"), ("alphabet", "vector"),
    ("e", "vector"),
    ("alpha", "scalar"), ("beta", "scalar"), ("lambda", "scalar"), ("sigma", "scalar"),
    ("omega", "scalar"), ("varepsilon", "scalar"), ("λ", "scalar"), ("α", "scalar"),
    ("ω", "scalar"), ("ε", "scalar"), ("ϵ", "scalar"), ("φ", "scalar"), ("ϕ", "scalar"),
])
def test_naming_convention(name, kind):
    assert convention_kind(name) == kind


def test_convention_applies_to_open_variables():
    variables, shape = shapes_of("alpha*A*x + λ*y + beta")
    assert variables["alpha"] == () and variables["λ"] == () and variables["beta"] == ()
    assert len(variables["A"]) == 2 and len(variables["x"]) == 1 and len(variables["y"]) == 1
    assert shape == variables["y"]


@pytest.mark.parametrize("shapes, name, shape", [
    ({"x": ["m", "n"]}, "x", ("m", "n")),
    ({"A": ["n"]}, "A", ("n",)),
    ({"alpha": [3]}, "alpha", (3,)),
    ({"x": []}, "x", ()),
    ({"λ": [2, 2]}, "λ", (2, 2)),
], ids=["vector-name-as-matrix", "matrix-name-as-vector", "greek-as-vector",
        "vector-name-as-scalar", "unicode-greek-as-matrix"])
def test_declared_shape_beats_convention(shapes, name, shape):
    variables, _ = shapes_of(f"sum({name})", shapes=shapes)
    assert variables[name] == shape


# ---------------------------------------------------------------- shapes from arrays

@pytest.mark.parametrize("name, array_shape, shape", [
    ("x", (4,), (4,)),
    ("x", (4, 1), (4,)),
    ("x", (1, 4), (4,)),
    ("x", (2, 3), (2, 3)),
    ("x", (), ()),
    ("A", (2, 3), (2, 3)),
    ("A", (4,), (4,)),
    ("A", (4, 1), (4,)),
    ("A", (1, 4), (1, 4)),
    ("A", (1, 1), ()),
    ("beta", (), ()),
    ("beta", (1,), ()),
    ("beta", (3,), (3,)),
], ids=lambda v: str(v))
def test_shape_from_array(name, array_shape, shape):
    variables, _ = shapes_of(f"sum({name})", array_shapes={name: array_shape})
    assert variables[name] == shape


def test_array_shape_is_checked_against_the_declared_shape():
    with pytest.raises(UsageError) as info:
        parse_program("A*x", shapes={"x": [3]}, array_shapes={"x": (4,)})
    assert str(info.value) == ("input x has shape (4,) but its declared shape is a vector of "
                               "length 3")


def test_array_binds_a_declared_dimension_name():
    program = parse_program("x'*x", shapes={"x": ["n"]}, array_shapes={"x": (4, 1)})
    assert program.variables == {"x": (4,)}
    assert program.dims == {"n": 4}


# ---------------------------------------------------------------- sized constants, 1×1

@pytest.mark.parametrize("source, shape", [
    ("ones(n, 1)", ("n",)),
    ("ones(3, 1)", (3,)),
    ("ones(1)", ()),
    ("eye(1)", ()),
    ("zeros(1, 1)", ()),
    ("ones(1, n)", (1, "n")),
    ("zeros(m, n)", ("m", "n")),
    ("eye(n)", ("n", "n")),
    ("commutation(2, 3)", (6, 6)),
    ("x'*y", ()),
    ("x'*A*y", ()),
    ("x'", (1, "n")),
    ("A(x+y)", ("m",)),
], ids=lambda v: str(v))
def test_result_shapes(source, shape):
    assert shapes_of(source)[1] == shape


def test_one_by_one_declared_matrix_is_a_scalar():
    variables, shape = shapes_of("A*B", shapes={"A": [1, 1], "B": [2, 3]})
    assert variables["A"] == () and shape == (2, 3)


# ---------------------------------------------------------------- conflicts

CONFLICTS = [
    ("A + B", {"A": [3, 4], "B": [4, 3]},
     "shape conflict in '+': A is 3×4 but B is 4×3 (column 3)\n  A + B\n    ^"),
    ("A - x", {"A": [3, 4], "x": [3]},
     "shape conflict in '-': A is 3×4 but x is a vector of length 3 (column 3)\n  A - x\n"
     "    ^"),
    ("A*A", {"A": [3, 4]},
     "shape conflict in the product: A is 3×4 but A is 3×4 (column 2)\n  A*A\n   ^"),
    ("A x", {"A": [3, 4], "x": [3]},
     "shape conflict in the product (juxtaposition): A is 3×4 but x is a vector of length 3 "
     "(column 2)\n  A x\n   ^"),
    ("2*A*B'", {"A": [3, 4], "B": [4, 3]},
     "shape conflict in the product: 2*A is 3×4 but B' is 3×4 (column 4)\n  2*A*B'\n     ^"),
    ("A : B", {"A": [3, 4], "B": [4, 3]},
     "shape conflict in ':' (Frobenius product): A is 3×4 but B is 4×3 (column 3)\n"
     "  A : B\n    ^"),
    ("A .* B", {"A": [3, 4], "B": [4, 3]},
     "shape conflict in '.*' (entrywise product): A is 3×4 but B is 4×3 (column 3)\n"
     "  A .* B\n    ^^"),
    ("A ⊙ x'", {"A": [3, 4], "x": [3]},
     "shape conflict in '⊙' (entrywise product): A is 3×4 but x' is a row vector (1×3) "
     "(column 3)\n  A ⊙ x'\n    ^"),
    ("A ./ B", {"A": [3, 4], "B": [4, 3]},
     "shape conflict in './' (entrywise division): A is 3×4 but B is 4×3 (column 3)\n"
     "  A ./ B\n    ^^"),
    ("x + y", {"x": ["n"], "y": ["m"]},
     "shape conflict in '+': x is a vector of length n but y is a vector of length m "
     "(column 3)\n  x + y\n    ^"),
    ("A*x + B*y", {"A": ["m", "n"], "B": ["k", "n"]},
     "shape conflict in '+': A*x is a vector of length m but B*y is a vector of length k "
     "(column 5)\n  A*x + B*y\n      ^"),
    ("x + A", {},
     "shape conflict in '+': x is a vector of length n but A is m×k (column 3)\n  x + A\n"
     "    ^"),
    ("x*y", {},
     "shape conflict in the product: x is a vector of length n but y is a vector of length m "
     "(for two vectors write x'*y, x*y' or x.*y) (column 2)\n  x*y\n   ^"),
    ("A^2", {"A": [2, 3]},
     "'^' needs a square matrix, but A is 2×3; use .^ for an entrywise power (column 2)\n"
     "  A^2\n   ^"),
    ("tr(A)", {"A": [2, 3]},
     "tr needs a square matrix, but A is 2×3 (column 1)\n  tr(A)\n  ^^^^^"),
    ("diag(x)", {},
     "diag needs a square matrix, but x is a vector of length n; Diag(x) makes a diagonal "
     "matrix from a vector (column 1)\n  diag(x)\n  ^^^^^^^"),
    ("Diag(A)", {},
     "Diag needs a vector, but A is m×n; diag(X) takes the diagonal of a matrix (column 1)\n"
     "  Diag(A)\n  ^^^^^^^"),
    ("softmax(A)", {"A": [2, 3]},
     "softmax needs a vector, but A is 2×3: give the dimension, softmax(X, 1) down each "
     "column or softmax(X, 2) along each row (column 1)\n  softmax(A)\n  ^^^^^^^^^^"),
]


@pytest.mark.parametrize("source, shapes, message", CONFLICTS,
                         ids=[f"{s} {sh}" for s, sh, _ in CONFLICTS])
def test_conflict_message(source, shapes, message):
    with pytest.raises(ShapeError) as info:
        parse_program(source, shapes=shapes)
    assert str(info.value) == message


@pytest.mark.parametrize("source, array_shapes, operator, left, right", [
    ("A + B", {"A": (3, 4), "B": (4, 3)}, "'+'", "A is 3×4", "B is 4×3"),
    ("A*x", {"A": (3, 4), "x": (5,)}, "the product", "A is 3×4", "x is a vector of length 5"),
    ("A : B", {"A": (3, 4), "B": (3, 3)}, "':'", "A is 3×4", "B is 3×3"),
    ("x .* y", {"x": (3,), "y": (4,)}, "'.*'", "x is a vector of length 3",
     "y is a vector of length 4"),
], ids=["plus", "product", "frobenius", "hadamard"])
def test_conflict_from_arrays_names_operator_and_both_operands(source, array_shapes, operator,
                                                               left, right):
    with pytest.raises(ShapeError) as info:
        parse_program(source, array_shapes=array_shapes)
    first_line = str(info.value).splitlines()[0]
    assert first_line.startswith(f"shape conflict in {operator}")
    assert f"{left} but {right}" in first_line


@pytest.mark.parametrize("source", ["x*y", "x y", "x'x'", "f(x)", "exp(x)(y)"])
def test_convention_vector_never_collapses_to_a_scalar(source):
    with pytest.raises(ShapeError):
        parse_program(source)


def test_convention_matrix_never_collapses_to_a_vector():
    with pytest.raises(ShapeError):
        parse_program("A x'")


def test_convention_matrix_may_be_a_row():
    variables, shape = shapes_of("x*A")
    assert variables["A"] == (1, "m") and shape == ("n", "m")


def test_eval_conflict_reports_array_sizes(cli, tmp_path):
    np.save(tmp_path / "A.npy", np.ones((2, 3)))
    np.save(tmp_path / "x.npy", np.ones(2))
    result = cli(["eval", "A*x", "-i", f"A={tmp_path / 'A.npy'}", "-i",
                  f"x={tmp_path / 'x.npy'}"])
    assert result.exit_code == 2
    assert result.stderr == ("matgrad: error: shape conflict in the product: A is 2×3 but x is "
                             "a vector of length 2 (column 2)\n  A*x\n   ^\n")


def test_vec_pairs_with_kron_as_vec_of_a_product_does():
    """(Bᵀ ⊗ A) vec(X) = vec(A X B): open sizes pair B with X's columns, A with its rows."""
    program = parse_program("vec(X)'*kron(B', A)*vec(X)")
    shapes = {name: tuple(str(d) for d in shape) for name, shape in program.variables.items()}
    assert shapes == {"X": ("m", "n"), "B": ("n", "n"), "A": ("m", "m")}


def test_a_product_of_open_sizes_is_not_guessed_from_a_number(tmp_path):
    """vec(X) of a given 2×3 X against eye(m*n): m = 2, n = 3 or m = 3, n = 2 is a guess,
    and a wrong guess gives wrong numbers; the sizes stay open (exit 2, asking for --dim)
    unless given."""
    from helpers import invoke

    np.save(tmp_path / "X.npy", np.arange(6.0).reshape(2, 3))
    line = "vec(X)'*kron(ones(n, n), eye(m))"
    result = invoke(["eval", line, "-i", f"X={tmp_path / 'X.npy'}"])
    assert result.exit_code == 2 and "--dim" in result.stderr, result.output
    result = invoke(["eval", line, "-i", f"X={tmp_path / 'X.npy'}", "--dim", "m=2",
                     "--dim", "n=3", "--format", "json"])
    assert result.exit_code == 0, result.output
    x = np.arange(6.0).reshape(2, 3).ravel(order="F")
    assert np.allclose(json.loads(result.stdout)["value"],
                       [x @ np.kron(np.ones((3, 3)), np.eye(2))])

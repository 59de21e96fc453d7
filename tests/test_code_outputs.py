"""The ``numpy`` format computes what ``eval`` computes: for every row of the rule table (and
its Hessian rows) and every ``matgrad eval`` command of the samples, the printed function
is compiled, called on the same inputs and compared with the evaluator's values.

Rows are derived twice: with the concrete shapes of the inputs (as ``eval`` derives) and,
for the samples, with the symbolic shapes ``derive`` prints, so the generated shape checks
and sizes are exercised on real arrays.

Every test runs for each code format: ``numpy``, ``jax`` (the function run under
``jax.jit``, in float64) and ``torch``; the jax and torch ones skip when the library is not
installed (``pip install -e '.[export]'``; CI installs it)."""
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
from matgrad_cli.printers.numpy_code import to_code

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BACKENDS = ["numpy", "jax", "torch"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The format's name, once its library is importable (jax in float64)."""
    if request.param == "jax":
        jax = pytest.importorskip("jax")
        jax.config.update("jax_enable_x64", True)
    elif request.param == "torch":
        pytest.importorskip("torch")
    return request.param


def _torch_index_notation(derivation, backend) -> bool:
    """The one known gap: torch has no format for index notation yet (a clear error)."""
    from matgrad_cli.ir import walk

    return backend == "torch" and any(
        type(n).__name__ == "Indexed" or type(n).__name__.startswith("Index")
        for node in api.output_arrays(derivation).values() for n in walk(node))


def _function(derivation, backend):
    namespace: dict = {}
    if _torch_index_notation(derivation, backend):
        from matgrad_cli.printers.backends import UnsupportedOperation

        with pytest.raises(UnsupportedOperation, match="index notation"):
            to_code(derivation, backend)
        pytest.skip("torch: index notation is not supported yet")
    code = to_code(derivation, backend)
    exec(compile(code, "<generated>", "exec"), namespace)  # noqa: S102 - our own output
    f_and_grad = namespace["f_and_grad"]
    if backend == "jax":
        import jax

        f_and_grad = jax.jit(f_and_grad)
    return f_and_grad, code


def _numpy(tree):
    """The function's results as NumPy arrays (jax and torch return their own arrays)."""
    if isinstance(tree, dict):
        return {k: _numpy(v) for k, v in tree.items()}
    return np.asarray(tree)


def _compare(derivation, arrays, expected: dict, what: str, backend: str):
    f_and_grad, code = _function(derivation, backend)
    what = f"{what} [{backend}]"
    result = f_and_grad(*(arrays[v] for v in derivation.program.variables))
    value, first, *second = (_numpy(part) for part in result)
    assert_close(value, expected["value"], f"{what}: value\n{code}")
    for name in derivation.wrt:
        assert_close(first[name], expected[f"grad_{name}"], f"{what}: d/d{name}\n{code}")
        assert np.shape(first[name]) == np.shape(expected[f"grad_{name}"])
        if derivation.order == 2:
            assert_close(second[0][name], expected[f"hess_{name}"], f"{what}: hess {name}")


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in RULES])
def test_rule_row_code_equals_eval(c, backend):
    for seed, shapes in enumerate(c.shapes):
        _, dims = split_shapes(shapes)
        arrays = c.inputs(shapes, seed)
        derivation = derive_for(c.expr, c.wrt, arrays, dims)
        _compare(derivation, arrays, api.evaluate(derivation, arrays), c.expr, backend)


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in HESSIANS])
def test_hessian_row_code_equals_eval(c, backend):
    for seed, shapes in enumerate(c.shapes):
        _, dims = split_shapes(shapes)
        arrays = c.inputs(shapes, seed)
        derivation = derive_for(c.expr, c.wrt, arrays, dims, order=2)
        _compare(derivation, arrays, api.evaluate(derivation, arrays), c.expr, backend)


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
def test_sample_code_equals_eval(folder, words, monkeypatch, backend):
    monkeypatch.chdir(folder)
    opts = _options(words)
    source = opts["source"]
    if source.startswith("@"):
        source = Path(source[1:]).read_text(encoding="utf-8")
    shapes, dims = parse_shapes(tuple(opts["shapes"])), parse_dims(tuple(opts["dims"]))
    result = run_eval(source, opts["wrt"], opts["inputs"], shapes, dims, opts["order"])
    arrays = load_problem(source, opts["inputs"], shapes, dims).arrays
    # as eval derives it (concrete shapes) ...
    _compare(result.derivation, arrays, result.values, f"{folder.name} (concrete)", backend)
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
    _compare(derivation, arrays, result.values, f"{folder.name} (symbolic)", backend)



# ---------------------------------------------------------------- eval --backend

@pytest.fixture(params=["jax", "torch"])
def library(request):
    """A library that evaluates matgrad's formulas in-process (skips when not installed)."""
    pytest.importorskip(request.param)
    return request.param


def _same_as_numpy(derivation, arrays, expected: dict, what: str, library: str):
    if _torch_index_notation(derivation, library):
        pytest.skip("torch: index notation is not supported yet")
    got = api.evaluate(derivation, arrays, backend=library)
    assert set(got) == set(expected), what
    for key, value in expected.items():
        assert_close(got[key], value, f"{what} [{library}]: {key}")
        assert np.shape(got[key]) == np.shape(value), f"{what} [{library}]: {key}"


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in RULES])
def test_rule_row_backend_equals_numpy(c, library):
    # the row's first shapes: the code-format tests above run jax and torch on all of them
    # (through the same printer), and CI time matters (a jit compile per call)
    for seed, shapes in enumerate(c.shapes[:1]):
        _, dims = split_shapes(shapes)
        arrays = c.inputs(shapes, seed)
        derivation = derive_for(c.expr, c.wrt, arrays, dims)
        _same_as_numpy(derivation, arrays, api.evaluate(derivation, arrays), c.expr, library)


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id) for c in HESSIANS])
def test_hessian_row_backend_equals_numpy(c, library):
    for seed, shapes in enumerate(c.shapes):
        _, dims = split_shapes(shapes)
        arrays = c.inputs(shapes, seed)
        derivation = derive_for(c.expr, c.wrt, arrays, dims, order=2)
        _same_as_numpy(derivation, arrays, api.evaluate(derivation, arrays), c.expr, library)


@pytest.mark.parametrize("folder, words", list(_eval_commands()))
def test_sample_eval_backend_equals_numpy(folder, words, monkeypatch, library):
    """``matgrad eval --backend jax|torch`` of every sample command gives eval's numbers."""
    monkeypatch.chdir(folder)
    opts = _options(words)
    source = opts["source"]
    if source.startswith("@"):
        source = Path(source[1:]).read_text(encoding="utf-8")
    shapes, dims = parse_shapes(tuple(opts["shapes"])), parse_dims(tuple(opts["dims"]))
    expected = run_eval(source, opts["wrt"], opts["inputs"], shapes, dims, opts["order"])
    if _torch_index_notation(expected.derivation, library):
        pytest.skip("torch: index notation is not supported yet")
    got = run_eval(source, opts["wrt"], opts["inputs"], shapes, dims, opts["order"],
                   backend=library)
    assert set(got.values) == set(expected.values)
    for key, value in expected.values.items():
        assert_close(got.values[key], value, f"{folder.name} [{library}]: {key}")
        assert np.shape(got.values[key]) == np.shape(value)


def test_compile_derivatives_backends_agree(library):
    """compile_derivatives(backend=...) returns the library's arrays, equal to numpy's."""
    from matgrad_cli import compile_derivatives

    rng = np.random.default_rng(0)
    arrays = {"W": rng.standard_normal((4, 3)), "x": rng.standard_normal(3),
              "y": np.eye(4)[1]}
    expr = "logsumexp(W*x) - y'*W*x"
    want = compile_derivatives(expr, ["W", "x"])(**arrays)
    got = compile_derivatives(expr, ["W", "x"], backend=library)(**arrays)
    assert type(got["grad_W"]).__module__.split(".")[0] in ("jax", "jaxlib", "torch")
    for key in want:
        assert_close(np.asarray(got[key]), want[key], f"{expr} [{library}]: {key}")


def test_unknown_backend_is_a_usage_error():
    from matgrad_cli import compile_derivatives
    from matgrad_cli.errors import UsageError

    with pytest.raises(UsageError, match="unknown backend 'cupy'"):
        compile_derivatives("x'*x", ["x"], backend="cupy")


def test_jax_format_contracts_transposed_products():
    """A Bᵀ and Aᵀ B print as einsum contractions for jax (XLA's single-threaded CPU build
    copies a transposed operand of A @ B.T out whole), with the numpy format's values."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(5)
    arrays = {"W2": rng.standard_normal((2, 4)), "W1": rng.standard_normal((4, 3)),
              "X": rng.standard_normal((3, 5)), "Y": rng.standard_normal((2, 5))}
    derivation = derive_for("||W2*relu(W1*X) - Y||_F^2", ["W1", "W2"], arrays, [])
    code = to_code(derivation, "jax")
    assert "jnp.einsum('ij,kj->ik', N, R)" in code and "N @ R.T" not in code, code
    _compare(derivation, arrays, api.evaluate(derivation, arrays), "mlp", "jax")

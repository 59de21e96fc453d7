"""Second order beyond the diagonal Hessian blocks (SPEC §5): ``--mixed`` blocks
∂²f/∂x∂yᵀ and ``eval --order 2 --hvp X=FILE``, each against central differences of the
symbolic gradient (itself checked by the rule table), through the API, the printed dsl
lines and the command line."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    assert_close,
    derive_for,
    evaluate_line,
    fd_jacobian,
    invoke,
    random_inputs,
)

from matgrad_cli.app import api, render
from matgrad_cli.numeric.evaluator import compile_plan, run_plan

MIXED = [  # expression, wrt (in order), shapes, domains
    ("x'*A*y + sum(x.*y.^2)", ["x", "y"], {"x": (3,), "y": (3,), "A": (3, 3)}, {}),
    ("||W*x - b||^2", ["W", "x", "b"], {"W": (2, 3), "x": (3,), "b": (2,)}, {}),
    ("sum(log(sigmoid(X*w)))", ["X", "w"], {"X": (4, 3), "w": (3,)}, {}),
    ("beta*tr(X'*A*X) + beta^2*sum(X)", ["beta", "X"], {"beta": (), "X": (3, 2), "A": (3, 3)},
     {}),
    ("logdet(A + X'*X) + gamma*x'*x", ["X", "x", "gamma"],
     {"A": (2, 2), "X": (3, 2), "x": (2,), "gamma": ()}, {"A": "spd"}),
]


def _gradient(expr, name, arrays):
    derivation = derive_for(expr, [name], arrays)
    plan = compile_plan({"g": derivation.derivatives[name]})
    used = set(derivation.program.variables)
    shape = np.shape(arrays[name])
    return lambda a: np.reshape(run_plan(plan, {k: v for k, v in a.items() if k in used})["g"],
                                shape, order="F")


def _inputs(shapes, domains, seed=0):
    arrays = random_inputs(shapes, {k: domains.get(k, "real") for k in shapes}, seed)
    if "A" in domains:  # symmetric positive definite, well conditioned
        a = arrays["A"]
        arrays["A"] = a @ a.T + np.eye(a.shape[0])
    return arrays


@pytest.mark.parametrize("expr, wrt, shapes, domains", MIXED)
def test_mixed_blocks_equal_differences_of_the_gradient(expr, wrt, shapes, domains):
    arrays = _inputs(shapes, domains)
    derivation = derive_for(expr, wrt, arrays, order=2)
    derivation = api.derive(derivation.program, wrt, 2, mixed=True)
    values = api.evaluate(derivation, arrays)
    pairs = [(x, y) for i, x in enumerate(wrt) for y in wrt[i + 1:]]
    assert list(derivation.mixed) == pairs
    lines = render.derive_dsl(derivation).split("\n")
    assert len(lines) == len(wrt) + len(pairs)  # diagonal blocks first, then the pairs
    for (x, y), line in zip(pairs, lines[len(wrt):]):
        expected = fd_jacobian(_gradient(expr, x, arrays), arrays, y)  # X.shape + Y.shape
        got = values[f"hess_{x}_{y}"]
        assert got.shape == np.shape(arrays[x]) + np.shape(arrays[y])
        assert_close(got, expected, f"{expr}: d2f/d{x}d{y}")
        matrix = expected.reshape(max(np.size(arrays[x]), 1), -1, order="F")
        printed = evaluate_line(line, arrays)
        assert_close(np.reshape(printed, matrix.shape, order="F"), matrix,
                     f"{expr}: dsl {line!r}")


HVP = [
    ("||A*sigmoid(x)||^2", "x", {"A": (4, 3), "x": (3,)}),
    ("sum(exp(x)) + x'*A*x", "x", {"A": (3, 3), "x": (3,)}),
    ("||X*B - C||_F^2 + sum(tanh(X))", "X", {"X": (3, 2), "B": (2, 4), "C": (3, 4)}),
    ("logsumexp(W*x) - y'*W*x", "W", {"W": (3, 4), "x": (4,), "y": (3,)}),
    ("beta^3 + beta*sum(x)", "beta", {"beta": (), "x": (3,)}),
]


@pytest.mark.parametrize("expr, name, shapes", HVP)
def test_hessian_vector_product_equals_difference_of_the_gradient(expr, name, shapes):
    arrays = _inputs(shapes, {})
    rng = np.random.default_rng(5)
    v = rng.standard_normal(np.shape(arrays[name]))
    derivation = api.derive(derive_for(expr, [name], arrays).program, [name], 2, hvp=True)
    assert not derivation.hessians  # H itself is never formed
    values = api.evaluate(derivation, {**arrays, api.HVP_DIRECTION: v})
    gradient = _gradient(expr, name, arrays)
    h = 1e-5
    expected = (gradient({**arrays, name: arrays[name] + h * v}) -
                gradient({**arrays, name: arrays[name] - h * v})) / (2 * h)
    assert values[f"hvp_{name}"].shape == np.shape(arrays[name])
    assert_close(values[f"hvp_{name}"], expected, f"{expr}: H v")


def test_hvp_of_frobenius_norm_is_closed_form():
    """The forward sweep over 2X gives 2V: no Kronecker product, no Hessian."""
    program = api.parse("||X||_F^2", array_shapes={"X": (200, 200)})
    derivation = api.derive(program, ["X"], 2, hvp=True)
    from matgrad_cli.printers.text import to_text

    assert to_text(derivation.hvps["X"]) == f"2 {api.HVP_DIRECTION}"


def test_cli_mixed_and_hvp_write_their_arrays(tmp_path):
    rng = np.random.default_rng(0)
    x, A, v = rng.standard_normal(3), rng.standard_normal((3, 3)), rng.standard_normal(3)
    y = rng.standard_normal(2)
    for name, value in {"x": x, "A": A, "v": v, "y": y, "B": rng.standard_normal((3, 2))}.items():
        np.save(tmp_path / f"{name}.npy", value)
    out = tmp_path / "out.npz"
    result = invoke(["eval", "x'*A*x + x'*B*y", "--wrt", "x", "--wrt", "y", "--order", "2",
                     "--mixed", "-i", f"x={tmp_path / 'x.npy'}", "-i", f"A={tmp_path / 'A.npy'}",
                     "-i", f"y={tmp_path / 'y.npy'}", "-i", f"B={tmp_path / 'B.npy'}",
                     "--check", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "check hess_x_y:" in result.stdout and "∂²f/∂x∂yᵀ =" in result.stdout
    saved = np.load(out)
    assert saved["hess_x_y"].shape == (3, 2)
    assert_close(saved["hess_x_y"], np.load(tmp_path / "B.npy"))
    result = invoke(["eval", "x'*A*x", "--wrt", "x", "--order", "2", "--hvp",
                     f"x={tmp_path / 'v.npy'}", "-i", f"x={tmp_path / 'x.npy'}",
                     "-i", f"A={tmp_path / 'A.npy'}", "--check", "-o", str(out)])
    assert result.exit_code == 0, result.output
    saved = np.load(out)
    assert sorted(saved) == ["grad_x", "hvp_x", "value"]
    assert_close(saved["hvp_x"], (A + A.T) @ v)


def test_derive_mixed_prints_blocks_after_the_diagonal():
    result = invoke(["derive", "x'*A*y", "--wrt", "x", "--wrt", "y", "--order", "2", "--mixed",
                     "--format", "dsl"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 3 and lines[2] == "A"
    text = invoke(["derive", "x'*A*y", "--wrt", "x", "--wrt", "y", "--order", "2", "--mixed"])
    assert text.stdout.rstrip("\n").endswith("\n\n∂²f/∂x∂yᵀ = A    (n×m)")


@pytest.mark.parametrize("args, message", [
    (["derive", "x'*x", "--wrt", "x", "--mixed"], "--mixed needs --order 2"),
    (["eval", "x'*x", "--wrt", "x", "-i", "x=1", "--hvp", "x=1"], "--hvp needs --order 2"),
    (["eval", "x'*y", "--wrt", "x", "--wrt", "y", "--order", "2", "-i", "x=1", "-i", "y=1",
      "--hvp", "x=1"], "--hvp needs exactly one --wrt variable"),
    (["eval", "x'*x", "--wrt", "x", "--order", "2", "-i", "x=1", "--hvp", "y=1"],
     "the direction must be for the one variable"),
])
def test_second_order_usage_errors_exit_2(args, message):
    result = invoke(args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize("expr, wrt, shapes", [
    ("sum(i: ||T[:, :, i]*w - y[:, i]||^2)", "w", {"T": (3, 4, 2), "w": (4,), "y": (3, 2)}),
    ("beta*sum(i: sum((Phi[:, i, :]'*Phi[:, i, :] - I).^2))", "Phi",
     {"Phi": (3, 2, 4), "beta": ()}),
    ("sum(i: (a'*X[:, i])^4)", "X", {"a": (3,), "X": (3, 4)}),
])
def test_hvp_through_index_notation_is_the_hessian_times_v(expr, wrt, shapes, tmp_path):
    """Index notation has no vec-form forward sweep: H v is then ∇(∇f : v), one reverse
    sweep over the gradient, still without H."""
    rng = np.random.default_rng(7)
    args = []
    for name, shape in shapes.items():
        np.save(tmp_path / f"{name}.npy", rng.standard_normal(shape) if shape else 0.7)
        args += ["-i", f"{name}={tmp_path / (name + '.npy')}"]
    v = rng.standard_normal(shapes[wrt])
    np.save(tmp_path / "v.npy", v)
    hvp, full = tmp_path / "hvp.npz", tmp_path / "full.npz"
    result = invoke(["eval", expr, "--wrt", wrt, *args, "--order", "2", "--hvp",
                     f"{wrt}={tmp_path / 'v.npy'}", "-o", str(hvp)])
    assert result.exit_code == 0, result.output
    result = invoke(["eval", expr, "--wrt", wrt, *args, "--order", "2", "-o", str(full)])
    assert result.exit_code == 0, result.output
    H = np.load(full)[f"hess_{wrt}"].reshape(v.size, v.size, order="F")
    want = (H @ v.ravel(order="F")).reshape(v.shape, order="F")
    assert_close(np.load(hvp)[f"hvp_{wrt}"], want, expr)


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_code_with_mixed_blocks_keys_them_x_comma_y_and_jits(backend):
    """String keys only ("x,y" as in json): jax.jit sorts a dictionary's keys as a pytree."""
    if backend != "numpy":
        pytest.importorskip(backend)
    result = invoke(["derive", "x'*A*y + x'*x*sum(y)", "--wrt", "x", "--wrt", "y", "--shape",
                     "x=3", "--shape", "y=2", "--shape", "A=3x2", "--order", "2", "--mixed",
                     "--format", backend])
    assert result.exit_code == 0, result.output
    namespace: dict = {}
    exec(compile(result.stdout, "<generated>", "exec"), namespace)  # noqa: S102 - our output
    f_and_grad = namespace["f_and_grad"]
    rng = np.random.default_rng(2)
    x, A, y = rng.standard_normal(3), rng.standard_normal((3, 2)), rng.standard_normal(2)
    args = [x, A, y]
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        f_and_grad = jax.jit(f_and_grad)
    if backend == "torch":
        import torch

        args = [torch.tensor(a) for a in args]
    _, _, hessians = f_and_grad(*args)
    assert sorted(hessians) == ["x", "x,y", "y"]
    assert_close(np.asarray(hessians["x,y"]), A + 2 * np.outer(x, np.ones(2)), backend)

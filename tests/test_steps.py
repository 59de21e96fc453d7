"""derive --steps: every step is an identity that holds numerically, and the last one is
the derivative derive prints."""
import numpy as np
import pytest
from click.testing import CliRunner

from matgrad_cli.app import api
from matgrad_cli.cli import main
from matgrad_cli.numeric.evaluator import evaluate
from matgrad_cli.app.steps import build_steps, hessian_differential

SIZES = {"m": 3, "n": 4, "k": 2, "p": 3, "q": 2, "l": 3}

# (expression, wrt, shapes) — the samples' problems plus a few more shapes of chain
CASES = [
    ("||A*sigmoid(x)||^2", "x", {}),
    ("A*(B*V*relu(W*z)).^2", "V", {"A": [1, "l"]}),
    ("A*(B*V*relu(W*z)).^2", "W", {"A": [1, "l"]}),
    ("beta*sum(abs(P'P - I))", "P", {}),
    ("0.5*||W3*W2*W1*X - Y||_F^2 + lambda*(||W1||_F^2 + ||W2||_F^2 + ||W3||_F^2)", "W2", {}),
    ("sum(softplus(X*w)) - y'*X*w", "w", {}),
    ("logsumexp(W*x) - y'*W*x", "W", {}),
    ("s = tanh(W*x); s'*A*s + logdet(S)", "W", {}),
    ("tr(inv(S)*A) + x'*S*x", "S", {}),
    ("X + A .* sign(X)", "X", {}),
    ("sigmoid(A*x)", "x", {}),
]


def _point(program, rng):
    arrays = {}
    for name, shape in program.variables.items():
        dims = tuple(SIZES[d] if isinstance(d, str) else d for d in shape)
        value = rng.uniform(0.3, 1.2, dims) * rng.choice([-1.0, 1.0], dims)
        if len(dims) == 2 and dims[0] == dims[1]:
            value = value + 3 * np.eye(dims[0])  # well-conditioned for inv/logdet
        arrays[name] = np.asarray(value, dtype=float)
    return arrays


def _value(node, arrays):
    return evaluate({"v": node}, arrays)["v"]


@pytest.mark.parametrize("source,wrt,shapes", CASES, ids=[f"{c[0][:30]}|{c[1]}" for c in CASES])
def test_every_step_holds_numerically(source, wrt, shapes):
    rng = np.random.default_rng(7)
    program0 = api.parse(source, shapes)
    point = _point(program0, rng)
    program = api.parse(source, shapes, array_shapes={k: v.shape for k, v in point.items()})
    derivation = api.derive(program, [wrt])
    steps = build_steps(derivation, wrt)
    direction = rng.standard_normal(point[wrt].shape)
    h = 1e-6

    def at(t):
        return {**point, wrt: point[wrt] + t * direction}

    named = {s.lhs: s.subject for s in steps if s.kind == "define" and s.lhs != "f"}
    values = {name: _value(node, point) for name, node in named.items()}
    differentials = {
        "d" + name: (_value(node, at(h)) - _value(node, at(-h))) / (2 * h)
        for name, node in named.items()}
    differentials["d" + wrt] = direction
    f_node = program.expr
    df = (_value(f_node, at(h)) - _value(f_node, at(-h))) / (2 * h)
    differentials["df"] = df
    env = {**point, **values, **differentials}
    kinds = [s.kind for s in steps]
    assert "define" in kinds and "differential" in kinds and kinds[-1] == "result"
    for step in steps:
        if step.kind == "define":
            expected = _value(step.subject, point)
            assert np.allclose(_value(step.rhs, env), expected), step
        elif step.kind == "differential":
            label = step.lhs
            expected = differentials[label]
            assert np.allclose(_value(step.rhs, env), expected, atol=1e-5), step
        elif step.kind == "chain":  # df = Σ G_v : dv over the sweep's frontier
            total = 0.0
            for v, g in step.terms:
                dv = (_value(v, at(h)) - _value(v, at(-h))) / (2 * h)
                total += np.sum(_value(g, point) * dv)
            assert np.isclose(total, df, atol=1e-5), step
        else:
            printed = derivation.derivatives[wrt]
            assert np.allclose(_value(step.rhs, env), _value(printed, point)), step
    if program.expr.shape == ():
        assert any(s.kind == "chain" for s in steps)


def test_last_chain_step_is_the_printed_gradient():
    program = api.parse("||A*sigmoid(x)||^2", array_shapes={"A": (3, 4), "x": (4,)})
    derivation = api.derive(program, ["x"])
    steps = build_steps(derivation, "x")
    last_chain = [s for s in steps if s.kind == "chain"][-1]
    point = _point(program, np.random.default_rng(1))
    ((v, g),) = last_chain.terms
    assert v.name == "x"
    assert np.allclose(_value(g, point), _value(derivation.derivatives["x"], point))


def test_hessian_differential_matches_the_hessian():
    program = api.parse("||A*sigmoid(x)||^2", array_shapes={"A": (3, 4), "x": (4,)})
    derivation = api.derive(program, ["x"], order=2)
    rng = np.random.default_rng(3)
    point = _point(program, rng)
    dx = rng.standard_normal(4)
    dg = _value(hessian_differential(derivation, "x"), {**point, "dx": dx})
    assert np.allclose(dg, _value(derivation.hessians["x"], point) @ dx)


@pytest.mark.parametrize("fmt", ["text", "latex"])
def test_cli_steps_show_the_rearrangement(fmt):
    result = CliRunner().invoke(main, ["derive", "||A*sigmoid(x)||^2", "--wrt", "x", "--steps",
                                       "--format", fmt])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "differentials" in out
    if fmt == "text":
        assert "chain back to dx" in out
        assert "G : d(A B) = G Bᵀ : dA + Aᵀ G : dB" in out  # the identity of the product rule
        assert "ds = s ⊙ (1 − s) ⊙ dx" in out
    else:  # the same, in ASCII math
        assert r"\text{chain back to } dx" in out
        assert r"G : d(A B) = G B^{\top} : dA + A^{\top} G : dB" in out
        assert r"ds = s \odot \left(1 - s\right) \odot dx" in out and out.isascii()

"""The function table itself: every entrywise derivative agrees with SymPy's, and every
NumPy source form used by `--format numpy` computes what the table's implementation does."""
import numpy as np
import pytest
import sympy

from matgrad_cli.ops import entrywise, matrix_functions
from matgrad_cli.ops import structural as functions
from matgrad_cli.numeric.evaluator import evaluate
from matgrad_cli.ops import ENTRYWISE, NUMPY_SOURCE, STRUCTURAL
from matgrad_cli.ir import Func, Var

_t = sympy.Symbol("t", real=True)
SYMPY_FORMS = {
    "exp": sympy.exp(_t), "log": sympy.log(_t), "sqrt": sympy.sqrt(_t), "sin": sympy.sin(_t),
    "cos": sympy.cos(_t), "tan": sympy.tan(_t), "tanh": sympy.tanh(_t), "sigmoid": 1 / (1 + sympy.exp(-_t)),
    "softplus": sympy.log(1 + sympy.exp(_t)), "relu": sympy.Max(_t, 0), "abs": sympy.Abs(_t),
    "sign": sympy.sign(_t), "step": sympy.Heaviside(_t, 0),
    "arcsin": sympy.asin(_t), "arccos": sympy.acos(_t), "arctan": sympy.atan(_t),
    "sinh": sympy.sinh(_t), "cosh": sympy.cosh(_t), "log1p": sympy.log(1 + _t),
    "expm1": sympy.exp(_t) - 1, "erf": sympy.erf(_t), "softsign": _t / (1 + sympy.Abs(_t)),
}


def _in_domain(name, points):
    """Points of ±[0.2, 2.5] moved inside the function's domain."""
    domain = ENTRYWISE[name].domain
    if domain == "positive":
        return np.abs(points)
    if domain == "unit":
        return points / 2.6
    if domain == "above_minus_one":
        return np.maximum(points, -0.9)
    return points


def test_every_entrywise_function_has_a_sympy_form():
    assert set(SYMPY_FORMS) == set(ENTRYWISE)


@pytest.mark.parametrize("name", sorted(ENTRYWISE))
def test_entrywise_derivative_matches_sympy(name):
    entry = ENTRYWISE[name]
    rng = np.random.default_rng(0)
    # away from 0: the kinks of relu/abs/sign/step and the domain edge of log/sqrt
    points = rng.uniform(0.2, 2.0, 7)
    if entry.domain != "positive":
        points = _in_domain(name, points * rng.choice([-1.0, 1.0], 7))
    x = Var("x", (7,))
    derivative = entry.derivative(x, Func(name, x))
    ours = evaluate({"d": derivative}, {"x": points})["d"]
    # away from 0 the Dirac deltas of sign' and step' vanish
    symbolic = sympy.diff(SYMPY_FORMS[name], _t).replace(sympy.DiracDelta, lambda *a: 0)
    exact = sympy.lambdify(_t, symbolic, "numpy")
    theirs = np.array([float(exact(p)) for p in points])
    assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(ENTRYWISE))
def test_entrywise_implementation_matches_sympy(name):
    points = _in_domain(name, np.linspace(0.3, 2.5, 5) * np.array([1, -1, 1, -1, 1]))
    exact = sympy.lambdify(_t, SYMPY_FORMS[name], "numpy")
    assert np.allclose(ENTRYWISE[name].numpy(points), [float(exact(p)) for p in points])


def _sample_argument(name, rng):
    if name in ("softmax", "logsumexp"):
        return (rng.standard_normal(5),)
    if name == "Diag":
        return (rng.standard_normal(4),)
    if name == "kron":
        return rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    if name in ("max", "min"):
        return rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    if name == "hcat":  # [A, B]
        return rng.standard_normal((3, 2)), rng.standard_normal((3, 4))
    if name == "vcat":  # [A; B]
        return rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    if name in ("expm_frechet", "expm_frechet2_kron"):
        return rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    if name in ("spectral_norm", "nuclear_norm", "svd_u1", "svd_v1", "polar"):
        return (rng.standard_normal((4, 3)),)
    return (rng.standard_normal((4, 4)) + 4 * np.eye(4),)


@pytest.mark.parametrize("name", sorted(set(ENTRYWISE) | set(STRUCTURAL)))
def test_numpy_source_form_computes_the_same(name):
    rng = np.random.default_rng(1)
    if name in ENTRYWISE:
        args = (_in_domain(name, np.abs(rng.standard_normal(6)) + 0.1) % 0.95,)
        implementation = ENTRYWISE[name].numpy
    else:
        args = _sample_argument(name, rng)
        implementation = STRUCTURAL[name].numpy
    names = [f"a{i}" for i in range(len(args))]
    namespace = {"np": np, "_kron": functions._kron, "_softmax": functions._softmax,
                 "_logsumexp": functions._logsumexp, "_np": lambda: np,
                 "_trace": functions._trace, "_det": functions._det, "_logdet": functions._logdet,
                 "_inv": functions._inv, "_diag": functions._diag,
                 "_diag_matrix": functions._diag_matrix, "_pinv": functions._pinv,
                 "_erf": entrywise._erf,
                 **{k.__name__: k for k in matrix_functions.KERNELS},
                 **dict(zip(names, args))}
    source = NUMPY_SOURCE[name].format(*names)
    # the generated code is our own template filled with our own names, not user text
    generated = eval(source, namespace)  # noqa: S307
    assert np.allclose(generated, implementation(*args))

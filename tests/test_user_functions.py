"""User-defined entrywise functions (SPEC §2): ``f(t) = body; f(W*x)``. The derivative is
SymPy's exact derivative of the body, printed as ``f′(t) = …`` under the result; every
printed form is checked by evaluating it (dsl line read back, generated NumPy code run),
against central differences at several shapes."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import (assert_close, cli_derive_dsl, derive_for, evaluate_line, fd_jacobian,
                     invoke, random_inputs, value_function)
from matgrad_cli.app.render import derive_text
from matgrad_cli.ops import ENTRYWISE
from matgrad_cli.numeric.evaluator import compile_plan, run_plan

# body, input domain ("real" | "pos"), the sympy-free reference of f′ at t
BODIES = [
    ("t*tanh(t)^2", "real", lambda t: np.tanh(t) ** 2 + 2 * t * np.tanh(t) * (1 - np.tanh(t) ** 2)),
    ("exp(-t^2/2)", "real", lambda t: -t * np.exp(-t ** 2 / 2)),
    ("log(1 + exp(t))", "real", lambda t: 1 / (1 + np.exp(-t))),
    ("sigmoid(t)*t", "real", lambda t: (s := 1 / (1 + np.exp(-t))) + t * s * (1 - s)),
    ("sqrt(t) + t^3 - 2/t", "pos", lambda t: 0.5 / np.sqrt(t) + 3 * t ** 2 + 2 / t ** 2),
    ("log(t)^2", "pos", lambda t: 2 * np.log(t) / t),
    ("exp(-t^2/2)/sqrt(2) + exp(1)*t", "real",  # constants √2 and e stay exact
     lambda t: -t * np.exp(-t ** 2 / 2) / np.sqrt(2) + np.e),
]

SHAPES = [{"W": (3, 4), "x": (4,)}, {"W": (2, 2), "x": (2,)}, {"W": (1, 3), "x": (3,)}]


def _grad(expr, wrt, arrays, order=1):
    derivation = derive_for(expr, wrt, arrays, order=order)
    nodes = derivation.hessians if order == 2 else derivation.derivatives
    plan = compile_plan({w: nodes[w] for w in wrt})
    used = set(derivation.program.variables)
    return run_plan(plan, {k: v for k, v in arrays.items() if k in used})


@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: "x".join(map(str, s["W"])))
@pytest.mark.parametrize("body, domain, _", BODIES, ids=[b[0] for b in BODIES])
def test_gradient_of_a_user_function_matches_central_differences(body, domain, _, shapes):
    expr = f"f(t) = {body}; sum(f(W*x))" if domain == "real" else f"f(t) = {body}; sum(f(x))"
    arrays = random_inputs(shapes, {"x": domain} if domain == "pos" else {}, seed=1)
    if domain == "pos":
        arrays = {"x": arrays["x"] + 0.5}
    wrt = ["x", "W"] if domain == "real" else ["x"]
    grads = _grad(expr, wrt, arrays)
    fn = value_function(expr, arrays)
    for w in wrt:
        assert_close(grads[w], fd_jacobian(fn, arrays, w), w, rtol=1e-5)


@pytest.mark.parametrize("body, domain, slope", BODIES, ids=[b[0] for b in BODIES])
def test_the_printed_derivative_line_is_the_exact_derivative(body, domain, slope):
    # a vector-valued f: ∂f/∂x = Diag(f′(x)); the printed dsl line evaluates to it
    x = np.linspace(0.3, 2.0, 5) if domain == "pos" else np.linspace(-1.5, 1.7, 5)
    [line] = cli_derive_dsl(f"f(t) = {body}; f(x)", ["x"], ["--shape", "x=5"])
    assert line.startswith("f_prime(t) = ")
    assert_close(evaluate_line(line, {"x": x}), np.diag(slope(x)), line, rtol=1e-9)


@pytest.mark.parametrize("shapes", SHAPES[:2], ids=["3x4", "2x2"])
def test_hessian_of_a_user_function_matches_differences_of_the_gradient(shapes):
    expr = "f(t) = t*tanh(t)^2; sum(f(W*x)) + f(x'x)"
    arrays = random_inputs(shapes, seed=2)
    hess = _grad(expr, ["x"], arrays, order=2)["x"]
    reference = fd_jacobian(lambda a: _grad(expr, ["x"], a)["x"], arrays, "x")
    assert_close(hess, reference, "hess_x", rtol=1e-5)


def test_second_order_dsl_line_round_trips():
    arrays = random_inputs({"W": (3, 2), "x": (2,)}, seed=3)
    expr = "g(t) = exp(t)/(1 + t^2); sum(g(W*x))"
    [line] = cli_derive_dsl(expr, ["x"], ["--shape", "W=3x2"], order=2)
    assert "g_prime2(t) = " in line
    assert_close(evaluate_line(line, arrays), _grad(expr, ["x"], arrays, order=2)["x"], line)


def test_text_prints_the_definition_and_the_derivative_under_the_result():
    derivation = derive_for("f(t) = t*exp(t); sum(f(W*x))", ["x"],
                            {"W": np.ones((2, 3)), "x": np.ones(3)})
    text = derive_text(derivation)
    assert "  where f(t) = t exp(t)" in text
    assert "∂f/∂x = Wᵀ f′(W x)" in text
    assert "  where f′(t) = (1 + t) exp(t)" in text or "  where f′(t) = exp(t) (1 + t)" in text


def test_latex_names_the_derivative_with_a_prime():
    result = invoke(["derive", "--format", "latex", "--wrt", "x", "--",
                     "f(t) = t*exp(t); sum(f(x))"])
    assert result.exit_code == 0, result.output
    assert r"\operatorname{f}'\left(x\right)" in result.stdout
    assert r"\operatorname{f}'\left(t\right) = " in result.stdout


def test_a_user_function_calling_another_one_is_differentiated_through_it():
    expr = "g(t) = log(1 + exp(t)); h(u) = g(u)^2; sum(h(x))"
    x = np.linspace(-1, 1, 4)
    [line] = cli_derive_dsl(expr, ["x"], ["--shape", "x=4"])
    softplus = np.log1p(np.exp(x))
    assert_close(evaluate_line(line, {"x": x}), 2 * softplus / (1 + np.exp(-x)), line)


def test_generated_numpy_code_defines_the_functions_it_calls():
    result = invoke(["derive", "--format", "numpy", "--wrt", "x", "--",
                     "f(t) = t*tanh(t); sum(f(W*x))"])
    assert result.exit_code == 0, result.output
    assert "def _u_f(t):" in result.stdout and "def _u_f_prime(t):" in result.stdout
    namespace: dict = {}
    exec(compile(result.stdout, "<generated>", "exec"), namespace)  # noqa: S102 - our output
    W, x = np.arange(6.0).reshape(2, 3) / 5, np.array([0.3, -0.2, 0.5])
    value, grads = namespace["f_and_grad"](W, x)
    z = W @ x
    assert np.isclose(value, np.sum(z * np.tanh(z)))
    assert_close(grads["x"], W.T @ (np.tanh(z) + z * (1 - np.tanh(z) ** 2)), "x")


@pytest.mark.parametrize("backend", ["numpy", "jax", "torch"])
def test_code_of_a_user_function_brings_the_kernels_its_body_calls(backend):
    """erf (a kernel of ours in NumPy), sigmoid and softplus (the library's own), √2 (a
    number: torch.sqrt takes no float) inside bodies, in every code format, jit included."""
    if backend != "numpy":
        pytest.importorskip(backend)
    expr = ("gelu(t) = 0.5*t*(1 + erf(t/sqrt(2))); h(t) = t*sigmoid(t) + softplus(t)*sqrt(2);"
            " sum(gelu(W*x)) + sum(h(x))")
    result = invoke(["derive", "--format", backend, "--wrt", "x", "--", expr])
    assert result.exit_code == 0, result.output
    namespace: dict = {}
    exec(compile(result.stdout, "<generated>", "exec"), namespace)  # noqa: S102 - our output
    f_and_grad = namespace["f_and_grad"]
    W, x = np.arange(12.0).reshape(3, 4) / 10 - 0.5, np.array([0.3, -0.2, 0.5, 1.5])
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        f_and_grad = jax.jit(f_and_grad)
    if backend == "torch":
        import torch

        W, x = torch.tensor(W), torch.tensor(x)
    value, grads = f_and_grad(W, x)
    W, x = np.asarray(W), np.asarray(x)
    from scipy.special import erf

    z, s = W @ x, 1 / (1 + np.exp(-x))
    gelu_slope = 0.5 * (1 + erf(z / np.sqrt(2))) + z * np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi)
    h_slope = s + x * s * (1 - s) + np.sqrt(2) * s
    assert np.isclose(float(value), np.sum(0.5 * z * (1 + erf(z / np.sqrt(2))))
                      + np.sum(x * s + np.sqrt(2) * np.log1p(np.exp(x))))
    assert_close(np.asarray(grads["x"]), W.T @ gelu_slope + h_slope, backend)


def test_eval_check_passes_for_a_user_function(tmp_path):
    np.save(tmp_path / "W.npy", np.arange(12.0).reshape(3, 4) / 10 - 0.5)
    np.save(tmp_path / "x.npy", np.linspace(-1, 1, 4))
    result = invoke(["eval", "--check", "--wrt", "x", "--wrt", "W", "-i",
                     f"W={tmp_path / 'W.npy'}", "-i", f"x={tmp_path / 'x.npy'}", "--",
                     "f(t) = sigmoid(t)^2; sum(f(W*x))"])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok") == 2


@pytest.mark.parametrize("expr, message, caret", [
    ("f(t) = t*A; sum(f(x))", "in the body of f(t): 'A' is not the parameter 't' (a "
     "function's body may use only its parameter, numbers and scalar functions) (column 10)",
     "           ^"),
    ("f(t) = sum(t); sum(f(x))", "in the body of f(t): sum is not a scalar function "
     "(column 8)", "         ^^^"),
    ("f(t) = t'; sum(f(x))", "in the body of f(t): a transpose has no place in a scalar "
     "function (column 8)", "         ^^"),
    ("f(t) = ||t||; sum(f(x))", "in the body of f(t): a norm has no place in a scalar "
     "function: use abs (column 8)", "         ^^^^^"),
    ("exp(t) = t; exp(x)", "'exp' is a function of the language and cannot be redefined "
     "(column 1)", "  ^^^"),
    ("f(t) = t; f(u) = u; f(x)", "function 'f' is defined twice (column 11)",
     "            ^"),
    ("f(t) = exp(t); f = 2; f(x)", "'f' is a function and cannot be defined (column 16)",
     "                 ^"),
    ("f(t) = ; f(x)", "function 'f' has no body (column 6)", "       ^"),
    ("f(t) = t; f(x, x)", "f takes 1 argument, got 2 (column 11)", "            ^"),
])
def test_bad_function_definitions_are_errors_with_a_caret(expr, message, caret):
    result = invoke(["derive", "--wrt", "x", "--", expr])
    assert result.exit_code == 2
    lines = result.stderr.rstrip("\n").split("\n")
    assert lines[0] == "matgrad: error: " + message
    assert lines[2] == caret


def test_a_user_function_counts_as_a_function_for_the_name_paren_rule():
    # `softly(` would be an unknown function; defined, it is a call, not a product
    result = invoke(["derive", "--wrt", "x", "--", "softly(t) = t/(1 + abs(t)); sum(softly(x))"])
    assert result.exit_code == 0, result.output
    assert "softly′(x)" in result.stdout


def _modules_after(args) -> str:
    code = ("import sys; from matgrad_cli.cli import main\n"
            "try:\n    main(%r)\nexcept SystemExit:\n    pass\n"
            "print('SYMPY' if 'sympy' in sys.modules else 'NO-SYMPY', file=sys.stderr)" % (args,))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stderr


def test_derive_imports_sympy_only_when_the_input_defines_a_function():
    assert _modules_after(["derive", "sum(tanh(W*x))", "--wrt", "x"]).endswith("NO-SYMPY\n")
    assert _modules_after(["derive", "f(t) = tanh(t); sum(f(W*x))", "--wrt", "x"]) \
        .endswith("SYMPY\n")


@pytest.mark.parametrize("claim, code", [
    ("f(t) = (1 + t)*exp(t); W'*f(W*x)", 0),  # right, with its own f
    ("f(t) = exp(t); W'*f(W*x)", 1),  # a claim's f never replaces the input's f
])
def test_check_claim_may_define_its_own_function_of_the_same_name(claim, code):
    result = invoke(["check", "--wrt", "x", "--claim", claim, "--",
                     "f(t) = t*exp(t); sum(f(W*x))"])
    assert result.exit_code == code, result.output


def test_json_f_dsl_carries_the_definitions(tmp_path):
    result = invoke(["derive", "--format", "json", "--wrt", "x", "--",
                     "f(t) = t*exp(t); sum(f(W*x))"])
    payload = json.loads(result.stdout)
    assert payload["f"]["dsl"] == "f(t) = t*exp(t); sum(f(W*x))"
    assert payload["derivatives"]["x"]["dsl"] == "f_prime(t) = (1 + t)*exp(t); W'*f_prime(W*x)"


@pytest.mark.skipif("erf" not in ENTRYWISE, reason="erf is not in the registry yet")
def test_gelu_derivative_is_phi_plus_t_times_the_normal_density():
    from math import erf, pi, sqrt

    x = np.linspace(-2, 2, 5)
    [line] = cli_derive_dsl("gelu(t) = 0.5*t*(1 + erf(t/sqrt(2))); gelu(x)", ["x"],
                            ["--shape", "x=5"])
    cdf = np.array([0.5 * (1 + erf(t / sqrt(2))) for t in x])
    density = np.exp(-x ** 2 / 2) / sqrt(2 * pi)
    assert_close(evaluate_line(line, {"x": x}), np.diag(cdf + x * density), line, rtol=1e-9)


def test_check_samples_positive_arguments_for_a_body_with_log():
    # log in the body: check samples x > 0, where the claim 2 log(x)/x is right
    result = invoke(["check", "--wrt", "x", "--claim", "2*log(x)./x", "--",
                     "f(t) = log(t)^2; sum(f(x))"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("CORRECT")

"""The ``numpy`` format as code to paste: short, only what it calls, safe parameter names."""
from __future__ import annotations

import numpy as np
import pytest
from helpers import invoke


def _module(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)  # noqa: S102 - our own output
    return namespace


def _derive(*args) -> str:
    result = invoke(["derive", "--format", "numpy", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_sigmoid_norm_is_short_and_calls_no_helper():
    code = _derive("--wrt", "x", "--wrt", "A", "--", "||A*sigmoid(x)||^2")
    assert len(code.rstrip("\n").split("\n")) <= 25, code
    assert "def _" not in code and "s = np.exp(-np.logaddexp(0.0, -x))" in code
    assert "np.outer(" in code and "Diag" not in code.split('"""')[2]


@pytest.mark.parametrize("name", ["lambda", "class", "None", "np", "float", "sum", "value", "λ"])
def test_parameter_named_like_a_python_word_works(name):
    code = _derive("--shape", f"{name}=3", "--wrt", name, "--", f"{name}'*{name} + value0'*{name}"
                   if name != "value" else f"{name}'*{name}")
    namespace = _module(code)
    x = np.array([1.0, 2.0, -3.0])
    args = [x, np.ones(3)] if name != "value" else [x]
    value, grads = namespace["f_and_grad"](*args)
    assert list(grads) == [name]
    expected = 2 * x + (1 if name != "value" else 0)
    assert np.allclose(grads[name], expected)


def test_micro_sign_and_mu_stay_distinct_parameters():
    code = _derive("--shape", "µ=scalar", "--shape", "μ=scalar", "--wrt", "µ", "--wrt", "μ",
                   "--", "µ*μ^2")
    value, grads = _module(code)["f_and_grad"](2.0, 3.0)
    assert np.isclose(value, 18.0)
    assert np.isclose(grads["µ"], 9.0) and np.isclose(grads["μ"], 12.0)


def test_dimension_name_that_is_also_a_variable_is_a_parse_error():
    result = invoke(["derive", "--shape", "A=alpha,alpha", "--wrt", "alpha", "--format", "numpy",
                     "--", "tr(A) + alpha"])
    assert result.exit_code == 2
    assert result.stderr == ("matgrad: error: 'alpha' is used both as a size (--shape A=...) "
                             "and as a value (column 9)\n  tr(A) + alpha\n          ^^^^^\n")


def test_relu_backward_pass_is_one_select():
    """step(M) ⊙ G prints as where(M > 0, G, 0): no 0/1 array, no product with it."""
    code = _derive("--wrt", "W1", "--", "||W2*relu(W1*X) - Y||_F^2")
    body = code.split('"""')[2]
    assert "np.where(M > 0, W2.T @ N, 0.0)" in body and "heaviside" not in body, code
    rng = np.random.default_rng(3)
    W2, W1, X, Y = (rng.standard_normal(s) for s in [(2, 4), (4, 3), (3, 5), (2, 5)])
    value, grads = _module(code)["f_and_grad"](W2, W1, X, Y)
    M = W1 @ X
    expected = 2 * (((W2.T @ (W2 @ np.maximum(M, 0) - Y)) * (M > 0)) @ X.T)
    assert np.allclose(grads["W1"], expected)

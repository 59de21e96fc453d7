"""Every derivative rule of the language, checked against central finite differences.

One table row per (operation, kind of derivative), like JAX's ``grad_test_spec``: the
expression, the variables to differentiate by, two or three concrete shape sets and the
input domain of each variable. Scalar f runs through the reverse-mode (VJP) table, vector
and matrix f through the vec-Jacobian (forward) table, so most operations appear both
inside a scalar f and as a vector- or matrix-valued f. Each row is checked twice:

- ``api.evaluate``'s ``grad_<X>`` (shaped f.shape + X.shape, SPEC §4) against the
  finite-difference array of the same shape;
- the printed dsl line (``render.derive_dsl``), parsed and evaluated as an input of the
  language, against the matrix form of the same finite differences
  (``G.reshape(f.size, X.size, order='F')`` where G has three or four axes).

Second derivatives: ``hess_<X>`` (order 2) against finite differences of the gradient,
and the printed Hessian dsl line against its vec form.

Naming: scalars are Greek (beta, gamma), vectors lower case, matrices upper case, so the
same expressions also read correctly without shapes (the conventions of SPEC §3).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import (
    assert_close,
    case,
    derive_for,
    evaluate_line,
    fd_jacobian,
    hessian_matrix_form,
    matrix_form,
    split_shapes,
    value_function,
)

from matgrad_cli.app import api, render


def sh(spec: str) -> dict:
    """'x:3 A:2x3 beta:s n=3' → {x: (3,), A: (2, 3), beta: (), n: 3} (':' a variable's
    shape, 's' a scalar; '=' binds a dimension name)."""
    out: dict = {}
    for item in spec.split():
        if "=" in item:
            name, value = item.split("=")
            out[name] = int(value)
            continue
        name, shape = item.split(":")
        out[name] = () if shape == "s" else tuple(int(d) for d in shape.split("x"))
    return out


# ---------------------------------------------------------------- entrywise functions

ENTRYWISE = [  # name, domain of its argument
    ("exp", "real"), ("log", "pos"), ("sqrt", "pos"), ("sin", "real"), ("cos", "real"),
    ("tan", "real"), ("tanh", "real"), ("sigmoid", "real"), ("softplus", "real"), ("relu", "away"),
    ("abs", "away"), ("sign", "away"), ("step", "away"), ("arcsin", "unit"), ("arccos", "unit"),
    ("arctan", "real"), ("sinh", "real"), ("cosh", "real"), ("log1p", "unit"),
    ("expm1", "real"), ("erf", "real"), ("softsign", "real"),
]


def _entrywise_cases():
    cases = []
    for fn, dom in ENTRYWISE:
        cases += [
            # forward (vec-Jacobian) table
            case(f"{fn}-vector-f-wrt-vector", f"{fn}(x)", "x", sh("x:2"), sh("x:4"), x=dom),
            case(f"{fn}-matrix-f-wrt-matrix", f"{fn}(X)", "X", sh("X:2x3"), sh("X:3x2"),
                 X=dom),
            case(f"{fn}-vector-f-wrt-scalar", f"{fn}(beta*x)", ["beta", "x"], sh("beta:s x:3"),
                 sh("beta:s x:2"), beta="pos" if dom == "pos" else "away",
                 x=dom),
            # reverse (VJP) table
            case(f"{fn}-scalar-f-wrt-scalar", f"{fn}(beta)", "beta", sh("beta:s"),
                 beta={"pos": "pos", "unit": "unit"}.get(dom, "away")),
            case(f"{fn}-scalar-f-wrt-vector", f"a'*{fn}(x)", "x", sh("a:3 x:3"), sh("a:2 x:2"),
                 x=dom),
            case(f"{fn}-scalar-f-wrt-matrix", f"Y : {fn}(X)", "X", sh("X:2x3 Y:2x3"),
                 sh("X:3x3 Y:3x3"), X=dom),
        ]
    return cases


# ---------------------------------------------------------------- structural functions

STRUCTURAL = [
    # sum
    case("sum-of-matrix-wrt-matrix", "sum(X)", "X", sh("X:2x3"), sh("X:3x3")),
    case("sum-of-vector-wrt-vector", "sum(x .* x)", "x", sh("x:2"), sh("x:4")),
    case("sum-times-vector-wrt-matrix", "sum(X)*a", ["X", "a"], sh("X:2x3 a:2"),
         sh("X:3x2 a:4")),
    case("sum-of-scaled-wrt-scalar", "sum(beta*X)", "beta", sh("beta:s X:2x3")),
    case("sum-of-scalar", "sum(beta^2)", "beta", sh("beta:s"), beta="pos"),
    # tr
    case("tr-wrt-matrix", "tr(X)", "X", sh("X:2x2"), sh("X:3x3")),
    case("tr-of-product-wrt-matrix", "tr(A*X)", ["A", "X"], sh("A:2x3 X:3x2"),
         sh("A:3x2 X:2x3")),
    case("tr-times-vector-wrt-matrix", "tr(X)*a", "X", sh("X:2x2 a:3"), sh("X:3x3 a:2")),
    case("tr-times-matrix-wrt-matrix", "tr(X*X)*Y", "X", sh("X:2x2 Y:2x3"),
         sh("X:3x3 Y:2x2")),
    # det
    case("det-wrt-matrix", "det(X)", "X", sh("X:2x2"), sh("X:3x3"), X="wc"),
    case("det-times-vector-wrt-matrix", "det(X)*a", "X", sh("X:2x2 a:2"), sh("X:3x3 a:3"),
         X="wc"),
    case("det-of-scaled-wrt-scalar", "det(beta*X)", "beta", sh("beta:s X:2x2"),
         sh("beta:s X:3x3"), X="wc", beta="pos"),
    case("det-of-product", "det(A*X)", ["A", "X"], sh("A:3x3 X:3x3"), A="wc", X="wc"),
    # logdet
    case("logdet-wrt-matrix", "logdet(X)", "X", sh("X:2x2"), sh("X:3x3"), X="wc"),
    case("logdet-of-spd", "logdet(S)", "S", sh("S:3x3"), sh("S:4x4"), S="spd"),
    case("logdet-times-vector-wrt-matrix", "logdet(X)*a", "X", sh("X:2x2 a:3"),
         sh("X:3x3 a:2"), X="wc"),
    case("logdet-of-gram", "logdet(X'*X + I)", "X", sh("X:3x2"), sh("X:2x3")),
    # inv
    case("inv-matrix-f-wrt-matrix", "inv(X)", "X", sh("X:2x2"), sh("X:3x3"), X="wc"),
    case("inv-bilinear-wrt-matrix", "a'*inv(X)*b", ["X", "a", "b"], sh("X:2x2 a:2 b:2"),
         sh("X:3x3 a:3 b:3"), X="wc"),
    case("inv-times-vector-wrt-matrix", "inv(X)*a", ["X", "a"], sh("X:2x2 a:2"),
         sh("X:3x3 a:3"), X="wc"),
    case("inv-of-scalar", "inv(beta)*x", "beta", sh("beta:s x:3"), beta="pos"),
    case("inv-of-scaled-wrt-scalar", "inv(beta*X)", "beta", sh("beta:s X:2x2"),
         sh("beta:s X:3x3"), X="wc", beta="pos"),
    # pinv (full rank: tall, wide, square)
    case("pinv-matrix-f-wrt-tall-matrix", "pinv(X)", "X", sh("X:3x2"), sh("X:4x3")),
    case("pinv-matrix-f-wrt-wide-matrix", "pinv(X)", "X", sh("X:2x3"), sh("X:2x4")),
    case("pinv-bilinear-wrt-matrix", "a'*pinv(X)*b", ["X", "a", "b"], sh("X:2x3 a:3 b:2"),
         sh("X:4x2 a:2 b:4")),
    case("pinv-frobenius-wrt-square-matrix", "Y : pinv(X)", "X", sh("X:3x3 Y:3x3"), X="wc"),
    # expm and its Fréchet derivative (matrix_functions.py)
    case("expm-matrix-f-wrt-matrix", "expm(X)", "X", sh("X:2x2"), sh("X:3x3")),
    case("expm-trace-wrt-matrix", "tr(expm(X))", "X", sh("X:2x2"), sh("X:4x4")),
    case("expm-frobenius-wrt-matrix", "Y : expm(X)", ["X", "Y"], sh("X:3x3 Y:3x3"),
         sh("X:2x2 Y:2x2")),
    case("expm-of-product-wrt-matrix", "a'*expm(A*X)*b", ["X", "A"],
         sh("A:2x3 X:3x2 a:2 b:2"), sh("A:3x3 X:3x3 a:3 b:3")),
    case("expm-of-scaled-wrt-scalar", "expm(beta*X)", "beta", sh("beta:s X:2x2"),
         sh("beta:s X:3x3")),
    case("expm-of-scalar", "expm(beta)*x", ["beta", "x"], sh("beta:s x:3")),
    case("expm_frechet-scalar-f-wrt-direction", "Y : expm_frechet(A, X)", "X",
         sh("A:2x2 X:2x2 Y:2x2"), sh("A:3x3 X:3x3 Y:3x3")),
    case("expm_frechet-matrix-f-wrt-direction", "expm_frechet(A, X)", "X", sh("A:2x2 X:2x2"),
         sh("A:3x3 X:3x3")),
    case("expm_frechet-scalar-f-wrt-base-point", "Y : expm_frechet(X, E)", ["X", "E"],
         sh("X:2x2 E:2x2 Y:2x2"), sh("X:3x3 E:3x3 Y:3x3")),
    case("expm_frechet-matrix-f-wrt-base-point", "expm_frechet(X, E)", ["X", "E"],
         sh("X:2x2 E:2x2"), sh("X:3x3 E:3x3")),
    case("expm_frechet-of-scalars", "expm_frechet(beta, gamma)*x", ["beta", "gamma"],
         sh("beta:s gamma:s x:2")),
    # chol and Φ (S read as its symmetric part: any direction of S, as jax)
    case("chol-matrix-f-wrt-spd", "chol(S)", "S", sh("S:2x2"), sh("S:3x3"), S="spd"),
    case("chol-scalar-f-wrt-spd", "Y : chol(S)", "S", sh("S:3x3 Y:3x3"), sh("S:4x4 Y:4x4"),
         S="spd"),
    case("chol-logdet", "2*sum(log(diag(chol(S))))", "S", sh("S:2x2"), sh("S:4x4"), S="spd"),
    case("chol-of-gram-wrt-matrix", "a'*chol(X'*X + I)*b", ["X", "a"], sh("X:3x2 a:2 b:2"),
         sh("X:4x3 a:3 b:3")),
    case("chol-of-scalar", "chol(beta)*x", "beta", sh("beta:s x:2"), beta="pos"),
    case("chol-solve-wrt-vector", "||inv(chol(S))*x||^2", ["S", "x"], sh("S:3x3 x:3"),
         S="spd"),
    case("chol-matrix-f-wrt-scalar", "chol(beta*S)", "beta", sh("beta:s S:3x3"), S="spd",
         beta="pos"),
    case("tril_half-matrix-f-wrt-matrix", "tril_half(X)", "X", sh("X:2x2"), sh("X:3x3")),
    case("tril_half-scalar-f-wrt-matrix", "Y : tril_half(X)", "X", sh("X:3x3 Y:3x3")),
    # eigvals, eigvecs (a random symmetric matrix has distinct eigenvalues)
    case("eigvals-vector-f-wrt-matrix", "eigvals(S)", "S", sh("S:2x2"), sh("S:3x3"), S="spd"),
    case("eigvals-scalar-f-wrt-matrix", "a'*eigvals(S)", ["S", "a"], sh("S:3x3 a:3"),
         sh("S:4x4 a:4"), S="spd"),
    case("eigvals-squares", "eigvals(X + X')'*eigvals(X + X')", "X", sh("X:3x3")),
    case("eigvecs-scalar-f-wrt-matrix", "Y : eigvecs(S)", "S", sh("S:3x3 Y:3x3"), S="spd"),
    case("eigvals-vector-f-wrt-scalar", "eigvals(S + beta*A)", "beta", sh("beta:s S:3x3 A:3x3"),
         S="spd"),
    case("eigvecs-matrix-f-wrt-scalar", "eigvecs(S + beta*A)", "beta",
         sh("beta:s S:3x3 A:3x3"), S="spd", beta="small"),
    case("eigvecs-matrix-f-wrt-matrix", "eigvecs(S)", "S", sh("S:2x2"), sh("S:3x3"), S="spd"),
    # spectral and nuclear norms (a random matrix: σ₁ simple, full rank)
    case("spectral-norm-wrt-matrix", "||X||_2", "X", sh("X:2x3"), sh("X:3x3"), sh("X:4x2")),
    case("spectral-norm-of-product", "||A*X||_2^2", ["A", "X"], sh("A:3x2 X:2x3")),
    case("spectral-norm-vector-f", "||X||_2*a", "X", sh("X:3x2 a:2")),
    case("spectral-norm-of-vector-is-euclidean", "||x||_2", "x", sh("x:3")),
    case("nuclear-norm-wrt-matrix", "||X||_*", "X", sh("X:2x3"), sh("X:3x3"), sh("X:4x2")),
    case("nuclear-norm-vector-f", "||beta*X||_*", "beta", sh("beta:s X:3x2"), beta="away"),
    case("nuclear-norm-of-vector-is-euclidean", "||x||_*", "x", sh("x:3")),
    # operators without a rule of their own, as constants around the variable
    case("expm_frechet_kron-as-constant", "a'*expm_frechet_kron(A)*x", "x", sh("A:2x2 a:4 x:4")),
    case("expm_frechet2_kron-as-constant", "a'*expm_frechet2_kron(A, B)*x", "x",
         sh("A:2x2 B:2x2 a:4 x:4")),
    case("svd-vectors-as-constants", "svd_u1(A)'*X*svd_v1(A)", "X", sh("A:3x2 X:3x2")),
    case("polar-as-constant", "polar(A) : X", "X", sh("A:2x3 X:2x3")),
    # diag, Diag
    case("diag-vector-f-wrt-matrix", "diag(X)", "X", sh("X:2x2"), sh("X:3x3")),
    case("diag-scalar-f-wrt-matrix", "a'*diag(X)", ["X", "a"], sh("X:2x2 a:2"),
         sh("X:3x3 a:3")),
    case("diag-of-outer-product", "diag(x*y')", ["x", "y"], sh("x:2 y:2"), sh("x:3 y:3")),
    case("Diag-matrix-f-wrt-vector", "Diag(x)", "x", sh("x:2"), sh("x:3")),
    case("Diag-bilinear-wrt-vector", "a'*Diag(x)*b", ["x", "a"], sh("x:2 a:2 b:2"),
         sh("x:3 a:3 b:3")),
    case("Diag-times-vector", "Diag(x)*a", ["x", "a"], sh("x:2 a:2"), sh("x:4 a:4")),
    case("Diag-matrix-product", "A*Diag(x)*B", ["x", "A"], sh("x:3 A:2x3 B:3x2"),
         sh("x:2 A:2x2 B:2x3")),
    # vec
    case("vec-vector-f-wrt-matrix", "vec(X)", "X", sh("X:2x3"), sh("X:3x2")),
    case("vec-scalar-f-wrt-matrix", "a'*vec(X)", ["X", "a"], sh("X:2x3 a:6"),
         sh("X:3x3 a:9")),
    case("vec-of-product", "vec(X*Y)", ["X", "Y"], sh("X:2x3 Y:3x2"), sh("X:2x2 Y:2x3")),
    case("vec-of-vector", "vec(x)", "x", sh("x:3")),
    # block matrices: [A, B] (hcat), [A; B] (vcat), and their blocks rows(...) / cols(...)
    case("hcat-matrix-f", "[X, Y]", ["X", "Y"], sh("X:2x2 Y:2x3"), sh("X:1x2 Y:1x3")),
    case("hcat-scalar-f", "A : [X, Y]", ["X", "Y"], sh("X:2x2 Y:2x3 A:2x5")),
    case("vcat-matrix-f", "[X; Y]", ["X", "Y"], sh("X:2x3 Y:1x3"), sh("X:2x2 Y:3x2")),
    case("vcat-of-vectors", "[x; y]", ["x", "y"], sh("x:2 y:3")),
    case("vcat-scalar-f", "a'*[x; beta]", ["x", "beta"], sh("x:2 beta:s a:3")),
    case("rows-of-matrix", "rows(X, 2, 3)", "X", sh("X:4x3")),
    case("cols-of-matrix-scalar-f", "A : cols(X, 1, 2)", "X", sh("X:3x4 A:3x2")),
    # kron
    case("kron-matrix-f", "kron(X, Y)", ["X", "Y"], sh("X:2x2 Y:2x3"), sh("X:2x3 Y:3x2")),
    case("kron-scalar-f", "A : kron(X, Y)", ["X", "Y"], sh("X:2x2 Y:2x3 A:4x6"),
         sh("X:3x2 Y:2x2 A:6x4")),
    case("kron-of-vectors", "kron(x, y)", ["x", "y"], sh("x:2 y:3"), sh("x:3 y:2")),
    case("kron-vector-and-row", "kron(x, y')", ["x", "y"], sh("x:2 y:3")),
    case("kron-scalar-operand", "kron(beta, X)", ["beta", "X"], sh("beta:s X:2x3")),
    case("kron-scalar-f-of-vectors", "a'*kron(x, y)", ["x", "y"], sh("x:2 y:3 a:6")),
    # softmax, logsumexp
    case("softmax-jacobian", "softmax(x)", "x", sh("x:2"), sh("x:4")),
    case("softmax-scalar-f", "a'*softmax(x)", "x", sh("x:3 a:3"), sh("x:4 a:4")),
    case("softmax-of-linear-wrt-matrix", "softmax(A*x)", ["A", "x"], sh("A:3x2 x:2"),
         sh("A:2x3 x:3")),
    case("logsumexp-gradient", "logsumexp(x)", "x", sh("x:2"), sh("x:4")),
    case("logsumexp-times-vector", "logsumexp(x)*a", "x", sh("x:3 a:2"), sh("x:2 a:3")),
    case("logsumexp-of-linear-wrt-matrix", "logsumexp(A*x)", ["A", "x"], sh("A:3x2 x:2"),
         sh("A:2x3 x:3")),
    # max, min (entrywise; a scalar operand broadcasts)
    case("max-vector-f", "max(x, y)", ["x", "y"], sh("x:3 y:3"), sh("x:4 y:4")),
    case("max-matrix-f", "max(X, Y)", ["X", "Y"], sh("X:2x3 Y:2x3"), sh("X:3x2 Y:3x2")),
    case("max-scalar-f", "a'*max(x, y)", ["x", "y"], sh("a:3 x:3 y:3"), sh("a:4 x:4 y:4")),
    case("max-with-broadcast-scalar", "max(X, beta)", ["X", "beta"], sh("X:2x3 beta:s"),
         sh("X:3x3 beta:s")),
    case("max-scalar-first-scalar-f", "sum(max(beta, X))", ["beta", "X"],
         sh("beta:s X:2x3"), sh("beta:s X:3x2")),
    case("max-of-scalars", "max(beta, gamma)*x", ["beta", "gamma"], sh("beta:s gamma:s x:3")),
    case("min-matrix-f", "min(X, Y)", ["X", "Y"], sh("X:2x3 Y:2x3"), sh("X:3x2 Y:3x2")),
    case("min-scalar-f", "Y : min(X, Z)", ["X", "Z"], sh("X:2x3 Y:2x3 Z:2x3"),
         sh("X:3x3 Y:3x3 Z:3x3")),
    case("min-with-literal", "min(x, 0)", "x", sh("x:3"), sh("x:4"), x="away"),
    case("min-vector-f-wrt-scalar", "min(beta*x, y)", ["beta", "x"], sh("beta:s x:3 y:3")),
    # along one dimension: sum, mean, logsumexp, softmax (k = 1 columns, k = 2 rows)
    case("sum-columns-row-f", "sum(X, 1)", "X", sh("X:2x3"), sh("X:3x2"), sh("X:3x3")),
    case("sum-rows-vector-f", "sum(X, 2)", "X", sh("X:2x3"), sh("X:3x2"), sh("X:3x3")),
    case("sum-columns-scalar-f", "sum(X, 1)*a", ["X", "a"], sh("X:2x3 a:3"),
         sh("X:4x2 a:2")),
    case("sum-rows-scalar-f", "a'*sum(X .* X, 2)", ["X", "a"], sh("X:2x3 a:2"),
         sh("X:4x2 a:4")),
    case("sum-along-of-vector", "sum(x, 1)*sum(x, 2)", "x", sh("x:3"), sh("x:4")),
    case("sum-along-of-row", "sum(x', 2)*sum(x', 1)", "x", sh("x:3")),
    case("mean-of-matrix", "mean(X)", "X", sh("X:2x3"), sh("X:3x3")),
    case("mean-of-vector-times-vector", "mean(x .* x)*a", "x", sh("x:3 a:2"), sh("x:4 a:3")),
    case("mean-columns-row-f", "mean(X, 1)", "X", sh("X:2x3"), sh("X:3x2")),
    case("mean-rows-vector-f", "mean(X, 2)", "X", sh("X:2x3"), sh("X:4x2")),
    case("mean-rows-scalar-f", "a'*mean(X, 2)", ["X", "a"], sh("X:3x2 a:3"), sh("X:2x4 a:2")),
    case("mean-columns-scalar-f", "mean(exp(X), 1)*a", ["X"], sh("X:3x2 a:2"),
         sh("X:2x3 a:3"), X="small"),
    case("logsumexp-columns-row-f", "logsumexp(X, 1)", "X", sh("X:2x3"), sh("X:3x2")),
    case("logsumexp-rows-vector-f", "logsumexp(X, 2)", "X", sh("X:2x3"), sh("X:3x2")),
    case("logsumexp-rows-scalar-f", "a'*logsumexp(X, 2)", ["X", "a"], sh("X:2x3 a:2"),
         sh("X:3x3 a:3")),
    case("logsumexp-columns-scalar-f", "logsumexp(A*X, 1)*b", ["A", "X"],
         sh("A:3x2 X:2x4 b:4"), sh("A:2x3 X:3x2 b:2")),
    case("logsumexp-along-of-vector", "logsumexp(x, 1) + sum(logsumexp(x, 2))", "x",
         sh("x:3")),
    case("softmax-columns-matrix-f", "softmax(X, 1)", "X", sh("X:2x3"), sh("X:3x2")),
    case("softmax-rows-matrix-f", "softmax(X, 2)", "X", sh("X:2x3"), sh("X:3x2"),
         sh("X:3x3")),
    case("softmax-rows-scalar-f", "Y : softmax(X, 2)", "X", sh("X:2x3 Y:2x3"),
         sh("X:4x3 Y:4x3")),
    case("softmax-columns-scalar-f", "Y : softmax(X, 1)", "X", sh("X:2x3 Y:2x3"),
         sh("X:3x2 Y:3x2")),
    case("softmax-rows-wrt-scalar", "softmax(beta*X, 2)", "beta", sh("beta:s X:2x3")),
    case("softmax-along-of-row", "softmax(x', 2)*A", "x", sh("x:3 A:3x2")),
    case("softmax-along-of-vector", "softmax(x, 1) + softmax(x, 2)", "x", sh("x:3")),
    case("attention-least-squares", "||softmax(Q*K'/gamma, 2)*V - Y||_F^2",
         ["Q", "K", "V", "gamma"], sh("Q:3x2 K:4x2 V:4x3 Y:3x3 gamma:s"),
         sh("Q:2x3 K:3x3 V:3x2 Y:2x2 gamma:s"), gamma="pos"),
    case("attention-matrix-f", "softmax(Q*K', 2)*V", ["Q", "K"], sh("Q:2x2 K:3x2 V:3x2")),
    case("cross-entropy-rows", "sum(logsumexp(Z, 2)) - sum(Y .* Z)", "Z", sh("Z:3x4 Y:3x4"),
         sh("Z:4x2 Y:4x2")),
    # norms
    case("norm-of-vector", "||x||", "x", sh("x:2"), sh("x:4")),
    case("norm-2-subscript", "||x||_2", "x", sh("x:3")),
    case("norm-call", "norm(x)", "x", sh("x:3")),
    case("norm-of-row", "||x'||", "x", sh("x:3")),
    case("norm-times-vector", "||x||*a", ["x", "a"], sh("x:3 a:2"), sh("x:2 a:3")),
    case("norm-squared-vector", "||x||^2", "x", sh("x:2"), sh("x:4")),
    case("norm-cubed-vector", "||x||^3", "x", sh("x:3")),
    case("norm-of-scaled-wrt-scalar", "||beta*x||", "beta", sh("beta:s x:3"), beta="pos"),
    case("frobenius-norm-bars", "||X||", "X", sh("X:2x3"), sh("X:3x3")),
    case("frobenius-norm-F", "||X||_F", "X", sh("X:2x3"), sh("X:3x2")),
    case("frobenius-norm-call", "norm(X)", "X", sh("X:2x2")),
    case("frobenius-norm-squared", "||X||_F^2", "X", sh("X:2x3"), sh("X:3x3")),
    case("frobenius-norm-matrix-f", "||X||_F*Y", "X", sh("X:2x2 Y:2x3"), sh("X:3x2 Y:2x2")),
    case("norm1-of-vector", "||x||_1", "x", sh("x:3"), sh("x:4"), x="away"),
    case("norm1-of-matrix", "||X||_1", "X", sh("X:2x3"), sh("X:3x3"), X="away"),
    case("norm1-times-vector", "||X||_1*a", "X", sh("X:2x2 a:3"), sh("X:3x2 a:2"), X="away"),
]


# ---------------------------------------------------------------- operators

OPERATORS = [
    # + and -, unary minus
    case("add-vectors", "x + y", ["x", "y"], sh("x:2 y:2"), sh("x:4 y:4")),
    case("sub-matrices", "X - Y", ["X", "Y"], sh("X:2x3 Y:2x3"), sh("X:3x2 Y:3x2")),
    case("sub-scalar-f", "a'*(x - y)", ["x", "y"], sh("a:3 x:3 y:3")),
    case("negation", "-x", "x", sh("x:3")),
    case("negation-scalar-f", "-(X : Y)", "X", sh("X:2x3 Y:2x3")),
    case("add-scalars", "beta + gamma*beta", ["beta", "gamma"], sh("beta:s gamma:s")),
    # scalar broadcast
    case("broadcast-scalar-plus-vector", "x + beta", ["x", "beta"], sh("x:2 beta:s"),
         sh("x:4 beta:s")),
    case("broadcast-matrix-minus-scalar", "X - beta", ["X", "beta"], sh("X:2x3 beta:s")),
    case("broadcast-scalar-minus-matrix", "beta - X", ["X", "beta"], sh("X:3x2 beta:s")),
    case("broadcast-scalar-f", "a'*(x + beta)", ["x", "beta"], sh("a:3 x:3 beta:s")),
    case("broadcast-matrix-scalar-f", "Y : (beta - X)", ["X", "beta"], sh("X:2x3 Y:2x3 beta:s")),
    case("broadcast-literal", "1 - sigmoid(x)", "x", sh("x:3")),
    # matrix products: vector, row and matrix operands
    case("matmul-matrix-vector-wrt-vector", "A*x", "x", sh("A:2x3 x:3"), sh("A:3x2 x:2")),
    case("matmul-matrix-vector-wrt-matrix", "A*x", "A", sh("A:2x3 x:3"), sh("A:3x2 x:2")),
    case("matmul-row-matrix-wrt-vector", "x'*A", "x", sh("A:2x3 x:2"), sh("A:3x2 x:3")),
    case("matmul-row-matrix-wrt-matrix", "x'*A", "A", sh("A:2x3 x:2"), sh("A:3x2 x:3")),
    case("matmul-row-matrix-variable", "x'*X", ["x", "X"], sh("X:2x3 x:2")),
    case("matmul-inner-product", "x'*y", ["x", "y"], sh("x:2 y:2"), sh("x:4 y:4")),
    case("matmul-outer-product", "x*y'", ["x", "y"], sh("x:2 y:3"), sh("x:3 y:2")),
    case("matmul-matrix-matrix-left", "A*X", ["A", "X"], sh("A:2x3 X:3x2"),
         sh("A:3x3 X:3x2")),
    case("matmul-matrix-matrix-right", "X*B", ["X", "B"], sh("X:2x3 B:3x2"), sh("X:3x2 B:2x2")),
    case("matmul-square", "X*X", "X", sh("X:2x2"), sh("X:3x3")),
    case("matmul-sandwich", "A*X*B", "X", sh("A:2x3 X:3x2 B:2x4"), sh("A:2x2 X:2x3 B:3x2")),
    case("matmul-bilinear-wrt-matrix", "x'*A*y", ["A", "x", "y"], sh("x:2 A:2x3 y:3"),
         sh("x:3 A:3x3 y:3")),
    case("matmul-quadratic-form", "x'*A*x", ["x", "A"], sh("x:2 A:2x2"), sh("x:3 A:3x3")),
    case("matmul-scalar-times-matrix", "beta*X", ["beta", "X"], sh("beta:s X:2x3")),
    case("matmul-scalar-times-vector", "x*beta", ["beta", "x"], sh("beta:s x:3")),
    case("matmul-juxtaposition", "2x", "x", sh("x:3")),
    case("matmul-juxtaposition-product", "P'P", "P", sh("P:3x2"), sh("P:2x3")),
    case("matmul-row-times-matrix-times-row-transposed", "(x'*X)*X'*y", ["X", "x"],
         sh("x:2 X:2x3 y:2")),
    case("matmul-gram-scalar-f", "Y : (X'*X)", "X", sh("X:3x2 Y:2x2"), sh("X:2x3 Y:3x3")),
    # Hadamard product
    case("hadamard-vectors", "x .* y", ["x", "y"], sh("x:2 y:2"), sh("x:4 y:4")),
    case("hadamard-matrices", "X .* Y", ["X", "Y"], sh("X:2x3 Y:2x3"), sh("X:3x2 Y:3x2")),
    case("hadamard-self", "X .* X", "X", sh("X:2x3")),
    case("hadamard-unicode", "x ⊙ y", "x", sh("x:3 y:3")),
    case("hadamard-scalar-f", "a'*(x .* y)", ["x", "y"], sh("a:3 x:3 y:3")),
    case("hadamard-scalar-broadcast", "beta .* X", ["beta", "X"], sh("beta:s X:2x3")),
    case("hadamard-frobenius-scalar-f", "Y : (X .* X)", "X", sh("X:2x3 Y:2x3")),
    case("hadamard-with-outer-product-nested", "Y : (X .* ((a*b') .* Z))", ["Y", "a"],
         sh("X:2x3 Y:2x3 Z:2x3 a:2 b:3"), sh("X:3x3 Y:3x3 Z:3x3 a:3 b:3")),
    case("row-f-entrywise-product-with-sigmoid", "x' .* sigmoid(x')", "x", sh("x:3"),
         sh("x:4")),
    case("row-f-entrywise-product-three-factors", "(x' .* exp(x')) .* exp(x')", "x",
         sh("x:3")),
    # entrywise division
    case("divide-vectors", "x ./ y", ["x", "y"], sh("x:2 y:2"), sh("x:4 y:4"), y="away"),
    case("divide-matrices", "X ./ Y", ["X", "Y"], sh("X:2x3 Y:2x3"), sh("X:3x2 Y:3x2"),
         Y="away"),
    case("divide-scalar-f", "a'*(x ./ y)", ["x", "y"], sh("a:3 x:3 y:3"), y="away"),
    case("divide-by-scalar-entrywise", "x ./ beta", ["x", "beta"], sh("x:3 beta:s"),
         beta="away"),
    case("divide-scalar-by-vector", "beta ./ x", ["x", "beta"], sh("x:3 beta:s"), x="away"),
    case("divide-literal-by-vector", "1 ./ x", "x", sh("x:3"), x="away"),
    # / by a scalar
    case("slash-vector-by-scalar", "x / beta", ["x", "beta"], sh("x:2 beta:s"),
         sh("x:4 beta:s"), beta="away"),
    case("slash-matrix-by-scalar", "X / beta", ["X", "beta"], sh("X:2x3 beta:s"), beta="away"),
    case("slash-scalar-f", "sum(X)/beta", ["X", "beta"], sh("X:2x3 beta:s"), beta="away"),
    case("slash-by-scalar-expression", "x / (y'*y)", ["x", "y"], sh("x:3 y:3")),
    case("trace-of-matrix-over-scalar", "tr(X / beta)", ["X", "beta"], sh("X:3x3 beta:s"),
         sh("X:2x2 beta:s"), beta="away"),
    # ^: scalar power
    case("power-scalar-constant", "beta^3", "beta", sh("beta:s")),
    case("power-scalar-negative", "beta^-2", "beta", sh("beta:s"), beta="away"),
    case("power-scalar-fractional", "beta^0.5", "beta", sh("beta:s"), beta="pos"),
    case("power-variable-exponent", "beta^gamma", ["beta", "gamma"], sh("beta:s gamma:s"),
         beta="pos"),
    case("power-constant-base", "2^beta", "beta", sh("beta:s")),
    case("power-of-inner-product", "(x'*y)^2", ["x", "y"], sh("x:3 y:3")),
    case("power-of-positive-form-variable-exponent", "(x'*y)^gamma", ["x", "gamma"],
         sh("x:3 y:3 gamma:s"), x="pos", y="pos"),
    case("power-scalar-in-vector-f", "x*beta^2", ["beta", "x"], sh("beta:s x:3")),
    case("power-exponent-expression", "2^-beta^2", "beta", sh("beta:s")),
    # .^: entrywise power
    case("epower-cube-vector", "x.^3", "x", sh("x:2"), sh("x:4")),
    case("epower-square-matrix", "X.^2", "X", sh("X:2x3"), sh("X:3x2")),
    case("epower-negative", "x.^-1", "x", sh("x:3"), x="away"),
    case("epower-fractional", "X.^0.5", "X", sh("X:2x2"), X="pos"),
    case("epower-variable-exponent-vector", "x.^beta", ["x", "beta"], sh("x:2 beta:s"),
         sh("x:4 beta:s"), x="pos"),
    case("epower-variable-exponent-matrix", "X.^beta", ["X", "beta"], sh("X:2x3 beta:s"),
         X="pos"),
    case("epower-variable-exponent-scalar-f", "a'*(x.^beta)", ["x", "beta"],
         sh("a:3 x:3 beta:s"), x="pos"),
    case("epower-scalar-f-matrix", "Y : X.^3", "X", sh("X:2x3 Y:2x3")),
    case("epower-of-scalar", "beta.^3", "beta", sh("beta:s")),
    # X^k
    case("matrix-power-2", "X^2", "X", sh("X:2x2"), sh("X:3x3")),
    case("matrix-power-3", "X^3", "X", sh("X:2x2"), sh("X:3x3"), X="wc"),
    case("matrix-power-minus-1", "X^-1", "X", sh("X:2x2"), sh("X:3x3"), X="wc"),
    case("matrix-power-minus-2", "X^-2", "X", sh("X:2x2"), sh("X:3x3"), X="wc"),
    case("matrix-power-0", "X^0*a", "X", sh("X:2x2 a:2")),
    case("matrix-power-2-scalar-f", "A : X^2", "X", sh("X:2x2 A:2x2"), sh("X:3x3 A:3x3")),
    case("matrix-power-3-scalar-f", "A : X^3", "X", sh("X:3x3 A:3x3"), X="wc"),
    case("matrix-power-minus-1-scalar-f", "A : X^-1", "X", sh("X:2x2 A:2x2"),
         sh("X:3x3 A:3x3"), X="wc"),
    case("matrix-power-minus-2-scalar-f", "A : X^-2", "X", sh("X:3x3 A:3x3"), X="wc"),
    case("matrix-power-vector-f", "X^2*a", ["X", "a"], sh("X:3x3 a:3")),
    # transpose
    case("transpose-matrix", "X'", "X", sh("X:2x3"), sh("X:3x2")),
    case("transpose-vector-to-row", "x'", "x", sh("x:3")),
    case("transpose-scalar-f", "A : X'", "X", sh("X:2x3 A:3x2")),
    case("transpose-of-product", "(A*x)'", ["A", "x"], sh("A:2x3 x:3")),
    case("transpose-gram", "X'*X", "X", sh("X:3x2"), sh("X:2x3")),
    case("transpose-dot-T-spelling", "X.T*a", "X", sh("X:2x3 a:2")),
    case("transpose-superscript-spelling", "Xᵀ*a", "X", sh("X:3x2 a:3")),
    case("transpose-of-scalar", "beta'*x", "beta", sh("beta:s x:3")),
    # Frobenius product
    case("frobenius-linear", "A : X", "X", sh("X:2x3 A:2x3"), sh("X:3x3 A:3x3")),
    case("frobenius-self", "X : X", "X", sh("X:2x3")),
    case("frobenius-both", "X : Y", ["X", "Y"], sh("X:3x2 Y:3x2")),
    case("frobenius-of-products", "(A*X) : (X*B)", "X", sh("A:2x2 X:2x2 B:2x2"),
         sh("A:3x3 X:3x3 B:3x3")),
    case("frobenius-vectors", "x : y", ["x", "y"], sh("x:3 y:3")),
    case("frobenius-times-vector", "(X : Y)*a", ["X", "a"], sh("X:2x3 Y:2x3 a:2")),
    # sized constants
    case("sized-ones-row", "ones(n)'*x", "x", sh("x:3"), sh("x:4")),
    case("sized-ones-literal", "x'*ones(3)", "x", sh("x:3")),
    case("sized-eye-plus", "X + eye(n)", "X", sh("X:2x2"), sh("X:3x3")),
    case("sized-eye-product", "(eye(n) + X)*x", ["X", "x"], sh("X:3x3 x:3")),
    case("sized-I-plus", "(X + I)*x", "X", sh("X:2x2 x:2")),
    case("sized-zeros", "zeros(n) + x .* x", "x", sh("x:3")),
    case("sized-ones-matrix", "ones(m, n) .* X", "X", sh("X:2x3"), sh("X:3x2")),
    case("sized-ones-outer", "x*ones(n)'", "x", sh("x:3 n=2"), sh("x:2 n=3")),
    case("sized-commutation", "commutation(m, n)*vec(X)", "X", sh("X:2x3 m=2 n=3"),
         sh("X:3x2 m=3 n=2")),
    case("sized-commutation-scalar-f", "a'*commutation(2, 3)*vec(X)", "X", sh("X:2x3 a:6")),
    case("sized-eye-scalar", "eye(1)*beta", "beta", sh("beta:s")),
    # definitions
    case("definition-sigmoid", "s = sigmoid(x); ||A*s||^2", ["x", "A"], sh("x:3 A:2x3"),
         sh("x:2 A:3x2")),
    case("definition-residual", "r = A*x - b; r'*r", ["x", "A", "b"], sh("x:2 A:3x2 b:3")),
    case("definition-matrix", "Z = X*X; tr(Z) + Z : A", "X", sh("X:2x2 A:2x2")),
    case("definition-vector-f", "t = x'*y; t*x", ["x", "y"], sh("x:3 y:3")),
    case("definition-chain", "u = beta*x; v = exp(u); v .* u", ["beta", "x"], sh("beta:s x:3"),
         beta="small", x="small"),
    case("definition-newline", "s = tanh(X)\nY : s", "X", sh("X:2x3 Y:2x3")),
]

RULES = _entrywise_cases() + STRUCTURAL + OPERATORS


# ---------------------------------------------------------------- second derivatives

HESSIANS = [
    case("hess-quadratic-form", "x'*A*x", "x", sh("x:2 A:2x2"), sh("x:3 A:3x3")),
    case("hess-sigmoid-least-squares", "||A*sigmoid(x)||^2", "x", sh("x:3 A:2x3"),
         sh("x:2 A:3x2")),
    case("hess-logistic-loss", "sum(softplus(X*w)) - y'*X*w", "w", sh("X:4x2 w:2 y:4"),
         sh("X:3x3 w:3 y:3")),
    case("hess-logsumexp", "logsumexp(x)", "x", sh("x:2"), sh("x:4")),
    case("hess-trace-quadratic", "tr(X'*A*X)", "X", sh("X:2x2 A:2x2"), sh("X:3x2 A:3x3")),
    case("hess-logdet", "logdet(X)", "X", sh("X:2x2"), sh("X:3x3"), X="wc"),
    case("hess-least-squares-wrt-matrix", "||W*x - y||^2", "W", sh("W:2x3 x:3 y:2"),
         sh("W:3x2 x:2 y:3")),
    case("hess-scalar-power", "beta^3 + beta*gamma^2", ["beta", "gamma"], sh("beta:s gamma:s")),
    case("hess-det", "det(X)", "X", sh("X:2x2"), sh("X:3x3"), X="wc"),
    case("hess-trace-inverse", "tr(inv(X))", "X", sh("X:2x2"), sh("X:3x3"), X="wc"),
    case("hess-norm", "||x||", "x", sh("x:3")),
    case("hess-exp-sum", "sum(exp(X))", "X", sh("X:2x3"), X="small"),
    case("hess-softmax-linear", "a'*softmax(x)", "x", sh("a:3 x:3")),
    case("hess-variable-exponent", "sum(x.^beta)", ["x", "beta"], sh("x:3 beta:s"), x="pos"),
    case("hess-cross-entropy-rows", "sum(logsumexp(Z, 2)) - sum(Y .* Z)", "Z",
         sh("Z:3x2 Y:3x2"), sh("Z:2x3 Y:2x3")),
    case("hess-logsumexp-columns", "logsumexp(X, 1)*a", "X", sh("X:3x2 a:2"), sh("X:2x3 a:3")),
    case("hess-softmax-rows", "Y : softmax(X, 2)", "X", sh("X:2x3 Y:2x3"), sh("X:3x2 Y:3x2")),
    case("hess-softmax-columns", "Y : softmax(X, 1)", "X", sh("X:2x3 Y:2x3")),
    case("hess-attention", "||softmax(Q*K', 2)*V - Y||_F^2", ["Q", "V"],
         sh("Q:2x2 K:3x2 V:3x2 Y:2x2")),
    case("hess-mean-rows", "a'*mean(X .* X, 2) + mean(X .* X)", "X", sh("X:2x3 a:2")),
    case("hess-max-times", "sum(max(X, Y) .* X)", "X", sh("X:2x3 Y:2x3")),
    case("hess-erf", "sum(erf(x))", "x", sh("x:3")),
    case("hess-arcsin", "sum(arcsin(x) + log1p(x))", "x", sh("x:3"), x="unit"),
    case("hess-arctan-sinh-cosh", "sum(arctan(x) + sinh(x) .* cosh(x) + expm1(x))", "x",
         sh("x:3"), x="small"),
    case("hess-softsign", "sum(softsign(x))", "x", sh("x:3"), x="away"),
    case("hess-trace-expm", "tr(expm(X))", "X", sh("X:2x2"), sh("X:3x3"), X="small"),
    case("hess-expm-frobenius", "Y : expm(X)", "X", sh("X:2x2 Y:2x2"), sh("X:3x3 Y:3x3")),
    case("hess-expm-control-cost", "tr(expm(tau*A)*Q*expm(tau*A)')", ["A", "tau"],
         sh("A:2x2 Q:2x2 tau:s"), A="small", tau="pos"),
    case("hess-chol-logdet", "2*sum(log(diag(chol(S))))", "S", sh("S:2x2"), sh("S:3x3"),
         S="spd"),
    case("hess-chol-quadratic", "||chol(S)*x||^2 + Y : chol(S)", "S", sh("S:3x3 x:3 Y:3x3"),
         S="spd"),
    case("hess-eigvals", "a'*eigvals(S)", "S", sh("S:3x3 a:3"), S="spd"),
]


def _params(cases):
    return [pytest.param(c, id=c.id) for c in cases]


def _check_ids_unique():
    ids = [c.id for c in RULES + HESSIANS]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, duplicates


_check_ids_unique()


# ---------------------------------------------------------------- the tests

def _runs(c):
    """(arrays, dimension bindings) for every shape set of a case."""
    for seed, shapes in enumerate(c.shapes):
        _, dims = split_shapes(shapes)
        yield c.inputs(shapes, seed), dims


@pytest.mark.parametrize("c", _params(RULES))
def test_rule_through_api(c):
    """api.evaluate's grad_<X> (f.shape + X.shape) equals central differences."""
    for arrays, dims in _runs(c):
        derivation = derive_for(c.expr, c.wrt, arrays, dims)
        values = api.evaluate(derivation, arrays)
        f = value_function(c.expr, arrays, dims)
        f_shape = np.shape(f(arrays))
        assert np.shape(values["value"]) == f_shape
        for name in c.wrt:
            expected = fd_jacobian(f, arrays, name)
            got = values[f"grad_{name}"]
            assert np.shape(got) == f_shape + np.shape(arrays[name]), (name, np.shape(got))
            assert_close(got, expected, f"{c.expr} d/d{name} at {np.shape(arrays[name])}")


@pytest.mark.parametrize("c", _params(RULES))
def test_rule_through_printed_dsl(c):
    """The printed dsl line, evaluated as an input, equals the matrix form of the central
    differences."""
    for arrays, dims in _runs(c):
        derivation = derive_for(c.expr, c.wrt, arrays, dims)
        lines = render.derive_dsl(derivation).split("\n")
        assert len(lines) == len(c.wrt)
        f = value_function(c.expr, arrays, dims)
        f_shape = np.shape(f(arrays))
        for name, line in zip(c.wrt, lines):
            expected = matrix_form(fd_jacobian(f, arrays, name), f_shape,
                                   np.shape(arrays[name]))
            got = evaluate_line(line, arrays, dims)
            assert_close(got, expected, f"{c.expr} d/d{name}: dsl {line!r}")


@pytest.mark.parametrize("c", _params(HESSIANS))
def test_hessian_through_api(c):
    """hess_<X> (X.shape + X.shape) equals central differences of the gradient."""
    for arrays, dims in _runs(c):
        derivation = derive_for(c.expr, c.wrt, arrays, dims, order=2)
        values = api.evaluate(derivation, arrays)
        for name in c.wrt:
            gradient = _gradient_function(c.expr, name, arrays, dims)
            expected = fd_jacobian(gradient, arrays, name)
            got = values[f"hess_{name}"]
            x_shape = np.shape(arrays[name])
            assert np.shape(got) == x_shape + x_shape
            assert_close(got, expected, f"hessian of {c.expr} w.r.t. {name}")
            # and the gradient that order 2 reports is still the gradient
            assert_close(values[f"grad_{name}"], gradient(arrays), f"gradient of {c.expr}")


@pytest.mark.parametrize("c", _params(HESSIANS))
def test_hessian_through_printed_dsl(c):
    """The order-2 dsl line evaluates to the vec-form Hessian len(vec X) × len(vec X)."""
    for arrays, dims in _runs(c):
        derivation = derive_for(c.expr, c.wrt, arrays, dims, order=2)
        lines = render.derive_dsl(derivation).split("\n")
        assert len(lines) == len(c.wrt)
        for name, line in zip(c.wrt, lines):
            gradient = _gradient_function(c.expr, name, arrays, dims)
            expected = hessian_matrix_form(fd_jacobian(gradient, arrays, name),
                                           np.shape(arrays[name]))
            assert_close(evaluate_line(line, arrays, dims), expected,
                         f"hessian of {c.expr} w.r.t. {name}: dsl {line!r}")


def _gradient_function(expr, name, arrays, dims):
    """The symbolic gradient (first-order derivation, checked by the rule tests above) as
    a function of the inputs, shaped like X."""
    from matgrad_cli.numeric.evaluator import compile_plan, run_plan

    derivation = derive_for(expr, [name], arrays, dims)
    plan = compile_plan({"g": derivation.derivatives[name]})
    used = set(derivation.program.variables)

    def gradient(values):
        return run_plan(plan, {k: v for k, v in values.items() if k in used})["g"]

    return gradient


def test_every_function_has_a_row():
    """The table covers every function of the language (a new function needs a row)."""
    from matgrad_cli.ops import ENTRYWISE as TABLE
    from matgrad_cli.ops import STRUCTURAL as CALLS

    exprs = " ".join(c.expr for c in RULES)
    for name in TABLE:
        assert f"{name}(" in exprs, name
    for name, entry in CALLS.items():
        if entry.along is not None:  # sum_2 is written sum(X, 2)
            base, k = entry.along
            assert re.search(rf"\b{base}\([^()]*, {k}\)", exprs), name
            continue
        spelled = {"norm1": "||_1", "norm": "||", "spectral_norm": "||_2",
                   "nuclear_norm": "||_*", "hcat": "[X, Y]", "vcat": "[X; Y]"}.get(
            name, f"{name}(")
        assert spelled in exprs, name

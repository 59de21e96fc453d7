"""The benchmark problems.

Each problem has: the matgrad expression, its argument order, the variables
differentiated, a seeded input generator, the best hand-written NumPy closed form
we could write (the baseline every ratio is taken against), and ONE scalar
function ``f(ops, *args)`` that serves both jax and torch (``ops`` supplies the
framework's sigmoid, softplus, ... see bench/frameworks.py), so that the two
autodiff frameworks differentiate exactly the same program.

Sizes (n is the size parameter of a row of the tables):
  sigmoid_norm  A n×n, x n
  abs_gram      P n×n, beta scalar
  deep_linear   W1 h×d, W2 h×h, W3 o×h, X d×N, Y o×N with d = h = N = n, o = 10.
                Order matters: with o ≪ n, the chain evaluated left to right,
                ((W3 W2) W1) X, costs O(o n²) while W3 (W2 (W1 X)) costs O(n³); the
                gradient wrt W1, (W3 W2)ᵀ R Xᵀ, likewise costs O(o n²) as
                (W3 W2)ᵀ (R Xᵀ) but O(n³) as ((W3 W2)ᵀ R) Xᵀ.  The jax/torch
                functions are written left to right, which suits reverse mode.
  logistic      X N×n with N = 2n, w n, y N (0/1 labels)
  mlp2          batch 2-layer MLP: W1 h×d, W2 o×h, X d×B, Y o×B, d = h = B = n, o = 10
  quadratic     A n×n, x n
  softmax_xent  W n×n, x n, y n (one-hot): the gradient (softmax(W x) − y) xᵀ is an outer
                product, which broadcasting computes at memory speed (no GEMM)
"""
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

OUT = 10    # output width o of deep_linear and mlp2


def sigmoid(x):
    """Overflow-free logistic function, one transcendental per entry."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass(frozen=True)
class Problem:
    key: str
    title: str
    expr: str                      # matgrad input
    args: tuple                    # argument order of make / numpy / f
    wrt: tuple                     # variables differentiated (order 1) / the one (order 2)
    order: int
    make: Callable                 # make(n, rng) -> dict name -> ndarray (float64)
    numpy: Callable                # numpy(*args) -> tuple of derivatives, in wrt order
    f: Callable                    # f(ops, *args) -> scalar (jax and torch)

    def inputs(self, n):
        """Inputs of size n from a fixed seed (same numbers on every run)."""
        rng = np.random.default_rng([zlib.crc32(self.key.encode()), n])
        return self.make(n, rng)

    def positional(self, arrays):
        return [arrays[a] for a in self.args]


def _gauss(rng, *shape, scale=1.0):
    return rng.standard_normal(shape) * scale


# --- (a) ||A sigmoid(x)||^2 -------------------------------------------------------

def _make_sigmoid_norm(n, rng):
    return {"A": _gauss(rng, n, n, scale=n ** -0.5), "x": _gauss(rng, n)}


def _f_sigmoid_norm(ops, A, x):
    r = A @ ops.sigmoid(x)
    return ops.sum(r * r)


def _np_sigmoid_norm_grad(A, x):
    s = sigmoid(x)
    return (2.0 * s * (1.0 - s) * (A.T @ (A @ s)),)


def _np_sigmoid_norm_hess(A, x):
    # H = 2 Diag(s') AᵀA Diag(s') + 2 Diag(s'' ⊙ AᵀA s) = 2 BᵀB + diagonal, B = A Diag(s')
    s = sigmoid(x)
    d1 = s * (1.0 - s)
    d2 = d1 * (1.0 - 2.0 * s)
    B = A * d1                       # scale the columns
    H = B.T @ B                      # numpy uses syrk for Bᵀ B
    H *= 2.0
    H.flat[:: len(x) + 1] += 2.0 * d2 * (A.T @ (A @ s))
    return (H,)


# --- (b) beta*sum(abs(P'P - I)) ---------------------------------------------------

def _make_abs_gram(n, rng):
    # unscaled P: the entries of P'P - I stay far from the kink of abs at 0
    return {"P": _gauss(rng, n, n), "beta": np.array(0.5)}


def _f_abs_gram(ops, P, beta):
    return beta * ops.sum(ops.abs(P.T @ P - ops.eye(P)))


def _np_abs_gram_grad(P, beta):
    # grad = beta P (S + Sᵀ), S = sign(PᵀP - I) symmetric, so 2 beta P S
    M = P.T @ P                      # syrk: exactly symmetric
    M.flat[:: M.shape[0] + 1] -= 1.0
    np.sign(M, out=M)
    G = P @ M
    G *= 2.0 * beta
    return (G,)


# --- (c) deep linear network ----------------------------------------------------

def _make_deep_linear(n, rng):
    d = h = N = n
    return {
        "W1": _gauss(rng, h, d, scale=d ** -0.5),
        "W2": _gauss(rng, h, h, scale=h ** -0.5),
        "W3": _gauss(rng, OUT, h, scale=h ** -0.5),
        "X": _gauss(rng, d, N),
        "Y": _gauss(rng, OUT, N),
        "lambda": np.array(1e-3),
    }


def _f_deep_linear(ops, W1, W2, W3, X, Y, lam):
    # jax and torch run the network as one writes a forward pass, layer by layer; the
    # product order is what matgrad and the hand-written form choose for themselves
    # (with the chain written left to right, jax's order is the cheap one too: see README)
    R = W3 @ (W2 @ (W1 @ X)) - Y
    return 0.5 * ops.sum(R * R) + lam * (ops.sum(W1 * W1) + ops.sum(W2 * W2) + ops.sum(W3 * W3))


def _np_deep_linear_grad(W1, W2, W3, X, Y, lam):
    # every product has the small dimension o: O(o n²) in all
    T = W3 @ W2                      # o×h
    R = (T @ W1) @ X                 # o×N
    R -= Y
    G = R @ X.T                      # o×d
    V = G @ W1.T                     # o×h
    c = 2.0 * lam
    g1 = T.T @ G
    g1 += c * W1
    g2 = W3.T @ V
    g2 += c * W2
    g3 = V @ W2.T
    g3 += c * W3
    return g1, g2, g3


# --- (d) logistic regression -------------------------------------------------------

def _make_logistic(n, rng):
    N = 2 * n
    return {
        "X": _gauss(rng, N, n, scale=n ** -0.5),
        "w": _gauss(rng, n),
        "y": (rng.random(N) < 0.5).astype(np.float64),
    }


def _f_logistic(ops, X, w, y):
    z = X @ w
    return ops.sum(ops.softplus(z)) - y @ z


def _np_logistic_grad(X, w, y):
    r = sigmoid(X @ w)
    r -= y
    return (X.T @ r,)


def _np_logistic_hess(X, w, y):
    # H = Xᵀ Diag(p(1-p)) X = BᵀB with B = Diag(sqrt(p(1-p))) X (syrk)
    p = sigmoid(X @ w)
    B = X * np.sqrt(p * (1.0 - p))[:, None]
    return (B.T @ B,)


# --- (e) 2-layer MLP (batch) -------------------------------------------------------

def _make_mlp2(n, rng):
    d = h = B = n
    return {
        "W1": _gauss(rng, h, d, scale=d ** -0.5),
        "W2": _gauss(rng, OUT, h, scale=h ** -0.5),
        "X": _gauss(rng, d, B),
        "Y": _gauss(rng, OUT, B),
    }


def _f_mlp2(ops, W1, W2, X, Y):
    R = W2 @ ops.relu(W1 @ X) - Y
    return ops.sum(R * R)


def _np_mlp2_grad(W1, W2, X, Y):
    H = W1 @ X
    Z = np.maximum(H, 0.0)
    R = W2 @ Z
    R -= Y
    R *= 2.0
    D = W2.T @ R
    np.multiply(D, H > 0.0, out=D)
    return D @ X.T, R @ Z.T


# --- (f) softmax cross-entropy ---------------------------------------------------

def _make_softmax_xent(n, rng):
    return {"W": _gauss(rng, n, n, scale=n ** -0.5), "x": _gauss(rng, n),
            "y": np.eye(n)[rng.integers(n)]}


def _f_softmax_xent(ops, W, x, y):
    z = W @ x
    return ops.logsumexp(z) - y @ z


def _np_softmax_xent_grad(W, x, y):
    z = W @ x
    p = np.exp(z - z.max())
    p /= p.sum()
    p -= y
    return (p[:, None] * x,)       # the outer product by broadcasting


# --- x'*A*x --------------------------------------------------------------------

def _f_quadratic(ops, A, x):
    return x @ (A @ x)


def _np_quadratic_hess(A, x):
    return (A + A.T,)


SIGMOID_NORM = "||A*sigmoid(x)||^2"
ABS_GRAM = "beta*sum(abs(P'P - I))"
DEEP_LINEAR = ("0.5*||W3*W2*W1*X - Y||_F^2 + "
               "lambda*(||W1||_F^2 + ||W2||_F^2 + ||W3||_F^2)")
LOGISTIC = "sum(softplus(X*w)) - y'*X*w"
MLP2 = "||W2*relu(W1*X) - Y||_F^2"
QUADRATIC = "x'*A*x"
SOFTMAX_XENT = "logsumexp(W*x) - y'*W*x"

GRADIENTS = (
    Problem("sigmoid_norm", "(a) ||A sigmoid(x)||²", SIGMOID_NORM, ("A", "x"), ("x",), 1,
            _make_sigmoid_norm, _np_sigmoid_norm_grad, _f_sigmoid_norm),
    Problem("abs_gram", "(b) β sum|PᵀP − I|", ABS_GRAM, ("P", "beta"), ("P",), 1,
            _make_abs_gram, _np_abs_gram_grad, _f_abs_gram),
    Problem("deep_linear", "(c) deep linear net", DEEP_LINEAR,
            ("W1", "W2", "W3", "X", "Y", "lambda"), ("W1", "W2", "W3"), 1,
            _make_deep_linear, _np_deep_linear_grad, _f_deep_linear),
    Problem("logistic", "(d) logistic regression", LOGISTIC, ("X", "w", "y"), ("w",), 1,
            _make_logistic, _np_logistic_grad, _f_logistic),
    Problem("mlp2", "(e) 2-layer MLP (batch)", MLP2, ("W1", "W2", "X", "Y"), ("W1", "W2"), 1,
            _make_mlp2, _np_mlp2_grad, _f_mlp2),
    Problem("softmax_xent", "(f) softmax cross-entropy", SOFTMAX_XENT, ("W", "x", "y"),
            ("W",), 1, _make_softmax_xent, _np_softmax_xent_grad, _f_softmax_xent),
)

HESSIANS = (
    Problem("sigmoid_norm", "||A sigmoid(x)||²", SIGMOID_NORM, ("A", "x"), ("x",), 2,
            _make_sigmoid_norm, _np_sigmoid_norm_hess, _f_sigmoid_norm),
    Problem("logistic", "logistic regression", LOGISTIC, ("X", "w", "y"), ("w",), 2,
            _make_logistic, _np_logistic_hess, _f_logistic),
    Problem("quadratic", "xᵀAx", QUADRATIC, ("A", "x"), ("x",), 2,
            _make_sigmoid_norm, _np_quadratic_hess, _f_quadratic),
)

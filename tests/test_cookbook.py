"""Identities of The Matrix Cookbook (Petersen & Pedersen, version of November 15, 2012),
checked end to end through the command line.

For each identity ∂f/∂X = F: ``matgrad derive f --wrt X --format dsl`` prints a line of
the language; that line is evaluated with ``matgrad eval LINE -i ... --format json`` on
random inputs and compared with the textbook closed form F computed in NumPy. The
equation number is in the test id (``eq_81_quadratic_form``) and the identity in the
docstring of each row.

Most rows derive with symbolic shapes (the SPEC §3 conventions: Greek names scalars,
lower case vectors, upper case matrices), which is how a user types them. Rows whose
derivative contains a sized constant of a size the line itself cannot pin down (``eye(n)``
alone) derive with ``--shape`` of the concrete sizes, so that the dsl has literal sizes
(SPEC §5).

The Cookbook's gradients are the plain (unsymmetrised) ones, as matgrad's; where an
identity assumes a symmetric matrix (eqs 53, 84–88, 125, 126) the input is symmetric.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from helpers import (
    assert_close,
    cli_derive_dsl,
    cli_eval_value,
    random_inputs,
    shape_args,
)
from numpy.linalg import det, inv, norm, pinv
from numpy.linalg import matrix_power as mpow
from scipy.linalg import expm


@dataclass(frozen=True)
class Identity:
    eq: int | None
    name: str
    doc: str  # the identity, as the Cookbook states it
    expr: str
    wrt: str
    closed_form: Callable[[dict], np.ndarray]
    sizes: tuple  # shape sets: {name: shape}
    domain: dict = field(default_factory=dict)
    concrete: bool = False  # derive with --shape NAME=<concrete size>
    order: int = 1
    symmetric: tuple = ()  # inputs made symmetric (the identity assumes it)

    @property
    def id(self) -> str:
        # eq None: an identity from another textbook (named in the doc), not the Cookbook
        return f"eq_{self.eq}_{self.name}" if self.eq is not None else f"textbook_{self.name}"


def sq(n, *names, **extra):
    """A shape set: every name an n×n matrix, plus extra {name: shape}."""
    return {**{name: (n, n) for name in names}, **extra}


IDENTITIES = [
    # ---- 2.1 derivatives of a determinant
    Identity(49, "determinant", "∂det(X)/∂X = det(X)(X⁻¹)ᵀ", "det(X)", "X",
             lambda v: det(v["X"]) * inv(v["X"]).T, (sq(2, "X"), sq(3, "X"), sq(4, "X")),
             {"X": "wc"}),
    Identity(51, "determinant_of_product", "∂det(AXB)/∂X = det(AXB)(X⁻¹)ᵀ", "det(A*X*B)", "X",
             lambda v: det(v["A"] @ v["X"] @ v["B"]) * inv(v["X"]).T,
             (sq(2, "A", "X", "B"), sq(3, "A", "X", "B")), {"A": "wc", "X": "wc", "B": "wc"}),
    Identity(52, "determinant_square_form", "X square: ∂det(XᵀAX)/∂X = 2 det(XᵀAX) X⁻ᵀ",
             "det(X'*A*X)", "X",
             lambda v: 2 * det(v["X"].T @ v["A"] @ v["X"]) * inv(v["X"]).T,
             (sq(2, "A", "X"), sq(3, "A", "X")), {"A": "spd", "X": "wc"}),
    Identity(53, "determinant_square_form_symmetric",
             "A symmetric, X not square: ∂det(XᵀAX)/∂X = 2 det(XᵀAX) AX(XᵀAX)⁻¹",
             "det(X'*A*X)", "X",
             lambda v: 2 * det(v["X"].T @ v["A"] @ v["X"]) * v["A"] @ v["X"]
             @ inv(v["X"].T @ v["A"] @ v["X"]),
             ({"A": (3, 3), "X": (3, 2)}, {"A": (4, 4), "X": (4, 2)}), {"A": "spd"},
             symmetric=("A",)),
    Identity(54, "determinant_square_form_general",
             "X not square: ∂det(XᵀAX)/∂X = det(XᵀAX)(AX(XᵀAX)⁻¹ + AᵀX(XᵀAᵀX)⁻¹)",
             "det(X'*A*X)", "X",
             lambda v: det(v["X"].T @ v["A"] @ v["X"]) * (
                 v["A"] @ v["X"] @ inv(v["X"].T @ v["A"] @ v["X"])
                 + v["A"].T @ v["X"] @ inv(v["X"].T @ v["A"].T @ v["X"])),
             ({"A": (3, 3), "X": (3, 2)}, {"A": (4, 4), "X": (4, 3)}), {"A": "wc"}),
    Identity(55, "log_determinant_gram", "∂ln det(XᵀX)/∂X = 2(X⁺)ᵀ", "logdet(X'*X)", "X",
             lambda v: 2 * pinv(v["X"]).T, ({"X": (3, 2)}, {"X": (5, 3)})),
    Identity(57, "log_abs_determinant", "∂ln|det(X)|/∂X = (X⁻¹)ᵀ = (Xᵀ)⁻¹", "logdet(X)", "X",
             lambda v: inv(v["X"]).T, (sq(2, "X"), sq(4, "X")), {"X": "wc"}),
    Identity(58, "determinant_of_power", "∂det(Xᵏ)/∂X = k det(Xᵏ) X⁻ᵀ  (k = 3)", "det(X^3)",
             "X", lambda v: 3 * det(mpow(v["X"], 3)) * inv(v["X"]).T, (sq(2, "X"), sq(3, "X")),
             {"X": "wc"}),
    # ---- 2.2 derivatives of an inverse
    Identity(61, "inverse_bilinear_form", "∂aᵀX⁻¹b/∂X = −X⁻ᵀabᵀX⁻ᵀ", "a'*inv(X)*b", "X",
             lambda v: -inv(v["X"]).T @ np.outer(v["a"], v["b"]) @ inv(v["X"]).T,
             (sq(3, "X", a=(3,), b=(3,)), sq(4, "X", a=(4,), b=(4,))), {"X": "wc"}),
    Identity(62, "determinant_of_inverse", "∂det(X⁻¹)/∂X = −det(X⁻¹)(X⁻¹)ᵀ", "det(inv(X))",
             "X", lambda v: -det(inv(v["X"])) * inv(v["X"]).T, (sq(2, "X"), sq(3, "X")),
             {"X": "wc"}),
    Identity(63, "trace_with_inverse", "∂Tr(AX⁻¹B)/∂X = −(X⁻¹BAX⁻¹)ᵀ", "tr(A*inv(X)*B)", "X",
             lambda v: -(inv(v["X"]) @ v["B"] @ v["A"] @ inv(v["X"])).T,
             ({"A": (2, 3), "X": (3, 3), "B": (3, 2)}, {"A": (4, 4), "X": (4, 4), "B": (4, 4)}),
             {"X": "wc"}),
    Identity(64, "trace_of_shifted_inverse", "∂Tr((X+A)⁻¹)/∂X = −((X+A)⁻¹(X+A)⁻¹)ᵀ",
             "tr(inv(X + A))", "X",
             lambda v: -(inv(v["X"] + v["A"]) @ inv(v["X"] + v["A"])).T,
             (sq(3, "A", "X"),), {"X": "wc", "A": "small"}),
    # ---- 2.4.1 first order
    Identity(69, "linear_form", "∂xᵀa/∂x = ∂aᵀx/∂x = a", "x'*a", "x", lambda v: v["a"],
             ({"x": (3,), "a": (3,)}, {"x": (5,), "a": (5,)})),
    Identity(69, "linear_form_transposed", "∂aᵀx/∂x = a", "a'*x", "x", lambda v: v["a"],
             ({"x": (4,), "a": (4,)},)),
    Identity(70, "bilinear_form", "∂aᵀXb/∂X = abᵀ", "a'*X*b", "X",
             lambda v: np.outer(v["a"], v["b"]),
             ({"a": (2,), "X": (2, 3), "b": (3,)}, {"a": (4,), "X": (4, 2), "b": (2,)})),
    Identity(71, "bilinear_form_transposed", "∂aᵀXᵀb/∂X = baᵀ", "a'*X'*b", "X",
             lambda v: np.outer(v["b"], v["a"]),
             ({"a": (3,), "X": (2, 3), "b": (2,)}, {"a": (2,), "X": (4, 2), "b": (4,)})),
    Identity(72, "quadratic_in_a", "∂aᵀXa/∂X = ∂aᵀXᵀa/∂X = aaᵀ", "a'*X*a", "X",
             lambda v: np.outer(v["a"], v["a"]), (sq(3, "X", a=(3,)),)),
    Identity(72, "quadratic_in_a_transposed", "∂aᵀXᵀa/∂X = aaᵀ", "a'*X'*a", "X",
             lambda v: np.outer(v["a"], v["a"]), (sq(4, "X", a=(4,)),)),
    # ---- 2.4.2 second order
    Identity(77, "gram_bilinear", "∂bᵀXᵀXc/∂X = X(bcᵀ + cbᵀ)", "b'*X'*X*c", "X",
             lambda v: v["X"] @ (np.outer(v["b"], v["c"]) + np.outer(v["c"], v["b"])),
             ({"X": (3, 2), "b": (2,), "c": (2,)}, {"X": (2, 4), "b": (4,), "c": (4,)})),
    Identity(78, "affine_bilinear",
             "∂(Bx+b)ᵀC(Dx+d)/∂x = BᵀC(Dx+d) + DᵀCᵀ(Bx+b)", "(B*x + b)'*C*(D*x + d)", "x",
             lambda v: v["B"].T @ v["C"] @ (v["D"] @ v["x"] + v["d"])
             + v["D"].T @ v["C"].T @ (v["B"] @ v["x"] + v["b"]),
             ({"B": (3, 2), "x": (2,), "b": (3,), "C": (3, 4), "D": (4, 2), "d": (4,)},)),
    Identity(81, "quadratic_form", "∂xᵀBx/∂x = (B + Bᵀ)x", "x'*B*x", "x",
             lambda v: (v["B"] + v["B"].T) @ v["x"],
             (sq(3, "B", x=(3,)), sq(5, "B", x=(5,)))),
    Identity(82, "gram_bilinear_weighted", "∂bᵀXᵀDXc/∂X = DᵀXbcᵀ + DXcbᵀ", "b'*X'*D*X*c", "X",
             lambda v: v["D"].T @ v["X"] @ np.outer(v["b"], v["c"])
             + v["D"] @ v["X"] @ np.outer(v["c"], v["b"]),
             ({"X": (3, 2), "D": (3, 3), "b": (2,), "c": (2,)},)),
    Identity(83, "affine_quadratic", "∂(Xb+c)ᵀD(Xb+c)/∂X = (D + Dᵀ)(Xb + c)bᵀ",
             "(X*b + c)'*D*(X*b + c)", "X",
             lambda v: (v["D"] + v["D"].T) @ np.outer(v["X"] @ v["b"] + v["c"], v["b"]),
             ({"X": (3, 2), "D": (3, 3), "b": (2,), "c": (3,)},)),
    Identity(84, "weighted_residual_wrt_s", "W symmetric: ∂(x−As)ᵀW(x−As)/∂s = −2AᵀW(x−As)",
             "(x - A*s)'*W*(x - A*s)", "s",
             lambda v: -2 * v["A"].T @ v["W"] @ (v["x"] - v["A"] @ v["s"]),
             ({"x": (3,), "A": (3, 2), "s": (2,), "W": (3, 3)},), symmetric=("W",)),
    Identity(85, "weighted_distance_wrt_x", "W symmetric: ∂(x−s)ᵀW(x−s)/∂x = 2W(x−s)",
             "(x - s)'*W*(x - s)", "x", lambda v: 2 * v["W"] @ (v["x"] - v["s"]),
             ({"x": (3,), "s": (3,), "W": (3, 3)},), symmetric=("W",)),
    Identity(86, "weighted_distance_wrt_s", "W symmetric: ∂(x−s)ᵀW(x−s)/∂s = −2W(x−s)",
             "(x - s)'*W*(x - s)", "s", lambda v: -2 * v["W"] @ (v["x"] - v["s"]),
             ({"x": (4,), "s": (4,), "W": (4, 4)},), symmetric=("W",)),
    Identity(87, "weighted_residual_wrt_x", "W symmetric: ∂(x−As)ᵀW(x−As)/∂x = 2W(x−As)",
             "(x - A*s)'*W*(x - A*s)", "x", lambda v: 2 * v["W"] @ (v["x"] - v["A"] @ v["s"]),
             ({"x": (3,), "A": (3, 2), "s": (2,), "W": (3, 3)},), symmetric=("W",)),
    Identity(88, "weighted_residual_wrt_A",
             "W symmetric: ∂(x−As)ᵀW(x−As)/∂A = −2W(x−As)sᵀ", "(x - A*s)'*W*(x - A*s)", "A",
             lambda v: -2 * v["W"] @ np.outer(v["x"] - v["A"] @ v["s"], v["s"]),
             ({"x": (3,), "A": (3, 2), "s": (2,), "W": (3, 3)},), symmetric=("W",)),
    # ---- 2.4.3 higher order
    Identity(90, "bilinear_of_power", "∂aᵀXⁿb/∂X = Σ_{r=0}^{n−1} (Xʳ)ᵀabᵀ(X^{n−1−r})ᵀ (n = 3)",
             "a'*X^3*b", "X",
             lambda v: sum(mpow(v["X"], r).T @ np.outer(v["a"], v["b"]) @ mpow(v["X"], 2 - r).T
                           for r in range(3)),
             (sq(2, "X", a=(2,), b=(2,)), sq(3, "X", a=(3,), b=(3,)))),
    # ---- 2.4.4 gradient and Hessian
    Identity(96, "gradient_of_quadratic", "f = xᵀAx + bᵀx: ∇ₓf = (A + Aᵀ)x + b",
             "x'*A*x + b'*x", "x", lambda v: (v["A"] + v["A"].T) @ v["x"] + v["b"],
             (sq(3, "A", x=(3,), b=(3,)),)),
    Identity(97, "hessian_of_quadratic", "f = xᵀAx + bᵀx: ∂²f/∂x∂xᵀ = A + Aᵀ",
             "x'*A*x + b'*x", "x", lambda v: v["A"] + v["A"].T,
             (sq(3, "A", x=(3,), b=(3,)), sq(4, "A", x=(4,), b=(4,))), order=2),
    # ---- 2.5.1 traces, first order
    Identity(99, "trace", "∂Tr(X)/∂X = I", "tr(X)", "X", lambda v: np.eye(len(v["X"])),
             (sq(3, "X"), sq(4, "X")), concrete=True),
    Identity(100, "trace_XA", "∂Tr(XA)/∂X = Aᵀ", "tr(X*A)", "X", lambda v: v["A"].T,
             ({"X": (2, 3), "A": (3, 2)}, sq(3, "X", "A"))),
    Identity(101, "trace_AXB", "∂Tr(AXB)/∂X = AᵀBᵀ", "tr(A*X*B)", "X",
             lambda v: v["A"].T @ v["B"].T,
             ({"A": (2, 3), "X": (3, 4), "B": (4, 2)},)),
    Identity(102, "trace_AXtB", "∂Tr(AXᵀB)/∂X = BA", "tr(A*X'*B)", "X",
             lambda v: v["B"] @ v["A"], ({"A": (2, 3), "X": (4, 3), "B": (4, 2)},)),
    Identity(103, "trace_XtA", "∂Tr(XᵀA)/∂X = A", "tr(X'*A)", "X", lambda v: v["A"],
             ({"X": (3, 2), "A": (3, 2)},)),
    Identity(104, "trace_AXt", "∂Tr(AXᵀ)/∂X = A", "tr(A*X')", "X", lambda v: v["A"],
             ({"X": (2, 3), "A": (2, 3)},)),
    Identity(105, "trace_of_kronecker", "∂Tr(A⊗X)/∂X = Tr(A)I", "tr(kron(A, X))", "X",
             lambda v: np.trace(v["A"]) * np.eye(len(v["X"])), (sq(2, "A", X=(3, 3)),),
             concrete=True),
    # ---- 2.5.2 traces, second order
    Identity(106, "trace_of_square", "∂Tr(X²)/∂X = 2Xᵀ", "tr(X^2)", "X", lambda v: 2 * v["X"].T,
             (sq(3, "X"),)),
    Identity(107, "trace_X2B", "∂Tr(X²B)/∂X = (XB + BX)ᵀ", "tr(X^2*B)", "X",
             lambda v: (v["X"] @ v["B"] + v["B"] @ v["X"]).T, (sq(3, "X", "B"),)),
    Identity(108, "trace_XtBX", "∂Tr(XᵀBX)/∂X = BX + BᵀX", "tr(X'*B*X)", "X",
             lambda v: v["B"] @ v["X"] + v["B"].T @ v["X"], ({"X": (3, 2), "B": (3, 3)},)),
    Identity(109, "trace_BXXt", "∂Tr(BXXᵀ)/∂X = BX + BᵀX", "tr(B*X*X')", "X",
             lambda v: v["B"] @ v["X"] + v["B"].T @ v["X"], ({"X": (3, 2), "B": (3, 3)},)),
    Identity(110, "trace_XXtB", "∂Tr(XXᵀB)/∂X = BX + BᵀX", "tr(X*X'*B)", "X",
             lambda v: v["B"] @ v["X"] + v["B"].T @ v["X"], ({"X": (2, 4), "B": (2, 2)},)),
    Identity(111, "trace_XBXt", "∂Tr(XBXᵀ)/∂X = XBᵀ + XB", "tr(X*B*X')", "X",
             lambda v: v["X"] @ v["B"].T + v["X"] @ v["B"], ({"X": (2, 3), "B": (3, 3)},)),
    Identity(112, "trace_BXtX", "∂Tr(BXᵀX)/∂X = XBᵀ + XB", "tr(B*X'*X)", "X",
             lambda v: v["X"] @ v["B"].T + v["X"] @ v["B"], ({"X": (4, 3), "B": (3, 3)},)),
    Identity(113, "trace_XtXB", "∂Tr(XᵀXB)/∂X = XBᵀ + XB", "tr(X'*X*B)", "X",
             lambda v: v["X"] @ v["B"].T + v["X"] @ v["B"], ({"X": (2, 3), "B": (3, 3)},)),
    Identity(114, "trace_AXBX", "∂Tr(AXBX)/∂X = AᵀXᵀBᵀ + BᵀXᵀAᵀ", "tr(A*X*B*X)", "X",
             lambda v: v["A"].T @ v["X"].T @ v["B"].T + v["B"].T @ v["X"].T @ v["A"].T,
             ({"A": (2, 3), "X": (3, 2), "B": (2, 3)},)),
    Identity(115, "trace_of_gram", "∂Tr(XᵀX)/∂X = ∂Tr(XXᵀ)/∂X = 2X", "tr(X'*X)", "X",
             lambda v: 2 * v["X"], ({"X": (3, 2)},)),
    Identity(115, "trace_of_outer_gram", "∂Tr(XXᵀ)/∂X = 2X", "tr(X*X')", "X",
             lambda v: 2 * v["X"], ({"X": (2, 4)},)),
    Identity(116, "trace_BtXtCXB", "∂Tr(BᵀXᵀCXB)/∂X = CᵀXBBᵀ + CXBBᵀ", "tr(B'*X'*C*X*B)",
             "X", lambda v: (v["C"].T + v["C"]) @ v["X"] @ v["B"] @ v["B"].T,
             ({"B": (2, 3), "X": (3, 2), "C": (3, 3)},)),
    Identity(117, "trace_XtBXC", "∂Tr(XᵀBXC)/∂X = BXC + BᵀXCᵀ", "tr(X'*B*X*C)", "X",
             lambda v: v["B"] @ v["X"] @ v["C"] + v["B"].T @ v["X"] @ v["C"].T,
             ({"X": (3, 2), "B": (3, 3), "C": (2, 2)},)),
    Identity(118, "trace_AXBXtC", "∂Tr(AXBXᵀC)/∂X = AᵀCᵀXBᵀ + CAXB", "tr(A*X*B*X'*C)", "X",
             lambda v: v["A"].T @ v["C"].T @ v["X"] @ v["B"].T + v["C"] @ v["A"] @ v["X"] @ v["B"],
             ({"A": (2, 3), "X": (3, 2), "B": (2, 2), "C": (3, 2)},)),
    Identity(119, "trace_of_affine_gram", "∂Tr[(AXB+C)(AXB+C)ᵀ]/∂X = 2Aᵀ(AXB+C)Bᵀ",
             "tr((A*X*B + C)*(A*X*B + C)')", "X",
             lambda v: 2 * v["A"].T @ (v["A"] @ v["X"] @ v["B"] + v["C"]) @ v["B"].T,
             ({"A": (2, 3), "X": (3, 4), "B": (4, 2), "C": (2, 2)},)),
    Identity(120, "trace_of_kronecker_square", "∂Tr(X⊗X)/∂X = ∂Tr(X)Tr(X)/∂X = 2Tr(X)I",
             "tr(kron(X, X))", "X", lambda v: 2 * np.trace(v["X"]) * np.eye(len(v["X"])),
             (sq(2, "X"), sq(3, "X")), concrete=True),
    # ---- 2.5.3 traces, higher order
    Identity(121, "trace_of_power", "∂Tr(Xᵏ)/∂X = k(X^{k−1})ᵀ  (k = 3)", "tr(X^3)", "X",
             lambda v: 3 * mpow(v["X"], 2).T, (sq(2, "X"), sq(3, "X"))),
    Identity(122, "trace_A_power", "∂Tr(AXᵏ)/∂X = Σ_{r=0}^{k−1} (XʳAX^{k−r−1})ᵀ  (k = 3)",
             "tr(A*X^3)", "X",
             lambda v: sum((mpow(v["X"], r) @ v["A"] @ mpow(v["X"], 2 - r)).T for r in range(3)),
             (sq(3, "X", "A"),)),
    # ---- 2.5.4 traces, other
    Identity(124, "trace_with_inverse", "∂Tr(AX⁻¹B)/∂X = −X⁻ᵀAᵀBᵀX⁻ᵀ", "tr(A*inv(X)*B)", "X",
             lambda v: -inv(v["X"]).T @ v["A"].T @ v["B"].T @ inv(v["X"]).T,
             ({"A": (3, 3), "X": (3, 3), "B": (3, 3)},), {"X": "wc"}),
    Identity(125, "trace_inverse_quadratic",
             "C symmetric: ∂Tr[(XᵀCX)⁻¹A]/∂X = −CX(XᵀCX)⁻¹(A + Aᵀ)(XᵀCX)⁻¹",
             "tr(inv(X'*C*X)*A)", "X",
             lambda v: -v["C"] @ v["X"] @ inv(v["X"].T @ v["C"] @ v["X"]) @ (v["A"] + v["A"].T)
             @ inv(v["X"].T @ v["C"] @ v["X"]),
             ({"X": (3, 2), "C": (3, 3), "A": (2, 2)},), {"C": "spd"}, symmetric=("C",)),
    Identity(126, "trace_generalized_rayleigh",
             "B, C symmetric: ∂Tr[(XᵀCX)⁻¹(XᵀBX)]/∂X = "
             "−2CX(XᵀCX)⁻¹XᵀBX(XᵀCX)⁻¹ + 2BX(XᵀCX)⁻¹",
             "tr(inv(X'*C*X)*(X'*B*X))", "X",
             lambda v: -2 * v["C"] @ v["X"] @ inv(v["X"].T @ v["C"] @ v["X"]) @ v["X"].T
             @ v["B"] @ v["X"] @ inv(v["X"].T @ v["C"] @ v["X"])
             + 2 * v["B"] @ v["X"] @ inv(v["X"].T @ v["C"] @ v["X"]),
             ({"X": (4, 2), "C": (4, 4), "B": (4, 4)},), {"C": "spd"}, symmetric=("B", "C")),
    # ---- 2.6 vector norms, 2.7 matrix norms
    Identity(129, "two_norm_of_difference", "∂‖x − a‖₂/∂x = (x − a)/‖x − a‖₂", "||x - a||", "x",
             lambda v: (v["x"] - v["a"]) / norm(v["x"] - v["a"]),
             ({"x": (3,), "a": (3,)}, {"x": (5,), "a": (5,)})),
    Identity(130, "normalized_difference",
             "∂/∂x (x − a)/‖x − a‖₂ = I/‖x − a‖₂ − (x − a)(x − a)ᵀ/‖x − a‖₂³",
             "(x - a)/||x - a||", "x",
             lambda v: np.eye(len(v["x"])) / norm(v["x"] - v["a"])
             - np.outer(v["x"] - v["a"], v["x"] - v["a"]) / norm(v["x"] - v["a"]) ** 3,
             ({"x": (3,), "a": (3,)}, {"x": (4,), "a": (4,)})),
    Identity(131, "squared_two_norm", "∂‖x‖₂²/∂x = 2x", "||x||^2", "x", lambda v: 2 * v["x"],
             ({"x": (3,)},)),
    Identity(132, "squared_frobenius_norm", "∂‖X‖_F²/∂X = ∂Tr(XXᴴ)/∂X = 2X", "||X||_F^2", "X",
             lambda v: 2 * v["X"], ({"X": (2, 3)}, {"X": (3, 3)})),
]


def _eigh(s):
    return np.linalg.eigh((s + s.T) / 2)


def _svd(x):
    return np.linalg.svd(x, full_matrices=False)


IDENTITIES += [
    # ---- matrix functions (ops/matrix_functions.py); S symmetric positive definite
    Identity(None, "trace_of_matrix_exponential",
             "Higham, Functions of Matrices §10: ∂Tr(e^X)/∂X = (e^X)ᵀ", "tr(expm(X))", "X",
             lambda v: expm(v["X"]).T, (sq(2, "X"), sq(3, "X"), sq(5, "X"))),
    Identity(None, "trace_of_scaled_exponential", "∂Tr(e^{tX})/∂X = t (e^{tX})ᵀ",
             "tr(expm(tau*X))", "X", lambda v: v["tau"] * expm(v["tau"] * v["X"]).T,
             (sq(3, "X", tau=()),)),
    Identity(None, "log_determinant_via_cholesky",
             "Murray 2016: log det S = 2 Σᵢ log Lᵢᵢ (S = LLᵀ), so ∂/∂S = S⁻¹",
             "2*sum(log(diag(chol(S))))", "S", lambda v: inv(v["S"]),
             (sq(2, "S"), sq(3, "S"), sq(5, "S")), {"S": "spd"}),
    Identity(None, "cholesky_frobenius",
             "Murray 2016: ∂(Ḡ : chol S)/∂S = sym(L⁻ᵀ Φ(LᵀḠ) L⁻¹)",
             "G : chol(S)", "S",
             lambda v: _chol_gradient(v["S"], v["G"]), (sq(3, "S", "G"), sq(4, "S", "G")),
             {"S": "spd"}),
    Identity(None, "sum_of_eigenvalues",
             "Cookbook §2.3 (eigenvalues): ∂Σ eig(S)/∂S = ∂Tr(S)/∂S = I", "sum(eigvals(S))",
             "S", lambda v: np.eye(len(v["S"])), (sq(3, "S"), sq(4, "S")), {"S": "spd"}),
    Identity(None, "eigenvalue_gradient",
             "Cookbook §2.3: ∂λᵢ = qᵢᵀ ∂S qᵢ (distinct λ), so ∂ Σᵢ aᵢλᵢ/∂S = Q Diag(a) Qᵀ",
             "a'*eigvals(S)", "S",
             lambda v: _eigh(v["S"])[1] @ np.diag(v["a"]) @ _eigh(v["S"])[1].T,
             (sq(3, "S", a=(3,)), sq(5, "S", a=(5,))), {"S": "spd"}),
    Identity(None, "largest_eigenvalue",
             "∂λ_max(S)/∂S = q qᵀ, q its unit eigenvector (λ_max simple)",
             "eigvals(S)'*e", "S",
             lambda v: np.outer(_eigh(v["S"])[1][:, -1], _eigh(v["S"])[1][:, -1]),
             (sq(4, "S", e=(4,)),), {"S": "spd", "e": "last"}),
    Identity(None, "spectral_norm", "∂‖X‖₂/∂X = u₁v₁ᵀ (σ₁ simple)", "||X||_2", "X",
             lambda v: np.outer(_svd(v["X"])[0][:, 0], _svd(v["X"])[2][0]),
             ({"X": (3, 2)}, {"X": (2, 4)}, {"X": (4, 4)})),
    Identity(None, "nuclear_norm", "∂‖X‖_*/∂X = U Vᵀ (X of full rank)", "||X||_*", "X",
             lambda v: _svd(v["X"])[0] @ _svd(v["X"])[2],
             ({"X": (3, 2)}, {"X": (2, 4)}, {"X": (4, 4)})),
]


def _chol_gradient(s, g):
    """Murray (2016), Algorithm (reverse mode): Φ(LᵀḠ), then L⁻ᵀ (·) L⁻¹, symmetrised."""
    from scipy.linalg import solve_triangular

    lower = np.linalg.cholesky(s)
    p = np.tril(lower.T @ g)
    p[np.diag_indices_from(p)] /= 2
    left = solve_triangular(lower, p, lower=True, trans="T")  # L⁻ᵀ Φ
    inner = solve_triangular(lower, left.T, lower=True, trans="T").T  # L⁻ᵀ Φ L⁻¹
    return (inner + inner.T) / 2


assert len({i.id for i in IDENTITIES}) == len(IDENTITIES)
assert len({i.eq for i in IDENTITIES if i.eq is not None}) >= 30

def _inputs(identity: Identity, shapes: dict, seed: int) -> dict:
    domains = {k: d for k, d in identity.domain.items() if d != "last"}
    values = random_inputs(shapes, domains, seed)
    for name, d in identity.domain.items():
        if d == "last":  # the last unit vector: eᵀλ is the largest eigenvalue
            values[name] = np.eye(len(values[name]))[-1]
    for name in identity.symmetric:
        values[name] = (values[name] + values[name].T) / 2
    return values


@pytest.mark.parametrize("identity", IDENTITIES, ids=[i.id for i in IDENTITIES])
def test_cookbook_identity(identity: Identity, tmp_path):
    """derive --format dsl, then eval of the printed line == the Cookbook's closed form."""
    for seed, shapes in enumerate(identity.sizes):
        values = _inputs(identity, shapes, seed)
        extra = shape_args(shapes) if identity.concrete else []
        (line,) = cli_derive_dsl(identity.expr, [identity.wrt], extra, order=identity.order)
        got = cli_eval_value(line, values, tmp_path)
        expected = identity.closed_form(values)
        assert_close(got, expected, f"eq {identity.eq}: {identity.doc}; dsl {line!r} at "
                                    f"{shapes}", rtol=1e-8, atol_scale=1e-10)


def test_identity_table_is_well_formed():
    """Every closed form has the shape of its variable (the gradient of a scalar f) or,
    for the vector-valued eq 130 and the Hessian of eq 97, of the matrix form."""
    for identity in IDENTITIES:
        shapes = identity.sizes[0]
        values = _inputs(identity, shapes, 0)
        expected = np.shape(identity.closed_form(values))
        x_shape = shapes[identity.wrt]
        if identity.order == 2 or identity.eq == 130:
            assert expected == x_shape + x_shape, identity.id
        else:
            assert expected == x_shape, identity.id

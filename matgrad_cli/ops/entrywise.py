"""Entrywise functions: one entry each, f′ written from the argument a and the value y."""
from __future__ import annotations

from .. import algebra as alg
from .base import Entrywise, _np


def _sigmoid(x):
    # 1/(1 + e⁻ˣ) is accurate in floating point (e⁻ˣ overflowing to inf gives the right 0;
    # the command line evaluates under np.errstate); one buffer, updated in place
    np = _np()
    t = np.negative(x, dtype=float)
    if not isinstance(t, np.ndarray):  # a scalar
        return 1.0 / (1.0 + np.exp(t))
    np.exp(t, out=t)
    t += 1.0
    return np.reciprocal(t, out=t)


def _step(x):
    np = _np()
    return (np.asarray(x) > 0).astype(float)


def _one(a):
    return alg.ones(a.shape)


def _erf(x):
    """erf to full double precision. NumPy has none; SciPy's is imported only when an
    expression uses erf (a numpy-only series misses 1e-15 relative accuracy near |x| = 5)."""
    from scipy.special import erf

    return erf(x)


def _softsign(x):
    np = _np()
    return x / (1.0 + np.abs(x))


def _pi():
    """π as an expression of the language (arccos(−1)); the text and LaTeX printers show π."""
    return alg.func("arccos", alg.num(-1))


def _one_minus_square(a):
    return alg.sub(_one(a), alg.power(a, alg.num(2)))


def _erf_slope(a, y):
    # erf′(t) = 2/√π e^{−t²}
    coefficient = alg.div(alg.num(2), alg.func("sqrt", _pi()))
    return alg.scale(coefficient, alg.func("exp", alg.neg(alg.power(a, alg.num(2)))))


ENTRIES = [
    Entrywise("exp", lambda x: _np().exp(x), "np.exp({0})", lambda a, y: y, "exp", r"\exp"),
    Entrywise("log", lambda x: _np().log(x), "np.log({0})", lambda a, y: alg.div(_one(a), a),
              "log", r"\log", "where {arg} > 0 entrywise", domain="positive"),
    Entrywise("sqrt", lambda x: _np().sqrt(x), "np.sqrt({0})",
              lambda a, y: alg.div(_one(a), alg.scale(alg.num(2), y)), "√", r"\sqrt",
              "where {arg} > 0 entrywise", domain="positive"),
    Entrywise("sin", lambda x: _np().sin(x), "np.sin({0})", lambda a, y: alg.func("cos", a),
              "sin", r"\sin"),
    Entrywise("cos", lambda x: _np().cos(x), "np.cos({0})",
              lambda a, y: alg.neg(alg.func("sin", a)), "cos", r"\cos"),
    # tan′ = 1 + tan², written with the value so the printed form reads as the textbook's
    Entrywise("tan", lambda x: _np().tan(x), "np.tan({0})",
              lambda a, y: alg.add(_one(a), alg.power(y, alg.num(2))), "tan", r"\tan",
              "where cos {arg} ≠ 0 entrywise"),
    Entrywise("arcsin", lambda x: _np().arcsin(x), "np.arcsin({0})",
              lambda a, y: alg.div(_one(a), alg.func("sqrt", _one_minus_square(a))), "arcsin",
              r"\arcsin", "where −1 < {arg} < 1 entrywise", domain="unit"),
    Entrywise("arccos", lambda x: _np().arccos(x), "np.arccos({0})",
              lambda a, y: alg.neg(alg.div(_one(a), alg.func("sqrt", _one_minus_square(a)))),
              "arccos", r"\arccos", "where −1 < {arg} < 1 entrywise", domain="unit"),
    Entrywise("arctan", lambda x: _np().arctan(x), "np.arctan({0})",
              lambda a, y: alg.div(_one(a), alg.add(_one(a), alg.power(a, alg.num(2)))),
              "arctan", r"\arctan"),
    Entrywise("sinh", lambda x: _np().sinh(x), "np.sinh({0})",
              lambda a, y: alg.func("cosh", a), "sinh", r"\sinh"),
    Entrywise("cosh", lambda x: _np().cosh(x), "np.cosh({0})",
              lambda a, y: alg.func("sinh", a), "cosh", r"\cosh"),
    Entrywise("tanh", lambda x: _np().tanh(x), "np.tanh({0})",
              lambda a, y: alg.sub(_one(a), alg.power(y, alg.num(2))), "tanh", r"\tanh"),
    # log1p and expm1 stay accurate where log(1 + t) and exp(t) − 1 cancel (|t| ≪ 1)
    Entrywise("log1p", lambda x: _np().log1p(x), "np.log1p({0})",
              lambda a, y: alg.div(_one(a), alg.add(_one(a), a)), "log1p",
              r"\operatorname{log1p}", "where {arg} > −1 entrywise", domain="above_minus_one"),
    Entrywise("expm1", lambda x: _np().expm1(x), "np.expm1({0})",
              lambda a, y: alg.func("exp", a), "expm1", r"\operatorname{expm1}"),
    Entrywise("erf", _erf, "_erf({0})", _erf_slope, "erf", r"\operatorname{erf}"),
    Entrywise("sigmoid", _sigmoid, "np.exp(-np.logaddexp(0.0, -{0}))",
              lambda a, y: alg.had(y, alg.sub(_one(a), y)), "σ", r"\sigma"),
    Entrywise("softplus", lambda x: _np().logaddexp(0.0, x), "np.logaddexp(0.0, {0})",
              lambda a, y: alg.func("sigmoid", a), "softplus", r"\operatorname{softplus}"),
    # softsign′ = 1/(1 + |t|)², continuous at 0 (only the second derivative has a kink)
    Entrywise("softsign", _softsign, "{0} / (1.0 + np.abs({0}))",
              lambda a, y: alg.power(alg.add(_one(a), alg.func("abs", a)), alg.num(-2)),
              "softsign", r"\operatorname{softsign}"),
    Entrywise("relu", lambda x: _np().maximum(x, 0.0), "np.maximum({0}, 0.0)",
              lambda a, y: alg.func("step", a), "relu", r"\operatorname{relu}",
              "where {arg} has no zero entries", kink=True),
    Entrywise("abs", lambda x: _np().abs(x), "np.abs({0})", lambda a, y: alg.func("sign", a),
              "abs", r"\operatorname{abs}", "where {arg} has no zero entries", kink=True),
    Entrywise("sign", lambda x: _np().sign(x), "np.sign({0})", lambda a, y: alg.zeros(a.shape),
              "sign", r"\operatorname{sign}", "where {arg} has no zero entries", kink=True),
    Entrywise("step", _step, "np.heaviside({0}, 0.0)",
              lambda a, y: alg.zeros(a.shape), "step", r"\operatorname{step}",
              "where {arg} has no zero entries", kink=True),
]

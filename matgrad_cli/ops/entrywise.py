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
    Entrywise("tanh", lambda x: _np().tanh(x), "np.tanh({0})",
              lambda a, y: alg.sub(_one(a), alg.power(y, alg.num(2))), "tanh", r"\tanh"),
    Entrywise("sigmoid", _sigmoid, "np.exp(-np.logaddexp(0.0, -{0}))",
              lambda a, y: alg.had(y, alg.sub(_one(a), y)), "σ", r"\sigma"),
    Entrywise("softplus", lambda x: _np().logaddexp(0.0, x), "np.logaddexp(0.0, {0})",
              lambda a, y: alg.func("sigmoid", a), "softplus", r"\operatorname{softplus}"),
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

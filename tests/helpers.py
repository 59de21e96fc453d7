"""Shared test utilities for the derivative tests (rules, cookbook, property, round trip,
CLI): random in-domain inputs, a central-finite-difference Jacobian in the layout of
SPEC §4, the matrix form of a derivative, and running ``matgrad`` in-process with
click's CliRunner.

Layouts (SPEC §4): ∂f/∂X as a NumPy array has shape ``f.shape + X.shape`` (what
``jax.jacobian`` gives). The printed ("matrix") form is that array itself for a scalar f
(the gradient) or a scalar X (shaped like f), and otherwise the Magnus–Neudecker
Jacobian ``G.reshape(f.size, X.size, order='F')``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
from click.testing import CliRunner

from matgrad_cli.app import api
from matgrad_cli.cli import main as cli_main
from matgrad_cli.numeric.evaluator import compile_plan, run_plan

# ---------------------------------------------------------------- random inputs

# Domains: what kind of value a variable must hold for its expression to be smooth and
# well-conditioned there (away from kinks, log/sqrt of non-positives, singular matrices).
DOMAINS = ("real", "pos", "away", "wc", "spd", "small", "unit")


def random_value(shape: tuple, domain: str, rng: np.random.Generator) -> np.ndarray:
    """One input of the given NumPy shape from ``domain``:

    real   standard normal
    small  normal with standard deviation 0.3 (keeps exp/powers tame)
    pos    uniform in [0.5, 2]  (log, sqrt, non-integer powers, variable exponents)
    away   |t| in [0.3, 1.5] with a random sign  (relu, abs, sign, step, ||.||_1, 1/t)
    unit   uniform in [-0.6, 0.6]  (arcsin, arccos, log1p; times an 'away' scalar still
           inside (−1, 1))
    wc     well-conditioned square: I + 0.3 R/sqrt(n)  (det, logdet, inv, X^k)
    spd    symmetric positive definite: R Rᵀ/n + I
    """
    shape = tuple(shape)
    if domain == "real":
        return np.asarray(rng.standard_normal(shape))
    if domain == "small":
        return np.asarray(0.3 * rng.standard_normal(shape))
    if domain == "pos":
        return np.asarray(rng.uniform(0.5, 2.0, shape))
    if domain == "unit":
        return np.asarray(rng.uniform(-0.6, 0.6, shape))
    if domain == "away":
        return np.asarray(rng.uniform(0.3, 1.5, shape) * rng.choice([-1.0, 1.0], shape))
    if domain in ("wc", "spd"):
        if len(shape) == 0:
            return np.asarray(rng.uniform(0.7, 1.5))
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"domain {domain} needs a square matrix, not {shape}")
        n = shape[0]
        r = rng.standard_normal((n, n))
        if domain == "wc":
            return np.eye(n) + 0.3 * r / math.sqrt(n)
        return r @ r.T / n + np.eye(n)
    raise ValueError(f"unknown domain {domain!r}")


def random_inputs(shapes: dict, domains: dict | None = None, seed: int = 0) -> dict:
    """Arrays for every entry of ``shapes`` that is a shape (a tuple); int entries are
    dimension bindings and are skipped. ``domains`` maps names to a domain (default
    'real')."""
    rng = np.random.default_rng(seed)
    domains = domains or {}
    return {name: random_value(shape, domains.get(name, "real"), rng)
            for name, shape in shapes.items() if isinstance(shape, tuple)}


def split_shapes(shapes: dict) -> tuple[dict, dict]:
    """{name: shape or int} → (array shapes, dimension bindings)."""
    arrays = {k: tuple(v) for k, v in shapes.items() if isinstance(v, tuple)}
    dims = {k: int(v) for k, v in shapes.items() if isinstance(v, int)}
    return arrays, dims


# ---------------------------------------------------------------- layouts

def matrix_form(G, f_shape: tuple, x_shape: tuple) -> np.ndarray:
    """The SPEC §4 array ``G`` (f.shape + X.shape) → the printed matrix form."""
    G = np.asarray(G)
    if f_shape == () or x_shape == ():
        return G
    return G.reshape(math.prod(f_shape), math.prod(x_shape), order="F")


def hessian_matrix_form(H, x_shape: tuple) -> np.ndarray:
    """``hess_X`` (X.shape + X.shape) → len(vec X) × len(vec X) (a scalar for scalar X)."""
    H = np.asarray(H)
    if x_shape == ():
        return H
    n = math.prod(x_shape)
    return H.reshape(n, n, order="F")


# ---------------------------------------------------------------- finite differences

def fd_jacobian(fn, arrays: dict, name: str, rel_step: float = 1e-5) -> np.ndarray:
    """Central differences of ``fn(arrays)`` in the entries of ``arrays[name]``, laid out
    as SPEC §4: shape f.shape + X.shape."""
    x = np.asarray(arrays[name], dtype=float)
    f0 = np.asarray(fn(arrays), dtype=float)
    out = np.zeros(f0.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        h = rel_step * max(1.0, abs(float(x[idx])))
        plus, minus = x.copy(), x.copy()
        plus[idx] += h
        minus[idx] -= h
        fp = np.asarray(fn({**arrays, name: plus}), dtype=float)
        fm = np.asarray(fn({**arrays, name: minus}), dtype=float)
        out[(Ellipsis,) + idx] = (fp - fm) / (2 * h)
    return out


def value_function(source: str, arrays: dict, dims: dict | None = None):
    """f as a function of the inputs, evaluated by matgrad's plan evaluator (the values of
    f are tested in test_eval_table.py; here they are the reference for derivatives)."""
    program = api.parse(source, dims=dims or {},
                        array_shapes={k: np.shape(v) for k, v in arrays.items()})
    plan = compile_plan({"value": program.expr})
    used = set(program.variables)

    def fn(values: dict):
        return run_plan(plan, {k: v for k, v in values.items() if k in used})["value"]

    return fn


def assert_close(actual, expected, what: str = "", rtol: float = 1e-5,
                 atol_scale: float = 1e-6) -> None:
    """Equal shapes, and entries equal up to rtol plus an absolute floor scaled to the
    largest entry (so a derivative that is exactly zero passes on rounding noise)."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    # NaN equals NaN for assert_allclose: an input outside the domain would pass unseen
    assert np.all(np.isfinite(expected)), f"{what}: the reference is not finite"
    atol = atol_scale * (1.0 + (float(np.max(np.abs(expected))) if expected.size else 0.0))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


# ---------------------------------------------------------------- the API and dsl lines

def derive_for(source: str, wrt, arrays: dict, dims: dict | None = None, order: int = 1):
    """A Derivation with every shape concrete, as ``matgrad eval`` makes it."""
    program = api.parse(source, dims=dims or {},
                        array_shapes={k: np.shape(v) for k, v in arrays.items()})
    return api.derive(program, list(wrt), order)


def evaluate_line(line: str, arrays: dict, dims: dict | None = None) -> np.ndarray:
    """Evaluate one input of the language (a printed dsl line) on ``arrays``."""
    program = api.parse(line, dims=dims or {},
                        array_shapes={k: np.shape(v) for k, v in arrays.items()})
    plan = compile_plan({"value": program.expr})
    return np.asarray(run_plan(plan, {k: arrays[k] for k in program.variables})["value"])


# ---------------------------------------------------------------- the command line

def invoke(args, stdin: str | None = None, env: dict | None = None):
    """Run ``matgrad ARGS`` in-process; a Python exception escaping it fails the test."""
    return CliRunner().invoke(cli_main, [str(a) for a in args], input=stdin, env=env,
                              catch_exceptions=False)


def input_args(arrays: dict, directory) -> list[str]:
    """Save each array as NAME.npy under ``directory``; the matching ``-i`` options."""
    args = []
    for name, value in arrays.items():
        path = directory / f"{name}.npy"
        np.save(path, np.asarray(value, dtype=float))
        args += ["-i", f"{name}={path}"]
    return args


def shape_args(shapes: dict) -> list[str]:
    """--shape / --dim options for {name: shape tuple or dimension int}."""
    args = []
    for name, spec in shapes.items():
        if isinstance(spec, int):
            args += ["--dim", f"{name}={spec}"]
        elif spec == ():
            args += ["--shape", f"{name}=scalar"]
        else:
            args += ["--shape", f"{name}=" + "x".join(str(d) for d in spec)]
    return args


def cli_derive_dsl(expr: str, wrt, extra=(), order: int = 1) -> list[str]:
    """``matgrad derive EXPR --wrt ... --format dsl``: one line per --wrt, nothing else."""
    args = ["derive", "--format", "dsl", *[a for w in wrt for a in ("--wrt", w)], *extra]
    if order != 1:
        args += ["--order", str(order)]
    result = invoke(args + ["--", expr])
    assert result.exit_code == 0, result.output
    lines = result.stdout.rstrip("\n").split("\n")
    assert len(lines) == len(list(wrt)), result.stdout
    return lines


def cli_eval_json(expr: str, arrays: dict, directory, extra=()) -> dict:
    """``matgrad eval EXPR -i ... --format json`` → the JSON object."""
    result = invoke(["eval", "--format", "json", *input_args(arrays, directory), *extra,
                     "--", expr])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def cli_eval_value(expr: str, arrays: dict, directory, extra=()) -> np.ndarray:
    payload = cli_eval_json(expr, arrays, directory, extra)
    return np.asarray(payload["value"], dtype=float).reshape(payload["shapes"]["value"])


# ---------------------------------------------------------------- derivative cases

@dataclass(frozen=True)
class Case:
    """One row of a derivative table: f, the variables to differentiate by, the concrete
    shape sets to try (a shape tuple per variable, an int per dimension name) and the
    input domain of each variable (default 'real')."""

    id: str
    expr: str
    wrt: tuple
    shapes: tuple  # of dicts
    domain: dict = field(default_factory=dict)

    def inputs(self, shapes: dict, seed: int = 0) -> dict:
        return random_inputs(shapes, self.domain, seed)


def case(id: str, expr: str, wrt, *shapes: dict, **domain: str) -> Case:
    wrt = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    return Case(id, expr, wrt, tuple(shapes), dict(domain))

"""Evaluating matgrad's formulas with jax or PyTorch instead of NumPy (``eval --backend``,
``compile_derivatives(backend=...)``).

The function is the ``jax`` / ``torch`` code format itself (printers/numpy_code.py with the
library's spellings), printed with generated names only (``a0``, ``t3``: no text of the
input reaches the source), executed once, and for jax compiled with ``jax.jit``: XLA then
fuses matgrad's entrywise chains into its products. jax and torch are optional (the
``export`` extra) and imported only here, only when asked for.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

from ..errors import UsageError

BACKENDS = ("numpy", "jax", "torch")


def require(backend: str):
    """The library's module, or a one-line error saying how to install it."""
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend '{backend}' (choose from {', '.join(BACKENDS)})")
    try:
        return importlib.import_module(backend)
    except ImportError:
        raise UsageError(f"the {backend} backend needs {backend}: "
                         "pip install 'matgrad[export]'") from None


def library_function(derivation, backend: str, keys: list):
    """``(fn, names)``: ``fn(*arrays)`` (in the order of the variable ``names``) returns
    the outputs ``keys`` (value, grad_X, hess_X ...) as a tuple of the library's arrays,
    shaped as SPEC §4. Plain Python: for jax, not yet jitted."""
    from ..printers.numpy_code import flat_function

    require(backend)
    source, names = flat_function(derivation, backend, keys)
    namespace: dict = {}
    exec(compile(source, f"<matgrad {backend}>", "exec"), namespace)  # noqa: S102
    return namespace["_compiled"], names


def backend_function(derivation, backend: str, keys: list):
    """``library_function``, under ``jax.jit`` for jax."""
    fn, names = library_function(derivation, backend, keys)
    return (require("jax").jit(fn) if backend == "jax" else fn), names


def backend_caller(backend: str, variables: list, keys: list, formula_for: Callable,
                   fallback: Callable) -> tuple:
    """``(call, entry)`` for ``compile_derivatives``, like the NumPy plan's caller:
    ``call(arrays)`` runs the formulas on arrays named exactly ``variables`` and returns the
    outputs ``keys`` in a dict, or None; ``entry(**arrays)`` — what a user calls — runs
    ``fallback(arrays)`` instead of returning None; ``entry.positional(*arrays)`` hands the
    arrays (in the order ``variables``) to the jitted function and returns its tuple.

    ``formula_for(shapes)`` gives ``(fn, names)``: the library function for arrays of those
    shapes (derived and printed once per set of shapes). The choice among them is made at
    trace time, so for jax it is jax.jit's own cache, in C++, that tells one set of shapes
    (or dtypes) from another; ours would read every ``.shape`` in Python, which costs more
    than the guard of a NumPy plan. Between a user and XLA there are then a few dictionary
    reads in one generated function (generated names only)."""
    library = require(backend)
    arrays_of = library.numpy if backend == "jax" else library  # jnp, torch
    real = arrays_of.result_type(float) if backend == "jax" else library.float64  # (x64)
    chosen: dict = {}  # shapes -> (fn, the positions of its arguments among variables)

    def by_shapes(*arrays):
        arrays = [a if hasattr(a, "shape") else arrays_of.asarray(a, dtype=real)
                  for a in arrays]  # numbers, lists
        shapes = tuple(tuple(a.shape) for a in arrays)
        if shapes not in chosen:
            fn, names = formula_for(dict(zip(variables, shapes)))
            chosen[shapes] = fn, [variables.index(name) for name in names]
        fn, positions = chosen[shapes]
        return fn(*[arrays[i] for i in positions])

    namespace: dict = {"_f": library.jit(by_shapes) if backend == "jax" else by_shapes}
    listed = ", ".join(f"a{k}" for k in range(len(variables)))
    from .evaluator import generated_callers

    return generated_callers(variables, keys, [], [f"r = _f({listed})"], "r", namespace,
                             fallback)


def evaluate(derivation, arrays: dict, backend: str, keys: list) -> dict:
    """The outputs ``keys`` as NumPy float64 arrays, computed by ``backend``."""
    import numpy as np

    if backend == "jax":  # the comparison with NumPy is in float64, as eval's numbers are
        require("jax").config.update("jax_enable_x64", True)
    fn, names = backend_function(derivation, backend, keys)
    values = fn(*[arrays[name] for name in names])
    return {key: np.asarray(value, dtype=np.float64) for key, value in zip(keys, values)}

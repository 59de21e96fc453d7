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


def backend_function(derivation, backend: str, keys: list):
    """``(fn, names)``: ``fn(*arrays)`` (in the order of the variable ``names``) returns
    the outputs ``keys`` (value, grad_X, hess_X ...) as a tuple of the library's arrays,
    shaped as SPEC §4."""
    from ..printers.numpy_code import flat_function

    library = require(backend)
    source, names = flat_function(derivation, backend, keys)
    namespace: dict = {}
    exec(compile(source, f"<matgrad {backend}>", "exec"), namespace)  # noqa: S102
    fn = namespace["_compiled"]
    if backend == "jax":
        fn = library.jit(fn)
    return fn, names


def evaluate(derivation, arrays: dict, backend: str, keys: list) -> dict:
    """The outputs ``keys`` as NumPy float64 arrays, computed by ``backend``."""
    import numpy as np

    if backend == "jax":  # the comparison with NumPy is in float64, as eval's numbers are
        require("jax").config.update("jax_enable_x64", True)
    fn, names = backend_function(derivation, backend, keys)
    values = fn(*[arrays[name] for name in names])
    return {key: np.asarray(value, dtype=np.float64) for key, value in zip(keys, values)}

"""How each framework turns a Problem and its inputs into a timed callable.

Every builder returns a Prepared: ``call()`` is what gets timed, ``extract(out)``
turns its result into a tuple of NumPy arrays in the problem's wrt order (used
for the correctness check only, never timed).  Import this module only after
bench.__main__ has pinned the thread counts.
"""
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as torch_f

jax.config.update("jax_enable_x64", True)

JAX_OPS = SimpleNamespace(
    sigmoid=jax.nn.sigmoid, softplus=jax.nn.softplus, relu=jax.nn.relu,
    abs=jnp.abs, sum=jnp.sum, eye=lambda M: jnp.eye(M.shape[-1], dtype=M.dtype),
    logsumexp=jax.nn.logsumexp)

TORCH_OPS = SimpleNamespace(
    sigmoid=torch.sigmoid, softplus=torch_f.softplus, relu=torch.relu,
    abs=torch.abs, sum=torch.sum, eye=lambda M: torch.eye(M.shape[-1], dtype=M.dtype),
    logsumexp=lambda t: torch.logsumexp(t, 0))


class Unavailable(Exception):
    """The framework cannot run this problem (reported as n/a, not as a failure)."""


@dataclass
class Prepared:
    call: Callable
    extract: Callable
    setup_s: float = float("nan")      # matgrad: compile_derivatives; jax: first call
    one_shot: Callable | None = None   # from scratch: symbolic work / jit compile + one call
    # matgrad: the same evaluation through fn.positional(*arrays), called as the hand-written
    # form and jax.jit are (no keyword dictionary in, a tuple out)
    positional: Callable | None = None
    # jax and matgrad's jax backend: XLA's own cost analysis of the compiled program
    # ({"flops", "bytes"}), a count of the work that no timer's noise touches
    xla_cost: Callable | None = None


def xla_cost(jitted, args) -> dict:
    """Flops, bytes accessed and transcendental functions of the program XLA compiled for ``jitted(*args)``."""
    cost = jitted.lower(*args).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost   # older jax: one per device
    return {"flops": float(cost.get("flops", float("nan"))),
            "bytes": float(cost.get("bytes accessed", float("nan"))),
            "transcendentals": float(cost.get("transcendentals", 0.0))}


def numpy_prepare(p, arrays):
    args = p.positional(arrays)
    return Prepared(lambda: p.numpy(*args), tuple)


def _load_matgrad():
    try:
        from matgrad_cli import compile_derivatives
    except Exception as exc:  # noqa: BLE001 - ImportError, or a half-written package
        raise Unavailable(f"matgrad API not available ({type(exc).__name__}: {exc})") from None
    return compile_derivatives


def matgrad_prepare(p, arrays, backend="numpy"):
    compile_derivatives = _load_matgrad()
    shapes = {k: tuple(np.shape(v)) for k, v in arrays.items()}
    prefix = "grad_" if p.order == 1 else "hess_"
    keys = [prefix + w for w in p.wrt]

    def build():
        try:
            return compile_derivatives(p.expr, list(p.wrt), order=p.order, shapes=shapes,
                                       outputs=keys, **({} if backend == "numpy"
                                                        else {"backend": backend}))
        except TypeError as exc:  # a matgrad without backends
            raise Unavailable(f"compile_derivatives has no backend ({exc})") from None

    if backend == "numpy":
        t0 = time.perf_counter()
        fn = build()                  # an error here is matgrad's failure, not an n/a
        setup = time.perf_counter() - t0
        args = [arrays[k] for k in fn.parameters]
        return Prepared(lambda: fn(**arrays),
                        lambda out: tuple(np.asarray(out[k]) for k in keys),
                        setup, lambda: build()(**arrays), lambda: fn.positional(*args))
    # the jax backend: inputs already on the device, like jax's own row; the first call
    # traces and compiles (its setup), later ones run XLA's code
    on_device = {k: jax.device_put(v) for k, v in arrays.items()}
    t0 = time.perf_counter()
    fn = build()

    def call():
        return jax.block_until_ready(fn(**on_device))

    call()
    setup = time.perf_counter() - t0
    args = [on_device[k] for k in fn.parameters]
    return Prepared(call, lambda out: tuple(np.asarray(out[k]) for k in keys), setup,
                    lambda: jax.block_until_ready(build()(**on_device)),
                    lambda: jax.block_until_ready(fn.positional(*args)),
                    # the jitted function inside is inlined into this outer jit's program
                    lambda: xla_cost(jax.jit(lambda *a: fn.positional(*a)), args))


def _jax_derivative(p):
    f = functools.partial(p.f, JAX_OPS)
    argnums = tuple(p.args.index(w) for w in p.wrt)
    if p.order == 1:
        return jax.grad(f, argnums=argnums)
    return jax.hessian(f, argnums=argnums[0])


def jax_prepare(p, arrays):
    args = [jax.device_put(a) for a in p.positional(arrays)]
    jitted = jax.jit(_jax_derivative(p))

    def call():
        return jax.block_until_ready(jitted(*args))

    t0 = time.perf_counter()
    call()                                   # trace + compile + run
    setup = time.perf_counter() - t0

    def one_shot():                          # a fresh function object: a fresh compile
        return jax.block_until_ready(jax.jit(_jax_derivative(p))(*args))

    def extract(out):
        return tuple(np.asarray(o) for o in (out if isinstance(out, tuple) else (out,)))
    return Prepared(call, extract, setup, one_shot, xla_cost=lambda: xla_cost(jitted, args))


def torch_prepare(p, arrays):
    tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in p.positional(arrays)]
    idx = [p.args.index(w) for w in p.wrt]
    f = functools.partial(p.f, TORCH_OPS)
    if p.order == 1:
        leaves = [tensors[i].requires_grad_() for i in idx]

        def call():
            return torch.autograd.grad(f(*tensors), leaves)
    else:
        def g(v):
            a = list(tensors)
            a[idx[0]] = v
            return f(*a)

        def call():
            return (torch.autograd.functional.hessian(g, tensors[idx[0]]),)
    return Prepared(call, lambda out: tuple(t.detach().numpy() for t in out))


FRAMEWORKS = {
    "numpy": numpy_prepare,
    "matgrad": matgrad_prepare,
    "matgrad_jax": functools.partial(matgrad_prepare, backend="jax"),
    "jax": jax_prepare,
    "torch": torch_prepare,
}


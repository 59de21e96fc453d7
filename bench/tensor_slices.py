"""python -m bench.tensor_slices [--quick]: the order-3 worked problem (issue 12).

L = β Σᵢ Σⱼₖ |ΦᵢᵀΦᵢ − I|ⱼₖ with Φᵢ = Φ[:, i, :], Φ of shape 64×256×64: matgrad's value and
gradient (``compile_derivatives``, index notation evaluated by batched products) against
a hand-written batched NumPy form, as a paired ratio measured in one run (the same
fairness rules as ``python -m bench``: one thread, the pinned OpenBLAS kernels unset).
"""
import argparse
import os
import sys

from .__main__ import _pin_threads, _tune_allocation

EXPR = "beta*sum(i: sum(abs(Phi[:, i, :]'*Phi[:, i, :] - I)))"
PINNED_KERNELS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def hand_written(Phi, beta):
    """Value and gradient by batched matmul: slices along axis 1, Gᵢ = 2β Φᵢ sign(ΦᵢᵀΦᵢ − I)."""
    import numpy as np

    slices = Phi.transpose(1, 0, 2)                  # (m, l, n): the slices Φᵢ, a view
    gram = np.matmul(slices.transpose(0, 2, 1), slices)
    gram -= np.eye(Phi.shape[2])
    value = beta * np.abs(gram).sum()
    np.sign(gram, out=gram)
    grad = np.matmul(slices, gram)
    grad *= 2.0 * beta
    return value, grad.transpose(1, 0, 2)


def main(argv=None):
    pinned = [v for v in PINNED_KERNELS if v in os.environ]
    if pinned:  # read when OpenBLAS loads: re-execute without them
        for v in pinned:
            os.environ.pop(v)
        os.execv(sys.executable, [sys.executable, "-m", "bench.tensor_slices",
                                  *(sys.argv[1:] if argv is None else argv)])
    ap = argparse.ArgumentParser(prog="python -m bench.tensor_slices",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="Φ 8×32×8, few rounds")
    args = ap.parse_args(argv)
    _pin_threads(1)
    _tune_allocation(False)

    import numpy as np

    from matgrad_cli.app.api import compile_derivatives

    from .machine import _load, _openblas_core
    from .timing import paired_ratio

    shape = (8, 32, 8) if args.quick else (64, 256, 64)
    rng = np.random.default_rng(12)
    Phi, beta = rng.standard_normal(shape), np.array(0.5)
    fn = compile_derivatives(EXPR, ["Phi"])
    got = fn(Phi=Phi, beta=beta)
    value, grad = hand_written(Phi, beta)
    assert np.allclose(got["value"], value) and np.allclose(got["grad_Phi"], grad), \
        "matgrad and the hand-written form disagree"
    ratio, rounds = paired_ratio(lambda: fn(Phi=Phi, beta=beta),
                                 lambda: hand_written(Phi, beta),
                                 min_time=0.1 if args.quick else 2.0)
    print(f"OpenBLAS kernels: {_openblas_core()}; {_load()}")
    print(f"Φ {'×'.join(map(str, shape))}: matgrad (value + gradient) / hand-written "
          f"batched NumPy = {ratio:.2f} (paired median of {rounds} rounds)")


if __name__ == "__main__":
    main()

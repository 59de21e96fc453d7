"""python -m bench.generated_code: the function `derive --format numpy` prints, against
matgrad's own evaluator (compile_derivatives), at n = 1000, paired (issue 8: within 1.1×).
Run it like the bench: one thread (OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)."""
import inspect
import subprocess

import numpy as np

from matgrad_cli.app.api import compile_derivatives

from .timing import paired_ratio


def main():
    rng = np.random.default_rng(0)
    n = 1000
    cases = [("||A*sigmoid(x)||^2", ["x"],
              {"A": rng.standard_normal((n, n)) / n**.5, "x": rng.standard_normal(n)}),
             ("beta*sum(abs(P'P - I))", ["P"], {"P": rng.standard_normal((n, n)), "beta": np.array(0.5)})]
    for expr, wrt, arrays in cases:
        args = ["matgrad", "derive", expr, *sum((["--wrt", w] for w in wrt), []), "--format", "numpy"]
        src = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        ns = {}
        exec(compile(src, "<generated>", "exec"), ns)
        gen = ns["f_and_grad"]
        fn = compile_derivatives(expr, wrt)
        params = list(inspect.signature(gen).parameters)
        call_gen = lambda: gen(*[arrays[p] for p in params])  # noqa: E731
        v, g = call_gen()
        out = fn(**arrays)
        assert np.allclose(v, out["value"]) and np.allclose(g[wrt[0]], out["grad_" + wrt[0]])
        r, k = paired_ratio(call_gen, lambda: fn(**arrays), min_time=2.0)
        print(f"{expr}: generated / evaluator = {r:.2f} ({k} rounds)")


if __name__ == "__main__":
    main()

"""The application layer: the pipelines behind ``matgrad eval`` and ``matgrad check``,
with no click and no terminal I/O in them.

``load_problem`` loads the inputs, parses f with their shapes and checks the names (an
input f does not use is a warning; a variable with no input is ``MissingInputs``).
``run_eval`` then derives, evaluates and collects the warnings (kinks, NaN/Inf values).
``matgrad check`` runs the same ``load_problem`` on its ``-i`` inputs (see ``claims``).

Messages name no command-line flags: the CLI adds the hints (``-i x=FILE``) when it
reports an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError


class MissingInputs(UsageError):
    """Variables of f that no input gives a value for."""

    def __init__(self, names: list[str], warnings: list[str] = ()):
        self.names = list(names)
        self.warnings = list(warnings)  # about the inputs that were given
        super().__init__("missing input" + ("s " if len(names) > 1 else " ") +
                         ", ".join(names))


@dataclass
class Problem:
    program: object  # ir.Program
    arrays: dict  # name -> array, only the variables of f, read as their shapes
    warnings: list = field(default_factory=list)
    # the shape each variable was declared or given with, where the IR's differs (the IR
    # reads a length-1 vector as a scalar and an n×1 matrix as a vector, SPEC §1)
    kept: dict = field(default_factory=dict)


def kept_shape(name: str, ir_shape: tuple, declared, given: tuple) -> tuple | None:
    """The NumPy shape variable ``name`` keeps (SPEC §1: a length-1 vector stays a vector,
    an n×1 matrix a matrix) when it differs from ``ir_shape``; else None. ``declared``: its
    ``--shape`` sizes or None; ``given``: its array's shape."""
    from ..language.shapes import convention_kind

    if declared is not None:
        from ..ir import STRUCTURES

        sizes = list(declared)
        rank = len(sizes) - (1 if sizes and sizes[-1] in STRUCTURES else 0)
    else:
        rank = {"scalar": 0, "vector": 1, "matrix": 2}[convention_kind(name)]
        if rank == 2 and len(given) < 2:
            return None  # a vector or number given for a matrix name: as given
    if rank == 1 and ir_shape == ():
        return (1,)
    if rank == 2 and len(ir_shape) < 2 and len(given) == 2:
        return tuple(given)
    return None


@dataclass
class EvalResult:
    program: object
    derivation: object | None
    values: dict
    checks: list | None
    warnings: list = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.checks) and not all(c.ok for c in self.checks)


def as_variable(array, shape):
    """An (n,1) or (1,n) array given for a vector variable is read as the vector; a
    one-entry array given for a scalar as the scalar."""
    import numpy as np

    array = np.asarray(array, dtype=float)
    if len(shape) == 1 and array.ndim == 2:
        return array.reshape(-1)
    if len(shape) == 0 and array.ndim > 0:
        return array.reshape(())
    return array


def load_problem(source: str, inputs: list[str], shapes: dict | None = None,
                 dims: dict | None = None) -> Problem:
    """Load the inputs, parse f with their shapes and check the names."""
    from . import api
    from ..numeric import arrays as arrays_io

    arrays, warnings = arrays_io.load_inputs(list(inputs))
    program = api.parse(source, shapes or {}, dims or {},
                        {name: a.shape for name, a in arrays.items()})
    warnings = list(warnings)
    for name in arrays:
        if name not in program.variables:
            warnings.append(f"input {name} is not used by the expression")
    missing = [name for name in program.variables if name not in arrays]
    if missing:
        raise MissingInputs(missing, warnings)
    kept = {}
    for name, shape in program.variables.items():
        declared = (shapes or {}).get(name)
        keep = kept_shape(name, tuple(shape), declared, np_shape(arrays[name]))
        if keep is not None:
            kept[name] = keep
    arrays = {name: as_variable(arrays[name], shape)
              for name, shape in program.variables.items()}
    if program.structures:
        from ..numeric.structure import symmetrised

        for name, structure in program.structures.items():
            arrays[name], found = symmetrised(name, arrays[name], structure)
            warnings += found
    return Problem(program, arrays, warnings, kept)


def np_shape(array) -> tuple:
    return tuple(getattr(array, "shape", ()))


def keep_shapes(values: dict, kept: dict, derivation) -> dict:
    """Derivatives shaped by the variables' kept shapes (SPEC §1, with §4's layout)."""
    import numpy as np

    if not kept:
        return values
    variables = {name: tuple(int(d) for d in shape)
                 for name, shape in derivation.program.variables.items()}

    def shape(name):
        return kept.get(name, variables[name])

    f_shape = np.shape(values["value"])
    targets = {f"grad_{x}": f_shape + shape(x) for x in derivation.derivatives}
    targets.update({f"hess_{x}": shape(x) + shape(x) for x in derivation.hessians})
    targets.update({f"hess_{x}_{y}": shape(x) + shape(y) for x, y in derivation.mixed})
    targets.update({f"hvp_{x}": shape(x) for x in derivation.hvps})
    out = dict(values)
    for key, target in targets.items():
        if key in out and np.shape(out[key]) != target:
            out[key] = np.reshape(out[key], target, order="F")
    return out


def load_direction(spec: str, program, wrt: list[str]):
    """``X=FILE`` (or a number) → the direction v of a Hessian-vector product, shaped like X."""
    import numpy as np

    from ..numeric import arrays as arrays_io

    from .api import OptionError

    def refuse(why: str):
        raise OptionError(f"hvp {spec}: {why}", f"--hvp {spec}: {why}")

    name, sep, _ = spec.partition("=")
    if not sep or not name:
        refuse("expected NAME=FILE, the direction for the variable")
    if list(wrt) != [name]:
        refuse("the direction must be for the one variable differentiated with respect to"
               + (f" ({wrt[0]})" if wrt else ""))
    arrays, _ = arrays_io.load_inputs([spec])
    shape = tuple(int(d) for d in program.variables[name])
    given = np.shape(arrays[name])
    direction = as_variable(arrays[name], shape)
    if direction.shape != shape:
        refuse(f"the direction has shape {given}, but {name} has shape {shape}")
    return np.asarray(direction, dtype=float)


def run_eval(source: str, wrt: list[str], inputs: list[str], shapes: dict | None = None,
             dims: dict | None = None, order: int = 1, check: bool = False,
             mixed: bool = False, hvp: str | None = None,
             max_memory: int | None = None, backend: str = "numpy") -> EvalResult:
    """f and its symbolic derivatives with respect to ``wrt`` at the inputs; with
    ``check``, also compared with central finite differences. ``mixed``: the mixed
    second-derivative blocks too; ``hvp`` (``X=FILE``): H·v for that direction instead of
    the Hessian. ``max_memory``: the memory budget in bytes (None: the default, SPEC §5).
    ``backend``: "numpy", or "jax" / "torch" to evaluate the derivatives with that library
    (the finite-difference check and the warnings stay NumPy's)."""
    from ..numeric.budget import limited

    with limited(max_memory):
        return _run_eval(source, wrt, inputs, shapes, dims, order, check, mixed, hvp, backend)


def _run_eval(source, wrt, inputs, shapes, dims, order, check, mixed, hvp,
              backend="numpy") -> EvalResult:
    import numpy as np

    from . import api
    from ..numeric import numcheck
    from ..numeric.evaluator import evaluate

    if order == 2 and not wrt:
        raise UsageError("order 2 needs a variable to differentiate with respect to")
    if check and not wrt:
        raise UsageError("the finite-difference check needs a variable to differentiate "
                         "with respect to")
    if backend != "numpy":
        from ..numeric.backend_eval import require

        require(backend)  # a missing library is a usage error before any work
        if not wrt:
            raise UsageError(f"--backend {backend} evaluates derivatives: it needs --wrt")
        if hvp is not None:
            raise UsageError(f"--hvp is evaluated by numpy only, not --backend {backend}")
    problem = load_problem(source, inputs, shapes, dims)
    program, arrays = problem.program, problem.arrays
    warnings = [f"warning: {w}" for w in problem.warnings]
    if wrt:
        derivation = api.derive(program, list(wrt), order, mixed=mixed, hvp=hvp is not None)
        if hvp is not None:
            arrays = {**arrays, api.HVP_DIRECTION: load_direction(hvp, program, wrt)}
        values = keep_shapes(api.evaluate(derivation, arrays, backend=backend), problem.kept,
                             derivation)
        warnings += numcheck.kink_warnings(derivation, arrays, values)
        warnings += numcheck.spectral_warnings(derivation, arrays)
    else:
        derivation = None
        values = {"value": evaluate({"value": program.expr}, arrays)["value"]}
    for name, value in values.items():
        if not np.all(np.isfinite(value)):
            warnings.append(f"warning: {name} has NaN or infinite entries at this point "
                            "(outside the domain of log, sqrt, inv …?)")
    checks = numcheck.check(derivation, arrays, values) if (check and derivation) else None
    arrays.pop(api.HVP_DIRECTION, None)
    return EvalResult(program, derivation, values, checks, warnings)

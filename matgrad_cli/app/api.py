"""The public Python API: parse, derive, evaluate.

Nothing here imports NumPy at module level: ``derive`` stays light, and only evaluation
pulls NumPy in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import diff
from ..diff import symmetric
from .. import algebra as alg
from ..errors import UsageError, ZeroDivisor
from ..ir import Node, Program, Var, walk
from ..language.shapes import parse_program
from ..simplify import simplify
from ..tensors.forms import index_form
from ..simplify.rules import is_symmetric


# The direction of a Hessian-vector product: a variable no input of the language can name
HVP_DIRECTION = "hvp direction"


class OptionError(UsageError):
    """A bad argument that the command line gives through an option: the message names
    the argument (no flags); ``cli_message`` is the same with the flag, for the CLI."""

    def __init__(self, message: str, cli_message: str):
        super().__init__(message)
        self.cli_message = cli_message


def parse(source: str, shapes: dict | None = None, dims: dict | None = None,
          array_shapes: dict | None = None, expect: tuple | None = None) -> Program:
    """Parse and shape-check an input (definitions and a final expression); ``expect``:
    the shape the final expression must have, where known (see parse_program)."""
    return parse_program(source, shapes, dims, array_shapes, expect)


@dataclass(repr=False)
class Derivation:
    """What derive computes for one program: per variable, the simplified derivative in
    the matrix form of SPEC §4 (and the Hessian for order 2), plus where it is valid."""

    program: Program
    wrt: list
    order: int
    derivatives: dict = field(default_factory=dict)  # name -> Node
    hessians: dict = field(default_factory=dict)  # name -> Node
    mixed: dict = field(default_factory=dict)  # (x, y) -> ∂²f/∂x∂yᵀ, x before y in wrt
    hvps: dict = field(default_factory=dict)  # name -> H·v (shaped like X), v a direction
    conditions: dict = field(default_factory=dict)  # name -> [diff.Condition]
    # for a symmetric variable S (scalar f): the plain gradient G of f as written, and the
    # Matrix Cookbook's independent-entries form 2 sym(G) − I ⊙ sym(G); derivatives[S]
    # is sym(G) (see diff/symmetric.py)
    plain: dict = field(default_factory=dict)
    cookbook: dict = field(default_factory=dict)

    def symmetric(self, name: str) -> bool:
        return name in self.program.structures

    # -- what a notebook or a script reads (the printers are imported only when asked)
    def text(self) -> str:
        """What ``matgrad derive`` prints."""
        from .render import derive_text

        return derive_text(self)

    def latex(self) -> str:
        """The ``--format latex`` lines: f, then one equation per derivative."""
        from .render import derive_latex

        return derive_latex(self)

    def dsl(self) -> list[str]:
        """Each derivative as an input of the language (``--format dsl``), in order."""
        from .render import derive_dsl

        return derive_dsl(self).splitlines()

    def code(self, backend: str = "numpy") -> str:
        """``f_and_grad(...)`` as a module for ``numpy``, ``jax`` or ``torch``."""
        from ..printers.numpy_code import to_code

        return to_code(self, backend)

    def __repr__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:
        return "```text\n" + self.text() + "\n```"

    def _repr_latex_(self) -> str:
        # one display: the lines of --format latex gathered (amsmath, as MathJax and KaTeX
        # read it)
        return "$$\\begin{gathered}\n" + " \\\\\n".join(self.latex().splitlines()) + \
            "\n\\end{gathered}$$"

    def kind(self, name: str) -> str:
        """'gradient', 'derivative' (w.r.t. a scalar, shaped like f), 'jacobian' (2 axes)
        or 'vec' (the Magnus–Neudecker form of a 3- or 4-axis derivative)."""
        f_shape = self.program.expr.shape
        x_shape = self.program.variables[name]
        if f_shape == ():
            return "gradient"
        if x_shape == ():
            return "derivative"
        if len(f_shape) + len(x_shape) == 2:
            return "jacobian"
        return "vec"


def check_wrt(program: Program, wrt: list[str]) -> None:
    if not wrt:
        raise OptionError("give at least one variable to differentiate with respect to",
                          "give at least one --wrt variable")
    for name in wrt:
        if name not in program.variables:
            if name in program.definitions:
                why = (f"'{name}' is a definition, not a variable; differentiate with "
                       "respect to the variables it uses")
                raise OptionError(f"wrt {name}: {why}", f"--wrt {name}: {why}")
            known = ", ".join(sorted(program.variables)) or "none"
            why = f"the expression has no variable '{name}' (its variables: {known})"
            raise OptionError(f"wrt {name}: {why}", f"--wrt {name}: {why}")
    if len(set(wrt)) != len(wrt):
        raise OptionError("a wrt variable is given twice", "a --wrt variable is given twice")


def derive(program: Program, wrt: list[str], order: int = 1, mixed: bool = False,
           hvp: bool = False) -> Derivation:
    """See ``_derive``; a divisor that simplifies to 0 is reported at its place."""
    try:
        return _derive(program, wrt, order, mixed, hvp)
    except ZeroDivisor as error:
        raise _located_zero_divisor(program, error) from None


def _located_zero_divisor(program: Program, error: ZeroDivisor) -> ZeroDivisor:
    from ..ir import Div

    for node in walk(program.expr):
        if isinstance(node, Div) and node.span is not None:
            try:
                simplify(node.right)
            except ZeroDivisor:
                return ZeroDivisor(error.message, node.span, program.source)
            if alg.is_zero(simplify(node.right)):
                return ZeroDivisor(error.message, node.span, program.source)
    return error


def _derive(program: Program, wrt: list[str], order: int = 1, mixed: bool = False,
            hvp: bool = False) -> Derivation:
    """∂f/∂X per variable; with order 2 the Hessian blocks ∂²f/∂X∂Xᵀ, and with ``mixed``
    also ∂²f/∂X∂Yᵀ for each pair (X before Y in ``wrt``). With ``hvp`` (order 2, one
    variable) no Hessian is formed: ``hvps[X]`` is H·v for the direction ``v``, the
    variable named ``HVP_DIRECTION``, a forward sweep over the gradient's expression."""
    check_wrt(program, wrt)
    f = program.expr
    if order not in (1, 2):
        raise OptionError("the order must be 1 or 2", "--order must be 1 or 2")
    if (mixed or hvp) and order != 2:
        what = "mixed" if mixed else "hvp"
        raise OptionError(f"{what} second derivatives need order 2",
                          f"--{what} needs --order 2")
    if hvp and len(wrt) != 1:
        raise OptionError("a Hessian-vector product is taken w.r.t. one variable",
                          "--hvp needs exactly one --wrt variable")
    if order == 2 and f.shape != ():
        why = "needs a scalar f (the Hessian of a non-scalar f has more than two axes)"
        raise OptionError(f"order 2 {why}", f"--order 2 {why}")
    result = Derivation(program, list(wrt), order)
    structures = program.structures
    if f.shape == ():
        grads = diff.all_gradients(f, {name: program.variables[name] for name in wrt})
        for name in wrt:
            if name in structures:
                result.plain[name] = simplify(grads[name])
                # two routes to sym(G), the same matrix: (G + Gᵀ)/2 of the sweep's G lets
                # the simplifier merge across terms (½ S⁻¹ (2S − Cᵀ − C) S⁻¹), term by term
                # keeps symmetric terms whole ((Aᵀ + A)/2 + S⁻¹); print the shorter
                result.derivatives[name] = min(
                    (simplify(symmetric.sym(grads[name])),
                     simplify(symmetric.sym_terms(result.plain[name], is_symmetric))),
                    key=_tree_size)
                # printed as 2 G − I ⊙ G of the gradient shown, so not simplified further
                result.cookbook[name] = symmetric.cookbook(result.derivatives[name], simplify)
            else:
                result.derivatives[name] = index_form(simplify(grads[name]))
    else:
        for name in wrt:
            shape = program.variables[name]
            j = diff.derivative(f, name, shape)
            if name in structures:
                j = symmetric.along_symmetric(j, shape)
            result.derivatives[name] = simplify(j)

    def along(j: Node, name: str) -> Node:
        if name in structures:
            return symmetric.along_symmetric(j, program.variables[name])
        return j

    if order == 2 and hvp:
        name = wrt[0]
        shape = program.variables[name]
        direction = Var(HVP_DIRECTION, shape)
        if name in structures:
            direction = symmetric.direction(direction)
        result.hvps[name] = simplify(diff.hessian_vector_product(
            result.derivatives[name], name, shape, direction))
    elif order == 2:
        for name in wrt:
            shape = program.variables[name]
            result.hessians[name] = simplify(along(diff.jacobian(
                result.derivatives[name], name, shape), name))
        if mixed:
            for i, x in enumerate(wrt):
                for y in wrt[i + 1:]:
                    result.mixed[(x, y)] = simplify(along(diff.jacobian(
                        result.derivatives[x], y, program.variables[y]), y))
    result.conditions = {name: _known_conditions(program, diff.conditions(f, name))
                         for name in wrt}
    return result


def _tree_size(node: Node) -> int:
    """Nodes in the tree, shared sub-trees counted each time (what a reader reads)."""
    sizes: dict = {}
    for n in walk(node):
        sizes[n] = 1 + sum(sizes[c] for c in n.children)
    return sizes[node]


def _known_conditions(program: Program, found: list) -> list:
    """With ``spd``, det S ≠ 0 (and log|det S| defined, and chol(S)) is known to hold: not
    printed."""
    spd = {name for name, s in program.structures.items() if s == "spd"}
    return [c for c in found
            if not (isinstance(c.argument, Var) and c.argument.name in spd
                    and ("det" in c.template or "positive definite" in c.template))]


def output_arrays(derivation: Derivation) -> dict[str, Node]:
    """The expressions ``eval`` computes, keyed by their names in OUT.npz."""
    outputs = {"value": derivation.program.expr}
    for name, node in derivation.derivatives.items():
        outputs[f"grad_{name}"] = node
    for name, node in derivation.hessians.items():
        outputs[f"hess_{name}"] = node
    for (x, y), node in derivation.mixed.items():
        outputs[f"hess_{x}_{y}"] = node
    for name, node in derivation.hvps.items():
        outputs[f"hvp_{name}"] = node
    return outputs


def spec_shapes(derivation: Derivation, names) -> dict:
    """The NumPy shape of SPEC §4 for each named output: grad_X is f.shape + X.shape,
    hess_X is X.shape + X.shape (the value keeps its own shape)."""
    f_shape = _numeric_shape(derivation.program.expr.shape)
    variables = {name: _numeric_shape(shape)
                 for name, shape in derivation.program.variables.items()}
    known = {}
    for name in derivation.derivatives:
        known[f"grad_{name}"] = f_shape + variables[name]
    for name in derivation.hessians:
        known[f"hess_{name}"] = variables[name] + variables[name]
    for x, y in derivation.mixed:
        known[f"hess_{x}_{y}"] = variables[x] + variables[y]
    for name in derivation.hvps:
        known[f"hvp_{name}"] = variables[name]
    return {name: known[name] for name in names if name in known}


def reshape_outputs(derivation: Derivation, values: dict) -> dict:
    """Matrix forms → the NumPy shapes of SPEC §4."""
    import numpy as np

    out = dict(values)
    for name, shape in spec_shapes(derivation, values).items():
        out[name] = np.reshape(values[name], shape, order="F")
    return out


def _numeric_shape(shape) -> tuple:
    return tuple(int(d) for d in shape)


def evaluate(derivation: Derivation, arrays: dict | None = None, backend: str = "numpy",
             **named) -> dict:
    """Value, gradients (and Hessians) on NumPy arrays, shaped as SPEC §4; the arrays as
    a dict or as keywords (``evaluate(d, A=A, x=x)``). A derivation with open sizes (``n``
    in ``x: n``) takes them from the arrays: it is derived again for their shapes.
    ``backend``: "numpy", or "jax" / "torch" (matgrad's formulas run by that library)."""
    from ..numeric.evaluator import evaluate as run

    arrays = {**(arrays or {}), **named}
    derivation = _with_sizes(derivation, arrays)
    if backend != "numpy":
        from ..numeric.backend_eval import evaluate as run_with

        return run_with(derivation, arrays, backend, list(output_arrays(derivation)))
    return reshape_outputs(derivation, run(output_arrays(derivation), arrays))


def _with_sizes(derivation: Derivation, arrays: dict) -> Derivation:
    """``derivation`` itself when all its sizes are numbers; else the same derivation for
    the shapes of ``arrays`` (its declared shapes and structures kept)."""
    import numpy as np

    program = derivation.program
    if all(isinstance(d, int) for shape in program.variables.values() for d in shape):
        return derivation
    for name, value in list(arrays.items()):
        arrays[name] = np.asarray(value, dtype=float)
    given = {name: tuple(np.shape(arrays[name])) for name in program.variables
             if name in arrays}
    # the derivation's own shapes as declarations (so x: n and A: m×n keep sharing n),
    # bound by the arrays' sizes
    declared = {name: [*shape, *([program.structures[name]] if name in program.structures
                                 else [])]
                for name, shape in program.variables.items()}
    reparsed = parse(program.source, declared, dict(program.dims), array_shapes=given)
    return derive(reparsed, derivation.wrt, derivation.order,
                  mixed=bool(derivation.mixed), hvp=bool(derivation.hvps))


def compile_derivatives(expr: str, wrt: list[str], order: int = 1,
                        shapes: dict | None = None, outputs=None, backend: str = "numpy"):
    """Do the symbolic work once; return ``fn(**arrays) -> dict`` of value, ``grad_<X>``
    and (order 2) ``hess_<X>``, shaped as SPEC §4. ``shapes`` maps names to NumPy shapes
    (else each new set of shapes is derived on its first call; with them, what is returned
    is the generated function itself, the fastest call there is); ``outputs`` (e.g.
    ``["grad_x"]``) limits what is computed: the plan then holds only the steps those need.

    ``backend="numpy"`` (the default) runs the evaluation plan compiled to one Python
    function; ``"jax"`` runs matgrad's formulas under ``jax.jit`` and returns jax arrays
    (float64 when ``jax_enable_x64`` is on), ``"torch"`` with PyTorch, returning tensors
    on the inputs' device."""
    from ..numeric import backend_eval
    from ..numeric.evaluator import _require_memory, caller, compile_plan

    import numpy as np

    backend_eval.require(backend)
    numpy = backend == "numpy"
    # numpy: shapes -> (call, entry), see evaluator.caller; jax, torch: names -> (call,
    # entry), the shapes told apart inside (backend_caller), each with its formula
    built: dict = {}
    formulas: dict = {}  # jax, torch: shapes -> ((library function, names), output keys)

    def derivation_for(array_shapes: dict):
        derivation = derive(parse(expr, array_shapes=array_shapes), wrt, order)
        keys = [k for k in output_arrays(derivation) if outputs is None or k in outputs]
        return derivation, keys

    def formula_for(array_shapes: dict):
        """jax / torch: the library function for these shapes, printed once."""
        key = tuple(sorted(array_shapes.items()))
        if key not in formulas:
            derivation, keys = derivation_for(array_shapes)
            formulas[key] = backend_eval.library_function(derivation, backend, keys), keys
        return formulas[key]

    def build(array_shapes: dict):
        """(call, entry) for these shapes: derived, planned and compiled once."""
        if not numpy:
            key = tuple(array_shapes)
            if key not in built:
                (_, names), keys = formula_for(array_shapes)
                variables = list(dict.fromkeys([*array_shapes, *names]))
                built[key] = backend_eval.backend_caller(
                    backend, variables, keys, lambda shapes: formula_for(shapes)[0], slow)
            return built[key]
        key = tuple(sorted(array_shapes.items()))
        if key not in built:
            derivation, keys = derivation_for(array_shapes)
            plan = compile_plan({k: output_arrays(derivation)[k] for k in keys})
            built[key] = caller(plan, array_shapes, spec_shapes(derivation, keys), slow)
            _require_memory(plan)  # once: the sizes are fixed for this function
        return built[key]

    def slow(arrays):
        """New shapes, lists, numbers, other dtypes: converted, then (built and) run."""
        if numpy:  # (jax, torch: backend_caller converts numbers and lists itself)
            arrays = {k: np.asarray(v, dtype=float) for k, v in arrays.items()}
        call, _ = build({k: tuple(np.shape(v)) for k, v in arrays.items()})
        last[0] = call
        return call(arrays)

    last: list = [None]  # the call compiled for the previous call's shapes
    if shapes is not None:
        # the generated function itself, with no layer of ours around it: for the
        # shapes given it runs the plan; anything else takes slow()
        return build({k: tuple(v) for k, v in shapes.items()})[1]

    def fn(**arrays):
        call = last[0]
        if call is not None:
            out = call(arrays)
            if out is not None:
                return out
        return slow(arrays)

    return fn

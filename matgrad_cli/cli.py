"""The command line: click commands only — options, reading and writing, and turning
errors into exit codes (0 success, 1 a failed evaluation or check, 2 bad usage or input).

Heavy modules (NumPy, rich) are imported inside the commands that need them, so that
``matgrad --help`` and ``derive`` start fast.
"""
from __future__ import annotations

import functools
import os
import sys

import click

from .errors import MatgradError, UsageError
from .ir import ShapeMismatch

FORMATS = ["text", "latex", "dsl", "numpy", "json"]


# ---------------------------------------------------------------- output

class Output:
    """Where results go. Colour and layout only on a terminal (and never with NO_COLOR);
    a pipe or file gets plain text. ``is_terminal`` is injectable for tests."""

    def __init__(self, is_terminal: bool | None = None):
        if is_terminal is None:
            is_terminal = sys.stdout.isatty()
        self.fancy = is_terminal and "NO_COLOR" not in os.environ

    def text(self, text: str) -> None:
        if self.fancy:
            from rich.console import Console
            from rich.markup import escape

            console = Console(highlight=False)
            for line in text.split("\n"):
                if line.startswith(("∂", "f =")):
                    head, _, rest = line.partition(" = ")
                    console.print(f"[bold cyan]{escape(head)}[/] = {escape(rest)}")
                elif line.lstrip().startswith(("where", "valid")):
                    console.print(f"[dim]{escape(line)}[/]")
                elif line.startswith("warning"):
                    console.print(f"[yellow]{escape(line)}[/]")
                else:
                    console.print(escape(line))
        else:
            click.echo(text)


def warn(message: str) -> None:
    click.echo(message, err=True)


def reporting_errors(command):
    """Run a command body; a MatgradError becomes its message on stderr and its exit code,
    never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except MatgradError as exc:
            click.echo(f"matgrad: error: {exc.render()}", err=True)
            sys.exit(exc.exit_code)
        except RecursionError:
            click.echo("matgrad: error: the expression is nested too deeply", err=True)
            sys.exit(2)
        except MemoryError:
            click.echo("matgrad: error: out of memory: the arrays this needs are too large",
                       err=True)
            sys.exit(1)
        except ShapeMismatch as exc:
            # sizes that only evaluation could compare (products of symbolic sizes)
            click.echo(f"matgrad: error: the sizes do not fit: {exc}", err=True)
            sys.exit(2)
        except (NotImplementedError, ArithmeticError, ValueError) as exc:
            # A case the engine does not cover: say so in one line (exit 1, not a crash).
            click.echo(f"matgrad: error: cannot do this: {exc}", err=True)
            sys.exit(1)

    return wrapper


# ---------------------------------------------------------------- shared options

def read_expression(expr: str) -> str:
    """EXPR as given, '-' for standard input, '@path' for a file."""
    if expr == "-":
        return sys.stdin.read()
    if expr.startswith("@"):
        path = expr[1:]
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UsageError(f"cannot read {path}: not UTF-8 text") from None
    return expr


def parse_shapes(items: tuple[str, ...]) -> dict:
    from .shapes import parse_shape_spec

    shapes = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--shape {item}: use NAME=SPEC, e.g. A=3x4, A=m,n, x=n, "
                             "beta=scalar")
        shapes[name.strip()] = parse_shape_spec(spec)
    return shapes


def parse_dims(items: tuple[str, ...]) -> dict:
    dims = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit() or int(value) < 1:
            raise UsageError(f"--dim {item}: use NAME=N with a positive integer, e.g. n=4")
        dims[name.strip()] = int(value)
    return dims


def expression_argument(f):
    return click.argument("expr", metavar="EXPR")(f)


def wrt_option(required: bool):
    return click.option("--wrt", "wrt", multiple=True, required=required, metavar="X",
                        help="Differentiate with respect to this variable (repeatable).")


def shape_options(f):
    f = click.option("--dim", "dims", multiple=True, metavar="n=4",
                     help="Bind a dimension name to a size (repeatable).")(f)
    f = click.option("--shape", "shapes", multiple=True, metavar="NAME=SPEC",
                     help="Declare a shape: A=3x4, A=m,n, x=n, beta=scalar (repeatable).")(f)
    return f


def order_option(f):
    return click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
                        help="2: second derivatives (Hessians) of a scalar f.")(f)


def input_option(f):
    return click.option("-i", "--input", "inputs", multiple=True, metavar="NAME=FILE|NUMBER",
                        help="An input: .npy, .npz (every array by key), .csv or a number.")(f)


# ---------------------------------------------------------------- commands

@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="matgrad", prog_name="matgrad")
def main():
    """matgrad: matrix calculus in textbook form, checked numerically.

    \b
      matgrad derive "||A*sigmoid(x)||^2" --wrt x
      matgrad eval "beta*sum(abs(P'P - I))" --wrt P -i P=P.npy -i beta=0.5 --check
      matgrad check "x'*A*x" --wrt x --claim "2*A*x"
    """


@main.command()
@expression_argument
@wrt_option(required=True)
@shape_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@order_option
@click.option("--steps", is_flag=True, help="Show the derivation before the result.")
@reporting_errors
def derive(expr, wrt, shapes, dims, fmt, order, steps):
    """Print f with its shapes and its derivative per --wrt in matrix notation."""
    from . import api, render

    source = read_expression(expr)
    program = api.parse(source, parse_shapes(shapes), parse_dims(dims))
    derivation = api.derive(program, list(wrt), order)
    step_lines = None
    if steps:
        from .steps import derivation_steps

        step_lines = derivation_steps(derivation, latex=(fmt == "latex"))
    if fmt == "dsl":
        click.echo(render.derive_dsl(derivation))
    elif fmt == "json":
        click.echo(render.derive_json(derivation))
    elif fmt == "latex":
        click.echo(render.derive_latex(derivation, step_lines))
    elif fmt == "numpy":
        from .printers.numpy_code import to_numpy_code

        click.echo(to_numpy_code(derivation))
    else:
        Output().text(render.derive_text(derivation, step_lines))


@main.command(name="eval")
@expression_argument
@wrt_option(required=False)
@input_option
@shape_options
@click.option("-o", "--output", "out", metavar="OUT.npz", help="Write value and grad_<X>.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--check", "do_check", is_flag=True,
              help="Also compare with central finite differences (exit 1 when off).")
@order_option
@reporting_errors
def eval_command(expr, wrt, inputs, shapes, dims, out, fmt, do_check, order):
    """Evaluate f (and its symbolic derivatives with --wrt) on the given inputs."""
    import numpy as np

    from . import api, arrays as arrays_io, numcheck
    from .evaluator import evaluate
    from .report_values import values_json, values_text

    source = read_expression(expr)
    arrays, warnings = arrays_io.load_inputs(list(inputs))
    program = api.parse(source, parse_shapes(shapes), parse_dims(dims),
                        {name: a.shape for name, a in arrays.items()})
    for w in warnings:
        warn(f"warning: {w}")
    for name in arrays:
        if name not in program.variables:
            warn(f"warning: input {name} is not used by the expression")
    missing = [name for name in program.variables if name not in arrays]
    if missing:
        raise UsageError("missing input" + ("s " if len(missing) > 1 else " ") +
                         ", ".join(missing) + ": give " +
                         " ".join(f"-i {m}=FILE" for m in missing))
    arrays = {name: _as_variable(a, program.variables[name]) for name, a in arrays.items()
              if name in program.variables}
    if wrt:
        derivation = api.derive(program, list(wrt), order)
        values = api.evaluate(derivation, arrays)
        for w in numcheck.kink_warnings(derivation, arrays):
            warn(w)
    else:
        if order == 2:
            raise UsageError("--order 2 needs --wrt")
        derivation = None
        values = {"value": evaluate({"value": program.expr}, arrays)["value"]}
    for name, value in values.items():
        if not np.all(np.isfinite(value)):
            warn(f"warning: {name} has NaN or infinite entries at this point (outside the "
                 "domain of log, sqrt, inv …?)")
    checks = numcheck.check(derivation, arrays, values) if (do_check and derivation) else None
    if do_check and not derivation:
        raise UsageError("--check needs --wrt")
    if out:
        arrays_io.save_outputs(out, values)
    if fmt == "json":
        click.echo(values_json(values, checks))
    else:
        Output().text(values_text(program, derivation, values, checks))
    if checks and not all(c.ok for c in checks):
        sys.exit(1)


def _as_variable(array, shape):
    """An (n,1) or (1,n) array given for a vector variable is read as the vector."""
    if len(shape) == 1 and array.ndim == 2:
        return array.reshape(-1)
    if len(shape) == 0 and array.ndim > 0:
        return array.reshape(())
    return array


@main.command()
@expression_argument
@click.option("--wrt", required=True, metavar="X", help="The variable.")
@click.option("--claim", required=True, metavar="FORMULA", help="The claimed ∂f/∂X.")
@shape_options
@input_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("-o", "--output", "out", metavar="OUT.npz",
              help="Save the counterexample inputs when the claim is wrong.")
@reporting_errors
def check(expr, wrt, claim, shapes, dims, inputs, fmt, out):
    """Decide whether FORMULA is ∂f/∂X (exit 0 correct, 1 wrong, 2 bad input)."""
    from .claims import check_claim

    verdict = check_claim(read_expression(expr), wrt, read_expression(claim),
                          parse_shapes(shapes), parse_dims(dims), list(inputs))
    if out and verdict.counterexample is not None:
        from .arrays import save_outputs

        save_outputs(out, verdict.counterexample)
    if fmt == "json":
        click.echo(verdict.to_json())
    else:
        Output().text(verdict.to_text())
    sys.exit(0 if verdict.correct else 1)


if __name__ == "__main__":  # pragma: no cover
    main()


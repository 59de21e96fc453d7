"""The command line: click commands only — options, reading and writing, and turning
errors into exit codes (0 success, 1 a failed evaluation or check, 2 bad usage or input).
The pipelines themselves live in ``app`` (eval) and ``claims`` (check); output formats
are registries (name → renderer); shared options are decorators declared once. Flag
hints (``-i y=FILE``) are added here, at the boundary: the Python API names no flags.

Heavy modules (NumPy, rich) are imported inside the commands that need them, so that
``matgrad --help`` and ``derive`` start fast.
"""
from __future__ import annotations

import functools
import os
import re
import sys

import click

from .errors import BudgetError, MatgradError, UsageError
from .ir import ShapeMismatch

# ---------------------------------------------------------------- output

class Output:
    """Where results go. On a terminal (and never with NO_COLOR) the lines are laid out by
    rich (app/layout.py: wrapped at the terminal's width under a hanging indent, styled by
    what each line is); a pipe or file gets the plain text, the same characters.
    ``is_terminal`` is injectable for tests."""

    def __init__(self, is_terminal: bool | None = None):
        if is_terminal is None:
            is_terminal = sys.stdout.isatty()
        self.fancy = is_terminal and "NO_COLOR" not in os.environ

    def lines(self, lines) -> None:
        from .app import layout

        if self.fancy:
            from rich.console import Console

            layout.to_terminal(lines, Console(highlight=False))
        else:
            click.echo(layout.plain(lines))

    def text(self, text: str) -> None:
        """Text formatted already (values, verdicts): shown as it is."""
        from .app import layout

        self.lines(layout.from_text(text))


def warn(message: str) -> None:
    click.echo(message, err=True)


def _note_greek_vectors(program, declared: dict | None) -> None:
    """lambda1 is a vector by SPEC §3's convention (a Greek letter's name alone is a
    scalar) though it prints as λ1, where elastic-net or Adam users mean a scalar: say so
    on standard error, with the declaration that makes it one."""
    from .language.names import greek_with_suffix

    for name, shape in program.variables.items():
        if len(shape) == 1 and name not in (declared or {}) and greek_with_suffix(name):
            warn(f"note: {name} is a vector by the naming convention (only a Greek letter's "
                 f"name alone is a scalar); --shape {name}=scalar makes it a scalar")


def _fail(message: str, code: int):
    click.echo(f"matgrad: error: {message}", err=True)
    sys.exit(code)


def reporting_errors(command):
    """Run a command body; a MatgradError becomes its message on stderr and its exit code,
    never a traceback. Anything else is a bug in matgrad: one line saying so, exit 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from .app.pipeline import MissingInputs
        from .deepstack import run_deep

        try:
            return run_deep(command, *args, **kwargs)
        except MissingInputs as exc:
            for w in exc.warnings:
                warn(f"warning: {w}")
            hint = " ".join(f"-i {m}=FILE" for m in exc.names)
            extra = getattr(exc, "cli_hint", "")
            _fail(f"{exc.message}: give {hint}{extra}", exc.exit_code)
        except BudgetError as exc:
            _fail(f"{exc.message} (--max-memory SIZE sets another budget)", exc.exit_code)
        except MatgradError as exc:
            # the API names no flags; an error that comes from an option says which
            _fail(getattr(exc, "cli_message", None) or exc.render(), exc.exit_code)
        except RecursionError:
            _fail("the expression is nested too deeply", 2)
        except MemoryError:
            _fail("out of memory: the arrays this needs are too large", 1)
        except ShapeMismatch as exc:
            # sizes that only evaluation could compare (products of symbolic sizes)
            _fail(f"the sizes do not fit: {exc}", 2)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: one line, never a traceback
            first = str(exc).split("\n")[0]
            _fail(f"internal error: {type(exc).__name__}: {first}; please report this at "
                  "the matgrad issue tracker", 1)

    return wrapper


# ---------------------------------------------------------------- reading

class _Stdin:
    """Standard input, read at most once per command."""

    def __init__(self):
        self.read_for: str | None = None

    def read(self, what: str) -> str:
        if self.read_for is not None:
            raise UsageError(f"{what} and {self.read_for} both read standard input ('-'); "
                             f"only one can: give {what} as text or as @FILE")
        self.read_for = what
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else \
            sys.stdin.read().encode("utf-8")
        return _decoded(data, "standard input")


def _decoded(data: bytes, where: str) -> str:
    if b"\0" in data:
        raise UsageError(f"cannot read {where}: it holds a NUL byte (not text)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {where}: not UTF-8 text (byte {exc.start + 1})") \
            from None


def read_expression(expr: str, stdin: _Stdin | None = None, what: str = "EXPR") -> str:
    """EXPR as given, '-' for standard input, '@path' for a file (UTF-8, a byte-order
    mark allowed)."""
    if expr == "-":
        text = (stdin or _Stdin()).read(what)
        if not text.strip():
            raise UsageError(f"{what} read from standard input is empty")
        return text
    if expr.startswith("@"):
        path = expr[1:]
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        return _decoded(data, path)
    return expr


def parse_shapes(items: tuple[str, ...]) -> dict:
    from .language.names import is_name
    from .language.shapes import parse_shape_spec

    shapes = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--shape {item}: use NAME=SPEC, e.g. A=3x4, A=m,n, x=n, "
                             "beta=scalar")
        name = name.strip()
        if not is_name(name):
            raise UsageError(f"--shape {item}: '{name}' is not a name (a letter, then letters, "
                             "digits or _)")
        if name in shapes:
            raise UsageError(f"--shape {name} is given twice")
        shapes[name] = parse_shape_spec(spec)
    return shapes


def parse_dims(items: tuple[str, ...]) -> dict:
    dims = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit() or int(value) < 1:
            raise UsageError(f"--dim {item}: use NAME=N with a positive integer, e.g. n=4")
        if name.strip() in dims:
            raise UsageError(f"--dim {name.strip()} is given twice")
        dims[name.strip()] = int(value)
    return dims


# ---------------------------------------------------------------- output formats
# One registry per command: format name -> renderer. Adding a format is one entry.

def _derive_text(derivation, steps, layout):
    from .app import render

    Output().lines(render.derive_lines(derivation, steps))


def _derive_latex(derivation, steps, layout):
    from .app import render

    click.echo(render.derive_latex(derivation, steps, layout["layout"], layout["standalone"]))


def _derive_dsl(derivation, steps, layout):
    from .app import render

    click.echo(render.derive_dsl(derivation))


def _derive_json(derivation, steps, layout):
    from .app import render

    click.echo(render.derive_json(derivation))


def _derive_numpy(derivation, steps, layout):
    from .printers.numpy_code import to_numpy_code

    click.echo(to_numpy_code(derivation))


def _derive_code(backend: str):
    def render(derivation, steps, layout):
        from .printers.numpy_code import to_code

        click.echo(to_code(derivation, backend))
    return render


DERIVE_FORMATS = {"text": _derive_text, "latex": _derive_latex, "dsl": _derive_dsl,
                  "numpy": _derive_numpy, "jax": _derive_code("jax"),
                  "torch": _derive_code("torch"), "json": _derive_json}
# The formats that can show --steps (the others are code or data: one line per --wrt, a
# function, one JSON object), and those that take --layout / --standalone.
STEPS_FORMATS = ("text", "latex")
LAYOUT_FORMATS = ("latex",)


def _eval_text(result):
    from .app.report_values import values_text

    Output().text(values_text(result.program, result.derivation, result.values,
                              result.checks))


def _eval_json(result):
    from .app.report_values import values_json

    click.echo(values_json(result.values, result.checks, result.derivation))


EVAL_FORMATS = {"text": _eval_text, "json": _eval_json}

CHECK_FORMATS = {"text": lambda verdict: Output().text(verdict.to_text()),
                 "json": lambda verdict: click.echo(verdict.to_json())}


# ---------------------------------------------------------------- shared options

class ExpressionCommand(click.Command):
    """A command whose EXPR may start with '-' (``matgrad derive "-x'*A*x" --wrt x``):
    a token starting with '-' that is none of the command's options (nor a prefix of
    one) is the expression. '--' ends the options as usual."""

    def parse_args(self, ctx, args):
        names, valued = set(), set()
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                names.update(param.opts)
                names.update(param.secondary_opts)
                if not param.is_flag:
                    valued.update(param.opts)
        args = list(args)
        for i, token in enumerate(args):
            if token == "--":
                break
            if _follows_option(args, i, self, ctx):
                continue
            if not token.startswith("-") or token == "-":
                break  # the expression is given plainly
            if token.partition("=")[0] in names or _is_short_bundle(token, valued):
                continue
            # EXPR itself: the only argument, so it may go after '--' at the end
            args = args[:i] + args[i + 1:] + ["--", token]
            break
        return super().parse_args(ctx, args)


# The attached values a short option can have: -ix=1 (NAME=FILE|NUMBER), -idata.npz,
# -oout.npz
_ATTACHED = {"-i": r"[^\W\d]\w*=\S+|\S+\.npz", "-o": r"\S+\.npz"}


def _is_short_bundle(token: str, valued: set) -> bool:
    """'-ix=1', '-oout.npz': a short option with its value attached. Anything else that
    starts with one ('-h'*x', '-ix', '-o'*o', '-inv(X)') is EXPR."""
    pattern = _ATTACHED.get(token[:2])
    return (len(token) > 2 and token[:2] in valued and pattern is not None
            and re.fullmatch(pattern, token[2:]) is not None)


def _follows_option(tokens: list, i: int, command, ctx) -> bool:
    """Is tokens[i] the value of the option just before it?"""
    if i == 0:
        return False
    previous = tokens[i - 1]
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and previous in param.opts and not param.is_flag:
            return True
    return False


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


def format_option(formats: dict):
    return click.option("--format", "fmt", type=click.Choice(list(formats)), default="text",
                        show_default=True, help="Output format.")


def output_option(help_text: str):
    return click.option("-o", "--output", "out", metavar="OUT.npz", help=help_text)


def order_option(f):
    return click.option("--order", type=click.IntRange(1, 2), default=1, show_default=True,
                        help="2: second derivatives (Hessians) of a scalar f.")(f)


def mixed_option(f):
    return click.option("--mixed", is_flag=True,
                        help="With --order 2 and several --wrt: also the mixed blocks "
                             "∂²f/∂x∂yᵀ (x before y in --wrt order).")(f)


def memory_option(f):
    return click.option("--max-memory", "max_memory", metavar="SIZE",
                        help="Memory budget for the arrays: 8G, 512M, 2.5GiB (K, M, G, T "
                             "are powers of 1024); work that needs more is refused. "
                             "Default 4G.")(f)


def max_memory_bytes(text: str | None) -> int | None:
    from .numeric.budget import parse_size

    if text is None:
        return None
    try:
        return parse_size(text)
    except UsageError as exc:
        raise UsageError(f"--{exc.message}") from None


def input_option(f):
    return click.option("-i", "--input", "inputs", multiple=True, metavar="NAME=FILE|NUMBER",
                        help="An input: .npy, .npz (every array by key), .csv or a number.")(f)


# ---------------------------------------------------------------- commands

class MatgradGroup(click.Group):
    """click's usage errors as one line, like matgrad's own (SPEC §5: one clear message),
    with where to read more instead of click's three-line Usage/Try/Error block."""

    def main(self, args=None, prog_name=None, **extra):
        extra.pop("standalone_mode", None)
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # plain `matgrad`: its help
                exc.show()
                sys.exit(exc.exit_code)
            path = exc.ctx.command_path if exc.ctx is not None else "matgrad"
            _fail(f"{exc.format_message()} (see '{path} --help')", exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.exceptions.Abort:
            _fail("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=MatgradGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="matgrad", prog_name="matgrad")
def main():
    """matgrad: matrix calculus in textbook form, checked numerically.

    \b
      matgrad derive "||A*sigmoid(x)||^2" --wrt x
      matgrad eval "beta*sum(abs(P'P - I))" --wrt P -i P=P.npy -i beta=0.5 --check
      matgrad check "x'*A*x" --wrt x --claim "2*A*x"
    """


@main.command(cls=ExpressionCommand)
@expression_argument
@wrt_option(required=True)
@shape_options
@format_option(DERIVE_FORMATS)
@order_option
@mixed_option
@click.option("--steps", is_flag=True,
              help="Show the derivation before the result (text and latex only).")
@click.option("--layout", type=click.Choice(["lines", "aligned"]), default="lines",
              show_default=True,
              help="latex: one formula a line, or one aligned block (= signs aligned).")
@click.option("--standalone", is_flag=True,
              help="latex: a whole document (\\documentclass … \\end{document}) for pdflatex.")
@reporting_errors
def derive(expr, wrt, shapes, dims, fmt, order, mixed, steps, layout, standalone):
    """Print f with its shapes and its derivative per --wrt in matrix notation.

    \b
    Examples:
      matgrad derive "||A*sigmoid(x)||^2" --wrt x
      matgrad derive "A*(B*V*relu(W*z)).^2" --shape A=1,l --wrt V --wrt W
      matgrad derive "x'*A*x" --wrt x --order 2 --format dsl
      matgrad derive @f.txt --wrt x --steps
      matgrad derive @f.txt --wrt x --format latex --layout aligned --standalone > f.tex

    \b
    Formats (--format):
      text   the textbook form with its where-block and validity conditions
             (default; on a terminal, wrapped at its width)
      latex  the same, one math-mode formula a line (no $), ASCII macros only
      dsl    each derivative as an input of this language, one line per --wrt
             (Hessians with --order 2), nothing else; `matgrad eval` reads it back
      numpy  a runnable Python function f_and_grad(...) -> (value, {name: grad})
      jax    the same function for jax.numpy (runs under jax.jit)
      torch  the same function for PyTorch (float64 on the inputs' device)
      json   one object: f and, per derivative, its kind, label, dsl, text, latex,
             where-block, shape (a list of sizes) and conditions

    \b
    Exit status: 0 success; 2 bad usage or input (parse error, shape conflict,
    unreadable file, --steps/--layout/--standalone with a format that cannot show it).
    """
    from .app import api

    if steps and fmt not in STEPS_FORMATS:
        raise UsageError(f"--steps cannot be shown in --format {fmt} (it is code or data); "
                         f"use --format {' or '.join(STEPS_FORMATS)}")
    for flag, given in (("--layout", layout != "lines"), ("--standalone", standalone)):
        if given and fmt not in LAYOUT_FORMATS:
            raise UsageError(f"{flag} is for --format latex, not --format {fmt}")
    source = read_expression(expr)
    declared = parse_shapes(shapes)
    program = api.parse(source, declared, parse_dims(dims))
    _note_greek_vectors(program, declared)
    derivation = api.derive(program, list(wrt), order, mixed=mixed)
    step_lines = None
    if steps:
        from .app.steps import derivation_steps

        step_lines = derivation_steps(derivation, latex=(fmt == "latex"))
    DERIVE_FORMATS[fmt](derivation, step_lines, {"layout": layout, "standalone": standalone})


@main.command(name="eval", cls=ExpressionCommand)
@expression_argument
@wrt_option(required=False)
@input_option
@shape_options
@output_option("Write value and grad_<X> (hess_<X>, hess_<X>_<Y>, hvp_<X> with --order 2).")
@format_option(EVAL_FORMATS)
@click.option("--check", "do_check", is_flag=True,
              help="Also compare with central finite differences (exit 1 when off).")
@order_option
@mixed_option
@memory_option
@click.option("--hvp", metavar="X=FILE|NUMBER",
              help="With --order 2 and one --wrt X: the Hessian-vector product H·v for the "
                   "direction v (shaped like X), written as hvp_<X>, without forming H.")
@click.option("--backend", type=click.Choice(["numpy", "jax", "torch"]), default="numpy",
              show_default=True,
              help="The library that evaluates the derivatives: matgrad's formulas run by "
                   "NumPy, under jax.jit, or by PyTorch (jax/torch: pip install "
                   "'matgrad[export]').")
@reporting_errors
def eval_command(expr, wrt, inputs, shapes, dims, out, fmt, do_check, order, mixed, max_memory,
                 hvp, backend):
    """Evaluate f (and its symbolic derivatives with --wrt) on the given inputs.

    The derivatives are the formulas `derive` prints, evaluated (never numerical
    differentiation); --check also compares them with central finite differences.

    \b
    Examples:
      matgrad eval "||A*sigmoid(x)||^2" --wrt x -i A=A.npy -i x=x.csv
      matgrad eval "beta*sum(abs(P'P - I))" --wrt P -i P=P.npy -i beta=0.5 --check
      matgrad eval @f.txt --wrt W -i inputs.npz -o out.npz
      matgrad eval "x'*A*x" --wrt x --order 2 --hvp x=v.npy -i inputs.npz

    \b
    Formats (--format):
      text  f and each derivative, arrays as NumPy prints them (default)
      json  one object: "value", "grad_<X>" (and "hess_<X>", ...) as nested lists
            shaped f.shape + X.shape, "shapes" (each a list of sizes), with --check
            "check" (per output: error, ok, what was checked) and "check_tolerance"

    \b
    --check: the largest relative error max|D - D_fd| / (max|D_fd| + 1e-6 (1 + max|f|))
    must be at most 1e-4 (step 6e-6 max(1, |x|)).

    \b
    Exit status: 0 success; 1 a failed evaluation (a singular matrix, ...) or --check
    over the tolerance; 2 bad usage or input (parse error, shape conflict, unreadable
    or missing input, -o naming an input).
    """
    from .app import pipeline as app
    from .numeric import arrays as arrays_io

    if order == 2 and not wrt:
        raise UsageError("--order 2 needs --wrt")
    if do_check and not wrt:
        raise UsageError("--check needs --wrt")
    source = read_expression(expr)
    result = app.run_eval(source, list(wrt), list(inputs), parse_shapes(shapes),
                          parse_dims(dims), order, do_check, mixed=mixed, hvp=hvp,
                          max_memory=max_memory_bytes(max_memory), backend=backend)
    for w in result.warnings:
        warn(w)
    if out:
        arrays_io.save_outputs(out, result.values, list(inputs) + ([hvp] if hvp else []))
    EVAL_FORMATS[fmt](result)
    if result.failed:
        sys.exit(1)


@main.command(cls=ExpressionCommand)
@expression_argument
@click.option("--wrt", required=True, metavar="X", help="The variable.")
@click.option("--claim", required=True, metavar="FORMULA", help="The claimed ∂f/∂X.")
@shape_options
@input_option
@format_option(CHECK_FORMATS)
@output_option("Save the counterexample inputs when the claim is wrong.")
@memory_option
@reporting_errors
def check(expr, wrt, claim, shapes, dims, inputs, fmt, out, max_memory):
    """Decide whether FORMULA is ∂f/∂X (exit 0 correct, 1 wrong, 2 bad input).

    FORMULA is an input of this language (definitions allowed). Without -i it is
    compared with matgrad's derivative on random in-domain inputs of several sizes; with
    -i on the given ones. It is correct when its largest relative error over all points
    is at most 1e-6; otherwise the verdict says how it is wrong (transposed, a factor
    off, a wrong term, another convention for a symmetric variable, ...).

    \b
    Examples:
      matgrad check "x'*A*x" --wrt x --claim "2*A*x"
      matgrad check "x'*A*x" --wrt x --claim "(A + A')*x"
      matgrad check @f.txt --wrt W1 --claim @claim.txt -i inputs.npz -o counter.npz

    \b
    Formats (--format):
      text  the verdict, the claim and matgrad's formula, the error and the sizes tried
      json  one object with "correct", "error", "tolerance", "diagnosis", the formulas
            and their shapes

    \b
    Exit status: 0 the claim is the derivative; 1 it is not; 2 bad usage or input.
    """
    from .app.pipeline import MissingInputs
    from .app.claims import check_claim

    stdin = _Stdin()
    try:
        verdict = check_claim(read_expression(expr, stdin), wrt,
                              read_expression(claim, stdin, "the claim (--claim)"),
                              parse_shapes(shapes), parse_dims(dims), list(inputs),
                              max_memory=max_memory_bytes(max_memory))
    except MissingInputs as exc:
        exc.cli_hint = " (or leave out -i to check on random inputs)"
        raise
    if out and verdict.counterexample is not None:
        from .numeric.arrays import save_outputs

        save_outputs(out, verdict.counterexample, list(inputs))
    CHECK_FORMATS[fmt](verdict)
    sys.exit(0 if verdict.correct else 1)


if __name__ == "__main__":  # pragma: no cover
    main()


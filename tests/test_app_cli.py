"""The application layer and the command-line boundary (issue 9, CLI side): atomic -o,
-o naming an input, expressions starting with '-', standard input read twice, byte-order
marks, inf literals, NUL bytes and non-UTF-8 input, internal errors in one line."""
from __future__ import annotations

import os

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import invoke

from matgrad_cli import cli as cli_module
from matgrad_cli.app import pipeline as app
from matgrad_cli.numeric import arrays as arrays_io
from matgrad_cli.errors import InputError


def run_bytes(args, data: bytes):
    return CliRunner().invoke(cli_module.main, args, input=data, catch_exceptions=False)


# ---------------------------------------------------------------- -o OUT.npz

def test_output_is_written_whole_and_no_temporary_file_is_left(tmp_path):
    out = tmp_path / "out.npz"
    result = invoke(["eval", "x'*x", "--wrt", "x", "-i", "x=2", "-o", out])
    assert result.exit_code == 0, result.output
    with np.load(out) as archive:
        assert archive["grad_x"].tolist() == [4.0]  # x=2 is a length-1 vector (SPEC §1)
    assert sorted(os.listdir(tmp_path)) == ["out.npz"]


def test_a_failed_write_leaves_an_existing_output_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out.npz"
    out.write_bytes(b"old contents")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    result = invoke(["eval", "x*2", "-i", "x=1", "-o", out])
    assert result.exit_code == 2
    assert result.stderr == f"matgrad: error: cannot write {out}: No space left on device\n"
    assert out.read_bytes() == b"old contents"
    assert sorted(os.listdir(tmp_path)) == ["out.npz"]


def test_a_write_cut_off_by_the_file_size_limit_leaves_no_partial_file(tmp_path):
    resource = pytest.importorskip("resource")
    import subprocess
    import sys

    out = tmp_path / "out.npz"
    big = tmp_path / "A.npy"
    np.save(big, np.ones((200, 200)))
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            "resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024)); "
            "from matgrad_cli.cli import main; sys.exit(main())")
    proc = subprocess.run([sys.executable, "-c", code, "eval", "sum(A.*A)", "--wrt", "A",
                           "-i", f"A={big}", "-o", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"matgrad: error: cannot write {out}: ")
    assert sorted(os.listdir(tmp_path)) == ["A.npy"]
    del resource


@pytest.mark.parametrize("spelling", ["relative", "absolute", "symlink", "dotted"])
def test_output_naming_an_input_is_an_error(tmp_path, monkeypatch, spelling):
    monkeypatch.chdir(tmp_path)
    np.savez("in.npz", x=np.ones(3))
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path / "in.npz", tmp_path / "link.npz")
    out = {"relative": "in.npz", "absolute": str(tmp_path / "in.npz"),
           "symlink": "link.npz", "dotted": "sub/../in.npz"}[spelling]
    before = (tmp_path / "in.npz").read_bytes()
    result = invoke(["eval", "x'*x", "--wrt", "x", "-i", "in.npz", "-o", out])
    assert result.exit_code == 2
    assert result.stderr == (f"matgrad: error: output file '{out}' is the input file "
                             "'in.npz': choose another output file\n")
    assert (tmp_path / "in.npz").read_bytes() == before


def test_save_outputs_refuses_an_input_path_and_writes_another(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, x=np.ones(2))
    with pytest.raises(InputError, match="is the input file"):
        arrays_io.save_outputs(str(path), {"value": np.array(1.0)}, [f"x={path}"])
    other = tmp_path / "y.npz"
    arrays_io.save_outputs(str(other), {"value": np.array(1.0)}, [f"x={path}"])
    with np.load(other) as archive:
        assert float(archive["value"]) == 1.0


def test_the_named_diagnoses_are_a_table_in_order():
    from matgrad_cli.app.diagnoses import DIAGNOSES

    assert [kind for kind, _ in DIAGNOSES] == ["undefined", "cookbook", "plain", "transpose",
                                              "factor", "term", "variable", "symmetric",
                                              "sizes"]


# ---------------------------------------------------------------- EXPR starting with '-'

def test_derive_an_expression_starting_with_minus():
    result = invoke(["derive", "-x'*A*x", "--wrt", "x", "--format", "dsl"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "-(A + A')*x\n"


def test_expression_starting_with_minus_after_the_options():
    result = invoke(["derive", "--wrt", "x", "--format", "dsl", "-x'*A*x"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "-(A + A')*x\n"


def test_double_dash_ends_the_options():
    result = invoke(["derive", "--wrt", "x", "--format", "dsl", "--", "-x'*A*x"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "-(A + A')*x\n"


def test_eval_an_expression_starting_with_minus(tmp_path):
    rng = np.random.default_rng(3)
    W, x, y = rng.standard_normal((3, 4)), rng.standard_normal(4), np.array([0, 1.0, 0])
    b = np.zeros(3)
    args = []
    for name, value in {"W": W, "x": x, "y": y, "b": b}.items():
        np.save(tmp_path / f"{name}.npy", value)
        args += ["-i", f"{name}={tmp_path / (name + '.npy')}"]
    result = invoke(["eval", "-y'*log(softmax(W*x + b))", "--wrt", "b", "--format", "json",
                     *args])
    assert result.exit_code == 0, result.output
    z = W @ x
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    import json

    values = json.loads(result.stdout)
    grad = values["grad_b"] if "grad_b" in values else values["values"]["grad_b"]
    grad = grad["value"] if isinstance(grad, dict) else grad
    assert np.allclose(np.asarray(grad, dtype=float), p - y)


def test_an_unknown_long_option_is_still_an_error_in_one_line():
    result = invoke(["derive", "x'*x", "--wrt", "x", "--fromat", "dsl"])
    assert result.exit_code == 2
    assert result.stderr.startswith("matgrad: error: No such option '--fromat'.")
    assert result.stderr.count("\n") == 1 and "derive --help" in result.stderr


@pytest.mark.parametrize("args", [["derive", "x'*x"], ["derive", "x'*x", "--wrt", "x",
                                                       "--order", "3"], ["frob"]])
def test_usage_errors_are_one_line_with_exit_2(args):
    result = invoke(args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("matgrad: error: ") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("expr, names, want", [
    ("-h'*x", {"h": [1.0, 2.0], "x": [3.0, 4.0]}, -11.0),   # -h is the help flag
    ("-hx'*x", {"hx": [1.0, 2.0], "x": [3.0, 4.0]}, -11.0),
    ("-ix'*y", {"ix": [1.0, 2.0], "y": [3.0, 4.0]}, -11.0),  # -i takes NAME=FILE only
    ("-o'*o", {"o": [1.0, 2.0]}, -5.0),                      # -o takes OUT.npz only
    ("-offset'*offset", {"offset": [1.0, 2.0]}, -5.0),
])
def test_an_expression_that_starts_like_a_short_option_is_the_expression(
        expr, names, want, tmp_path):
    args = []
    for name, value in names.items():
        np.save(tmp_path / f"{name}.npy", np.array(value))
        args += ["-i", f"{name}={tmp_path / (name + '.npy')}"]
    result = invoke(["eval", expr, *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(result.stdout)["value"] == want


def test_a_short_option_with_its_value_attached_is_still_the_option(tmp_path):
    np.save(tmp_path / "x.npy", np.array([1.0, 2.0]))
    out = tmp_path / "out.npz"
    result = invoke(["eval", "-x'*x", "--wrt", "x", f"-ix={tmp_path / 'x.npy'}", f"-o{out}"])
    assert result.exit_code == 0, result.output
    with np.load(out) as archive:
        assert archive["grad_x"].tolist() == [-2.0, -4.0]


def test_eval_json_writes_non_finite_numbers_as_null(tmp_path):
    np.save(tmp_path / "X.npy", np.diag([-1.0, 2.0]))
    result = invoke(["eval", "log(det(X))", "--wrt", "X", "-i", f"X={tmp_path / 'X.npy'}",
                     "--format", "json"])
    import json

    values = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(c))
    assert values["value"] is None and values["grad_X"] == [[-1.0, 0.0], [0.0, 0.5]]


# ---------------------------------------------------------------- standard input and files

def test_check_reading_standard_input_twice_names_the_claim():
    result = invoke(["check", "-", "--wrt", "x", "--claim", "-"], stdin="x'*x")
    assert result.exit_code == 2
    assert result.stderr == (
        "matgrad: error: the claim (--claim) and EXPR both read standard input ('-'); only "
        "one can: give the claim (--claim) as text or as @FILE\n")


def test_an_empty_claim_from_standard_input_names_the_claim():
    result = invoke(["check", "x'*x", "--wrt", "x", "--claim", "-"], stdin="\n")
    assert result.exit_code == 2
    assert result.stderr == "matgrad: error: the claim (--claim) read from standard input " \
        "is empty\n"


def test_an_expression_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes("\ufeffx'*x".encode("utf-8"))
    result = invoke(["derive", f"@{path}", "--wrt", "x", "--format", "dsl"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "2*x\n"


def test_a_nul_byte_on_standard_input_is_one_clear_error():
    result = run_bytes(["derive", "-", "--wrt", "x"], b"x\x00'*x")
    assert result.exit_code == 2
    assert result.stderr == "matgrad: error: cannot read standard input: it holds a NUL " \
        "byte (not text)\n"


def test_non_utf8_standard_input_is_one_clear_error_without_the_bytes():
    result = run_bytes(["derive", "-", "--wrt", "x"], b"x\xff*x")
    assert result.exit_code == 2
    assert result.stderr == "matgrad: error: cannot read standard input: not UTF-8 text " \
        "(byte 2)\n"


@pytest.mark.parametrize("literal, shown", [("inf", "inf"), ("-inf", "-inf"), ("INF", "inf")])
def test_inf_number_literals_are_accepted_with_a_warning(literal, shown):
    result = invoke(["eval", "2*x", "-i", f"x={literal}"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: input x contains NaN/Inf values\n")
    assert result.stdout == f"f = {shown}\n"


# ---------------------------------------------------------------- errors at the boundary

def test_an_internal_error_is_one_line_not_a_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("something inside broke")

    monkeypatch.setattr(app, "run_eval", broken)
    result = invoke(["eval", "x*2", "-i", "x=1"])
    assert result.exit_code == 1
    assert result.stderr == ("matgrad: error: internal error: KeyError: 'something "
                             "inside broke'; please report this at the matgrad issue tracker\n")


def test_the_api_names_no_flags_and_the_cli_adds_them():
    with pytest.raises(app.MissingInputs) as info:
        app.load_problem("x'*y", ["x=1"])
    assert str(info.value) == "missing input y"
    result = invoke(["eval", "x'*y", "-i", "x=1"])
    assert result.exit_code == 2
    assert result.stderr == "matgrad: error: missing input y: give -i y=FILE\n"


def test_formats_come_from_registries():
    assert set(cli_module.DERIVE_FORMATS) == {"text", "latex", "dsl", "numpy", "jax", "torch",
                                              "json"}
    assert set(cli_module.EVAL_FORMATS) == {"text", "json"}
    assert set(cli_module.CHECK_FORMATS) == {"text", "json"}


def test_run_eval_gives_values_and_warnings():
    result = app.run_eval("x'*x + 0*y", ["x"], ["x=3", "z=1", "y=2"])
    assert result.values["grad_x"].tolist() == [6.0]  # a length-1 vector (SPEC §1)
    assert result.warnings == ["warning: input z is not used by the expression"]
    assert not result.failed


def test_api_errors_name_no_flags_and_the_cli_names_them():
    from matgrad_cli.app import api

    program = api.parse("x'*x")
    with pytest.raises(api.OptionError) as info:
        api.derive(program, ["q"])
    assert str(info.value) == "wrt q: the expression has no variable 'q' (its variables: x)"
    result = invoke(["derive", "x'*x", "--wrt", "q"])
    assert result.exit_code == 2
    assert result.stderr == ("matgrad: error: --wrt q: the expression has no variable 'q' "
                             "(its variables: x)\n")
    with pytest.raises(api.OptionError, match="^order 2 needs a scalar f"):
        api.derive(api.parse("A*x"), ["x"], 2)


# ---------------------------------------------------------------- length-1 vectors, flags

@pytest.mark.parametrize("how", ["number", "array (1,)", "array (1,1)", "declared x=1"])
def test_a_length_1_vector_is_one_thing_however_it_is_given(how, tmp_path):
    """SPEC §1: x=1 stays a vector (grad_x has shape (1,)); inside the expression it is read
    as the scalar it holds, whichever way it came (number, (1,) or (1,1) array, --shape)."""
    np.save(tmp_path / "A.npy", np.arange(9.0).reshape(3, 3))
    given = {"number": "3", "array (1,)": np.array([3.0]), "array (1,1)": np.array([[3.0]]),
             "declared x=1": np.array([3.0])}[how]
    if not isinstance(given, str):
        np.save(tmp_path / "x.npy", given)
        given = str(tmp_path / "x.npy")
    shape = ["--shape", "x=1"] if how == "declared x=1" else []
    out = tmp_path / "out.npz"
    result = invoke(["eval", "sum(A*x) + x^2", "--wrt", "x", "-i", f"x={given}", "-i",
                     f"A={tmp_path / 'A.npy'}", *shape, "-o", out])
    assert result.exit_code == 0, result.output
    with np.load(out) as archive:
        assert archive["value"] == 3 * 36.0 + 9.0
        assert archive["grad_x"].shape == (1,) and archive["grad_x"].tolist() == [36.0 + 6.0]


@pytest.mark.parametrize("args, message", [
    (["--shape", "x=3", "--shape", "x=4"], "--shape x is given twice"),
    (["--shape", "1x=3"], "'1x' is not a name"),
    (["--shape", "x=0"], "every size is at least 1"),
    (["--dim", "n=3", "--dim", "n=4"], "--dim n is given twice"),
])
def test_bad_shape_and_dim_flags_are_usage_errors(args, message):
    result = invoke(["derive", "x'*x", "--wrt", "x", *args])
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_a_size_nobody_gives_is_bad_input_naming_each_dimension():
    result = invoke(["eval", "tr(eye(m*n))"])
    assert result.exit_code == 2
    assert "--dim m=N --dim n=N" in result.stderr

"""Whatever the input, ``matgrad eval`` and ``matgrad derive`` end with exit status 0, 1 or
2 and a message — never a Python traceback (SPEC §5). Runs the click command in-process
with catch_exceptions=False, so an exception escaping a command fails the test."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from matgrad_cli.cli import main
from matgrad_cli.ops import ENTRYWISE, SIZED, STRUCTURAL

# Pieces of the language (and a few near misses), glued together at random. Numbers end in
# a space so that digits never run together into a huge size (eye(22222) would be an
# honest but slow out-of-memory case, not what this test is after).
NAMES = ["x", "y", "A", "B", "alpha", "λ", "I", "n", "s", "T", "e", "E", "f", "x_1"]
NUMBERS = ["0 ", "1 ", "2 ", "3 ", "0.5 ", ".5 ", "1e-3 ", "2.5E+1 "]
OPERATORS = ["+", "-", "−", "*", ".*", "./", "/", ":", "^", ".^", "⊙", "∘", "·", "'", "ᵀ",
             ".T", "’", "=", "==", "**", "."]
BRACKETS = ["(", ")", "||", "‖", "|", "_1", "_2", "_F", "_", ",", ";", "\n", " ", "  "]
JUNK = ["$", "#", "@", "[", "]", "\\", '"', "!", "\t", "\r", "\x00", "é", "∂"]
FUNCTIONS = sorted(set(ENTRYWISE) | (set(STRUCTURAL) - {"norm1"}) | set(SIZED))
CALLS = [f"{name}(" for name in FUNCTIONS] + ["trace(", "foo("]
ALPHABET = NAMES + NUMBERS + OPERATORS + BRACKETS + JUNK + CALLS + FUNCTIONS

grammarish = st.lists(st.sampled_from(ALPHABET), max_size=14).map("".join)

# Well-formed expressions (shapes not guaranteed), to get past the parser into shape
# inference, the derivative engine, the simplifier, the printers and the evaluator.
LEAVES = ["x", "y", "A", "B", "alpha", "2", "0.5", "I", "ones(3)", "eye(3)", "zeros(3)",
          "ones(n)", "ones(1, 3)", "commutation(3, 1)", "0", "-1"]
UNARY = ["-{}", "({})'", "{}ᵀ", "({})", "||{}||", "||{}||_1", "‖{}‖_F", "||{}||_2", "{}.T",
         "{}^2", "{}^-1", "{}.^0.5", "{}.^alpha", "2^{}"] + \
        [f"{name}({{}})" for name in sorted(set(ENTRYWISE) | set(STRUCTURAL) - {"norm1", "kron"})]
BINARY = [" + ", " - ", "*", " ", ".*", "./", "/", " : ", "⊙", "^", ".^"]


def _combine(children):
    unary = st.tuples(st.sampled_from(UNARY), children).map(lambda p: p[0].format(p[1]))
    binary = st.tuples(children, st.sampled_from(BINARY), children).map(
        lambda p: f"({p[0]}{p[1]}{p[2]})")
    kron = st.tuples(children, children).map(lambda p: f"kron({p[0]}, {p[1]})")
    return unary | binary | kron


expressions = st.recursive(st.sampled_from(LEAVES), _combine, max_leaves=6)
programs = st.one_of(expressions, st.tuples(expressions, expressions).map(
    lambda p: f"s = {p[0]}\n{p[1].replace('y', 's')}"))
arbitrary = st.text(max_size=30)

FUZZ_SETTINGS = settings(max_examples=500, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def input_args(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    arrays = {"x": rng.uniform(0.5, 1.5, 3), "y": rng.standard_normal(3),
              "A": rng.standard_normal((3, 3)) + 3 * np.eye(3)}
    args = []
    for name, value in arrays.items():
        np.save(folder / f"{name}.npy", value)
        args += ["-i", f"{name}={folder / (name + '.npy')}"]
    return args + ["-i", "alpha=0.5"]


def invoke(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def as_expression(text: str) -> str:
    """'@path' would read a file, and '-' standard input: keep the fuzz on the parser."""
    return " " + text if text.startswith("@") else text


def assert_clean_exit(result):
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output.lower()
    if result.exit_code != 0:
        assert "matgrad: error: " in result.stderr or "Usage: " in result.stderr, result.output


def run_eval(text, input_args):
    assert_clean_exit(invoke(["eval"] + input_args + ["--", as_expression(text)]))


def run_derive(text):
    assert_clean_exit(invoke(["derive", "--wrt", "x", "--", as_expression(text)]))


# Inputs that once failed or that sit on a corner of the grammar.
CORNERS = ["", "-", "x", "x'", "||", "‖x||", "|| ||x|| ||", "x^-x", "2^3^2", "I", "x.T.T",
           "eye(1)", "ones(n,1)", "s = x; s", "x;", ";", "\n", "(", ")", "x y", "f(x)",
           "kron(x, A)", "commutation(2, 3)", "A^-1", "1/0", "log(-x)", "0^-1", "x./0"]


@pytest.mark.parametrize("text", CORNERS)
def test_corner_cases_exit_cleanly(text, input_args):
    run_eval(text, input_args)
    run_derive(text)


@FUZZ_SETTINGS
@given(text=grammarish)
@example(text="||x||_1 ||y||")
def test_grammarish_text_never_crashes_eval(text, input_args):
    run_eval(text, input_args)


@FUZZ_SETTINGS
@given(text=grammarish)
def test_grammarish_text_never_crashes_derive(text):
    run_derive(text)


@FUZZ_SETTINGS
@given(text=arbitrary)
def test_arbitrary_text_never_crashes_eval(text, input_args):
    run_eval(text, input_args)


@FUZZ_SETTINGS
@given(text=arbitrary)
def test_arbitrary_text_never_crashes_derive(text):
    run_derive(text)


@FUZZ_SETTINGS
@given(text=programs)
def test_well_formed_expressions_never_crash_eval(text, input_args):
    run_eval(text, input_args)


@FUZZ_SETTINGS
@given(text=programs)
def test_well_formed_expressions_never_crash_derive(text):
    run_derive(text)


# Found by the fuzz above: the simplifier's kron rule once built a product of mismatched
# shapes for the Kronecker product of a matrix and a vector (a traceback).
@pytest.mark.parametrize("text", ["||kron(eye(3), x)||", "det(kron(B, x))",
                                  "sum(kron(commutation(3, 1), x))"])
def test_kron_with_a_vector_derives(text):
    run_derive(text)


# ---------------------------------------------------------------- the whole command line
# tests/fuzz_cli.py: derive, eval on arrays that fit and arrays that do not, check with a
# random claim, mutated expressions, random bytes on standard input (derandomized: seed 0).
# `python tests/fuzz_cli.py --count 100000` runs the long version (README, "Fuzzing").

def test_fuzzed_command_lines_exit_cleanly_with_carets(tmp_path):
    from fuzz_cli import fuzz

    counts, failures = fuzz(3000, seed=0, folder=tmp_path)
    assert failures == []
    assert sum(counts[f"exit {code}"] for code in (0, 1, 2)) == 3000
    # the generator reaches every command and every outcome, not only parse errors
    assert all(counts[what] > 400 for what in
               ("derive", "eval-fit", "eval-misfit", "check", "stdin-bytes"))
    assert counts["exit 0"] > 150 and counts["exit 1"] > 0


def test_the_fuzzer_catches_a_missing_caret(tmp_path, monkeypatch):
    # a test that cannot fail is a defect: a positional error without its caret is caught
    from fuzz_cli import Fuzzer

    from matgrad_cli import errors

    monkeypatch.setattr(errors.MatgradError, "render",
                        lambda self: f"{self.message} (column 1)" if self.span else
                        self.message)
    outcome, problem = Fuzzer(tmp_path).run(["derive", "--wrt", "x", "--", "x +"], None)
    assert outcome == "crash" and "no caret" in problem

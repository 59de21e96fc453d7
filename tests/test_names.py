"""One Greek table and one pool of names (language/names.py): the naming convention, the
text printer and the LaTeX printer agree on every letter, and every LaTeX name is ASCII."""
import pytest

from matgrad_cli.language import names
from matgrad_cli.language.shapes import convention_kind
from matgrad_cli.printers.latex import latex_name
from matgrad_cli.printers.text import TextPrinter


@pytest.mark.parametrize("name", sorted(names.GREEK_NAMES))
def test_a_greek_name_and_its_letter_agree_everywhere(name):
    letter = names.LETTER_OF[name]
    assert TextPrinter().name(name) == letter
    assert latex_name(name) == latex_name(letter) and latex_name(name).isascii()
    kind = "matrix" if name[0].isupper() else "scalar"
    assert convention_kind(name) == convention_kind(letter) == kind


@pytest.mark.parametrize("name, latex", [
    ("W2", "W_{2}"), ("x_1", "x_{1}"), ("Sigma", r"\Sigma"), ("beta", r"\beta"),
    ("beta_2", r"\beta_{2}"), ("λ", r"\lambda"), ("µ", r"\mu"), ("varepsilon", r"\varepsilon"),
    ("loss", r"\mathit{loss}"), ("W_out", r"W_{\mathit{out}}"), ("x_a_b", r"x_{\mathit{a\_b}}"),
    ("é", "e"), ("𝐱", "x"),
])
def test_latex_names(name, latex):
    assert latex_name(name) == latex


@pytest.mark.parametrize("name", ["ж", "x̂", "Ωmega2", "loss_ü"])
def test_every_latex_name_is_ascii(name):
    assert latex_name(name).isascii()


def test_one_pool_of_fresh_names():
    from matgrad_cli.app import steps
    from matgrad_cli.printers import naming

    # the printers, the steps and the generated code draw from the same tables
    assert naming.SHAPE_NAMES is names.SHAPE_LETTERS
    assert not hasattr(steps, "_POOL") and not hasattr(steps, "_FUNCTION_LETTERS")
    assert names.shape_letters(3) == names.TENSOR_LETTERS


def test_a_greek_name_with_a_number_is_a_vector_and_derive_says_so():
    """SPEC §3: only a Greek letter's name alone is a scalar; lambda1 prints as λ1 but is a
    vector by the convention, which derive notes on standard error (stdout stays clean)."""
    from helpers import invoke

    expr = "||y - X*b||^2 + lambda1*||b||^2"
    noted = invoke(["derive", "--wrt", "b", "--format", "dsl", "--", expr])
    assert "note: lambda1 is a vector" in noted.stderr and "--shape lambda1=scalar" in noted.stderr
    assert "note" not in noted.stdout
    declared = invoke(["derive", "--wrt", "b", "--shape", "lambda1=scalar", "--", expr])
    assert declared.stderr == "" and "(scalar)" in declared.stdout.split("\n")[0]
    for plain in ("lambda*||b||^2", "x_1'*b"):
        assert invoke(["derive", "--wrt", "b", "--", plain]).stderr == ""

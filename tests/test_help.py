"""Help and docs (issue 13, item 6): every command's --help shows examples, its formats and
its exit statuses; what the README says about JSON and tolerances is what the code does;
--steps with a format that cannot show it is an error; a JSON shape is a list everywhere."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import invoke

from matgrad_cli import cli
from matgrad_cli.app.verdict import TOLERANCE as CHECK_TOLERANCE
from matgrad_cli.numeric.numcheck import TOLERANCE as EVAL_TOLERANCE

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = {"derive": cli.DERIVE_FORMATS, "eval": cli.EVAL_FORMATS, "check": cli.CHECK_FORMATS}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_has_examples_formats_and_exit_statuses(command):
    result = invoke([command, "--help"])
    assert result.exit_code == 0
    text = result.stdout
    assert "Examples:" in text and f"matgrad {command} " in text.split("Examples:")[1]
    formats = text.split("Formats (--format):")[1].split("Exit status")[0]
    for name in COMMANDS[command]:
        assert re.search(rf"^\s+{name}\s", formats, flags=re.M), (command, name)
    assert re.search(r"Exit status: 0 .*2 bad usage or input", text, flags=re.S)


def _number_after(words: str, text: str) -> float:
    m = re.search(re.escape(words) + r"\s+(?:\*\*)?(?:tolerance\s+)?([0-9.e+-]+\d)", text)
    assert m, (words, text[:200])
    return float(m.group(1))


def test_the_tolerances_in_help_and_readme_are_the_code_s():
    assert _number_after("at most", invoke(["check", "--help"]).stdout) == CHECK_TOLERANCE
    assert _number_after("points is at most", README) == CHECK_TOLERANCE
    assert _number_after("must be at most", invoke(["eval", "--help"]).stdout) == EVAL_TOLERANCE
    assert _number_after("exceeds the", README) == EVAL_TOLERANCE


@pytest.mark.parametrize("fmt", ["dsl", "numpy", "json"])
def test_steps_with_a_format_that_cannot_show_them_is_a_usage_error(fmt):
    result = invoke(["derive", "x'*x", "--wrt", "x", "--steps", "--format", fmt])
    assert result.exit_code == 2
    assert f"--steps cannot be shown in --format {fmt}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("flag", [["--standalone"], ["--layout", "aligned"]])
def test_latex_layout_options_need_the_latex_format(flag):
    result = invoke(["derive", "x'*x", "--wrt", "x", *flag])
    assert result.exit_code == 2 and "is for --format latex" in result.stderr


def _shapes(payload, path=""):
    """Every value under a key "shape" (or in "shapes"/"variables") in a JSON object."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "shape":
                yield path + key, value
            elif key in ("shapes", "variables"):
                for k, v in value.items():
                    yield f"{path}{key}.{k}", v
            else:
                yield from _shapes(value, f"{path}{key}.")


def _is_shape(value) -> bool:
    return isinstance(value, list) and all(isinstance(d, (int, str)) for d in value)


def test_every_json_shape_is_a_list_of_sizes(tmp_path):
    derive = json.loads(invoke(["derive", "x'*A*x", "--wrt", "x", "--wrt", "A", "--format",
                                "json"]).stdout)
    check = json.loads(invoke(["check", "x'*A*x", "--wrt", "x", "--claim", "2*A*x",
                               "--format", "json"]).stdout)
    np.save(tmp_path / "A.npy", np.eye(2))
    np.save(tmp_path / "x.npy", np.ones(2))
    evaluated = json.loads(invoke(["eval", "x'*A*x", "--wrt", "A", "-i", f"A={tmp_path}/A.npy",
                                   "-i", f"x={tmp_path}/x.npy", "--format", "json",
                                   "--check"]).stdout)
    found = [*_shapes(derive), *_shapes(check), *_shapes(evaluated)]
    assert len(found) >= 9
    assert all(_is_shape(v) for _, v in found), [(k, v) for k, v in found if not _is_shape(v)]
    assert derive["derivatives"]["A"]["shape"] == ["n", "n"] and check["claim"]["shape"] == ["n"]
    assert evaluated["shapes"]["grad_A"] == [2, 2] and evaluated["shapes"]["value"] == []


def test_derive_json_has_what_the_readme_lists():
    payload = json.loads(invoke(["derive", "log(x'*A*x)", "--wrt", "x", "--format",
                                 "json"]).stdout)
    for key in ("expression", "f", "variables", "structures", "order", "derivatives"):
        assert f"`{key}`" in README and key in payload
    entry = payload["derivatives"]["x"]
    for key in ("kind", "label", "dsl", "text", "latex", "where", "where_latex", "shape",
                "conditions", "operators"):
        assert f"`{key}`" in README and key in entry

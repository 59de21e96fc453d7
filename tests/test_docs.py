"""Every command and every option of ``matgrad`` (from click's own description of
``matgrad_cli.cli.main``) appears in README.md (sqlite-utils' tests/test_docs.py)."""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from matgrad_cli.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands():
    return sorted(main.commands.items())


def _options():
    for name, command in _commands():
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts + param.secondary_opts:
                    yield name, opt


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_is_documented(name):
    assert re.search(rf"matgrad {re.escape(name)}\b", README), f"matgrad {name}"


@pytest.mark.parametrize("command, option", sorted(set(_options())))
def test_every_option_is_documented(command, option):
    assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", README), \
        f"matgrad {command} {option} is not in README.md"


def _python_blocks(section: str) -> list[str]:
    """The ```python code blocks of the README section under the heading ``section``."""
    body = README.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_readme_python_api_example_runs():
    blocks = _python_blocks("Python API (notebooks and scripts)")
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own README


def test_readme_gpu_example_runs(tmp_path, monkeypatch):
    """The jax example of the README, on the module that its derive command writes."""
    pytest.importorskip("jax")
    from click.testing import CliRunner

    section = README.split("\n## Taking a formula to a GPU: jax and PyTorch\n", 1)[1]
    command = re.search(r"\n    matgrad (derive .*?) > (\w+)\.py\n", section)
    result = CliRunner().invoke(main, _split(command.group(1)))
    assert result.exit_code == 0, result.output
    (tmp_path / f"{command.group(2)}.py").write_text(result.output, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    block = _python_blocks("Taking a formula to a GPU: jax and PyTorch")[0]
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert float(namespace["loss"]) < 1000 * 0.6932  # the descent lowered log(2) per row


def _split(command: str) -> list[str]:
    import shlex

    return shlex.split(command)

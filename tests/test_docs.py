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

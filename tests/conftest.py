"""Shared helpers for the CLI-level tests: run ``matgrad`` in-process with click's
CliRunner (no subprocesses) and evaluate expressions on .npy inputs written to tmp_path."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from matgrad_cli.cli import main


def invoke(args, stdin=None):
    """Run ``matgrad ARGS``; a Python exception escaping the command fails the test."""
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def cli():
    return invoke


@pytest.fixture
def eval_json(tmp_path):
    """``eval_json(expr, {name: array}, *extra_args)`` → (value as an ndarray, the JSON
    'shapes' entry of the value). Every input is saved as NAME.npy and passed with -i."""

    def run(expr, inputs, *extra):
        args = ["eval", "--format", "json"]
        for name, value in inputs.items():
            path = tmp_path / f"{name}.npy"
            np.save(path, np.asarray(value, dtype=float))
            args += ["-i", f"{name}={path}"]
        args += list(extra) + ["--", expr]  # '--': the expression may start with '-'
        result = invoke(args)
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        return np.asarray(payload["value"], dtype=float), tuple(payload["shapes"]["value"])

    return run

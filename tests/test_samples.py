"""Every command shown in a sample's README.md prints exactly what the README shows.

In a fenced code block of samples/*/README.md, a line `$ COMMAND` is a command and the
lines after it, up to the next `$ ` line or the end of the block, are its expected
standard output; a last line `# exit N` records a non-zero exit status. The commands run
as a user runs them — the installed `matgrad` script in a subprocess, with NO_COLOR=1 —
in a copy of the sample folder (paths are relative to it; `-o out.npz` writes there),
in order. Regenerate the READMEs with `python samples/render_readmes.py`.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FOLDERS = sorted(p for p in SAMPLES.iterdir() if (p / "README.md").is_file())
EXIT = re.compile(r"# exit (\d+)")


def _renderer():
    """samples/render_readmes.py, which turns a README command into an argv list."""
    spec = importlib.util.spec_from_file_location("render_readmes", SAMPLES / "render_readmes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


argv = _renderer().argv


def commands(readme: Path) -> list[tuple[str, list[str], int]]:
    """(command, expected output lines, expected exit status) for every `$ ` line."""
    found: list[tuple[str, list[str]]] = []
    in_block = False
    current = None  # the output lines of the command being read, inside a block
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_block = not in_block
            current = None
        elif in_block and line.startswith("$ "):
            current = []
            found.append((line[2:].strip(), current))
        elif current is not None:
            current.append(line.rstrip())
    result = []
    for command, lines in found:
        while lines and not lines[-1]:
            lines.pop()
        status = 0
        if lines and EXIT.fullmatch(lines[-1]):
            status = int(EXIT.fullmatch(lines.pop()).group(1))
        result.append((command, lines, status))
    return result


_ERROR_FIGURE = re.compile(r"error \d\.\d\de-(\d\d)")


def _masked(lines: list[str]) -> str:
    text = "\n".join(lines)
    for match in _ERROR_FIGURE.finditer(text):
        assert int(match.group(1)) >= 5, match.group(0)
    return _ERROR_FIGURE.sub("error <small>", text)


def run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv(command), cwd=cwd, env=dict(os.environ, NO_COLOR="1"),
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


def test_every_sample_has_its_files():
    names = [p.name for p in FOLDERS]
    index = (SAMPLES / "README.md").read_text(encoding="utf-8")
    assert len(names) >= 8
    for folder in FOLDERS:
        assert folder.name in index, f"{folder.name} is missing from samples/README.md"
        assert (folder / "f.txt").is_file()
        assert commands(folder / "README.md"), f"{folder.name}: no commands in README.md"
        npy = {p.stem for p in folder.glob("*.npy")}
        csv = {p.stem for p in folder.glob("*.csv")}
        # a tensor (3+ axes) has no .csv form (SPEC §2b)
        tensors = {name for name in npy if np.load(folder / f"{name}.npy").ndim > 2}
        assert npy and npy - tensors == csv, f"{folder.name}: .npy and .csv files differ"
        assert (folder / "inputs.npz").is_file()


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_sample_readme_commands(folder, tmp_path):
    work = tmp_path / folder.name
    shutil.copytree(folder, work)
    for command, expected, status in commands(folder / "README.md"):
        result = run(command, work)
        got = [line.rstrip() for line in result.stdout.splitlines()]
        while got and not got[-1]:
            got.pop()
        assert "Traceback" not in result.stderr, f"$ {command}\n{result.stderr}"
        # the finite-difference error figure depends on the BLAS kernels in use: compare
        # it by order of magnitude below the tolerance, the rest of the output exactly
        assert _masked(got) == _masked(expected), (
            f"output of `{command}` differs from {folder.name}/README.md "
            "(re-run python samples/render_readmes.py if the change is intended)")
        assert result.returncode == status, f"$ {command}\n{result.stderr}"


def test_root_readme_first_command():
    """The README's first line runs a sample from the repository root."""
    command = ("matgrad eval @samples/01-sigmoid-norm/f.txt --wrt x "
               "-i samples/01-sigmoid-norm/inputs.npz --check")
    assert command in (ROOT / "README.md").read_text(encoding="utf-8")
    result = run(command, ROOT)
    assert result.returncode == 0, result.stderr
    assert ": ok" in result.stdout

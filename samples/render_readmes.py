"""Fill in the outputs of the commands shown in every sample's README.md.

    python samples/render_readmes.py            # rewrite the READMEs in place
    python samples/render_readmes.py --check    # exit 1 if any README is out of date
    python samples/render_readmes.py 03-orthogonality-penalty   # only these folders

Each README.md is its own template. In a fenced code block, a line starting with `$ ` is
a command; the lines after it, up to the next `$ ` line or the end of the block, are its
output, which this script replaces by what the command prints now (standard output, with
trailing whitespace stripped), followed by a line `# exit N` when the exit status N is not
0. Blocks without `$ ` lines are left alone, and so is all the prose.

The commands run in a temporary copy of the sample folder (so paths in them are relative
to the folder, and files they write, such as `-o out.npz`, do not land in the repository),
one after the other, with NO_COLOR=1. `matgrad` is the installed script and `python` this
interpreter. tests/test_samples.py runs the same commands and compares.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FENCE = "```"
PROMPT = "$ "


def argv(command: str) -> list[str]:
    words = shlex.split(command)
    if words[0] == "matgrad":
        script = shutil.which("matgrad")
        words[:1] = [script] if script else [sys.executable, "-m", "matgrad_cli.cli"]
    elif words[0] == "python":
        words[0] = sys.executable
    return words


def run(command: str, cwd: Path) -> tuple[list[str], str]:
    """The output lines to show for a command (with '# exit N' when N != 0), and stderr."""
    env = dict(os.environ, NO_COLOR="1")
    result = subprocess.run(argv(command), cwd=cwd, env=env, capture_output=True,
                            text=True, encoding="utf-8", timeout=120)
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if result.returncode != 0:
        lines.append(f"# exit {result.returncode}")
    return lines, result.stderr


def render(readme: Path) -> str:
    """The README's text with every command's output filled in afresh."""
    out: list[str] = []
    in_block = False
    skipping = False  # inside the old output of a command
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / readme.parent.name
        shutil.copytree(readme.parent, work)
        for line in readme.read_text(encoding="utf-8").splitlines():
            if line.startswith(FENCE):
                in_block = not in_block
                skipping = False
                out.append(line)
            elif in_block and line.startswith(PROMPT):
                command = line[len(PROMPT):].strip()
                lines, stderr = run(command, work)
                if stderr.strip():
                    print(f"{readme.parent.name}: `{command}` wrote to stderr:\n{stderr}",
                          file=sys.stderr)
                out.append(PROMPT + command)
                out.extend(lines)
                skipping = True
            elif not skipping:
                out.append(line)
    return "\n".join(out) + "\n"


def main(args: list[str]) -> int:
    check = "--check" in args
    names = [a for a in args if a != "--check"]
    folders = [HERE / n.rstrip("/").split("/")[-1] for n in names] or sorted(
        p for p in HERE.iterdir() if (p / "README.md").is_file())
    stale = []
    for folder in folders:
        readme = folder / "README.md"
        text = render(readme)
        if text != readme.read_text(encoding="utf-8"):
            stale.append(folder.name)
            if not check:
                readme.write_text(text, encoding="utf-8")
    verb = "out of date" if check else "rewritten"
    print(f"{verb}: {', '.join(stale) if stale else 'none'}")
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

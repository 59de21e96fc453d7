"""The terminal view (SPEC §5 "output to a terminal may use colour and layout"), asserted on
the screen of a real pseudo-terminal: the command runs under ``pty`` with a fixed COLUMNS,
and the test reads what a user would see."""
import os
import pty
import re
import subprocess
import sys

import pytest
from rich.cells import cell_len

from matgrad_cli.app.layout import Line, wrap

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SAMPLES = os.path.join(os.path.dirname(__file__), "..", "samples")

NETWORK = ["derive", "A*(B*V*relu(W*z)).^2", "--shape", "A=1,l", "--wrt", "V", "--wrt", "W"]
LONG = ["derive", "||A*sigmoid(B*tanh(C*x + b) + c)||^2 + sum(log(1 + exp(D*x)))",
        "--wrt", "x"]


def screen(args: list[str], columns: int = 60, cwd: str | None = None) -> tuple[str, str]:
    """(raw bytes as text, the screen without escape codes) of ``matgrad ARGS`` run on a
    pseudo-terminal ``columns`` wide."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(COLUMNS=str(columns), LINES="50", TERM="xterm-256color")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "matgrad_cli.cli", *args], stdin=secondary,
                            stdout=secondary, stderr=secondary, env=env, cwd=cwd,
                            close_fds=True)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:  # the other end closed: the command is done
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    assert proc.wait(timeout=60) in (0, 1)
    raw = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    return raw, ANSI.sub("", raw)


def plain(args: list[str], cwd: str | None = None) -> str:
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "matgrad_cli.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, encoding="utf-8").stdout


def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("args", [NETWORK, LONG], ids=["network", "long"])
def test_the_screen_shows_the_plain_text_wrapped_at_the_width(args):
    raw, shown = screen(args, columns=60)
    assert "\x1b[" in raw  # coloured: it is a terminal
    assert "\x1b[2m" not in raw  # nothing dim: conditions and definitions stay readable
    lines = shown.rstrip("\n").split("\n")
    assert all(cell_len(line) <= 60 for line in lines), lines
    assert _words(shown) == _words(plain(args))  # the same text, only wrapped


def test_a_wrapped_formula_hangs_under_its_body():
    _, shown = screen(LONG, columns=60)
    lines = shown.split("\n")
    k = next(i for i, line in enumerate(lines) if line.startswith("∂f/∂x = "))
    assert len(lines[k]) > 40 and lines[k + 1].startswith(" " * len("∂f/∂x = "))
    assert not lines[k + 1][len("∂f/∂x = "):].startswith(" ")


def test_conditions_are_shown_in_full():
    _, shown = screen(NETWORK, columns=100)
    assert "  valid where u has no zero entries" in shown


def test_array_results_print_their_label_once():
    """The `∂f/∂x = =` of issue 13: a label over an array ends in one '='."""
    sample = os.path.join(SAMPLES, "02-relu-network")
    _, shown = screen(["eval", "@f.txt", "--wrt", "V", "-i", "inputs.npz"], cwd=sample)
    assert "∂f/∂V =\n" in shown and "= =" not in shown
    assert _words(shown) == _words(plain(["eval", "@f.txt", "--wrt", "V", "-i", "inputs.npz"],
                                         cwd=sample))


def test_wrap_prefers_a_top_level_sum():
    pieces = wrap("2 (a ⊙ (b + c)) zᵀ + 3 A x − B (C + D) y", 24)
    assert pieces == ["2 (a ⊙ (b + c)) zᵀ", "+ 3 A x − B (C + D) y"]
    assert Line("formula", "f = ", "x").text == "f = x"


def test_wrap_breaks_at_a_gap_first_and_leaves_no_trailing_space():
    pieces = wrap("2 λ W2 : dW2 + Q Xᵀ : dN    [G : d(A B) = G Bᵀ : dA + Aᵀ G : dB]", 40)
    assert pieces[0] == "2 λ W2 : dW2 + Q Xᵀ : dN"
    assert all(p == p.strip() for p in pieces)

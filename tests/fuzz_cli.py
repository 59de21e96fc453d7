"""A grammar-aware fuzzer of the command line (issue 9): derive, eval on arrays that fit
and arrays that do not, check with a random claim; expressions built from the grammar,
then mutated, plus random bytes on standard input. Deterministic for a seed.

Every run must end with exit status 0, 1 or 2 and no traceback, no "internal error", and
every error that names a column must show the caret line under it.

    python tests/fuzz_cli.py --count 100000     # prints the counts per outcome

(tests/test_fuzz.py runs a few thousand of these in CI.)
"""
from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from matgrad_cli.cli import main
from matgrad_cli.ops import ENTRYWISE, SIZED, STRUCTURAL

LEAVES = ["x", "y", "A", "B", "alpha", "2", "0.5", "I", "ones(3)", "eye(3)", "zeros(3)",
          "ones(n)", "ones(1, 3)", "0", "-1", "3x", "A'", "x'", "λ"]
UNARY = ["-{}", "({})'", "{}ᵀ", "({})", "||{}||", "||{}||_1", "‖{}‖_F", "||{}||_2", "||{}||_*", "{}.T",
         "{}^2", "{}^-1", "{}.^0.5", "{}.^alpha", "2^{}", "sum({})", "tr({})"] + \
        [f"{name}({{}})" for name in sorted(set(ENTRYWISE) | set(STRUCTURAL) - {"kron"})]
BINARY = [" + ", " - ", "*", " ", ".*", "./", "/", " : ", "⊙", "^", ".^"]
NOISE = ["(", ")", "||", "'", ";", "=", ",", "@", "\t", "é", "$", "1e9", "sofmax", "x(2)",
         "\x00", "eig(", "_F", "−", "\n"] + [f"{n}(" for n in sorted(SIZED)]

COMMANDS = ("derive", "eval-fit", "eval-misfit", "check", "stdin-bytes")


def expression(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice(LEAVES)
    if roll < 0.6:
        return rng.choice(UNARY).format(expression(rng, depth + 1))
    if roll < 0.93:
        return f"({expression(rng, depth + 1)}{rng.choice(BINARY)}{expression(rng, depth + 1)})"
    return f"kron({expression(rng, depth + 1)}, {expression(rng, depth + 1)})"


def program(rng: random.Random) -> str:
    text = expression(rng)
    if rng.random() < 0.15:
        text = f"s = {expression(rng)}; {text.replace('y', 's')}"
    return text


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        i = rng.randint(0, len(text))
        kind = rng.random()
        if kind < 0.4:
            text = text[:i] + rng.choice(NOISE) + text[i:]
        elif kind < 0.7:
            text = text[:i] + text[i + 1:]
        else:
            text = text[:i] + rng.choice(NOISE) + text[i + 2:]
    return text


class Fuzzer:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        r = np.random.default_rng(0)
        fit = {"x": r.uniform(0.5, 1.5, 3), "y": r.standard_normal(3),
               "A": r.standard_normal((3, 3)) + 3 * np.eye(3), "B": r.standard_normal((3, 3))}
        misfit = {"x": r.standard_normal(2), "y": r.standard_normal((2, 2)),
                  "A": r.standard_normal((2, 3)), "B": r.standard_normal(4)}
        self.inputs = {}
        for label, arrays in (("fit", fit), ("misfit", misfit)):
            args = []
            for name, value in arrays.items():
                path = folder / f"{label}-{name}.npy"
                np.save(path, value)
                args += ["-i", f"{name}={path}"]
            self.inputs[label] = args + ["-i", "alpha=0.5", "-i", "λ=2"]
        self.runner = CliRunner()

    def case(self, rng: random.Random) -> tuple[str, list, bytes | None]:
        """(what, argv, stdin) of one random run."""
        command = rng.choice(COMMANDS)
        text = program(rng)
        if rng.random() < 0.35:
            text = mutate(rng, text)
        text = " " + text if text.startswith(("@", "-")) else text
        used = [v for v in ("x", "A", "alpha", "y", "B") if v in text]
        wrt = rng.choice(used if used and rng.random() < 0.9 else ["x", "A", "alpha"])
        if command == "derive":
            extra = rng.choice([[], ["--format", "dsl"], ["--format", "latex"],
                                ["--order", "2"], ["--shape", "x=3"], ["--steps"]])
            return command, ["derive", "--wrt", wrt, *extra, "--", text], None
        if command.startswith("eval"):
            extra = rng.choice([[], ["--wrt", wrt], ["--wrt", wrt, "--check"],
                                ["--wrt", wrt, "--order", "2"], ["--format", "json"]])
            label = command.partition("-")[2]
            return command, ["eval", *self.inputs[label], *extra, "--", text], None
        if command == "check":
            claim = mutate(rng, program(rng)) if rng.random() < 0.3 else program(rng)
            return command, ["check", "--wrt", wrt, "--claim", " " + claim, "--", text], None
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 24)))
        return command, ["derive", "--wrt", "x", "-"], data

    def run(self, argv, stdin) -> tuple[str, str]:
        """(outcome, problem or '') of one run."""
        result = self.runner.invoke(main, argv, input=stdin, catch_exceptions=True)
        err = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return "crash", f"{type(result.exception).__name__}: {result.exception}"
        if result.exit_code not in (0, 1, 2):
            return "crash", f"exit status {result.exit_code}"
        if "Traceback" in result.output or "internal error" in err:
            return "crash", err.strip()
        lines = err.split("\n")  # (not splitlines: the source may hold \x1e, \x85 …)
        for i, line in enumerate(lines):
            if "(column " in line and not (i + 2 < len(lines) and "^" in lines[i + 2]):
                return "crash", "an error names a column but shows no caret: " + err
        return f"exit {result.exit_code}", ""


def fuzz(count: int, seed: int = 0, folder: Path | None = None):
    """Run ``count`` cases; return (Counter of outcomes, list of failures)."""
    import tempfile

    folder = folder or Path(tempfile.mkdtemp(prefix="matgrad-fuzz-"))
    fuzzer = Fuzzer(folder)
    rng = random.Random(seed)
    counts: collections.Counter = collections.Counter()
    failures = []
    for _ in range(count):
        what, argv, stdin = fuzzer.case(rng)
        outcome, problem = fuzzer.run(argv, stdin)
        counts[outcome] += 1
        counts[what] += 1
        if problem:
            failures.append((argv, stdin, problem))
    return counts, failures


def _main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts, failures = fuzz(args.count, args.seed)
    for key in sorted(counts):
        print(f"{key:12} {counts[key]}")
    for argv, stdin, problem in failures[:20]:
        print("FAIL", argv, stdin, problem, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(_main())

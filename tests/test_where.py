"""One where-block per derivation (issue 13, item 2): a quantity shared by several
derivatives is named once, the user's definition names are reused (also in their
simplified form), and no letter means two things in one output."""
import re

import numpy as np
import pytest

from helpers import derive_for, evaluate_line, invoke, random_inputs

from matgrad_cli.app import render

NETWORK = ("A*(B*V*relu(W*z)).^2", {"A": (1, 3), "B": (3, 4), "V": (4, 5), "W": (5, 3),
                                    "z": (3,)})


def _definitions(text: str) -> list[tuple[str, str]]:
    """(name, body) of every 'where' line of a text output, in order."""
    found = []
    for line in text.split("\n"):
        m = re.match(r"\s+(?:where\s+)?(\w+) = (.*)$", line)
        if m and not line.lstrip().startswith(("valid", "f =", "∂")):
            found.append((m.group(1), m.group(2)))
    return found


def test_shared_quantities_of_two_gradients_are_named_once():
    expr, shapes = NETWORK
    derivation = derive_for(expr, ["V", "W"], random_inputs(shapes))
    text = render.derive_text(derivation)
    defs = _definitions(text)
    names = [name for name, _ in defs]
    assert len(names) == len(set(names)), text  # each letter is defined once
    # the network's own quantities, as a textbook names them (x = W z, r = relu(x), y = B V r)
    assert defs == [("u", "W z"), ("r", "relu(u)"), ("v", "B V r")], text
    grad_v = next(line for line in text.split("\n") if line.startswith("∂f/∂V"))
    grad_w = next(line for line in text.split("\n") if line.startswith("∂f/∂W"))
    assert grad_v.startswith("∂f/∂V = 2 Bᵀ (Aᵀ ⊙ v) rᵀ")
    # ∂f/∂W reads the names defined under ∂f/∂V, and lists nothing new
    assert grad_w.startswith("∂f/∂W = 2 (step(u) ⊙ (Vᵀ Bᵀ (Aᵀ ⊙ v))) zᵀ")
    assert "  where " not in text.split("∂f/∂W")[1]


def test_each_dsl_line_stands_alone_and_gives_the_gradient():
    expr, shapes = NETWORK
    arrays = random_inputs(shapes, seed=3)
    derivation = derive_for(expr, ["V", "W"], arrays)
    lines = render.derive_dsl(derivation).split("\n")
    assert len(lines) == 2 and lines[0].split("; ")[:2] == lines[1].split("; ")[:2]
    for name, line in zip(["V", "W"], lines):
        got = evaluate_line(line, arrays)
        eps, x = 1e-6, arrays[name]
        fd = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            up, down = dict(arrays), dict(arrays)
            up[name] = x.copy()
            up[name][idx] += eps
            down[name] = x.copy()
            down[name][idx] -= eps
            fd[idx] = (evaluate_line(expr, up) - evaluate_line(expr, down)) / (2 * eps)
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7)


def test_the_users_definition_is_reused_in_its_simplified_form():
    result = invoke(["derive", "R = X - m*ones(5)'; 1/2*tr(R'*inv(S)*R)", "--wrt", "S"])
    assert result.exit_code == 0, result.output
    grad = next(line for line in result.stdout.split("\n") if line.startswith("∂f/∂S"))
    assert "R" in grad and "𝟏" not in grad, result.stdout


def test_steps_and_result_share_their_letters():
    result = invoke(["derive", "||A*sigmoid(x)||^2", "--wrt", "x", "--wrt", "A", "--steps"])
    assert result.exit_code == 0, result.output
    steps, result_part = result.stdout.split("\n\n∂f/∂x")
    where = dict(_definitions("∂f/∂x" + result_part))
    assert "  u = A s" in steps  # the steps name A s as the where-block does
    for name, body in where.items():
        # an intermediate the steps define with a where letter is the same quantity
        # (the steps for A write σ(x) in full: it does not depend on A)
        defined = re.findall(rf"^\s+{name} = (.*)$", steps, flags=re.M)
        expanded = body.replace(" s", " σ(x)")
        assert all(d in (body, expanded) for d in defined), (name, defined, body)
    assert where == {"s": "σ(x)", "u": "A s"}


@pytest.mark.parametrize("order", [1, 2])
def test_no_letter_means_two_things_across_f_and_its_derivatives(order):
    source = "s = sigmoid(W*x); y = A*s; ||y - t||^2 + sum(s)"
    shapes = {"W": (3, 4), "x": (4,), "A": (2, 3), "t": (2,)}
    derivation = derive_for(source, ["x", "W"] if order == 1 else ["x"], random_inputs(shapes),
                            order=order)
    defs = _definitions(render.derive_text(derivation))
    bodies = {}
    for name, body in defs:
        assert bodies.setdefault(name, body) == body, defs
    assert "s" in bodies and "y" in bodies  # the user's names

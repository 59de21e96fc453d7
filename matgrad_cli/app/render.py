"""A derivation → what ``derive`` prints, per format (text, latex, dsl, json, numpy).

The formulas come from printers/; this module lays them out: f with its shapes, then per
``--wrt`` the derivative with its named sub-expressions and where it is valid.
"""
from __future__ import annotations

import json
import re

from .api import Derivation
from .. import algebra as alg
from ..ir import Build, Fill, Node, Program, Var
from ..language.names import text_name
from ..printers import render_definitions, to_dsl, to_latex, to_text
from ..printers.latex import latex_name, math_text
from .layout import CONDITION, FORMULA, NOTE, WHERE, Line, blank, plain
from .where import Where, derivation_where, named, taken_names
from ..tensors import forms


def shape_text(shape) -> str:
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return _dim(shape[0])
    return "×".join(_side(d) for d in shape)  # a tensor too: l×m×n


def _dim(d) -> str:
    return str(d).replace("*", "")


def _side(d) -> str:
    """A side of m×n; a sum of sizes in parentheses: (m+p)×n."""
    text = _dim(d)
    return f"({text})" if "+" in text or "-" in text else text


def _with_definitions(defs, names, root, printer, assign=" = ") -> tuple[str, list]:
    """The root printed with ``names``, and one ``name = body`` line per definition (the
    name spelled as the format spells it where it is used: β2, \\lambda; a tensor built
    from its slices as ``G[:, i, :] = body``)."""
    spell = {to_text: text_name, to_latex: latex_name}.get(printer, str)
    lines = []
    for name, body in render_definitions(defs, names, printer):
        lines.append(f"{spell(name)}{assign}{body}")
    for k, (name, node) in enumerate(defs):
        if isinstance(node, Build):  # a tensor from its slices: G[:, i, :] = body
            own = {n: v for n, v in names.items() if n != node}
            lines[k] = (f"{spell(name)}{forms.pattern_text(node.pattern)}{assign}"
                        f"{printer(node.body, own)}")
    return printer(root, names), lines


def display_name(name: str) -> str:
    """A variable's name as the text format shows it (beta → β)."""
    return text_name(name)


def _mixed_part(derivation: Derivation, name: str, display) -> str:
    shown = display(name)
    return f"vec({shown})" if len(derivation.program.variables[name]) == 2 else shown


def _mixed_label(derivation: Derivation, pair: tuple) -> str:
    x, y = pair
    transposed = "ᵀ" if derivation.program.variables[y] else ""
    return (f"∂²f/∂{_mixed_part(derivation, x, display_name)}"
            f"∂{_mixed_part(derivation, y, display_name)}{transposed}")


def derivative_label(derivation: Derivation, name, order: int = 1) -> str:
    if isinstance(name, tuple):
        return _mixed_label(derivation, name)
    kind = derivation.kind(name)
    variable_shape = derivation.program.variables[name]
    name = display_name(name)
    if order == 2:
        if len(variable_shape) == 2:
            return f"∂²f/∂vec({name})∂vec({name})ᵀ"
        return f"∂²f/∂{name}∂{name}ᵀ" if variable_shape else f"∂²f/∂{name}²"
    if kind == "vec":
        f_part = "vec(f)" if len(derivation.program.expr.shape) == 2 else "f"
        x_part = f"vec({name})" if len(variable_shape) == 2 else name
        return f"∂{f_part}/∂{x_part}ᵀ"
    return f"∂f/∂{name}"


def _latex_label(derivation: Derivation, name, order: int = 1) -> str:
    r"""The label of a derivative in LaTeX; the variable through the name printer
    (``\partial W_{2}``, ``\partial \Sigma``)."""
    variables = derivation.program.variables

    def part(v):
        shown = latex_name(v)
        return rf"\operatorname{{vec}}({shown})" if len(variables[v]) == 2 else shown

    if isinstance(name, tuple):
        x, y = (part(v) for v in name)
        top = r"^{\top}" if variables[name[1]] else ""
        return rf"\frac{{\partial^{{2}} f}}{{\partial {x}\,\partial {y}{top}}}"
    kind = derivation.kind(name)
    x = part(name)
    if order == 2:
        if not variables[name]:
            return rf"\frac{{\partial^{{2}} f}}{{\partial {x}^{{2}}}}"
        return rf"\frac{{\partial^{{2}} f}}{{\partial {x}\,\partial {x}^{{\top}}}}"
    if kind == "vec":
        f_part = r"\operatorname{vec}(f)" if len(derivation.program.expr.shape) == 2 else "f"
        return rf"\frac{{\partial {f_part}}}{{\partial {x}^{{\top}}}}"
    return rf"\frac{{\partial f}}{{\partial {latex_name(name)}}}"


def latex_condition(condition, names=None) -> str:
    r"""A condition in math mode: ``\det X \neq 0``, ``W x \ \text{has no zero entries}``."""
    template = condition.template.removeprefix("where ")
    arg = to_latex(condition.argument, names)
    if condition.argument.children and re.search(r"\b(det|cos) \{arg\}", template):
        arg = rf"\left({arg}\right)"
    other = condition.other
    arg2 = "" if other is None else to_latex(other.value if isinstance(other, Fill) else other,
                                             names)
    pieces = []
    for piece in re.split(r"(\{arg2?\})", template):
        if piece == "{arg}":
            pieces.append(arg)
        elif piece == "{arg2}":
            pieces.append(arg2)
        elif piece.strip():
            pieces.append(math_text(piece))
    return " ".join(pieces)


def latex_conditions(derivation: Derivation, name, names=None) -> list[str]:
    found = []
    for variable in (name if isinstance(name, tuple) else (name,)):
        for c in derivation.conditions.get(variable, []):
            text = latex_condition(c, names)
            if text not in found:
                found.append(text)
    return found


def _condition_text(condition, printer, names=None) -> str:
    """The condition with its argument filled in: after a function name (det, cos) a
    compound argument takes parentheses — det(X + A) ≠ 0, not det X + A ≠ 0."""
    text = printer(condition.argument, names)
    template = condition.template
    for name in ("det", "cos"):
        applied = f"{name} {{arg}}"
        if applied in template and condition.argument.children:
            wrapped = f"({text})" if printer is to_text else rf"\left({text}\right)"
            return template.replace(applied, name + wrapped)
    if condition.other is not None:  # max(a, b): where a ≠ b
        other = condition.other
        template = template.replace("{arg2}", printer(other.value if isinstance(other, Fill)
                                                      else other, names))
    return template.replace("{arg}", text)


def conditions_text(derivation: Derivation, name, printer=to_text, names=None) -> list[str]:
    """Where the derivative w.r.t. ``name`` (or, for a mixed block, a pair) holds; with
    ``names``, the where-block's names stand for their sub-expressions."""
    found = []
    for variable in (name if isinstance(name, tuple) else (name,)):
        for c in derivation.conditions.get(variable, []):
            text = _condition_text(c, printer, names)
            if text not in found:
                found.append(text)
    return found


# ---------------------------------------------------------------- symmetric variables

_STRUCTURE_WORDS = {"sym": "symmetric", "spd": "symmetric positive definite"}


def convention(derivation: Derivation, name, order: int = 1) -> str | None:
    """The convention of a derivative taken along a symmetric variable, in one sentence
    (None for an unstructured variable): SPEC §4, diff/symmetric.py."""
    structures = derivation.program.structures
    if isinstance(name, tuple):
        if name[1] not in structures:
            return None
        y = display_name(name[1])
        return (f"{y} {_STRUCTURE_WORDS[structures[name[1]]]}: the block is taken along "
                f"symmetric {y}, J P with P = (I + K)/2 the projector onto symmetric "
                "matrices in vec form")
    if name not in structures:
        return None
    shown, word = display_name(name), _STRUCTURE_WORDS[structures[name]]
    if order == 2:
        return (f"{shown} {word}: the Hessian on symmetric matrices, P H P with "
                "P = (I + K)/2 (zero on antisymmetric directions; "
                f"vec(V)ᵀ H vec(V) = d²f[V, V] for symmetric V)")
    if derivation.kind(name) != "gradient":
        return (f"{shown} {word}: the derivative along symmetric {shown}, J P with "
                "P = (I + K)/2 the projector onto symmetric matrices in vec form")
    return (f"{shown} {word}: the gradient on symmetric matrices, sym(G) = (G + Gᵀ)/2 of the "
            "plain gradient G (the same for every way of writing f)")


def plain_text(derivation: Derivation, name: str, printer=to_text,
               where: Where | None = None) -> str | None:
    """The plain gradient G of f as written, when it differs from sym(G)."""
    from ..simplify.rules import is_symmetric

    plain = derivation.plain.get(name)
    if plain is None or plain == derivation.derivatives[name] or is_symmetric(plain):
        return None  # G is already symmetric: sym(G) = G
    return _formula(derivation, plain, printer, where)


def cookbook_text(derivation: Derivation, name: str, printer=to_text,
                  where: Where | None = None) -> str | None:
    """The Matrix Cookbook's independent-entries form 2 sym(G) − I ⊙ sym(G)."""
    node = derivation.cookbook.get(name)
    return None if node is None else _formula(derivation, node, printer, where)


def _formula(derivation: Derivation, node: Node, printer, where: Where | None = None) -> str:
    """A formula beside the main result, with its own "(where …)": the letters of the
    output's where-block keep their meaning, a new quantity gets a new letter."""
    main, def_lines = _formula_parts(derivation, node, printer, where)
    return main + (f"  (where {'; '.join(def_lines)})" if def_lines else "")


def _formula_parts(derivation: Derivation, node: Node, printer,
                   where: Where | None = None) -> tuple[str, list[str]]:
    if len(to_text(node)) <= 60:  # short: in full, no names
        return printer(node), []
    where = where or derivation_where(derivation, [r for _, _, r in _items(derivation)])
    defs, names = where.extra(derivation.program, node)
    return _with_definitions(defs, names, node, printer)


def convention_lines(derivation: Derivation, name, order: int,
                     where: Where | None = None) -> list[str]:
    """The note under a derivative along a symmetric variable (text format)."""
    note = convention(derivation, name, order)
    if note is None:
        return []
    lines = [f"  {note}"]
    if order == 1 and not isinstance(name, tuple):
        plain = plain_text(derivation, name, where=where)
        if plain is not None:
            lines.append(f"  plain gradient of f as written (jax.grad, matrixcalculus.org): "
                         f"G = {plain}")
        cookbook = cookbook_text(derivation, name, where=where)
        if cookbook is not None:
            shown = display_name(name)
            lines.append(f"  Matrix Cookbook form 2 sym(G) − I ⊙ sym(G) (∂f/∂{shown}_ij for "
                         f"the independent entries i ≥ j): {cookbook}")
    return lines


def _items(derivation: Derivation):
    """(name, order, node) for every printed derivative, in --wrt order."""
    items = [(name, 1, derivation.derivatives[name]) for name in derivation.wrt]
    if derivation.order == 2:
        items = [(name, 2, derivation.hessians[name]) for name in derivation.wrt
                 if name in derivation.hessians]
        items += [(pair, 2, node) for pair, node in derivation.mixed.items()]
    return items


def where_of(derivation: Derivation) -> Where:
    """The one naming of everything ``derive`` prints for this derivation."""
    # a tensor built from its slices prints its slice's body: that is what gets names
    return derivation_where(derivation, [_slice_form(derivation, name, order, node)[2]
                                         for name, order, node in _items(derivation)])


def _where_lines(definitions: list[str]) -> list[Line]:
    lines = []
    for i, line in enumerate(definitions):
        name, eq, body = line.partition(" = ")
        head = ("  where " if i == 0 else "        ") + name + eq
        lines.append(Line(WHERE, head, body))
    return lines


def function_lines(roots: list[Node], printer, shown: set, order: int | None = None,
                   assign: str = " = ") -> list[str]:
    """``gelu′(t) = …`` for each user-defined function the roots call that is not in
    ``shown`` yet (only the derivatives when order is 1, only the user's own when 0)."""
    from ..ops.user import needed

    lines = []
    for fn in needed(*roots):
        if fn.name in shown or (order == 0 and fn.order) or (order == 1 and not fn.order):
            continue
        shown.add(fn.name)
        head = printer(alg.func(fn.name, Var(fn.param, ())))
        lines.append(f"{head}{assign}{printer(fn.body)}")
    return lines


def operator_lines(roots: list[Node], shown: set) -> list[str]:
    """The one-line definition of each named operator the roots call (the Fréchet
    derivative of expm, Φ of the Cholesky rule …) that is not in ``shown`` yet."""
    from ..ir import Call, walk
    from ..ops import lookup

    lines = []
    for node in walk(*roots):
        if isinstance(node, Call):
            definition = getattr(lookup(node.name), "definition", "")
            if definition and definition not in shown:
                shown.add(definition)
                lines.append(definition)
    return lines


def header_lines(program: Program, where: Where | None = None) -> list[Line]:
    if where is None:
        defs, names = named(program, [program.expr])
    else:
        defs, names = where.header, where.header_names
    main, def_lines = _with_definitions(defs, names, program.expr, to_text)
    lines = [Line(FORMULA, "f = ", f"{main}    ({shape_text(program.expr.shape)})")]
    lines += _where_lines(def_lines + function_lines([program.expr], to_text, set(), 0))
    shapes = ", ".join(f"{display_name(name)}: {shape_text(shape)}" +
                       (f" {_STRUCTURE_WORDS[program.structures[name]]}"
                        if name in program.structures else "")
                       for name, shape in program.variables.items())
    if shapes:
        lines.append(Line(NOTE, f"  {shapes}"))
    return lines


def _slice_form(derivation: Derivation, name, order: int, node: Node):
    """(the whole derivative, its label, the formula printed, ', for each i' or ''): a
    gradient built from slices prints its slice (or entry) and says for which indices."""
    label = derivative_label(derivation, name, order)
    entries = forms.jacobian_entries(node, derivation.program.expr.shape)
    if entries is not None and isinstance(name, str):  # ∂fₚ/∂T[a, b, c], not its reshape
        shown = display_name(name)
        return node, f"∂f{entries[1]}/∂{shown}{entries[2]}", entries[0].body, \
            ", " + forms.for_each(entries[0]) + "; J = ∂vec(f)/∂vec(X)ᵀ is its column-major " \
            "reshape"
    if not isinstance(node, Build):
        return node, label, node, ""
    if isinstance(name, tuple) or derivation.kind(name) != "gradient":
        label = f"({label})"  # an entry or row of the Jacobian, not of X
    return node, label + forms.pattern_text(node.pattern), node.body, ", " + \
        forms.for_each(node)


def header_text(program: Program) -> list[str]:
    return [line.text for line in header_lines(program)]


def derive_lines(derivation: Derivation, steps: list[str] | None = None) -> list[Line]:
    """What ``derive`` prints in the text format, line by line. The where-block is the
    derivation's one naming: each definition is listed under the first formula that uses
    it, and the later ones use its name."""
    where = where_of(derivation)
    lines = header_lines(derivation.program, where)
    if steps:
        lines += [blank(), *(_step_line(step) for step in steps)]
    shown: set = set()
    listed = {name for name, _ in where.header}
    for name, order, node in _items(derivation):
        whole, label, node, each = _slice_form(derivation, name, order, node)
        defs = [(n, d) for n, d in where.for_roots([node]) if n not in listed]
        listed |= {n for n, _ in defs}
        main, def_lines = _with_definitions(defs, where.names, node, to_text)
        def_lines += forms.slice_names([node], to_text) if each else []
        defined = {k: v for k, v in where.names.items() if v in listed}
        conditions = conditions_text(derivation, name, to_text, defined)
        lines.append(blank())
        lines.append(Line(FORMULA, f"{label} = ", f"{main}    ({shape_text(node.shape)}{each})"))
        lines += _where_lines(def_lines + function_lines([node], to_text, shown, 1)
                              + operator_lines([node], shown))
        if conditions:
            lines.append(Line(CONDITION, "  valid ", "; ".join(conditions)))
        lines += [Line(NOTE, note) for note in convention_lines(derivation, name, order, where)]
    return lines


def _step_line(step: str) -> Line:
    """A step ``    ds = …`` hangs its formula under itself on a terminal, as a result does."""
    head, eq, body = step.partition(" = ")
    if eq and step.startswith("    "):
        return Line(NOTE, head + eq, body)
    return Line(NOTE, step)


def derive_text(derivation: Derivation, steps: list[str] | None = None) -> str:
    return plain(derive_lines(derivation, steps))


def latex_lines(derivation: Derivation, steps: list[str] | None = None) -> list[str]:
    """One math-mode formula per line (no ``$``): f, the steps, each derivative with its
    where-block and where it is valid. ASCII only, so that KaTeX and pdflatex both take it."""
    program = derivation.program
    where = where_of(derivation)
    main, def_lines = _with_definitions(where.header, where.header_names, program.expr,
                                        to_latex)
    def_lines += function_lines([program.expr], to_latex, set(), 0)
    lines = [f"f = {main}" + "".join(rf", \quad {d}" for d in def_lines)]
    if steps:
        lines += steps
    shown: set = set()
    listed = {name for name, _ in where.header}
    for name, order, node in _items(derivation):
        label = _latex_label(derivation, name, order)
        each = ""
        if isinstance(node, Build):  # slice or index form
            shown_name = latex_name(name)
            label = label.replace(rf"\partial {shown_name}}}",
                                  rf"\partial {shown_name}{forms.latex_pattern(node)}}}")
            each = r" \quad \text{(" + forms.for_each(node) + ")}"
            node = node.body
        defs = [(n, d) for n, d in where.for_roots([node]) if n not in listed]
        listed |= {n for n, _ in defs}
        main, def_lines = _with_definitions(defs, where.names, node, to_latex)
        def_lines += function_lines([node], to_latex, shown, 1)
        def_lines += [math_text(d) for d in operator_lines([node], shown)]
        defined = {k: v for k, v in where.names.items() if v in listed}
        conditions = latex_conditions(derivation, name, defined)
        line = f"{label} = {main}{each}"
        if def_lines:
            line += r", \quad \text{where } " + r", \; ".join(def_lines)
        if conditions:
            line += r" \quad \text{valid where } " + r"; \; ".join(conditions)
        lines.append(line)
        lines += _latex_convention(derivation, name, order, where)
    return lines


def derive_latex(derivation: Derivation, steps: list[str] | None = None,
                 layout: str = "lines", standalone: bool = False) -> str:
    """``--format latex``: one formula per line; ``layout="aligned"``: one ``aligned``
    block with the ``=`` signs aligned; ``standalone``: a whole document for pdflatex."""
    return latex_document(latex_lines(derivation, steps), layout, standalone)


def latex_document(lines: list[str], layout: str = "lines", standalone: bool = False) -> str:
    if layout == "aligned":
        rows = []
        for line in lines:
            head, eq, rest = line.partition(" = ")
            rows.append(f"{head} &= {rest}" if eq else f"& {line}")
        body = "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
        blocks = [body]
    else:
        blocks = lines
    if not standalone:
        return "\n".join(blocks)
    out = [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}",
           r"\usepackage[margin=2cm]{geometry}", r"\begin{document}"]
    for block in blocks:
        out += [r"\[", block, r"\]"]
    out.append(r"\end{document}")
    return "\n".join(out)


def _latex_convention(derivation: Derivation, name, order: int, where: Where) -> list[str]:
    if convention(derivation, name, order) is None:
        return []
    if order == 2 or isinstance(name, tuple) or derivation.kind(name) != "gradient":
        return [r"\text{(along symmetric matrices: } J P,\ P = \tfrac{1}{2} (I + K)\text{)}"]
    structure = _STRUCTURE_WORDS[derivation.program.structures[name]]
    shown = latex_name(name)
    lines = [r"\text{(}" + shown + r"\text{ " + structure +
             r": the gradient on symmetric matrices, }"
             r"\operatorname{sym}(G) = \tfrac{1}{2} (G + G^{\top})\text{)}"]
    plain = plain_text(derivation, name, to_latex, where)
    if plain is not None:
        lines.append(r"\text{plain gradient of } f \text{ as written (jax.grad, "
                     r"matrixcalculus.org): } G = " + plain)
    node = derivation.cookbook.get(name)
    if node is not None:
        main, defs = _formula_parts(derivation, node, to_latex, where)
        lines.append(r"\text{Matrix Cookbook form } 2\operatorname{sym}(G) - I \odot "
                     r"\operatorname{sym}(G) \text{ (independent entries } " + shown +
                     r"_{ij},\ i \geq j\text{): } " + main +
                     (r", \quad \text{where } " + r"; \; ".join(defs) if defs else ""))
    return lines


def dsl_line(derivation: Derivation, node: Node, name: str | None = None,
             where: Where | None = None) -> str:
    """One line of the language for ``node``: the definitions it needs (with the names of
    the output's where-block where given), then the formula."""
    from ..ir import Zeros

    if isinstance(node, Zeros) and len(node.shape) > 2 and name is not None:
        return f"0*{name}"  # a zero tensor: the language has no zeros(l, m, n)
    whole = node
    if isinstance(node, Build):  # G[:, i, :] = body; G — the whole tensor when re-read
        node = node.body
    node, hoisted = forms.hoist_for_dsl(node, taken_names(derivation.program))
    if where is None or hoisted or isinstance(whole, Build):
        defs, names = named(derivation.program, [node])
    else:
        defs, names = where.for_roots([node]), where.names
    main, def_lines = _with_definitions(defs, names, node, to_dsl)
    def_lines = hoisted + def_lines
    if isinstance(whole, Build):
        main = forms.dsl_definition(whole, forms.tensor_name(
            taken_names(derivation.program) | set(names.values())), main,
            name if name in derivation.program.variables else None)
    # the user-defined functions the line calls, as definitions of the language
    return "; ".join(function_lines([node], to_dsl, set()) + def_lines + [main])


def derive_dsl(derivation: Derivation) -> str:
    where = where_of(derivation)
    return "\n".join(dsl_line(derivation, node, name if isinstance(name, str) else None,
                               where) for name, _, node in _items(derivation))


def json_shape(shape) -> list:
    """Sizes as numbers where known, names (or products like "m*n") where symbolic."""
    return [d if isinstance(d, int) else str(d) for d in shape]


def _json_convention(derivation: Derivation, name, order: int, entry: dict,
                     where: Where) -> None:
    """For a symmetric variable: which convention, and the other forms (plain G, Cookbook)."""
    note = convention(derivation, name, order)
    if note is None:
        return
    structure = derivation.program.structures[name[1] if isinstance(name, tuple) else name]
    entry["convention"] = {"structure": structure, "note": note,
                           "form": "P H P" if order == 2 else
                           ("sym(G)" if derivation.kind(name) == "gradient" else "J P")}
    if order == 1 and not isinstance(name, tuple) and name in derivation.cookbook:
        for key, node in (("plain", derivation.plain[name]),
                          ("cookbook", derivation.cookbook[name])):
            entry["convention"][key] = {"dsl": dsl_line(derivation, node),
                                        "text": _formula(derivation, node, to_text, where),
                                        "latex": _formula(derivation, node, to_latex, where)}


def _f_dsl(program: Program) -> str:
    """f in the language; index notation keeps its indexed definitions (G[:, i, :] = …)."""
    from ..tensors.labels import uses_indices

    if not uses_indices(program.expr):
        return to_dsl(program.expr)
    node, hoisted = forms.hoist_for_dsl(program.expr, taken_names(program))
    return "; ".join(hoisted + [to_dsl(node)])


def _json_dsl(derivation: Derivation, node: Node, name, where: Where) -> str | None:
    """The dsl line, or None where the form has none in the language (a tensor's
    vec-form Jacobian): the text, latex and shape still go out."""
    from ..errors import UsageError

    try:
        return dsl_line(derivation, node, name if isinstance(name, str) else None, where)
    except UsageError:
        return None


def derive_json(derivation: Derivation) -> str:
    program = derivation.program
    payload = {
        "expression": program.source,
        "f": {"text": "\n".join(header_text(program)), "dsl": "; ".join(
            function_lines([program.expr], to_dsl, set()) + [_f_dsl(program)]),
              "latex": to_latex(program.expr), "shape": json_shape(program.expr.shape)},
        "variables": {name: json_shape(shape) for name, shape in program.variables.items()},
        "structures": dict(program.structures),
        "order": derivation.order,
        "derivatives": {},
    }
    where = where_of(derivation)
    for name, order, node in _items(derivation):
        conditions = conditions_text(derivation, name)
        whole, label, shown, each = _slice_form(derivation, name, order, node)
        # each entry stands alone: every definition its formula uses, named as in text
        defs, names = where.for_roots([shown]), where.names
        text, def_lines = _with_definitions(defs, names, shown, to_text)
        latex, latex_defs = _with_definitions(defs, names, shown, to_latex)
        if isinstance(name, tuple):  # a mixed block: keyed "x,y" under "mixed"
            entry = payload.setdefault("mixed", {})[",".join(name)] = {"wrt": list(name)}
        else:
            entry = payload["derivatives"][name] = {}
        entry.update({
            "kind": ("mixed hessian" if isinstance(name, tuple) else "hessian") if order == 2
            else derivation.kind(name),
            "label": label,
            "dsl": _json_dsl(derivation, node, name, where),
            "text": text,
            "latex": latex,
            "where": def_lines,
            "where_latex": latex_defs,
            "shape": json_shape(node.shape),
            "conditions": conditions,
            "operators": operator_lines([node], set()),
        })
        _json_convention(derivation, name, order, entry, where)
    return json.dumps(payload, ensure_ascii=False, indent=2)

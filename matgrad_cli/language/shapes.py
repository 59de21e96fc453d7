"""Shape inference: the syntax tree → the typed IR, every node with its shape.

Shapes come, in this order, from ``--shape``, from the arrays given to ``eval``, from the
expression's own constraints (symbolic dimensions unified across it: ``A*x`` makes A's
columns and x's length one dimension), and last from the naming convention (upper-case
first letter: matrix; a Greek letter's name: scalar; anything else: vector). A conflict is
a ShapeError that names the operator, both operands with their shapes, and points at the
operator in the source.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from .. import ir
from ..errors import ParseError, ShapeError, Span, UsageError
from ..ops import ALONG, ENTRYWISE, SIZED, SLICES
from ..ops import along as _along
from ..ops import lookup
from .names import DIMENSION_LETTERS, is_greek_scalar, is_name
from .index_syntax import INDEX_SYNTAX, IndexedDefinition
from .parser import (Binary, BlockExpr, CallExpr, Name, Negate, NormExpr, NumberLit,
                     ProgramSyntax, Syntax, Transpose, parse_syntax, syntax_children)


def convention_kind(name: str) -> str:
    """'matrix', 'scalar' or 'vector' by the naming convention of SPEC §3."""
    if name[0].isupper():
        return "matrix"
    if is_greek_scalar(name):
        return "scalar"
    return "vector"


# ---------------------------------------------------------------- dimensions (union-find)

class DimVar:
    """One symbolic dimension; unified classes share a root."""

    __slots__ = ("parent", "value", "name", "factors", "not_one", "terms")

    def __init__(self, value: int | None = None, name: str | None = None, factors=None,
                 not_one: bool = False, terms=None):
        self.parent: DimVar = self
        self.value = value  # a known size
        self.name = name  # a user's name for it (--shape m,n / --dim / eye(n))
        self.factors = factors  # (DimVar, DimVar): this dimension is their product
        self.terms = terms  # (DimVar, DimVar): their sum (the width of a block row)
        # The length of a vector, or the column count of a matrix, that only the naming
        # convention gave: unifying it with 1 would silently turn the vector into a scalar
        # (x*y, x'x') or the matrix into a vector (A x'), so that is a conflict instead.
        self.not_one = not_one

    def root(self) -> "DimVar":
        node = self
        while node.parent is not node:
            node.parent = node.parent.parent
            node = node.parent
        return node


@dataclass
class _State:
    source: str
    shapes_of_vars: dict = field(default_factory=dict)  # name -> tuple[DimVar]
    dim_names: dict = field(default_factory=dict)  # user dim name -> DimVar
    node_shapes: dict = field(default_factory=dict)  # id(Syntax) -> tuple[DimVar]
    identity_dims: list = field(default_factory=list)  # (DimVar, span) of every I
    deferred: list = field(default_factory=list)  # product sizes to compare at the end
    declared: dict = field(default_factory=dict)  # NAME -> sizes from --shape
    arrays: dict = field(default_factory=dict)  # NAME -> NumPy shape of the eval input
    defined: dict = field(default_factory=dict)  # definition name -> shape, so far
    function_keys: dict = field(default_factory=dict)  # user function -> registry key
    index_dims: dict = field(default_factory=dict)  # index name -> DimVar (SPEC §2b)
    bound_indices: list = field(default_factory=list)  # index names bound here, innermost last


def _known(d: DimVar) -> int | None:
    r = d.root()
    if r.value is not None:
        return r.value
    if r.factors is not None:
        a, b = (_known(f) for f in r.factors)
        if a is not None and b is not None:
            return a * b
    if r.terms is not None:
        a, b = (_known(t) for t in r.terms)
        if a is not None and b is not None:
            return a + b
    return None


def _is_one(d: DimVar) -> bool:
    return _known(d) == 1


# ---------------------------------------------------------------- public entry

def parse_shape_spec(text: str) -> list[int | str]:
    """``3x4``, ``m,n``, ``n``, ``5``, ``scalar``, ``1,l`` → a list of sizes; a symmetric
    (positive definite) matrix, ``n,n,sym`` / ``4x4,spd``, adds its structure last."""
    spec = text.strip()
    head, comma, last = spec.rpartition(",")
    if comma and last.strip().lower() in ir.STRUCTURES:
        structure = last.strip().lower()
        sizes = parse_shape_spec(head)
        if len(sizes) != 2 or sizes[0] != sizes[1]:
            raise UsageError(f"bad shape '{text}': a {_STRUCTURE_WORDS[structure]} matrix "
                             "is square: use forms like n,n," + structure + " or 4x4," +
                             structure)
        return sizes + [structure]
    if spec.lower() in ("scalar", "()", ""):
        return []
    # ',' separates when present, so names may contain an x (nx,ny); otherwise x/×/*
    # do (3x4, mxn), unless that leaves an empty part (a single name: nx, xs).
    parts = [p.strip() for p in re.split(r"," if "," in spec else r"[x×*]", spec)]
    if "," not in spec and "" in parts:
        parts = [spec]
    sizes: list[int | str] = []
    for part in parts:
        if re.fullmatch(r"\d+", part):
            if int(part) == 0:
                raise UsageError(f"bad shape '{text}': every size is at least 1")
            sizes.append(int(part))
        elif is_name(part):
            sizes.append(part)
        else:
            raise UsageError(f"bad shape '{text}': use forms like 3x4, m,n, n or scalar")
    return sizes


_STRUCTURE_WORDS = {"sym": "symmetric", "spd": "symmetric positive definite"}


def split_structures(shapes: dict) -> tuple[dict, dict]:
    """{name: sizes [+ "sym"|"spd"]} → ({name: sizes}, {name: structure})."""
    sizes, structures = {}, {}
    for name, spec in shapes.items():
        spec = list(spec)
        if spec and isinstance(spec[-1], str) and spec[-1] in ir.STRUCTURES:
            structures[name] = spec.pop()
            if len(spec) != 2 or spec[0] != spec[1]:
                raise UsageError(f"--shape {name}: a {_STRUCTURE_WORDS[structures[name]]} "
                                 "matrix is square (n,n,sym)")
        sizes[name] = spec
    return sizes, structures


def parse_program(source: str, shapes: dict | None = None, dims: dict | None = None,
                  array_shapes: dict | None = None, expect: tuple | None = None) -> ir.Program:
    """Parse and shape-check ``source``.

    shapes: NAME -> list of sizes (ints or dimension names) from ``--shape``;
    dims: dimension name -> int from ``--dim``;
    array_shapes: NAME -> NumPy shape of the array given to ``eval``;
    expect: the shape the final expression must have where that is known (a claimed
    gradient has its variable's), which sizes an I in it (``check --claim "tr(A)*I"``).
    """
    syntax = parse_syntax(source, set(shapes or ()) | set(array_shapes or ()))
    return infer(syntax, shapes or {}, dims or {}, array_shapes or {}, expect)


def infer(syntax: ProgramSyntax, shapes: dict, dims: dict, array_shapes: dict,
          expect: tuple | None = None) -> ir.Program:
    shapes, structures = split_structures(shapes)
    st = _State(syntax.source, declared=dict(shapes), arrays=dict(array_shapes))
    if syntax.functions:
        from .functions import install_functions

        st.function_keys = install_functions(syntax.functions, syntax.source)
    # --dim binds a size name the input uses (eye(n), --shape A=m,n) now; any other name
    # is matched after inference against the names matgrad gives open dimensions (the
    # ones derive prints), so `--dim n=4` works for the n of "x: n" too.
    spelled = _size_names(syntax) | {d for sizes in shapes.values() for d in sizes
                                     if isinstance(d, str)}
    for name, value in dims.items():
        if name in spelled:
            _user_dim(st, name).value = int(value)
    defined: dict[str, tuple] = st.defined
    size_names = _size_names(syntax)
    all_names = _value_names(syntax)
    for definition in syntax.definitions:
        _check_definition_name(st, definition, defined, size_names)
        if isinstance(definition, IndexedDefinition):
            defined[definition.name] = infer_indexed_definition(
                st, definition, lambda n: _infer(st, n, defined, size_names))
            continue
        defined[definition.name] = _infer(st, definition.value, defined, size_names)
        if definition.name in st.shapes_of_vars:  # x = A*x: x would be two things at once
            raise ParseError(f"'{definition.name}' is used in its own definition: give the "
                             "definition another name", _first_use(definition.value,
                                                                   definition.name)
                             or definition.name_span, st.source)
    for name in sorted(size_names & all_names.keys(), key=lambda n: all_names[n].start):
        raise ShapeError(f"'{name}' is used both as a size and as a value", all_names[name],
                         st.source)
    shape_dims = {d: v for v, sizes in shapes.items() for d in sizes if isinstance(d, str)}
    for name in sorted(shape_dims.keys() & all_names.keys(), key=lambda n: all_names[n].start):
        raise ShapeError(f"'{name}' is used both as a size (--shape {shape_dims[name]}=...) "
                         "and as a value", all_names[name], st.source)
    result = _infer(st, syntax.expr, defined, size_names)
    if expect is not None and len(expect) == len(result):
        try:  # (a claim of another shape is reported as such by check)
            _unify_shapes(st, result, tuple(
                DimVar(d) if isinstance(d, int) else _user_dim(st, d) for d in expect))
        except _Conflict:
            pass
    _verify_deferred(st)
    for d, span in st.identity_dims:
        if _known(d) is None and not _has_user_name(d) and not _linked_to_variable(st, d):
            raise ShapeError("cannot infer the size of I here: use eye(n) or give the "
                             "shapes", span, st.source)
    names = _resolve_names(st, syntax, defined)
    for name, value in dims.items():
        if name in spelled:
            continue
        for root, given in names.items():
            if given == name and root.root() is root:
                if _known(root) is None:
                    root.value = int(value)
                elif _known(root) != int(value):
                    raise UsageError(f"--dim {name}={value} conflicts with the inputs' shapes "
                                     f"({name} = {_known(root)})")
    builder = _Builder(st, names, defined_syntax={d.name: d.value for d in syntax.definitions},
                       structures=structures)
    definitions = {}
    for definition in syntax.definitions:
        if isinstance(definition, IndexedDefinition):
            definitions[definition.name] = build_indexed_definition(builder, definition,
                                                                    definitions)
            continue
        definitions[definition.name] = builder.build(definition.value, definitions)
    expr = builder.build(syntax.expr, definitions)
    variables = {name: builder.resolve_shape(shape) for name, shape in st.shapes_of_vars.items()}
    bound = {name: _known(d) for name, d in st.dim_names.items() if _known(d) is not None}
    del result
    return ir.Program(syntax.source, expr, definitions, variables, bound,
                      {name: s for name, s in structures.items()
                       if len(variables.get(name, ())) == 2})


def _user_dim(st: _State, name: str) -> DimVar:
    if name not in st.dim_names:
        st.dim_names[name] = DimVar(name=name)
    return st.dim_names[name]


def _has_user_name(d: DimVar) -> bool:
    return d.root().name is not None


def _linked_to_variable(st: _State, d: DimVar) -> bool:
    root = d.root()
    for shape in st.shapes_of_vars.values():
        for v in shape:
            if v.root() is root:
                return True
            r = v.root()
            if r.factors and any(f.root() is root for f in r.factors):
                return True
            if r.terms and any(_contains(t, root) for t in r.terms):
                return True
    return False


def _size_names(syntax: ProgramSyntax) -> set[str]:
    found: set[str] = set()

    def visit(node: Syntax, in_size: bool):
        if isinstance(node, Name) and in_size:
            found.add(node.name)
        if isinstance(node, CallExpr) and node.name in SLICES:  # rows(X, a, b): a, b sizes
            visit(node.args[0], in_size)
            for child in node.args[1:]:
                visit(child, True)
            return
        for child in _children(node):
            visit(child, in_size or (isinstance(node, CallExpr) and node.name in SIZED))

    for d in syntax.definitions:
        visit(d.value, False)
    visit(syntax.expr, False)
    return found


def _value_names(syntax: ProgramSyntax) -> dict[str, Span]:
    """Names used as values (not as sizes), each with the span of its first use."""
    found: dict[str, Span] = {}

    def visit(node: Syntax):
        if isinstance(node, Name) and (node.name not in found
                                       or node.span.start < found[node.name].start):
            found[node.name] = node.span
        if isinstance(node, CallExpr) and node.name in SIZED:
            return
        for child in syntax_children(node, into_sizes=False):
            visit(child)

    for d in syntax.definitions:
        visit(d.value)
    visit(syntax.expr)
    return found


def _first_use(node: Syntax, name: str):
    """The span of the first Name ``name`` in ``node``, or None."""
    if isinstance(node, Name) and node.name == name:
        return node.span
    for child in _children(node):
        found = _first_use(child, name)
        if found is not None:
            return found
    return None


def _children(node: Syntax) -> tuple:
    return syntax_children(node)


def _check_definition_name(st, definition, defined, size_names):
    from ..ops import FUNCTION_NAMES

    name = definition.name
    if name in FUNCTION_NAMES:
        raise ParseError(f"'{name}' is a function and cannot be defined", definition.name_span,
                         st.source)
    if name == "I":
        raise ParseError("'I' is the identity and cannot be defined", definition.name_span,
                         st.source)
    if name in defined:
        raise ParseError(f"'{name}' is defined twice", definition.name_span, st.source)
    if name in st.shapes_of_vars:
        raise ParseError(f"'{name}' is used before its definition", definition.name_span,
                         st.source)
    if name in size_names:
        raise ParseError(f"'{name}' is a size in eye/ones/zeros/commutation and cannot be "
                         f"defined: give its value with --dim {name}=N", definition.name_span,
                         st.source)


# ---------------------------------------------------------------- describing shapes

def _dim_text(d: DimVar, names: dict | None = None) -> str:
    k = _known(d)
    if k is not None:
        return str(k)
    r = d.root()
    if names and r in names:
        return str(names[r])
    if r.name:
        return r.name
    if r.factors:
        return "·".join(_dim_text(f, names) for f in r.factors)
    if r.terms:
        return "+".join(_dim_text(t, names) for t in r.terms)
    return "?"


def describe(shape: tuple, names: dict | None = None) -> str:
    if len(shape) == 0:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of length {_dim_text(shape[0], names)}"
    if len(shape) > 2:
        return "×".join(_side_text(d, names) for d in shape)
    rows, cols = (_side_text(d, names) for d in shape)
    if _is_one(shape[0]):
        return f"a row vector (1×{cols})"
    return f"{rows}×{cols}"


def _side_text(d: DimVar, names: dict | None) -> str:
    """A side of m×n, a sum in parentheses: m×(n+p)."""
    text = _dim_text(d, names)
    return f"({text})" if "+" in text else text


def _describe(st: _State, shape: tuple) -> str:
    """``describe`` for an error message: open dimensions get the letters that the
    shape report would give them (``x is a vector of length n``), never ``?``."""
    return describe(shape, _resolve_names(st, None, st.defined))


def _operand_text(st: _State, node: Syntax) -> str:
    text = st.source[node.span.start:node.span.end].strip()
    if len(text) > 24:
        text = text[:21] + "..."
    return text


# ---------------------------------------------------------------- the inference walk

class _Conflict(Exception):
    pass


def _contains(d: DimVar, target: DimVar) -> bool:
    """Whether the size ``d`` is ``target`` or a product with ``target`` among its factors."""
    stack, seen = [d], set()
    while stack:
        r = stack.pop().root()
        if r is target:
            return True
        if id(r) in seen:
            continue
        seen.add(id(r))
        if r.factors is not None:
            stack.extend(r.factors)
        if r.terms is not None:
            stack.extend(r.terms)
    return False


def _unify(st: _State, a: DimVar, b: DimVar) -> None:
    ra, rb = a.root(), b.root()
    if ra is rb:
        return
    # n = m·n (K*vec(K)) would make a size its own factor, n = n + m ([x; y] = x) its own
    # term: a cycle, not a size
    if (_composite(ra) and _contains(ra, rb)) or (_composite(rb) and _contains(rb, ra)):
        raise _Conflict()
    ka, kb = _known(ra), _known(rb)
    if ka is not None and kb is not None:
        if ka != kb:
            raise _Conflict()
        # keep the one with a user name visible
    if (ra.not_one and kb == 1) or (rb.not_one and ka == 1):
        raise _Conflict()
    ra.not_one = rb.not_one = ra.not_one or rb.not_one
    if ra.value is None and not _composite(ra) and ra.name is None:
        ra.parent = rb
        if ka is not None and rb.value is None and not _composite(rb):
            rb.value = ka
        return
    if rb.value is None and not _composite(rb) and rb.name is None:
        rb.parent = ra
        if kb is not None and ra.value is None and not _composite(ra):
            ra.value = kb
        return
    if ra.terms is not None or rb.terms is not None:
        _unify_sum(st, ra, rb, ka, kb)
        return
    # both carry information: merge, keep a value, check products later.
    # Two different names the user gave (--shape x=n, y=m; eye(n), ones(m)) are different
    # sizes unless both are bound to the same number: x + y is then a conflict, not m = n.
    if ra.name and rb.name and ra.name != rb.name and (ka is None or kb is None):
        raise _Conflict()
    if ra.factors is not None and rb.factors is not None:
        # (a·b) = (c·d) with open factors (tr(kron(A, X))): take a = c, b = d, the
        # solution that holds for every size; known factors that differ stay a product
        # compared at the end
        # Not when one side is all numbers (vec of a given 2×3 X against eye(m*n)): which
        # factor is which is then a guess (m = 2, n = 3 or m = 3, n = 2), and a wrong one
        # gives wrong numbers; the sizes stay open (an error asks for --dim).
        pairs = list(zip(ra.factors, rb.factors))
        if not any(all(_known(f) is not None for f in side.factors) for side in (ra, rb)) \
                and any(_known(x) is None or _known(y) is None for x, y in pairs) and all(
                _known(x) is None or _known(y) is None or _known(x) == _known(y)
                for x, y in pairs):
            for x, y in pairs:
                _unify(st, x, y)
        st.deferred.append((ra, rb))
    keep, drop = (ra, rb) if (ra.value is not None or rb.value is None) else (rb, ra)
    value = ka if ka is not None else kb
    factors = ra.factors or rb.factors
    name = keep.name or drop.name
    drop.parent = keep
    if value is not None and keep.factors is None:
        keep.value = value
    keep.name = name
    if keep.factors is None and keep.value is None:
        keep.factors = factors
    elif keep.factors is not None and factors is not keep.factors:
        st.deferred.append((keep, DimVar(factors=factors)))
    if drop.factors is not None and drop.factors is not keep.factors:
        st.deferred.append((keep, DimVar(factors=drop.factors)))


def _composite(d: DimVar) -> bool:
    return d.factors is not None or d.terms is not None


def _unify_sum(st: _State, ra: DimVar, rb: DimVar, ka, kb) -> None:
    """One of two sizes is a sum (a block row's width): (a + b) = (c + d) with open
    terms takes a = c, b = d, the solution that holds for every size (the blocks of
    [A, B; C, D] line up); any other pair is compared once the sizes are known."""
    if ra.terms is not None and rb.terms is not None:
        pairs = list(zip(ra.terms, rb.terms))
        if any(_known(x) is None or _known(y) is None for x, y in pairs) and all(
                _known(x) is None or _known(y) is None or _known(x) == _known(y)
                for x, y in pairs):
            for x, y in pairs:
                _unify(st, x, y)
            if ra.root() is rb.root():
                return
    if ra.name and rb.name and ra.name != rb.name and (ka is None or kb is None):
        raise _Conflict()
    if ka is not None and kb is not None and ka != kb:
        raise _Conflict()
    # keep the sum (it tells the blocks apart), remember the other for the final check
    keep, drop = (ra, rb) if ra.terms is not None else (rb, ra)
    total = _known(drop)
    if total is not None and _known(keep) is None:
        # a + b = k with one term known: the other is the difference ([A, B] x, x of
        # length 5 and A 3×2: B has 3 columns)
        first, second = keep.terms
        for known_term, open_term in ((first, second), (second, first)):
            if _known(known_term) is not None and _known(open_term) is None:
                rest = total - _known(known_term)
                if rest < 1:
                    raise _Conflict()
                _unify(st, open_term, DimVar(rest))
                break
        else:
            keep.value = total
    drop.parent = keep
    keep.name = keep.name or drop.name
    keep.not_one = keep.not_one or drop.not_one
    if drop.value is not None or drop.factors is not None or drop.terms is not None:
        st.deferred.append((keep, DimVar(value=drop.value, factors=drop.factors,
                                         terms=drop.terms)))


def _verify_deferred(st: _State) -> None:
    for a, b in st.deferred:
        ka, kb = _known(a), _known(b)
        if ka is not None and kb is not None and ka != kb:
            raise ShapeError("inconsistent sizes: a Kronecker or vec size does not match",
                             None, st.source)


def _shape_error(st, op_text, node: Binary | Syntax, left, ls, right=None, rs=None,
                 detail=""):
    where = node.op_span if isinstance(node, Binary) and node.op_span.end > node.op_span.start \
        else node.span
    if right is None:
        msg = (f"shape conflict in {op_text}: {_operand_text(st, left)} is "
               f"{_describe(st, ls)}")
    else:
        msg = (f"shape conflict in {op_text}: {_operand_text(st, left)} is "
               f"{_describe(st, ls)} but {_operand_text(st, right)} is {_describe(st, rs)}")
    if detail:
        msg += f" ({detail})"
    return ShapeError(msg, where, st.source)


def _as_matrix(shape: tuple) -> tuple:
    if len(shape) == 0:
        one = DimVar(1)
        return one, one
    if len(shape) == 1:
        return shape[0], DimVar(1)
    return shape


def _normalize(rows: DimVar, cols: DimVar) -> tuple:
    if _is_one(cols):
        return () if _is_one(rows) else (rows,)
    return (rows, cols)


def _unify_shapes(st, a: tuple, b: tuple) -> None:
    if len(a) != len(b):
        raise _Conflict()
    for x, y in zip(a, b):
        _unify(st, x, y)


def _variable_shape(st: _State, node: Name) -> tuple:
    name = node.name
    if name in st.shapes_of_vars:
        return st.shapes_of_vars[name]
    spec = st.declared.get(name)
    array_shape = st.arrays.get(name)
    if spec is not None:
        dims = []
        for size in spec:
            dims.append(DimVar(size) if isinstance(size, int) else _user_dim(st, size))
        shape = tuple(dims)
        if len(shape) == 2:
            shape = _normalize(*shape)
        elif len(shape) == 1 and _is_one(shape[0]):
            shape = ()
        if array_shape is not None:
            _check_array_against(st, name, shape, array_shape)
    elif array_shape is not None:
        shape = _shape_from_array(name, array_shape)
    else:
        kind = convention_kind(name)
        shape = {"scalar": (), "vector": (DimVar(not_one=True),),
                 "matrix": (DimVar(), DimVar(not_one=True))}[kind]
    st.shapes_of_vars[name] = shape
    return shape


def _shape_from_array(name: str, array_shape: tuple) -> tuple:
    kind = convention_kind(name)
    if 0 in tuple(array_shape):
        raise UsageError(f"input {name} is empty (shape {tuple(array_shape)}): every input "
                         "needs at least one entry")
    if len(array_shape) > 2:  # a tensor (SPEC §2b)
        return tuple(DimVar(d) for d in array_shape)
    if len(array_shape) == 2:
        r, c = array_shape
        # An (n,1) or (1,n) array is accepted for a variable that is a vector.
        if kind == "vector" and (r == 1 or c == 1):
            n = r * c
            return () if n == 1 else (DimVar(n),)
        return _normalize(DimVar(r), DimVar(c))
    if len(array_shape) == 1:  # length 1: read as a scalar, as a number given for it is
        # (its derivative keeps the shape (1,): app.pipeline.kept_shape)
        return () if array_shape[0] == 1 and kind != "matrix" else (DimVar(array_shape[0]),)
    return ()


def _check_array_against(st, name, shape, array_shape):
    if shape == () and math.prod(array_shape) == 1:
        return  # one entry for a scalar or a length-1 vector (x=1), read as the scalar
    given = _shape_from_array(name, array_shape)
    try:
        if len(given) == 2 and len(shape) == 1 and 1 in array_shape:
            given = (DimVar(array_shape[0] * array_shape[1]),)
        _unify_shapes(st, shape, given)
    except _Conflict:
        raise UsageError(f"input {name} has shape {tuple(array_shape)} but its declared shape "
                         f"is {_describe(st, shape)}") from None


def _infer(st: _State, node: Syntax, defined: dict, size_names: set) -> tuple:
    known = st.node_shapes.get(id(node))
    if known is not None:
        return known
    if isinstance(node, (Transpose, Binary, CallExpr, NormExpr, BlockExpr)):
        # operands first, so that a whole tensor (3+ axes) where a matrix operation needs
        # a matrix is an error with a caret, before the operation's own rule reads it
        for child in syntax_children(node, into_sizes=False):
            _infer(st, child, defined, size_names)
        check_tensor_use(st, node)
    shape = _infer_node(st, node, defined, size_names)
    st.node_shapes[id(node)] = shape
    return shape


def _size_poly(st: _State, node: Syntax, call: CallExpr) -> dict:
    """A size written with +, - and * of integers and dimension names, as a polynomial
    (ir.dim_poly's form: {sorted names: coefficient})."""
    if isinstance(node, NumberLit):
        if node.value.denominator != 1:
            raise ShapeError(f"a size must be an integer, not {node.text}", node.span,
                             st.source)
        return {(): int(node.value)} if node.value else {}
    if isinstance(node, Name):
        known = _known(_user_dim(st, node.name))
        return {(node.name,): 1} if known is None else {(): known}
    if isinstance(node, Binary) and node.op in ("+", "-", "*"):
        a, b = _size_poly(st, node.left, call), _size_poly(st, node.right, call)
        out: dict = {}
        if node.op == "*":
            for ka, ca in a.items():
                for kb, cb in b.items():
                    key = tuple(sorted(ka + kb))
                    out[key] = out.get(key, 0) + ca * cb
        else:
            out = dict(a)
            for k, c in b.items():
                out[k] = out.get(k, 0) + (c if node.op == "+" else -c)
        return {k: c for k, c in out.items() if c}
    raise ShapeError(f"the size in {call.name}(...) must be an integer or a dimension name, "
                     "or +, - and * of them",
                     node.span, st.source)


def _poly_dimvar(st: _State, poly: dict, node: Syntax, what: str) -> DimVar:
    """The dimension a size polynomial stands for (a sum of products of named sizes)."""
    if any(c < 0 for c in poly.values()) or not poly:
        raise ShapeError(f"{what} must be positive for every size of the dimensions (with "
                         "open sizes, a sum of sizes: give the others with --dim)",
                         node.span, st.source)
    parts = []
    for key, coef in sorted(poly.items(), key=lambda kc: (kc[0] == (), kc[0])):
        factors = ([DimVar(coef)] if coef != 1 or not key else []) + \
            [_user_dim(st, name) for name in key]
        term = factors[0]
        for f in factors[1:]:
            term = DimVar(factors=(term, f))
        parts.append(term)
    out = parts[0]
    for p in parts[1:]:
        out = DimVar(terms=(out, p))
    return out


def _size_arg(st: _State, node: Syntax, call: CallExpr) -> DimVar:
    if isinstance(node, Binary) and node.op in ("+", "-"):
        return _poly_dimvar(st, _size_poly(st, node, call), node, "a size")
    if isinstance(node, NumberLit):
        if node.value.denominator != 1 or node.value < 1:
            raise ShapeError(f"a size must be a positive integer, not {node.text}", node.span,
                             st.source)
        return DimVar(int(node.value))
    if isinstance(node, Name):
        return _user_dim(st, node.name)
    if isinstance(node, Binary) and node.op == "*":
        a, b = _size_arg(st, node.left, call), _size_arg(st, node.right, call)
        return DimVar(factors=(a, b))
    raise ShapeError(f"the size in {call.name}(...) must be an integer or a dimension name, "
                     "or +, - and * of them",
                     node.span, st.source)


def _infer_node(st: _State, node: Syntax, defined: dict, size_names: set) -> tuple:
    sub = lambda n: _infer(st, n, defined, size_names)  # noqa: E731
    if isinstance(node, NumberLit):
        return ()
    if isinstance(node, Name):
        if node.name == "I":
            d = DimVar()
            st.identity_dims.append((d, node.span))
            return (d, d)
        if node.name in defined:
            return defined[node.name]
        if node.name in size_names:
            raise ShapeError(f"'{node.name}' is used both as a size and as a value", node.span,
                             st.source)
        return _variable_shape(st, node)
    if isinstance(node, Negate):
        return sub(node.operand)
    if isinstance(node, Transpose):
        shape = sub(node.operand)
        if len(shape) == 0:
            return ()
        rows, cols = _as_matrix(shape)
        return _normalize(cols, rows)
    if isinstance(node, NormExpr):
        sub(node.operand)  # ||X||_2 of a matrix is its spectral norm, ||X||_* the nuclear
        return ()
    if isinstance(node, CallExpr) and node.name in SLICES:
        return _infer_slice(st, node, sub)
    if isinstance(node, CallExpr):
        return _infer_call(st, node, sub)
    if isinstance(node, Binary):
        return _infer_binary(st, node, sub)
    if isinstance(node, BlockExpr):
        return _infer_block(st, node, sub)
    if isinstance(node, INDEX_SYNTAX):
        return infer_index_node(st, node, sub, defined)
    raise AssertionError(node)


class _Blocks(Syntax):
    """Some blocks of a block matrix, as one operand of a shape-conflict message."""


def _blocks_operand(parts) -> Syntax:
    return _Blocks(parts[0].span.cover(parts[-1].span))


def _infer_block(st: _State, node: BlockExpr, sub) -> tuple:
    """[A, B; C, D]: the blocks of a row have one height and their widths add up; the rows
    have one width and their heights add up. A scalar is 1×1, a vector a column."""
    rows = []  # (height, width) of each block row
    for row, commas in zip(node.rows, node.commas):
        shapes = [sub(e) for e in row]
        height, width = _as_matrix(shapes[0])
        for i in range(1, len(row)):
            r, c = _as_matrix(shapes[i])
            try:
                _unify(st, height, r)
            except _Conflict:
                raise ShapeError(
                    f"shape conflict in ',' (horizontal join): {_operand_text(st, row[i - 1])} "
                    f"is {_describe(st, shapes[i - 1])} but {_operand_text(st, row[i])} is "
                    f"{_describe(st, shapes[i])} (blocks side by side need the same number "
                    "of rows)", commas[i - 1], st.source) from None
            width = _sum_dim(width, c)
        rows.append((height, width))
    height, width = rows[0]
    for i in range(1, len(rows)):
        r, c = rows[i]
        try:
            _unify(st, width, c)
        except _Conflict:
            above, below = node.rows[i - 1], node.rows[i]
            raise ShapeError(
                f"shape conflict in ';' (vertical join): the block row "
                f"{_operand_text(st, _blocks_operand(above))} is "
                f"{_describe(st, _normalize(*rows[i - 1]))} but the block row "
                f"{_operand_text(st, _blocks_operand(below))} is "
                f"{_describe(st, _normalize(r, c))} (stacked blocks need the same number of "
                "columns)", node.semicolons[i - 1], st.source) from None
        height = _sum_dim(height, r)
    return _normalize(height, width)


def _sum_dim(a: DimVar, b: DimVar) -> DimVar:
    ka, kb = _known(a), _known(b)
    if ka is not None and kb is not None:
        return DimVar(ka + kb)
    return DimVar(terms=(a, b))


def _infer_slice(st: _State, node: CallExpr, sub) -> tuple:
    """rows(X, a, b) / cols(X, a, b): b − a + 1 rows (columns) of X."""
    shape = sub(node.args[0])
    m, n = _as_matrix(shape)
    first = _size_poly(st, node.args[1], node)
    last = _size_poly(st, node.args[2], node)
    count = dict(last)
    for k, c in first.items():
        count[k] = count.get(k, 0) - c
    count[()] = count.get((), 0) + 1
    count = {k: c for k, c in count.items() if c}
    span_node = _Blocks(node.args[1].span.cover(node.args[2].span))
    size = _poly_dimvar(st, count, span_node, f"the range in {node.name}(X, a, b) (b − a + 1)")
    if node.name == "rows":
        return _normalize(size, n)
    return _normalize(m, size)


def _infer_call(st: _State, node: CallExpr, sub) -> tuple:
    name = node.name
    if name in SIZED:
        sizes = [_size_arg(st, a, node) for a in node.args]
        if name == "eye":
            return () if _is_one(sizes[0]) else (sizes[0], sizes[0])
        if name == "commutation":
            d = DimVar(factors=(sizes[0], sizes[1]))
            return (d, d)
        if len(sizes) == 1:
            return () if _is_one(sizes[0]) else (sizes[0],)
        return _normalize(sizes[0], sizes[1])
    shapes = [sub(a) for a in node.args]
    if name in ENTRYWISE or name in st.function_keys:
        return shapes[0]
    arg = node.args[0]
    shape = shapes[0]
    info = lookup(name)
    if info.accepts == "broadcast":
        if shapes[0] and shapes[1]:
            try:
                _unify_shapes(st, shapes[0], shapes[1])
            except _Conflict:
                raise _shape_error(st, f"{name}(a, b)", node, node.args[0], shapes[0],
                                   node.args[1], shapes[1], "a and b must have one shape, "
                                   "or one of them be a scalar") from None
        return shapes[1] if not shapes[0] else shapes[0]
    if info.accepts == "square" and len(shape) > 0:
        if len(shape) == 1:
            hint = "; Diag(x) makes a diagonal matrix from a vector" if name == "diag" else ""
            raise ShapeError(f"{name} needs a square matrix, but {_operand_text(st, arg)} is "
                             f"{_describe(st, shape)}{hint}", node.span, st.source)
        try:
            _unify(st, shape[0], shape[1])
        except _Conflict:
            raise ShapeError(f"{name} needs a square matrix, but {_operand_text(st, arg)} is "
                             f"{_describe(st, shape)}", node.span, st.source) from None
    if info.accepts == "square" and info.arity == 2:  # expm_frechet(X, E): E like X
        try:
            _unify_shapes(st, shape, shapes[1])
        except _Conflict:
            raise _shape_error(st, f"{name}(X, E)", node, node.args[0], shape, node.args[1],
                               shapes[1], "E must have the shape of the square X") from None
    if info.accepts == "vector" and len(shape) == 2:
        hint = "; diag(X) takes the diagonal of a matrix" if name == "Diag" else ""
        if name in ALONG:
            hint = (f": give the dimension, {name}(X, 1) down each column or {name}(X, 2) "
                    "along each row")
        raise ShapeError(f"{name} needs a vector, but {_operand_text(st, arg)} is "
                         f"{_describe(st, shape)}{hint}", node.span, st.source)
    return info.shape(_SymbolicDims(st), *shapes)


class _SymbolicDims:
    """The registry's dimension algebra over symbolic dimensions: sizes are unified,
    products of sizes are kept as factors."""

    def __init__(self, st: _State):
        self.st = st

    def one(self):
        return DimVar(1)

    def is_one(self, d) -> bool:
        return _is_one(d)

    def mul(self, a, b):
        if _is_one(a):
            return b
        if _is_one(b):
            return a
        return DimVar(factors=(a, b))

    def add(self, a, b):
        return DimVar(terms=(a, b))

    def same(self, a, b) -> None:
        _unify(self.st, a, b)


_OP_NAMES = {"+": "'+'", "-": "'-'", ":": "':' (Frobenius product)", "*": "the product",
             ".*": "'.*' (entrywise product)", "./": "'./' (entrywise division)",
             "/": "'/'", "^": "'^'", ".^": "'.^'"}


def _op_name(node: Binary) -> str:
    if node.op == "*" and node.op_text == "":
        return "the product (juxtaposition)"
    if node.op == ".*" and node.op_text in ("⊙", "∘"):
        return f"'{node.op_text}' (entrywise product)"
    return _OP_NAMES[node.op]


def _infer_binary(st: _State, node: Binary, sub) -> tuple:
    op = node.op
    if op in ("^", ".^"):
        return _infer_power(st, node, sub)
    ls, rs = sub(node.left), sub(node.right)
    try:
        if op in ("+", "-", ".*", "./"):
            if len(ls) == 0:
                return rs
            if len(rs) == 0:
                return ls
            _unify_shapes(st, ls, rs)
            return ls
        if op == ":":
            _unify_shapes(st, ls, rs)
            return ()
        if op == "/":
            if len(rs) != 0:
                raise _shape_error(st, "'/'", node, node.left, ls, node.right, rs,
                                   "'/' needs a scalar divisor: use './' for entrywise "
                                   "division")
            return ls
        if op == "*":
            if len(ls) == 0:
                return rs
            if len(rs) == 0:
                return ls
            lr, lc = _as_matrix(ls)
            rr, rc = _as_matrix(rs)
            _unify(st, lc, rr)
            return _normalize(lr, rc)
    except _Conflict:
        raise _shape_error(st, _op_name(node), node, node.left, ls, node.right, rs,
                           _product_hint(st, node, ls, rs)) from None
    raise AssertionError(op)


def _product_hint(st: _State, node: Binary, ls: tuple, rs: tuple) -> str:
    """What the user probably meant by a product that does not fit."""
    if node.op != "*":
        return ""
    left = node.left
    if node.op_text == "" and isinstance(left, Name) and left.span.end == node.right.span.start \
            and st.source.startswith("(", node.right.span.start):
        return f"'{left.name}' is not a function, so {left.name}(...) is a product"
    if len(ls) == 1 and len(rs) == 1:
        a, b = _operand_text(st, left), _operand_text(st, node.right)
        if isinstance(left, (Name, NumberLit, CallExpr, NormExpr)) and \
                isinstance(node.right, (Name, NumberLit, CallExpr, NormExpr)):
            return f"for two vectors write {a}'*{b}, {a}*{b}' or {a}.*{b}"
        return "two column vectors cannot be multiplied: transpose one, or use .*"
    return ""


def _integer_exponent(node: Syntax) -> int | None:
    if isinstance(node, NumberLit) and node.value.denominator == 1:
        return int(node.value)
    if isinstance(node, Negate):
        inner = _integer_exponent(node.operand)
        return None if inner is None else -inner
    return None


def _infer_power(st: _State, node: Binary, sub) -> tuple:
    ls, rs = sub(node.left), sub(node.right)
    if len(rs) != 0:
        raise ShapeError(f"the exponent of {_OP_NAMES[node.op]} must be a scalar, but "
                         f"{_operand_text(st, node.right)} is {_describe(st, rs)}",
                         node.op_span, st.source)
    if node.op == ".^" or len(ls) == 0:
        return ls
    base = _operand_text(st, node.left)
    if len(ls) == 1:
        power = _operand_text(st, node.right)
        exponent = node.right.operand if isinstance(node.right, Negate) else node.right
        norm = (f" or ||{base}||^{power} for "
                + ("the squared norm" if power == "2" else "a power of its norm")
                if isinstance(exponent, NumberLit) else "")
        raise ShapeError(f"'^' of a vector: {base} is {_describe(st, ls)}; use {base}.^{power} "
                         f"for an entrywise power{norm}", node.op_span, st.source)
    if _integer_exponent(node.right) is None:
        raise ShapeError(f"a matrix power needs an integer exponent ({base} is "
                         f"{_describe(st, ls)}): use .^ for an entrywise power", node.op_span,
                         st.source)
    try:
        _unify(st, ls[0], ls[1])
    except _Conflict:
        raise ShapeError(f"'^' needs a square matrix, but {base} is {_describe(st, ls)}; use "
                         ".^ for an entrywise power", node.op_span, st.source) from None
    return ls


# ---------------------------------------------------------------- naming open dimensions

def _resolve_names(st: _State, syntax: ProgramSyntax, defined: dict) -> dict:
    """A name for every open dimension class: the user's, else a fresh textbook letter."""
    taken = set(st.shapes_of_vars) | set(defined) | {
        d.root().name for d in st.dim_names.values() if d.root().name}
    names: dict[DimVar, str] = {}
    pool = [p for p in DIMENSION_LETTERS if p not in taken]
    extra = 0

    def fresh() -> str:
        nonlocal extra
        if pool:
            return pool.pop(0)
        extra += 1
        while f"n{extra}" in taken:
            extra += 1
        return f"n{extra}"

    def assign(d: DimVar):
        r = d.root()
        if _known(r) is not None or _composite(r) or r in names:
            return
        names[r] = r.name if r.name else fresh()

    vectors = [s for s in st.shapes_of_vars.values() if len(s) == 1]
    for shape in vectors:
        assign(shape[0])
    if "m" in pool and "n" in pool:  # a matrix reads m×n in textbooks
        pool.remove("m")
        pool.insert(0, "m")
    for shape in st.shapes_of_vars.values():
        for d in shape:
            assign(d)
    for d in st.dim_names.values():
        assign(d)
    for d, _ in st.identity_dims:
        assign(d)
    return names


# ---------------------------------------------------------------- building the IR

class _Builder:
    def __init__(self, st: _State, names: dict, defined_syntax: dict, structures: dict):
        self.structures = structures
        self.st = st
        self.names = names
        self.defined_syntax = defined_syntax

    def dim(self, d: DimVar) -> ir.Dim:
        k = _known(d)
        if k is not None:
            return k
        r = d.root()
        if r.factors is not None:
            return ir.dim_mul(self.dim(r.factors[0]), self.dim(r.factors[1]))
        if r.terms is not None:
            return ir.dim_add(self.dim(r.terms[0]), self.dim(r.terms[1]))
        if r not in self.names:
            self.names[r] = r.name or f"n{len(self.names) + 1}"
        return self.names[r]

    def resolve_shape(self, shape: tuple) -> ir.Shape:
        dims = tuple(self.dim(d) for d in shape)
        if len(dims) == 2:
            return ir.normalize_shape(*dims)
        if len(dims) == 1 and dims[0] == 1:
            return ()
        return dims

    def build(self, node: Syntax, definitions: dict) -> ir.Node:
        b = lambda n: self.build(n, definitions)  # noqa: E731
        shape = self.resolve_shape(self.st.node_shapes[id(node)])
        span = node.span
        if isinstance(node, NumberLit):
            return ir.Num(node.value, span=span)
        if isinstance(node, Name):
            if node.name == "I":
                return ir.Eye(shape[0], spelled_I=True, span=span) if shape else ir.Num(1)
            if node.name in definitions:
                return definitions[node.name]
            return ir.Var(node.name, shape, span=span,
                          structure=self.structures.get(node.name, ""))
        if isinstance(node, Negate):
            return ir.Scale(ir.Num(-1), b(node.operand), span=span)
        if isinstance(node, Transpose):
            inner = b(node.operand)
            return inner if inner.shape == () else ir.T(inner, span=span)
        if isinstance(node, NormExpr):
            return ir.Call(_norm_entry(node.subscript, operand := b(node.operand)),
                           (operand,), span=span)
        if isinstance(node, CallExpr) and node.name in SLICES:
            return self.build_slice(node, b)
        if isinstance(node, CallExpr):
            return self.build_call(node, shape, b)
        if isinstance(node, INDEX_SYNTAX):
            return build_index_node(self, node, b, definitions)
        if isinstance(node, BlockExpr):
            try:
                rows = [functools.reduce(_hcat, [b(e) for e in row]) for row in node.rows]
                return functools.reduce(_vcat, rows)
            except ir.ShapeMismatch:
                raise _undecided(self.st, "the block matrix", node.span) from None
        if isinstance(node, Binary):
            try:
                return self.build_binary(node, b)
            except ir.ShapeMismatch:
                # Only products (kron, vec) or sums (block matrices) of symbolic sizes can
                # get here: unification cannot tell whether m·n equals k·p, or how a known
                # total splits into open blocks.
                raise _undecided(self.st, _op_name(node),
                                 node.op_span if node.op_text else node.span) from None
        raise AssertionError(node)

    def size(self, poly: dict) -> ir.Dim:
        """A size polynomial over dimension names, in resolved sizes."""
        total: ir.Dim = 0
        for key, coef in poly.items():
            term: ir.Dim = coef
            for name in key:
                term = ir.dim_mul(term, self.dim(_user_dim(self.st, name)))
            total = ir.dim_add(total, term)
        return total

    def build_slice(self, node: CallExpr, b) -> ir.Node:
        """rows(X, a, b) / cols(X, a, b) as the block X[a:b, :] / X[:, a:b]."""
        x = b(node.args[0])
        first = self.size(_size_poly(self.st, node.args[1], node))
        last = self.size(_size_poly(self.st, node.args[2], node))
        m, n = ir.as_matrix(x.shape)
        full = m if node.name == "rows" else n
        below = ir.dim_difference(1, first)  # first − 1
        beyond = ir.dim_difference(last, full)  # full − last
        if (below is not None and below < 0) or (beyond is not None and beyond < 0):
            what = "rows" if node.name == "rows" else "columns"
            raise ShapeError(f"{node.name}({_operand_text(self.st, node.args[0])}, "
                             f"{ir.poly_dim(ir.dim_poly(first))}, {last}) is out of range: "
                             f"{_operand_text(self.st, node.args[0])} has {full} {what}",
                             node.span, self.st.source)
        start, count = ir.dim_sub(first, 1), ir.dim_add(ir.dim_sub(last, first), 1)
        if node.name == "rows":
            return ir.Slice(x, start, count, 0, n, span=node.span)
        return ir.Slice(x, 0, m, start, count, span=node.span)

    def build_call(self, node: CallExpr, shape, b) -> ir.Node:
        name, span = node.name, node.span
        if name in SIZED:
            if name == "eye":
                return ir.Eye(shape[0], span=span) if shape else ir.Num(1, span=span)
            if name == "commutation":
                sizes = [self.dim(_size_arg(self.st, a, node)) for a in node.args]
                return ir.Commutation(sizes[0], sizes[1], span=span)
            if shape == ():
                return ir.Num(1 if name == "ones" else 0, span=span)
            return (ir.Ones if name == "ones" else ir.Zeros)(shape, span=span)
        args = tuple(b(a) for a in node.args)
        if name in self.st.function_keys:
            return ir.Func(self.st.function_keys[name], args[0], span=span)
        if name in ENTRYWISE:
            return ir.Func(name, args[0], span=span)
        entry = lookup(name)
        if entry.along is not None:
            return _along.build(*entry.along, args[0])
        return ir.Call(name, args, span=span)

    def build_binary(self, node: Binary, b) -> ir.Node:
        left, right = b(node.left), b(node.right)
        op, span = node.op, node.span
        if op in ("+", "-"):
            left, right = _broadcast(left, right)
            if op == "-":
                right = ir.Scale(ir.Num(-1), right)
            return ir.Add((left, right), span=span)
        if op == ":":
            return ir.Frob(left, right, span=span)
        if op == "*":
            if left.shape == ():
                return ir.Scale(left, right, span=span)
            if right.shape == ():
                return ir.Scale(right, left, span=span)
            return ir.MatMul(left, right, span=span)
        if op == ".*":
            if left.shape == ():
                return ir.Scale(left, right, span=span)
            if right.shape == ():
                return ir.Scale(right, left, span=span)
            return ir.Had(left, right, span=span)
        if op in ("./", "/"):
            if _constant_value(right) == 0:
                raise ShapeError("division by zero", node.op_span, self.st.source)
            left, right = _broadcast(left, right)
            return ir.Div(left, right, span=span)
        if op == ".^" or left.shape == ():
            return ir.Pow(left, right, span=span)
        k = _integer_exponent(node.right)
        if k == 0:
            return ir.Eye(left.shape[0], span=span)
        if k == 1:
            return left
        if k == -1:
            return ir.Call("inv", (left,), span=span)
        return ir.MatPow(left, k, span=span)


def _undecided(st: _State, what: str, span: Span) -> ShapeError:
    return ShapeError(f"cannot tell whether the sizes in {what} agree (sums or products of "
                      "symbolic sizes): give the shapes with --shape or --dim", span, st.source)


def _hcat(a: ir.Node, b: ir.Node) -> ir.Node:
    return ir.Call("hcat", (a, b), span=a.span.cover(b.span) if a.span and b.span else None)


def _vcat(a: ir.Node, b: ir.Node) -> ir.Node:
    return ir.Call("vcat", (a, b), span=a.span.cover(b.span) if a.span and b.span else None)


def _norm_entry(subscript, operand: ir.Node) -> str:
    """The registry entry of a norm: ||X||_1 the sum of absolute values; of a true matrix
    (neither size 1) ||X||_2 the spectral and ||X||_* the nuclear norm; every other norm
    (of a vector or a row, where all three agree) the Euclidean / Frobenius one."""
    if subscript == "1":
        return "norm1"
    matrix = len(operand.shape) == 2 and 1 not in operand.shape
    if matrix and subscript == "2":
        return "spectral_norm"
    if matrix and subscript == "*":
        return "nuclear_norm"
    return "norm"


def _constant_value(node: ir.Node):
    """The exact value of a constant scalar made of numbers, sums and products (else None)."""
    if isinstance(node, ir.Num):
        return node.value
    if isinstance(node, ir.Fill):
        return _constant_value(node.value)
    if isinstance(node, ir.Zeros):
        return 0
    if isinstance(node, ir.Add):
        values = [_constant_value(t) for t in node.terms]
        return None if None in values else sum(values)
    if isinstance(node, ir.Scale):
        a, b = _constant_value(node.factor), _constant_value(node.operand)
        return None if a is None or b is None else a * b
    if isinstance(node, ir.Call) and node.shape == () and \
            node.name in _IDENTITY_ON_SCALARS | {"kron"}:  # Diag(0), tr(0), kron(2, 0) …
        values = [_constant_value(a) for a in node.args]
        if None in values:
            return None
        return values[0] * values[1] if node.name == "kron" else values[0]
    return None


# functions whose value at a scalar is that scalar
_IDENTITY_ON_SCALARS = {"Diag", "diag", "tr", "det", "vec", "sum", "mean"}


def _broadcast(left: ir.Node, right: ir.Node):
    if left.shape == right.shape:
        return left, right
    if left.shape == ():
        return ir.Fill(left, right.shape, span=left.span), right
    return left, ir.Fill(right, left.shape, span=right.span)


# index notation (SPEC §2b) lives in index_shapes.py, which uses this module's helpers: it
# is imported where it is called, so the two modules form no import cycle

def infer_index_node(st, node, sub, defined):
    from .index_shapes import infer_index_node as run

    return run(st, node, sub, defined)


def infer_indexed_definition(st, definition, sub):
    from .index_shapes import infer_indexed_definition as run

    return run(st, definition, sub)


def check_tensor_use(st, node) -> None:
    from .index_shapes import check_tensor_use as run

    run(st, node)


def build_index_node(builder, node, b, definitions):
    from .index_shapes import build_index_node as run

    return run(builder, node, b, definitions)


def build_indexed_definition(builder, definition, definitions):
    from .index_shapes import build_indexed_definition as run

    return run(builder, definition, definitions)

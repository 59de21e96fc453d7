"""Shapes of index notation (SPEC §2b): every index name is one dimension, unified with
every axis it indexes (a conflict is a shape error pointing at the index), bound by the
sum or the indexed definition around it.
"""
from __future__ import annotations

from .. import ir
from ..errors import ShapeError
from .index_syntax import INDEX_SYNTAX, DeltaExpr, IndexExpr, IndexedDefinition, SumBinder
from .parser import Name
from .shapes import (DimVar, _Conflict, _describe, _dim_text, _normalize, _resolve_names,
                     _unify, _variable_shape)

__all__ = ["INDEX_SYNTAX", "build_index_node", "build_indexed_definition", "check_tensor_use",
           "infer_index_node", "infer_indexed_definition"]


def _index_dim(st, label: str) -> DimVar:
    if label not in st.index_dims:
        st.index_dims[label] = DimVar()
    return st.index_dims[label]


def _bind_index(st, label: str, span, axis_dim: DimVar, where: str) -> None:
    if label not in st.bound_indices:
        raise ShapeError(f"index '{label}' is not bound: sum over it (sum({label}: ...)) or "
                         "use it in an indexed definition (G[..., "
                         f"{label}, ...] = ...)", span, st.source)
    d = _index_dim(st, label)
    before = _dim_text(d, _resolve_names(st, None, st.defined))
    try:
        _unify(st, d, axis_dim)
    except _Conflict:
        raise ShapeError(f"shape conflict in index '{label}': it ranges over {before} "
                         f"elsewhere but {where} has {_dim_text(axis_dim)}", span,
                         st.source) from None


def _colon_shape(dims: list) -> tuple:
    if len(dims) == 2:
        return _normalize(dims[0], dims[1])
    return tuple(dims)


def _indexed_shape(st, node: IndexExpr, defined: dict) -> tuple:
    if node.name in defined:
        return defined[node.name]
    if node.name == "I":
        raise ShapeError("I cannot be indexed: use delta(i, j)", node.name_span, st.source)
    return _variable_shape(st, Name(node.name_span, node.name))


def infer_index_node(st, node, sub, defined: dict) -> tuple:
    if isinstance(node, IndexExpr):
        shape = _indexed_shape(st, node, defined)
        if len(shape) != len(node.entries):
            what = _describe(st, shape)
            hint = ""
            if len(node.entries) > 2 and node.name not in st.declared and \
                    node.name not in defined:
                hint = (f": declare a tensor with --shape {node.name}="
                        + ",".join("lmnpqr"[k] for k in range(len(node.entries))))
            raise ShapeError(f"{node.name} is {what} ({len(shape)} axes) but is indexed with "
                             f"{len(node.entries)}{hint}", node.span, st.source)
        colons = []
        for k, (entry, span) in enumerate(zip(node.entries, node.entry_spans)):
            if entry is None:
                colons.append(shape[k])
            else:
                _bind_index(st, entry, span, shape[k], f"axis {k + 1} of {node.name}")
        return _colon_shape(colons)
    if isinstance(node, SumBinder):
        for label, span in zip(node.labels, node.label_spans):
            if label in st.bound_indices:
                raise ShapeError(f"index '{label}' is already bound by an enclosing sum: "
                                 "use another name", span, st.source)
        st.bound_indices.extend(node.labels)
        try:
            return sub(node.body)
        finally:
            del st.bound_indices[-len(node.labels):]
    if isinstance(node, DeltaExpr):
        for label, span in ((node.i, node.i_span), (node.j, node.j_span)):
            if label not in st.bound_indices:
                raise ShapeError(f"index '{label}' is not bound: sum over it "
                                 f"(sum({label}: ...))", span, st.source)
        try:
            _unify(st, _index_dim(st, node.i), _index_dim(st, node.j))
        except _Conflict:
            raise ShapeError(f"shape conflict in delta({node.i}, {node.j}): the two indices "
                             "range over different sizes", node.span, st.source) from None
        return ()
    raise AssertionError(node)


def infer_indexed_definition(st, definition: IndexedDefinition, sub) -> tuple:
    labels = [e for e in definition.pattern if e is not None]
    for k, label in enumerate(labels):
        if label in labels[:k]:
            span = [s for e, s in zip(definition.pattern, definition.pattern_spans)
                    if e == label][1]
            raise ShapeError(f"index '{label}' appears twice in the pattern of "
                             f"{definition.name}", span, st.source)
    st.bound_indices.extend(labels)
    try:
        body = sub(definition.value)
    finally:
        if labels:
            del st.bound_indices[-len(labels):]
    colons = definition.pattern.count(None)
    body_axes = list(body)
    if colons != len(body_axes):
        raise ShapeError(f"the pattern of {definition.name} has {colons} ':' but the body is "
                         f"{_describe(st, body)} ({len(body_axes)} axes)", definition.span,
                         st.source)
    dims, axes = [], iter(body_axes)
    for entry, span in zip(definition.pattern, definition.pattern_spans):
        if entry is None:
            dims.append(next(axes))
        elif entry not in st.index_dims:
            raise ShapeError(f"index '{entry}' is not used in the body of {definition.name}, "
                             "so its range is unknown", span, st.source)
        else:
            dims.append(st.index_dims[entry])
    return _colon_shape(dims)


def build_index_node(builder, node, b, definitions: dict) -> ir.Node:
    st = builder.st
    if isinstance(node, IndexExpr):
        if node.name in definitions:
            operand = definitions[node.name]
        else:
            shape = builder.resolve_shape(st.shapes_of_vars[node.name])
            operand = ir.Var(node.name, shape, span=node.name_span,
                             structure=builder.structures.get(node.name, ""))
        return ir.Indexed(operand, tuple(node.entries), span=node.span)
    if isinstance(node, SumBinder):
        sizes = tuple(builder.dim(st.index_dims[label]) for label in node.labels)
        return ir.IndexSum(b(node.body), tuple(node.labels), sizes, span=node.span)
    if isinstance(node, DeltaExpr):
        return ir.Delta(node.i, node.j, builder.dim(st.index_dims[node.i]), span=node.span)
    raise AssertionError(node)


def build_indexed_definition(builder, definition: IndexedDefinition, definitions) -> ir.Node:
    body = builder.build(definition.value, definitions)
    dims, axes = [], iter(body.shape)
    for entry in definition.pattern:
        dims.append(next(axes) if entry is None else
                    builder.dim(builder.st.index_dims[entry]))
    return ir.Build(body, tuple(definition.pattern), tuple(dims), span=definition.span)


# What a whole tensor (3+ axes, not indexed) may be an operand of: entrywise operations,
# sums and scalings, the sum of all entries and the Frobenius norm and product. Matrix
# operations (products, transposes, inverses …) need its slices: T[:, i, :].
_ENTRYWISE_OPS = {"+", "-", ".*", "./", ":", ".^"}


def check_tensor_use(st, node) -> None:
    from ..ops import ENTRYWISE
    from .parser import Binary, BlockExpr, CallExpr, NormExpr, Transpose, syntax_children

    operands = [c for c in syntax_children(node) if len(st.node_shapes.get(id(c), ())) > 2]
    if not operands:
        return
    tensor = operands[0]
    if isinstance(node, Binary):
        other = node.right if tensor is node.left else node.left
        scalar_other = st.node_shapes.get(id(other)) == ()
        if node.op in _ENTRYWISE_OPS or (node.op in ("*", "/") and scalar_other):
            return
        if node.op == "^" and scalar_other:
            what = "'^' (use .^ for an entrywise power)"
        else:
            what = "a matrix product" if node.op == "*" else f"'{node.op}'"
    elif isinstance(node, CallExpr):
        if node.name in ENTRYWISE or node.name in st.function_keys or node.name in (
                "sum", "max", "min", "norm") and len(node.args) <= 2:
            return
        what = f"{node.name}(...)"
    elif isinstance(node, NormExpr):
        if node.subscript in (None, "F", "1"):
            return
        what = "this norm"
    elif isinstance(node, Transpose):
        what = "a transpose"
    elif isinstance(node, BlockExpr):
        what = "a block matrix"
    else:
        return
    text = st.source[tensor.span.start:tensor.span.end].strip()
    raise ShapeError(f"{text} is a tensor ({_describe(st, st.node_shapes[id(tensor)])}): "
                     f"{what} needs a matrix; index its slices ({text}[:, i, :], with "
                     "sum(i: ...))", node.span, st.source)

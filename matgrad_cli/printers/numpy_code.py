"""The ``numpy`` output format (SPEC §5): one self-contained function an engineer can paste
into a project, ``f_and_grad(...)``, returning ``(value, {name: derivative})`` (and
``{name: hessian}`` with ``--order 2``), derivatives shaped ``f.shape + X.shape`` (§4).

The body is printed from the same evaluation plan ``eval`` runs (shared sub-expressions,
the cheapest order of each product chain, ``Diag`` as broadcasting), so it is as fast as
the evaluator. A plan step used once is printed inline in its user; a step used more often
becomes a local variable, named as the text/dsl printers name that sub-expression
(``s = sigmoid(x)``) where they name it. Every operand's number of axes is known while
printing, so products print as ``@``, ``np.outer`` or broadcasting, never as an
(n,1)@(1,n). Spellings of the functions come from ``ops.NUMPY_SOURCE``; the few
operations NumPy has no expression for (Kronecker and commutation products, symmetric
Gram products) are small helpers copied into the output only when the body calls them.
"""
from __future__ import annotations

import builtins
import inspect
import keyword
import re
import unicodedata

from ..numeric import evaluator as ev
from .. import ops
from ..ir import as_matrix, dim_add, dim_symbols
from ..ops import entrywise, matrix_functions, structural
from ..ops import NUMPY_SOURCE, USER_FUNCTIONS, lookup
from .backends import NUMPY, Backend
from .naming import SHAPE_NAMES

# precedence of Python expressions, loosest first
_ADD, _MUL, _UNARY, _POW, _POSTFIX = 1, 2, 3, 4, 5

# Plan ops printed through a helper (the kernel keeps the evaluator's exact semantics).
_HELPER_OPS = {
    "kron_apply": ev._kron_apply, "kron_right": ev._apply_kron_right, "commute": ev._commute,
    "commutation": ev._commutation_matrix, "weighted_gram": ev._weighted_gram,
    "scaled_gram": ev._scaled_gram, "adjugate": ev._adjugate,
}
_KERNELS = [ev._as2d, ev._fit, ev._kron_product, ev._kron_apply, ev._apply_kron_right,
            ev._commute, ev._commutation_matrix, ev._weighted_gram, ev._scaled_gram,
            structural._kron, structural._pinv, entrywise._erf, ev._adjugate,
            *matrix_functions.KERNELS]
_ALWAYS_INLINE = {"input", "const", "transpose"}
_RESERVED = {"np", "value", "f_and_grad"} | {k.__name__ for k in _KERNELS} | {"_np"}


def safe_name(name: str, used: set[str]) -> str:
    """``name`` as a Python identifier distinct from everything in ``used`` (which it joins):
    NFKC-folded as Python folds identifiers, never a keyword, a builtin or a reserved name."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(c if ("_" + c).isidentifier() else "_" for c in text) or "_"
    if not text.isidentifier():
        text = "_" + text
    while (keyword.iskeyword(text) or keyword.issoftkeyword(text) or hasattr(builtins, text)
           or text in _RESERVED or text in used):
        text += "_"
    used.add(text)
    return text


def _py(value) -> str:
    """A size (int, name or product of names ``m*n``) or a tuple of sizes as Python."""
    if isinstance(value, tuple):
        inner = ", ".join(_py(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return str(value)


class _Expr:
    def __init__(self, text: str, prec: int, ndim: int, row_of: "_Expr | None" = None,
                 number: bool = False, transpose_of: "_Expr | None" = None,
                 blocks: list | None = None):
        self.text, self.prec, self.ndim, self.row_of = text, prec, ndim, row_of
        self.number = number  # a Python number literal (torch functions want tensors)
        self.transpose_of = transpose_of  # Mᵀ of a matrix M: the M
        # a block matrix written np.block([[...], ...]): its rows of cells (a flat list of
        # items for a stacked vector), so that a join of joins stays one np.block
        self.blocks = blocks

    def at(self, prec: int) -> str:
        return self.text if self.prec >= prec else f"({self.text})"


class NumpyCodePrinter:
    """``backend`` is the array library printed for (printers/backends.py). ``generated``:
    every name in the code is one matgrad makes up (``a0``, ``t3``), none taken from the
    input — the form compiled and run in-process (``compile_derivatives(backend=...)``);
    ``only`` then limits the outputs to those keys."""

    def __init__(self, derivation, function_name: str = "f_and_grad",
                 backend: Backend = NUMPY, generated: bool = False, only=None):
        from ..app.api import output_arrays
        from ..app.render import where_of

        self.derivation = derivation
        self.program = derivation.program
        self.function_name = function_name
        self.b = backend
        self.generated = generated
        self.outputs = {k: v for k, v in output_arrays(derivation).items()
                        if only is None or k in only}
        self.plan = ev.compile_plan(self.outputs, symbolic=not generated)
        # the docstring's where-block names the local variables (one naming, app/where.py)
        self.where_names = {} if generated else where_of(derivation).all_names()
        self.used: set[str] = set(backend.reserved) | set(backend.kernels)
        if generated:
            self.params = {v: f"a{i}" for i, v in enumerate(self.program.variables)}
            self.used |= set(self.params.values())
        else:
            self.params = {v: safe_name(v, self.used) for v in self.program.variables}
        self.dims: dict[str, str] = {}
        for shape in self.program.variables.values():
            for d in shape:
                for part in dim_symbols(d):
                    if part not in self.dims:
                        self.dims[part] = (f"d{len(self.dims)}" if generated
                                           else safe_name(part, self.used))
        self.used |= set(self.dims.values())
        self.helpers: set[str] = set()
        self.pending: list[str] = []

    # ------------------------------------------------------------ sizes

    def size(self, d) -> str:
        return _size_source(d, self.dims)

    def shape_src(self, shape) -> str:
        parts = [self.size(d) for d in shape]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    # ------------------------------------------------------------ one step

    def ndim_of(self, i: int, step, args: list[_Expr]) -> int:
        op, params = step.op, step.params
        if op == "const":
            return 0
        if op in ("matmul", "diag_left", "diag_right", "transpose", "reshape", "fill", "ones",
                  "zeros", "kron_apply", "kron_right", "weighted_gram", "scaled_gram"):
            return len(params[0])
        if op == "commute":
            return len(params[2])
        if op in ("eye", "commutation"):
            return 2
        if step.node is not None:
            return len(step.node.shape)
        if op == "c_Diag":
            return 2 if args[0].ndim == 1 else args[0].ndim
        return max((a.ndim for a in args), default=0)

    def step_expr(self, step, args: list[_Expr], ndim: int) -> _Expr:
        op, params = step.op, step.params
        if op == "index":  # index notation: statements of batched einsum/matmul steps
            from .tensor_code import region_code

            if self.b.name == "torch":  # (its NumPy calls have no one-to-one torch names)
                from .backends import UnsupportedOperation

                raise UnsupportedOperation("the torch format does not support index "
                                           "notation yet (use --format numpy or jax)")
            lines, text = region_code(self, step, args)
            self.pending += [self.b.translate(line, "index notation") for line in lines]
            return _Expr(self.b.translate(text, "index notation"), _POSTFIX, ndim)
        if op == "input":
            return _Expr(self.params[params[0]], _POSTFIX, ndim)
        if op == "const":
            value = params[0]
            text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
            return _Expr(text, _POSTFIX if value >= 0 else _UNARY, 0, number=True)
        if op == "add":
            signs = params[0]
            text = ("" if signs[0] > 0 else "-") + args[0].at(_MUL if signs[0] < 0 else _ADD)
            for sign, arg in zip(signs[1:], args[1:]):
                text += (" + " + arg.at(_ADD)) if sign > 0 else (" - " + arg.at(_MUL))
            return _Expr(text, _ADD, ndim)
        if op == "had":
            gated = self.step_gate(step)
            if gated is not None:
                return gated
        if op in ("scale", "had"):
            return _Expr(f"{args[0].at(_MUL)} * {args[1].at(_MUL + 1)}", _MUL, ndim)
        if op == "div":
            return _Expr(f"{args[0].at(_MUL)} / {args[1].at(_MUL + 1)}", _MUL, ndim)
        if op == "pow":
            return _Expr(f"{args[0].at(_POW + 1)} ** {args[1].at(_UNARY)}", _POW, ndim)
        if op == "matpow":
            k = params[0]
            base = args[0].text if k >= 0 else self.b.construct("inv", args[0].text)
            return _Expr(self.b.construct("matrix_power", base, str(abs(k))), _POSTFIX, ndim)
        if op == "transpose":
            return self.transpose(args[0], ndim)
        if op == "matmul":
            return self.matmul(args[0], args[1], params[0])
        if op == "diag_left":  # Diag(v) M
            v, m = args
            if m.ndim == 2:
                return _Expr(f"{v.at(_POSTFIX)}[:, None] * {m.at(_MUL + 1)}", _MUL, 2)
            if m.ndim == 1 and len(params[0]) == 1:
                return _Expr(f"{v.at(_MUL)} * {m.at(_MUL + 1)}", _MUL, 1)
            return self.fit(_Expr(f"{v.at(_POSTFIX)}[:, None] * {self.column(m)}", _MUL, 2),
                            params[0])
        if op == "diag_right":  # M Diag(v)
            m, v = args
            if m.ndim == 2:
                return _Expr(f"{m.at(_MUL)} * {v.at(_MUL + 1)}", _MUL, 2)
            return self.fit(_Expr(f"{self.column(m)} * {v.at(_MUL + 1)}", _MUL, 2), params[0])
        if op == "add_diag":  # M ± Diag(v)
            sign = "+" if params[0] > 0 else "-"
            diag = (self.b.construct("diag", args[1].text) if args[1].ndim else  # M ± I
                    self.b.construct("eye", self.size(step.node.shape[0])))
            return _Expr(f"{args[0].at(_ADD)} {sign} {diag}", _ADD, ndim)
        if op == "frob":
            return _Expr(self.b.construct("vdot", args[0].text, args[1].text), _POSTFIX, 0)
        if op == "fill":
            return _Expr(self.b.construct("full", self.shape_src(params[0]), args[0].text),
                         _POSTFIX, ndim)
        if op in ("ones", "zeros"):
            return _Expr(self.b.construct(op, self.shape_src(params[0])), _POSTFIX, ndim)
        if op == "eye":
            return _Expr(self.b.construct("eye", self.size(params[0])), _POSTFIX, 2)
        if op == "reshape":
            return _Expr(self.b.construct("reshape_f", args[0].text,
                                          self.shape_src(params[0])), _POSTFIX, ndim)
        if op in _HELPER_OPS:
            values = [self.shape_src(p) if isinstance(p, tuple) else self.size(p)
                      for p in params]
            fields = {f"p{i}": p for i, p in enumerate(values)}
            template = ev.OPS[op].template.replace("!r}", "}")
            return _Expr(template.format(*(a.text for a in args), **fields), _POSTFIX, ndim)
        if op == "slice":
            return self.slice(args[0], step.node)
        if op in ("c_hcat", "c_vcat"):
            return self.block(op == "c_hcat", args, ndim)
        if op.startswith("f_") or op.startswith("c_"):
            return self.function(op[2:], args, step, ndim)
        raise NotImplementedError(op)

    def step_gate(self, step) -> _Expr | None:
        """step(u) ⊙ g (relu's backward pass) as where(u > 0, g, 0): one select, where
        the product would also make the 0/1 array and multiply by it."""
        steps = self.plan.steps
        for k in (0, 1):
            gate, other = step.args[k], step.args[1 - k]
            if steps[gate].op == "f_step" and self.uses[gate] == 1 and self.exprs[other].ndim \
                    and self.exprs[other].ndim == self.exprs[gate].ndim:
                u = self.exprs[steps[gate].args[0]]
                return _Expr(self.b.construct("where_positive", u.text, self.exprs[other].text),
                             _POSTFIX, self.exprs[gate].ndim)
        return None

    def function(self, name: str, args: list[_Expr], step, ndim: int) -> _Expr:
        template = self.b.spell(name, lookup(name).numpy_source)
        structural = ops.STRUCTURAL.get(name)
        # a 1×1 matrix that the IR keeps as a scalar: give the matrix spelling a matrix
        reshaped = structural is not None and any(a.ndim == 0 for a in args)
        texts = []
        for a in args:
            if a.number and self.b.number != "{0}":
                a = _Expr(self.b.number.format(a.text), _POSTFIX, 0)
            if reshaped and a.ndim == 0 and structural.accepts != "any":
                texts.append(self.b.construct(
                    "reshape", a.text, "(1, 1)" if structural.accepts == "square" else "(1,)"))
            elif re.search(r"\(\{\d\}[,)]", template) and template.count("{") == len(args):
                texts.append(a.text)
            else:
                texts.append(a.at(_POSTFIX))
        text = template.format(*texts)
        prec = _POSTFIX if re.fullmatch(r"[\w.]+\(.*\)", text) and _balanced_call(text) else _ADD
        out = _Expr(text, prec, ndim)
        if reshaped:
            shape = step.node.shape if step.node is not None else ()
            out = _Expr(self.b.construct("reshape", text,
                                         self.shape_src(shape) if shape else "()"),
                        _POSTFIX, ndim)
        return out

    def slice(self, a: _Expr, node) -> _Expr:
        """A block X[r, c] as NumPy slicing (an index where one row or column is taken and
        matgrad's shape drops that axis: a column block of width 1 is a vector)."""
        m, n = as_matrix(node.operand.shape)

        def axis(start, count, full, keep: bool) -> str:
            if start == 0 and count == full:
                return ":"
            if count == 1 and not keep:
                return self.size(start)
            first = "" if start == 0 else self.size(start)
            end = dim_add(start, count)
            return f"{first}:{'' if end == full else self.size(end)}"

        if a.ndim == 1:
            return _Expr(f"{a.at(_POSTFIX)}[{axis(node.row0, node.nrows, m, False)}]",
                         _POSTFIX, len(node.shape))
        rows = axis(node.row0, node.nrows, m, node.ncols != 1)
        cols = axis(node.col0, node.ncols, n, False)
        return _Expr(f"{a.at(_POSTFIX)}[{rows}, {cols}]", _POSTFIX, len(node.shape))

    def block(self, horizontal: bool, args: list[_Expr], ndim: int) -> _Expr:
        """[A, B; C, D] as np.block([[A, B], [C, D]]): vectors as columns x[:, None] (a
        stacked vector [x; y] is np.block([x, y]), which joins 1-d arrays)."""
        if ndim == 1:
            items = [i for a in args for i in (a.blocks or [a.text])]
            return _Expr(self.b.construct("block", f"[{', '.join(items)}]"), _POSTFIX, 1,
                         blocks=items)

        def rows(a: _Expr) -> list:
            if a.blocks is not None and a.ndim == 2:
                return a.blocks
            if a.ndim == 1:
                return [[f"{a.at(_POSTFIX)}[:, None]"]]
            return [[a.text]]

        (ra, rb) = rows(args[0]), rows(args[1])
        if not horizontal:
            cells = ra + rb
        elif len(ra) == 1 and len(rb) == 1:
            cells = [ra[0] + rb[0]]
        else:
            cells = [[args[0].text, args[1].text]]
        text = self.b.construct(
            "block", "[" + ", ".join("[" + ", ".join(r) + "]" for r in cells) + "]")
        return _Expr(text, _POSTFIX, 2, blocks=cells)

    def transpose(self, a: _Expr, ndim: int) -> _Expr:
        if a.ndim == 0:
            return a
        if a.ndim == 1:
            return _Expr(f"{a.at(_POSTFIX)}[None, :]", _POSTFIX, 2, row_of=a)
        if ndim == 1:  # a 1×n row read back as a vector
            return _Expr(f"{a.at(_POSTFIX)}[0]", _POSTFIX, 1)
        return _Expr(f"{a.at(_POSTFIX)}.T", _POSTFIX, 2, transpose_of=a)

    def column(self, a: _Expr) -> str:
        if a.ndim == 2:
            return a.at(_MUL + 1)
        return self.b.construct("reshape", a.text, "(-1, 1)")

    def fit(self, e: _Expr, shape) -> _Expr:
        target = self.shape_src(shape) if shape else "()"
        return _Expr(self.b.construct("reshape", e.text, target), _POSTFIX, len(shape))

    def matmul(self, a: _Expr, b: _Expr, shape) -> _Expr:
        n = len(shape)
        if a.row_of is not None and b.ndim == 1 and n == 0:  # xᵀ y
            return _Expr(f"{a.row_of.at(_MUL)} @ {b.at(_MUL + 1)}", _MUL, 0)
        if a.row_of is not None and b.ndim == 2 and n == 2:  # xᵀ M
            return _Expr(f"({a.row_of.at(_MUL)} @ {b.at(_MUL + 1)})[None, :]", _POSTFIX, 2)
        if a.ndim == 1 and b.row_of is not None and n == 2:  # x yᵀ
            return _Expr(self.b.construct("outer", a.text, b.row_of.text), _POSTFIX, 2)
        if a.ndim == 2 and b.ndim == 2 and n == 2:
            if "matmul_nt" in self.b.constructs and (a.transpose_of is None) != (b.transpose_of is None):
                if b.transpose_of is not None:
                    text = self.b.construct("matmul_nt", a.text, b.transpose_of.text)
                else:
                    text = self.b.construct("matmul_tn", a.transpose_of.text, b.text)
                return _Expr(text, _POSTFIX, 2)
            return _Expr(f"{a.at(_MUL)} @ {b.at(_MUL + 1)}", _MUL, 2)
        if a.ndim == 2 and b.ndim == 1 and n == 1:
            if a.transpose_of is not None and self.b.vector_left:  # Mᵀ v as v M
                return _Expr(f"{b.at(_MUL)} @ {a.transpose_of.at(_MUL + 1)}", _MUL, 1)
            return _Expr(f"{a.at(_MUL)} @ {b.at(_MUL + 1)}", _MUL, 1)
        return self.fit(_Expr(f"{self.column(a)} @ {self.column(b)}", _MUL, 2), shape)

    # ------------------------------------------------------------ the whole function

    def body(self) -> tuple[list[str], dict[str, _Expr]]:
        steps = self.plan.steps
        uses = [0] * len(steps)
        for step in steps:
            for a in step.args:
                uses[a] += 1
        for slot in self.plan.outputs.values():
            uses[slot] += 1
        forced = set()
        for step in steps:
            if step.op[:2] in ("f_", "c_") and step.op not in ("c_hcat", "c_vcat") and (
                    step.op[2:] in NUMPY_SOURCE or step.op[2:] in USER_FUNCTIONS):
                template = self.b.spell(step.op[2:], lookup(step.op[2:]).numpy_source)
                for k, a in enumerate(step.args):
                    if template.count("{%d}" % k) > 1:
                        forced.add(a)
        exprs: list[_Expr] = []
        self.uses, self.exprs = uses, exprs  # (step_gate reads them)
        lines: list[str] = []
        for i, step in enumerate(steps):
            args = [exprs[a] for a in step.args]
            ndim = self.ndim_of(i, step, args)
            e = self.step_expr(step, args, ndim)
            lines += self.pending  # the statements an index-notation step needs first
            self.pending = []
            node_name = self.where_names.get(step.node) if step.node is not None else None
            local = (step.op not in _ALWAYS_INLINE
                     and (uses[i] > 1 or i in forced or node_name is not None))
            if local:
                name = safe_name(node_name or self.temporary(ndim), self.used)
                lines.append(f"{name} = {e.text}")
                e = _Expr(name, _POSTFIX, e.ndim)
            exprs.append(e)
        return lines, exprs

    def temporary(self, ndim: int) -> str:
        if self.generated:  # t0, t1, …: nothing that reads like a quantity of the input
            k = len(self.used)
            while f"t{k}" in self.used:
                k += 1
            return f"t{k}"
        bases = SHAPE_NAMES.get(ndim, ("T",))
        for base in bases:
            if base not in self.used and safe_name(base, set(self.used)) == base:
                return base
        k = 2
        while f"{bases[0]}{k}" in self.used:
            k += 1
        return f"{bases[0]}{k}"

    def checks(self, body_text: str) -> list[str]:
        """Arguments as float arrays, one shape check, then the sizes the body uses."""
        variables = self.program.variables
        params = list(self.params.values())
        converted = ", ".join(self.b.construct("asarray", p) for p in params)
        lines = [f"{', '.join(params)} = {converted}"] if len(converted) < 70 else [
            f"{p} = {self.b.construct('asarray', p)}" for p in params]
        if re.search(r"\*\*_kw\b", body_text):  # torch: new tensors beside the inputs
            device = f", \"device\": {params[0]}.device" if params else ""
            lines.append(f'_kw = {{"dtype": torch.float64{device}}}')
        for v, shape in variables.items():
            p = self.params[v]
            if len(shape) == 1:
                lines.append(f"{p} = {p}.reshape(-1) if {p}.ndim == 2 and 1 in {p}.shape else {p}")
        if not variables:
            return lines
        refs: dict[str, str] = {}  # dimension -> where it is first read
        conditions = []
        for v, shape in variables.items():
            p = self.params[v]
            parts = []
            for axis, d in enumerate(shape):
                if isinstance(d, str) and dim_symbols(d) == [d] and d not in refs:
                    refs[d] = f"{p}.shape[{axis}]"
                else:
                    parts.append((axis, d))
            for axis, d in parts:
                if any(x not in refs for x in dim_symbols(d)):
                    continue  # a sum of sizes no input gives alone: NumPy checks it
                value = _size_source(d, refs)
                conditions.append(f"{p}.shape[{axis}] != {value}")
        ndims = [f"{p}.ndim" for p in params]
        want = [str(len(variables[v])) for v in self.params]
        if len(params) == 1:
            conditions.insert(0, f"{ndims[0]} != {want[0]}")
        else:
            conditions.insert(0, f"({', '.join(ndims)}) != ({', '.join(want)})")
        expected = ", ".join(f"{p}: {_shape_words(variables[v])}" for v, p in self.params.items())
        got = ", ".join("{%s.shape}" % p for p in params)
        lines.append(f"if {' or '.join(conditions)}:")
        lines.append(f'    raise ValueError(f"expected {expected}; got shapes {got}")')
        for d, ref in refs.items():
            if re.search(r"(?<![\w.])%s(?!\w)" % re.escape(self.dims[d]), body_text):
                lines.append(f"{self.dims[d]} = {ref}")
        return lines

    def docstring(self) -> list[str]:
        from ..app.render import derive_text

        text = derive_text(self.derivation).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        lines = text.split("\n")
        renamed = [f"{p} = {v}" for v, p in self.params.items() if p != v]
        if renamed:
            lines.append("Parameters (user name → Python name): " + ", ".join(
                f"{v} → {p}" for v, p in self.params.items() if p != v))
        result = "{name: ∂f/∂name}" + (", {name: Hessian}" if self.derivation.order == 2 else "")
        if self.derivation.mixed:
            result = result[:-1] + ", 'x,y': ∂²f/∂x∂yᵀ}"
        lines.append(f"Returns (f, {result}), each derivative shaped f.shape + X.shape.")
        return ['"""' + lines[0], *lines[1:], '"""']

    def print(self) -> str:
        body, exprs = self.body()
        derivation, program = self.derivation, self.program
        f_shape = tuple(program.expr.shape)
        value = exprs[self.plan.outputs["value"]]
        out = ["value = " + value.text] if value.text != "value" else []
        grads, hessians = [], []
        for name in derivation.wrt:
            x_shape = tuple(program.variables[name])
            grads.append(f"    {name!r}: {self.shaped('grad_' + name, exprs, f_shape + x_shape)},")
            if derivation.order == 2:
                hessians.append(f"    {name!r}: {self.shaped('hess_' + name, exprs, x_shape + x_shape)},")
        for x, y in derivation.mixed:  # the mixed blocks, keyed "x,y" (as in json: string
            # keys only, so that jax.jit can sort the dictionary as a pytree)
            block_shape = tuple(program.variables[x]) + tuple(program.variables[y])
            hessians.append(f"    {x + ',' + y!r}: "
                            f"{self.shaped(f'hess_{x}_{y}', exprs, block_shape)},")
        ret = ["return value, {", *grads, "}" + (", {" if hessians else "")]
        if hessians:
            ret += [*hessians, "}"]
        code_body = self.checks("\n".join(body + out + ret)) + body + out + ret
        user = self.user_function_sources()  # (their bodies may call kernels: erf)
        header = [*self.b.imports, ""]
        header += self.helper_sources("\n".join(code_body + user))
        header += user
        header += [f"# {line}" for line in self.b.note]
        lines = header + ["", f"def {self.function_name}({', '.join(self.params.values())}):"]
        lines += [("    " + line).rstrip() for line in self.docstring()]
        lines += ["    " + line for line in code_body]
        return "\n".join(lines) + "\n"

    def shaped(self, key: str, exprs: list[_Expr], shape) -> str:
        slot = self.plan.outputs[key]
        node = self.outputs[key]
        e = exprs[slot]
        if tuple(node.shape) == tuple(shape):
            return e.text
        return self.b.construct("reshape_f", e.text, self.shape_src(shape) if shape else "()")

    def user_function_sources(self) -> list[str]:
        """``def _u_gelu(t): …`` for each user-defined function the code calls."""
        from ..ops.user import needed, numpy_source

        out = []
        for fn in needed(*self.outputs.values()):
            out += ["", self.b.translate(numpy_source(fn, self.b.spell), fn.name), ""]
        return out

    def helper_sources(self, body_text: str) -> list[str]:
        """The kernels the body calls (and those they call), in this library's spelling."""
        # the library's own kernels, else NumPy's source, translated only when used (a
        # kernel a library cannot spell is an error only where the body needs it)
        sources = {k.__name__: inspect.getsource(k) for k in _KERNELS}
        sources.update(self.b.kernels)
        used: dict = {}  # name -> its source in this library
        pending = [h for h in sources if re.search(rf"(?<![\w.]){h}\(", body_text)]
        while pending:
            name = pending.pop()
            if name in used:
                continue
            used[name] = self.b.kernel(name, sources[name])
            pending += [o for o in sources if o + "(" in used[name] and o not in used]
        out = []
        if any("_np()" in source for source in used.values()):
            out += ["", "def _np():", "    return np", ""]
        for name in sources:  # (a kernel finds its callees when it runs, in any order)
            if name in used:
                out += ["", used[name].rstrip(), ""]
        return out


def _size_source(d, names: dict) -> str:
    """A size in Python: ``m*n+p`` with each dimension name replaced by names[name]."""
    if isinstance(d, int):
        return str(d)
    return re.sub(r"[^*+\-\s]+", lambda m: names.get(m.group(0), m.group(0)), str(d))


def _balanced_call(text: str) -> bool:
    """``text`` is one call ``f(...)`` (its first parenthesis closes at the end)."""
    depth = 0
    for i, c in enumerate(text):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False


def _shape_words(shape) -> str:
    if not shape:
        return "scalar"
    return "×".join(str(d).replace("*", "") if "+" not in str(d) and "-" not in str(d)
                    else f"({d})" for d in shape)


def to_numpy_code(derivation, function_name: str = "f_and_grad") -> str:
    """The ``numpy`` format of ``derivation``: a module with one function."""
    return NumpyCodePrinter(derivation, function_name).print()


def to_code(derivation, backend: str = "numpy", function_name: str = "f_and_grad") -> str:
    """The ``numpy``, ``jax`` or ``torch`` format: a module with one function."""
    from .backends import BACKENDS

    return NumpyCodePrinter(derivation, function_name, BACKENDS[backend]).print()


def flat_function(derivation, backend: str, keys) -> tuple[str, list[str]]:
    """The source of ``def _compiled(a0, a1, ...)`` returning the outputs ``keys`` (value,
    grad_X, hess_X ...) as a tuple, shaped as SPEC §4, every name in it generated; and the
    variables in argument order. For in-process evaluation (``compile_derivatives``)."""
    from ..app.api import spec_shapes
    from .backends import BACKENDS

    printer = NumpyCodePrinter(derivation, "_compiled", BACKENDS[backend], generated=True,
                               only=keys)
    body, exprs = printer.body()
    shapes = spec_shapes(derivation, keys)
    shapes["value"] = tuple(derivation.program.expr.shape)
    rets = [printer.shaped(key, exprs, shapes[key]) for key in keys]
    code = body + [f"return ({', '.join(rets)},)"]
    code = printer.checks("\n".join(code)) + code
    user = printer.user_function_sources()
    lines = [*printer.b.imports, ""] + printer.helper_sources("\n".join(code + user))
    lines += user
    lines += ["", f"def _compiled({', '.join(printer.params.values())}):"]
    lines += ["    " + line for line in code]
    return "\n".join(lines) + "\n", list(printer.params)

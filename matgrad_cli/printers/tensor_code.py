"""Generated NumPy code for index notation: one evaluation region (numeric/tensors.py) as
straight-line statements, the same batched operations the evaluator runs.

The labels of every value are known when the code is written, so each step is a fixed
``np.einsum`` spec, transpose or ``np.matmul``: a value with free indices carries one leading
axis per index (in the order of its labels), then its own axes — never a loop over index
values.
"""
from __future__ import annotations

import string

from ..ir import (Add, Build, Call, Delta, Div, Fill, Frob, Func, Had, IndexSum, MatMul, Node,
                  Pow, Scale, Indexed, T)
from ..tensors.labels import free_indices, pattern_spec


class RegionCode:
    """Statements that compute one region; ``emit(root)`` returns the result's text."""

    def __init__(self, printer, region, inputs: list):
        self.p = printer
        self.lines: list[str] = []
        # shared by all regions of the function: a later one reuses an earlier one's names
        self.memo: dict = printer.__dict__.setdefault("_index_memo", {})
        self.memo.update(zip(region.inputs, ((e.text, ()) for e in inputs)))
        self.region = region

    def name(self, text: str) -> str:
        k = 1
        while f"t{k}" in self.p.used:
            k += 1
        target = f"t{k}"
        self.p.used.add(target)
        self.lines.append(f"{target} = {text}")
        return target

    def size(self, d) -> str:
        return self.p.size(d)

    def shape(self, dims) -> str:
        parts = [self.size(d) for d in dims]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"

    def ev(self, node: Node):
        hit = self.memo.get(node)
        if hit is None:
            hit = self.node(node)
            self.memo[node] = hit
        return hit

    # ------------------------------------------------------------ helpers

    @staticmethod
    def letters(labels) -> dict:
        return {k: string.ascii_letters[i] for i, k in enumerate(labels)}

    @staticmethod
    def union(*lists) -> tuple:
        out: list = []
        for labels in lists:
            out.extend(k for k in labels if k not in out)
        return tuple(out)

    def align(self, text: str, labels: tuple, target: tuple, own: int) -> str:
        """text's label axes in target's order, a size-1 axis for each missing label after
        the first present one (NumPy broadcasts the leading ones)."""
        if not labels:
            return text
        present = [labels.index(t) for t in target if t in labels]
        perm = present + list(range(len(labels), len(labels) + own))
        if perm != list(range(len(perm))):
            text = f"np.transpose({text}, {tuple(perm)})"
        first = min(k for k, t in enumerate(target) if t in labels)
        missing = tuple(k - first for k, t in enumerate(target) if t not in labels and k > first)
        if missing:
            text = f"np.expand_dims({text}, {missing})"
        return text

    def trailing(self, text: str, k: int, batched: bool = True) -> str:
        """A scalar (per index value) beside k own axes: k trailing size-1 axes."""
        return text if k <= 0 or not batched else f"{text}[(...,{' None,' * k})]"

    # ------------------------------------------------------------ nodes

    def node(self, node: Node):
        if isinstance(node, Indexed):
            text, labels = self.ev(node.operand)
            new = [e for e in dict.fromkeys(node.pattern) if e is not None and e not in labels]
            letter = self.letters(self.union(labels, new))
            spec, colons = pattern_spec(node.pattern, letter, labels, new)
            out = f"np.einsum({spec!r}, {text})"
            if len(colons) != len(node.shape):  # a 1-axis normalisation (row → vector)
                out = f"np.reshape({out}, {out}.shape[:{len(labels) + len(new)}] + " \
                      f"{self.shape(node.shape)})"
            return self.name(out), labels + tuple(new)
        if isinstance(node, Delta):
            n = self.size(node.n)
            if node.i == node.j:
                return self.name(f"np.ones({n})"), (node.i,)
            return self.name(f"np.eye({n})"), (node.i, node.j)
        if isinstance(node, IndexSum):
            return self.index_sum(node)
        if isinstance(node, Build):
            return self.build(node)
        children = [self.ev(c) for c in node.children]
        labels = self.union(*[lab for _, lab in children])
        texts = [self.align(t, lab, labels, len(c.shape))
                 for (t, lab), c in zip(children, node.children)]
        self.batched = [bool(lab) for _, lab in children]
        return self.name(self.pointwise(node, texts, [len(c.shape) for c in node.children])), \
            labels

    def index_sum(self, node: IndexSum):
        from ..tensors.simplify import scalar_factors

        factors = scalar_factors(node.body) if node.shape == () else [node.body]
        if len(factors) > 1:
            parts = [self.ev(f) for f in factors]
            every = self.union(*[lab for _, lab in parts], node.labels)
            letter = self.letters(every)
            keep = tuple(k for k in every if k not in node.labels)
            spec = ",".join("".join(letter[k] for k in lab) for _, lab in parts) + "->" + \
                "".join(letter[k] for k in keep)
            text = f"np.einsum({spec!r}, {', '.join(t for t, _ in parts)}, optimize=True)"
            carried = set().union(*[set(lab) for _, lab in parts])
        else:
            body, labels = self.ev(node.body)
            axes = tuple(labels.index(k) for k in node.labels if k in labels)
            text = f"np.sum({body}, axis={axes})" if axes else body
            keep = tuple(k for k in labels if k not in node.labels)
            carried = set(labels)
        for k, size in zip(node.labels, node.sizes):
            if k not in carried:  # Σ of a constant over k
                text = f"{text} * {self.size(size)}"
        return self.name(text), keep

    def build(self, node: Build):
        body, labels = self.ev(node.body)
        pattern_labels = [e for e in node.pattern if e is not None]
        outer = tuple(k for k in labels if k not in pattern_labels)
        unique = tuple(dict.fromkeys(pattern_labels))
        own = len(node.body.shape)
        if len(unique) == len(pattern_labels) and set(unique) <= set(labels) and \
                own == node.pattern.count(None) and not outer:
            colon = iter(range(len(labels), len(labels) + own))  # every axis is there
            axes = tuple(labels.index(e) if e is not None else next(colon)
                         for e in node.pattern)
            return self.name(f"np.transpose({body}, {axes})"), ()
        free = free_indices(node)
        dims = tuple(free[k] for k in outer) + tuple(node.dims)
        spec, _ = pattern_spec(node.pattern, self.letters(outer + unique), outer, unique)
        aligned = self.align(body, labels, outer + unique, len(node.body.shape))
        if self.p.b.name != "numpy":  # jax arrays are immutable: no write through a view
            return self.functional_build(spec, dims, aligned), outer
        out = self.name(f"np.zeros({self.shape(dims)})")
        self.lines.append(f"np.einsum({spec!r}, {out})[...] = {aligned}")
        return out, outer

    def functional_build(self, spec: str, dims: tuple, aligned: str) -> str:
        """What ``np.einsum(spec, out)[...] = aligned`` writes into zeros, as one value:
        ``aligned`` broadcast to the view, and each repeated letter of ``out`` (a
        diagonal, G[i, i, :]) joined by an identity matrix."""
        written, view = spec.split("->")
        size = dict(zip(written, dims))
        spare = iter(c for c in string.ascii_letters if c not in written + view)
        letters, eyes, seen = [], [], set()
        for c in written:
            if c in seen:
                fresh = next(spare)
                eyes.append((c + fresh, f"np.eye({self.size(size[c])})"))
                c = fresh
            seen.add(c)
            letters.append(c)
        full = f"np.broadcast_to({aligned}, {self.shape([size[c] for c in view])})"
        operands = ", ".join([full] + [e for _, e in eyes])
        inputs = ",".join([view] + [pair for pair, _ in eyes])
        return self.name(f"np.einsum({inputs + '->' + ''.join(letters)!r}, {operands})")

    def pointwise(self, node: Node, texts: list, own: list) -> str:
        bt = self.batched
        if isinstance(node, Add):
            k = len(node.shape)
            return " + ".join(f"({self.trailing(t, k - n, b)})"
                              for t, n, b in zip(texts, own, bt))
        if isinstance(node, Scale):
            return f"({self.trailing(texts[0], own[1], bt[0])}) * ({texts[1]})"
        if isinstance(node, (Had, Div)):
            a, b = texts
            a = self.trailing(a, own[1] - own[0], bt[0])
            b = self.trailing(b, own[0] - own[1], bt[1])
            return f"({a}) {'*' if isinstance(node, Had) else '/'} ({b})"
        if isinstance(node, Pow):
            return f"np.power({texts[0]}, {self.trailing(texts[1], own[0], bt[1])})"
        if isinstance(node, Fill):
            value = self.trailing(texts[0], len(node.shape), bt[0])
            return f"np.broadcast_to({value}, {texts[0]}.shape + {self.shape(node.shape)})"
        if isinstance(node, Func):
            return self.entrywise(node.name, texts[0])
        if isinstance(node, MatMul):
            a = f"{texts[0]}[..., None]" if own[0] == 1 else texts[0]
            b = f"{texts[1]}[..., None]" if own[1] == 1 else texts[1]
            tail = {2: "", 1: "[..., 0]", 0: "[..., 0, 0]"}[len(node.shape)]
            return f"np.matmul({a}, {b}){tail}"
        if isinstance(node, T):
            if own[0] == 0:
                return texts[0]
            if own[0] == 1:
                return f"{texts[0]}[..., None, :]"
            tail = "[..., 0]" if len(node.shape) == 1 else ""
            return f"np.swapaxes({texts[0]}, -1, -2){tail}"
        if isinstance(node, Frob):
            axes = tuple(range(-own[0], 0))
            return f"np.sum(({texts[0]}) * ({texts[1]}), axis={axes})" if own[0] else \
                f"({texts[0]}) * ({texts[1]})"
        if isinstance(node, Call):
            return self.call(node, texts, own)
        from ..errors import UsageError

        raise UsageError(f"--format numpy: {type(node).__name__} inside index notation has no "
                         "generated form yet")

    def entrywise(self, name: str, arg: str) -> str:
        from ..numeric.evaluator import Step
        from .numpy_code import _POSTFIX, _Expr

        fake = Step("f_" + name, (), (), None)
        return self.p.function(name, [_Expr(arg, _POSTFIX, 0)], fake, 0).text

    def call(self, node: Call, texts: list, own: list) -> str:
        a, k = texts[0], own[0]
        axes = tuple(range(-k, 0))
        name = node.name
        simple = {
            "sum": f"np.sum({a}, axis={axes})", "mean": f"np.mean({a}, axis={axes})",
            "norm": f"np.sqrt(np.sum(({a}) ** 2, axis={axes}))",
            "norm1": f"np.sum(np.abs({a}), axis={axes})",
            "tr": f"np.trace({a}, axis1=-2, axis2=-1)",
            "diag": f"np.diagonal({a}, axis1=-2, axis2=-1)",
            "inv": f"np.linalg.inv({a})", "det": f"np.linalg.det({a})",
            "logdet": f"np.linalg.slogdet({a})[1]",
        }
        if name in simple and k >= 1:
            return simple[name]
        if name in ("sum", "mean", "norm", "norm1") and k == 0:
            return a if name in ("sum", "mean") else f"np.abs({a})"
        if name == "vec" and k == 2:
            return f"np.reshape(np.swapaxes({a}, -1, -2), {a}.shape[:-2] + (-1,))"
        if name in ("softmax", "logsumexp") and k == 1:
            top = f"np.max({a}, axis=-1, keepdims=True)"
            if name == "softmax":
                return (f"np.exp({a} - {top}) / np.sum(np.exp({a} - {top}), axis=-1, "
                        "keepdims=True)")
            return f"np.log(np.sum(np.exp({a} - {top}), axis=-1)) + {top}[..., 0]"
        if k == 2 and name[-2:] in ("_1", "_2") and name[:-2] in ("sum", "mean", "softmax",
                                                                   "logsumexp"):
            axis, op, keep = (-2 if name.endswith("_1") else -1), name[:-2], name.endswith("_1")
            if op == "softmax":
                top = f"np.max({a}, axis={axis}, keepdims=True)"
                return (f"np.exp({a} - {top}) / np.sum(np.exp({a} - {top}), axis={axis}, "
                        "keepdims=True)")
            if op == "logsumexp":
                top = f"np.max({a}, axis={axis}, keepdims=True)"
                out = f"(np.log(np.sum(np.exp({a} - {top}), axis={axis}, keepdims=True)) + {top})"
            else:
                out = f"np.{op}({a}, axis={axis}, keepdims=True)"
            return out if keep else f"{out}[..., 0]"
        if name in ("max", "min") and len(texts) == 2:
            b = texts[1]
            a = self.trailing(a, own[1] - own[0], self.batched[0])
            b = self.trailing(b, own[0] - own[1], self.batched[1])
            return f"np.{'maximum' if name == 'max' else 'minimum'}({a}, {b})"
        from ..errors import UsageError

        raise UsageError(f"--format numpy: {name}(...) of an expression with a free index has "
                         "no generated form yet")


def region_code(printer, step, args) -> tuple[list[str], str]:
    """(statements, the result's text) for an 'index' step of a plan."""
    region = step.params[0]
    code = RegionCode(printer, region, args)
    text, labels = code.ev(region.root)
    assert not labels
    return code.lines, text

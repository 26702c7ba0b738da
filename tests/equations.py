"""Evaluate the book's LaTeX, so that every `=` of every display equation is checked on numbers.

A small Lark grammar reads the dialect the chapters are written in — matrix expressions (XW, X^\\top G, 2E \\odot M,
\\langle P, Q \\rangle, \\operatorname{tr}, \\lVert E \\rVert_F^2, \\max(Z, 0), \\mathbf{1}[Z > 0]), index notation
(X_{ia}, (X^\\top G)_{ab}, \\sum_{i=1}^{m}, \\delta_{jb}), partial derivatives (\\frac{\\partial f}{\\partial W_{ab}},
the 4-index \\frac{\\partial Z_{ij}}{\\partial W_{ab}}), tangents (\\dot W, \\dot f: rates of change along a random
direction), shapes ((k \\times n), \\in \\mathbb{R}^{k \\times n}) and matrix literals — and evaluates each piece of a
chain `a = b = c` on random inputs of a context (see contexts.py), where derivatives come from autograd alone.

A value carries named axes: index letters ("i", "a", ...) and the matrix axes "#r" and "#c". Juxtaposing two
matrices is a matrix product; juxtaposing entries (index notation) multiplies them entry by entry; only `\\sum`
contracts an index, as on paper.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import torch
from lark import Lark, Token, Transformer, Tree, v_args

GRAMMAR = r"""
?start: chain
chain: expr (REL expr)*
REL: "=" | "\\approx" | "\\neq" | "\\ne" | "\\leq" | "\\le" | "\\geq" | "\\ge" | "<" | ">" | "\\in"

?expr: product
     | "-" product               -> neg
     | expr "+" product          -> add
     | expr "-" product          -> sub

product: (factor | MULOP)* (factor | tail)
MULOP: "\\odot" | "\\otimes" | "\\cdot" | "\\times"
tail: SUM sumsub sumsup? product                             -> sum
    | "\\frac" "{" "\\partial" "}" "{" "\\partial" factor "}" product -> derivative_of

?factor: atom postfix*           -> postfixed
postfix: "^" "\\top"             -> transpose
       | "^" "{" "\\top" "}"     -> transpose
       | "^" DIGIT               -> power
       | "^" "{" expr "}"        -> power
       | "_" "{" INDICES "}"     -> entry
       | "_" LETTER              -> entry
       | "_" "F"                 -> frobenius
       | "'"                     -> prime

?atom: NUMBER                                                   -> number
    | SYMBOL                                                   -> symbol
    | GREEK                                                    -> symbol
    | ("\\dot" SYMBOL | "\\dot" "{" SYMBOL "}")                -> tangent
    | ("\\ddot" SYMBOL | "\\ddot" "{" SYMBOL "}")              -> second_tangent
    | "(" expr ")"                                             -> group
    | shape_literal
    | "\\frac" "{" expr "}" "{" expr "}"                       -> fraction
    | "\\frac" "{" "\\partial" factor "}" "{" "\\partial" factor "}"              -> derivative
    | "\\frac" "{" "\\partial" "^" DIGIT factor "}" "{" "\\partial" factor "\\partial" factor "}" -> second_derivative
    | "\\langle" expr "," expr "\\rangle"                      -> inner
    | ("\\lVert" expr "\\rVert" | "\\|" expr "\\|")            -> norm
    | OPNAME "(" expr ")"                                      -> operator
    | "\\max" "(" expr "," expr ")"                            -> maximum
    | call
    | "\\sqrt" "{" expr "}"                                    -> square_root
    | "\\mathbf{1}" "[" expr RELOP expr "]"                    -> indicator
    | "\\mathbf{1}" "_" LETTER                                 -> ones
    | "\\mathbb{R}" "^" "{" shape "}"                          -> space
    | MATRIX                                                   -> matrix
    | CASES                                                    -> cases

call.2: FUNC "(" expr ")"
      | FUNC "'" "(" expr ")"                                  -> call_derivative
shape_literal.2: "(" shape ")"
shape: SYMBOL_OR_NUMBER "\\times" SYMBOL_OR_NUMBER
SYMBOL_OR_NUMBER: /[a-z]+(_(\{[0-9]+\}|[0-9]+))?|[0-9]+/
sumsub: "_" "{" LETTER "=" NUMBER "}"   -> sum_from
      | "_" "{" INDICES "}"             -> sum_over
      | "_" LETTER                      -> sum_over
sumsup: "^" "{" SYMBOL "}" | "^" SYMBOL
SUM: "\\sum"
RELOP: ">" | "<" | "\\ge" | "\\le" | "\\geq" | "\\leq"
OPNAME: "\\operatorname{tr}" | "\\operatorname{vec}" | "\\operatorname{diag}"
FUNC: "f" | "\\varphi" | "\\sigma" | "\\tanh" | "\\exp" | "\\log" | "\\Phi"
    | "\\operatorname{ReLU}" | "\\operatorname{LeakyReLU}" | "\\operatorname{GELU}" | "\\operatorname{softplus}"
GREEK.2: "\\delta" | "\\eta" | "\\alpha" | "\\pi"
SYMBOL: /[A-Za-z](_(\{[0-9]\}|[0-9](?![0-9])))?/
LETTER: /[a-z]/
INDICES: /[a-z0-9:](\s*,?\s*[a-z0-9:])*|F/
DIGIT: /[0-9]/
NUMBER: /[0-9]+(\.[0-9]+)?/
MATRIX: /\\MATRIX[0-9]+/
CASES: /\\CASES[0-9]+/

%ignore /\s+/
%ignore /\\[,;!: ]/
%ignore /\\quad(?![a-z])/
%ignore /\\(displaystyle|textstyle)(?![a-z])/
%ignore /\\([bB]igg?[lr]?|left|right)(?![a-zA-Z])/
%ignore "&"
%ignore "{}"
"""

PARSER = Lark(GRAMMAR, parser="earley", ambiguity="resolve", propagate_positions=False)
MATRIX_AXES = ("#r", "#c")


class NotEvaluable(Exception):
    """The statement is outside the dialect this checker reads (a definition, a set, words)."""


class Mismatch(AssertionError):
    """Two sides of a relation disagree on the numbers: the equation is wrong."""


class NeedRange(Exception):
    """An index's range is not known yet (e.g. a Kronecker delta before the factors that fix it)."""


@dataclass
class Value:
    """A tensor with named axes: index letters, and "#r"/"#c" for the rows and columns of a matrix."""

    t: torch.Tensor
    axes: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(a for a in self.axes if not a.startswith("#"))

    @property
    def is_matrix(self) -> bool:
        return "#r" in self.axes

    def matrix_shape(self) -> tuple[int, int]:
        return (self.t.shape[self.axes.index("#r")], self.t.shape[self.axes.index("#c")])


@dataclass
class Shape:
    rows: int
    cols: int


@dataclass
class Space:
    shape: Shape


# ---------------------------------------------------------------------------------------------- axis algebra
def _align(value: Value, axes: tuple[str, ...], sizes: dict[str, int]) -> torch.Tensor:
    """value's tensor with its axes permuted to `axes`, broadcasting (size 1) over axes it lacks."""
    present = [a for a in axes if a in value.axes]
    tensor = value.t.permute(*[value.axes.index(a) for a in present]) if present else value.t
    shape, position = [], 0
    for axis in axes:
        if axis in value.axes:
            shape.append(tensor.shape[position])
            position += 1
        else:
            shape.append(1)
    return tensor.reshape(shape)


def _union(*values: Value) -> tuple[str, ...]:
    axes: list[str] = []
    for value in values:
        axes += [a for a in value.axes if a not in axes]
    return tuple(axes)


def elementwise(op, *values: Value) -> Value:
    for value in values[1:]:
        if value.is_matrix and values[0].is_matrix and value.matrix_shape() != values[0].matrix_shape():
            raise Mismatch(f"element-wise operation on matrices of shapes {values[0].matrix_shape()} "
                           f"and {value.matrix_shape()}")
    axes = _union(*values)
    return Value(op(*[_align(v, axes, {}) for v in values]), axes)


def matmul(left: Value, right: Value) -> Value:
    (r1, c1), (r2, c2) = left.matrix_shape(), right.matrix_shape()
    if c1 != r2:
        raise Mismatch(f"matrix product of a {r1}×{c1} and a {r2}×{c2} matrix")
    labels = _union(Value(left.t, left.labels), Value(right.t, right.labels))
    lt = _align(left, labels + MATRIX_AXES, {})
    rt = _align(right, labels + MATRIX_AXES, {})
    return Value(lt @ rt, labels + MATRIX_AXES)


def multiply(left: Value, right: Value) -> Value:
    if isinstance(left, Shape) and isinstance(right, Shape):
        if left.cols != right.rows:
            raise Mismatch(f"shapes {left.rows}×{left.cols} and {right.rows}×{right.cols} do not multiply")
        return Shape(left.rows, right.cols)
    if left.is_matrix and right.is_matrix:
        return matmul(left, right)
    return elementwise(torch.mul, left, right)


def reduce_matrix(value: Value, op) -> Value:
    """Apply op(tensor with matrix axes last) -> tensor without them."""
    tensor = _align(value, value.labels + MATRIX_AXES, {})
    return Value(op(tensor), value.labels)


def transpose(value: Value) -> Value:
    if not value.is_matrix:
        raise NotEvaluable("transpose of something that is not a matrix")
    swap = {"#r": "#c", "#c": "#r"}
    return Value(value.t, tuple(swap.get(a, a) for a in value.axes))


def same(a, b, rtol: float = 1e-9) -> str | None:
    """None if a and b are equal values; otherwise why not."""
    if isinstance(a, Shape) or isinstance(b, Shape):
        if isinstance(a, Value):
            a = Shape(*a.matrix_shape()) if a.is_matrix else None
        if isinstance(b, Value):
            b = Shape(*b.matrix_shape()) if b.is_matrix else None
        return None if a == b else f"shape {a} is not {b}"
    a, b = _as_number_if_1x1(a, b), _as_number_if_1x1(b, a)
    if _is_zero_literal(a) and b.axes:
        a, b = b, a
    if _is_zero_literal(b) and a.axes:
        largest = a.t.abs().max().item() if a.t.numel() else 0.0
        return None if largest <= rtol else f"it is not 0: its largest entry is {largest:.3g}"
    if set(a.axes) != set(b.axes):
        return f"one side has axes {a.axes}, the other {b.axes}"
    bt = _align(b, a.axes, {})
    if a.t.shape != bt.shape:
        return f"shapes {tuple(a.t.shape)} and {tuple(bt.shape)}"
    scale = max(a.t.abs().max().item() if a.t.numel() else 0.0, bt.abs().max().item() if bt.numel() else 0.0, 1.0)
    difference = (a.t - bt).abs().max().item() if a.t.numel() else 0.0
    return None if difference <= rtol * scale else f"they differ by {difference:.3g}"


def _is_zero_literal(value) -> bool:
    """0 with no axes: "P = 0" says every entry of P is 0 (the zero matrix is written 0, as on paper)."""
    return isinstance(value, Value) and not value.axes and not value.t.any()


def _as_number_if_1x1(value, other):
    """A 1 × 1 matrix compared with a number is that number (x^T A x is a scalar)."""
    if isinstance(value, Value) and isinstance(other, Value) and value.is_matrix and not other.is_matrix \
            and value.matrix_shape() == (1, 1):
        tensor = _align(value, value.labels + MATRIX_AXES, {})
        return Value(tensor[..., 0, 0], value.labels)
    return value


# ---------------------------------------------------------------------------------------------- evaluation
@dataclass
class Scope:
    """What one statement's evaluation knows: the context, and the ranges of the indices seen so far."""

    context: object
    ranges: dict[str, int] = field(default_factory=dict)
    matrices: dict[str, torch.Tensor] = field(default_factory=dict)
    cases: dict[str, object] = field(default_factory=dict)
    basis_shape: tuple[int, int] | None = None

    def note_range(self, index: str, size: int, where: str):
        known = self.ranges.setdefault(index, size)
        if known != size:
            raise Mismatch(f"index {index} ranges over {known} values elsewhere but over {size} in {where}")


def _size_name(token: str) -> str:
    """A size as the contexts name it: a layer's width n_{2} (or n_2) is n_2; m stays m."""
    return re.sub(r"_\{?([0-9]+)\}?", r"_\1", token)


class Evaluator:
    """Evaluates a parse tree in a scope; derivatives and tangents re-evaluate parts in changed contexts."""

    def __init__(self, scope: Scope):
        self.scope = scope

    def __call__(self, tree):
        if isinstance(tree, Token):
            raise NotEvaluable(f"unexpected token {tree!r}")
        handler = getattr(self, tree.data, None)
        if handler is None:
            raise NotEvaluable(f"no rule to evaluate {tree.data}")
        return handler(*tree.children)

    def with_context(self, context) -> "Evaluator":
        return Evaluator(Scope(context, self.scope.ranges, self.scope.matrices, self.scope.cases))

    # -- arithmetic
    def chain(self, *children):
        raise NotEvaluable("a nested relation")

    def neg(self, x):
        return elementwise(torch.neg, self(x))

    def add(self, a, b):
        return elementwise(torch.add, self(a), self(b))

    def sub(self, a, b):
        return elementwise(torch.sub, self(a), self(b))

    def product(self, *items):
        result, pending = None, None
        deferred = []
        for item in items:
            if isinstance(item, Token) and item.type == "MULOP":
                if result is None or pending is not None:
                    raise NotEvaluable(f"operator {item} without a left operand")
                pending = str(item)
                continue
            try:
                value = self(item)
            except NeedRange:
                if pending is not None:
                    raise
                deferred.append(item)   # a delta: multiply it in once the other factors fixed its ranges
                continue
            result = value if result is None else self._combine(result, value, pending)
            pending = None
        if pending is not None:
            raise NotEvaluable(f"operator {pending} without a right operand")
        for item in deferred:
            value = self(item)
            result = value if result is None else self._combine(result, value, None)
        return result

    def _combine(self, left, right, op):
        if op is None or op == "\\cdot":
            return multiply(left, right)
        if op == "\\odot":
            if not (left.is_matrix and right.is_matrix):
                raise NotEvaluable("⊙ between things that are not matrices")
            return elementwise(torch.mul, left, right)
        if op == "\\otimes":
            if left.labels or right.labels:
                raise NotEvaluable("⊗ of indexed quantities")
            return Value(torch.kron(_align(left, MATRIX_AXES, {}).contiguous(),
                                    _align(right, MATRIX_AXES, {}).contiguous()), MATRIX_AXES)
        if op == "\\times":
            if isinstance(left, Shape) or isinstance(right, Shape):
                raise NotEvaluable("× between shapes")
            return multiply(left, right)
        raise NotEvaluable(f"operator {op}")

    def number(self, token):
        return Value(torch.tensor(float(token), dtype=torch.float64))

    def fraction(self, numerator, denominator):
        return elementwise(torch.div, self(numerator), self(denominator))

    def group(self, inner):
        return self(inner)

    def postfixed(self, atom, *postfixes):
        value = self(atom)
        for postfix in postfixes:
            value = self._postfix(value, postfix, atom)
        return value

    def _postfix(self, value, postfix, atom):
        kind = postfix.data
        if kind == "transpose":
            return transpose(value)
        if kind == "power":
            exponent = self(postfix.children[0]) if isinstance(postfix.children[0], Tree) else \
                Value(torch.tensor(float(postfix.children[0]), dtype=torch.float64))
            if exponent.axes:
                raise NotEvaluable("an indexed exponent")
            if value.is_matrix and exponent.t.item() == -1:
                tensor = _align(value, value.labels + MATRIX_AXES, {})
                return Value(torch.linalg.inv(tensor), value.labels + MATRIX_AXES)
            if value.is_matrix:
                raise NotEvaluable("a power of a matrix")
            return Value(value.t ** exponent.t, value.axes)
        if kind == "entry":
            return self._entry(value, str(postfix.children[0]), atom)
        if kind == "frobenius":
            return self._entry(value, "F", atom)
        raise NotEvaluable(f"postfix {kind}")

    def _entry(self, value, indices: str, atom):
        parts = _indices(indices)
        if isinstance(value, Norm):
            if parts == ["F"]:
                return value.frobenius()
            raise NotEvaluable(f"norm with subscript {indices}")
        if isinstance(value, Basis):
            return value.entries(parts, self.scope)
        if isinstance(value, Identity):
            if len(parts) != 1 or not parts[0].isalpha():
                raise NotEvaluable("I needs its size as subscript, as in I_n")
            size = self.scope.context.size(parts[0])
            return Value(torch.eye(size, dtype=torch.float64), MATRIX_AXES)
        if isinstance(value, Value) and not value.is_matrix and isinstance(atom, Tree) and atom.data == "symbol":
            family = self.scope.context.family(_describe(atom))   # f_i: one member of a family, e.g. a sample's loss
            if family is not None:
                value = family
        if not isinstance(value, Value) or not value.is_matrix:
            raise NotEvaluable(f"subscript {indices} on something that is not a matrix")
        rows, cols = value.matrix_shape()
        if len(parts) == 1 and cols == 1:
            parts = [parts[0], "1"]   # a column vector: b_j is entry (j, 1)
        if len(parts) != 2:
            raise NotEvaluable(f"subscript {indices}")
        axes = list(value.labels) + list(MATRIX_AXES)
        tensor = _align(value, tuple(axes), {})
        where = f"{_describe(atom)}_{{{indices}}}"
        for matrix_axis, part, size in zip(MATRIX_AXES, parts, (rows, cols)):
            position = axes.index(matrix_axis)
            if part.isdigit():                        # a 1-based entry, as on paper
                if not 1 <= int(part) <= size:
                    raise Mismatch(f"{where}: index {part} outside 1..{size}")
                tensor = tensor.select(position, int(part) - 1)
                axes.pop(position)
            elif part == ":":
                continue
            else:
                self.scope.note_range(part, size, where)
                if part in axes:                      # X_{ii}: the diagonal
                    tensor = tensor.diagonal(dim1=axes.index(part), dim2=position).movedim(-1, axes.index(part))
                    axes.pop(position)
                else:
                    axes[position] = part
        if "#r" in axes and "#c" not in axes:         # M_{:,j}: a column, m × 1
            tensor, axes = tensor.unsqueeze(-1), axes + ["#c"]
        elif "#c" in axes and "#r" not in axes:       # X_{i,:}: a row, 1 × k
            position = axes.index("#c")
            tensor, axes = tensor.unsqueeze(position), axes[:position] + ["#r"] + axes[position:]
        return Value(tensor, tuple(axes))

    # -- symbols
    def symbol(self, token):
        name = re.sub(r"_\{?([0-9])\}?", r"_\1", str(token))
        if name == "\\delta":
            return KroneckerDelta()
        if name == "\\pi":
            return Value(torch.tensor(math.pi, dtype=torch.float64))
        if name == "I":
            return Identity()
        if name == "e":
            if self.scope.basis_shape is None:
                raise NotEvaluable("e_{ab} outside a function call that says which variable it perturbs")
            return Basis(self.scope.basis_shape)
        return self.scope.context.value(name)

    def tangent(self, token):
        name = re.sub(r"_\{?([0-9])\}?", r"_\1", str(token))
        return self.scope.context.tangent(name)

    def second_tangent(self, token):
        name = re.sub(r"_\{?([0-9])\}?", r"_\1", str(token))
        return self.scope.context.second_tangent(name)

    def matrix(self, token):
        return Value(self.scope.matrices[str(token)], MATRIX_AXES)

    def cases(self, token):
        return self.scope.cases[str(token)](self)

    def ones(self, size_symbol):
        n = self.scope.context.size(str(size_symbol))
        return Value(torch.ones(n, 1, dtype=torch.float64), MATRIX_AXES)

    def shape_literal(self, shape):
        return self(shape)

    def shape(self, rows, cols):
        def size(token):   # a number, a size such as k, a layer's width such as n_{2}, or a product such as mn
            token = str(token)
            if token.isdigit():
                return int(token)
            if "_" in token:
                return self.scope.context.size(_size_name(token))
            return math.prod(self.scope.context.size(s) for s in token)
        return Shape(size(rows), size(cols))

    def space(self, shape):
        return Space(self(shape))

    # -- operators
    def inner(self, a, b):
        left, right = self(a), self(b)
        if not (left.is_matrix and right.is_matrix):
            raise NotEvaluable("an inner product of things that are not matrices")
        return reduce_matrix(elementwise(torch.mul, left, right), lambda t: t.sum(dim=(-2, -1)))

    def norm(self, inner):
        return Norm(self(inner))

    def operator(self, name, argument):
        value = self(argument)
        name = str(name)
        if name.endswith("{tr}"):
            (rows, cols) = value.matrix_shape()
            if rows != cols:
                raise Mismatch(f"trace of a {rows}×{cols} matrix")
            return reduce_matrix(value, lambda t: t.diagonal(dim1=-2, dim2=-1).sum(-1))
        if name.endswith("{vec}"):
            tensor = _align(value, value.labels + MATRIX_AXES, {})
            stacked = tensor.transpose(-1, -2).reshape(*tensor.shape[:-2], -1, 1)   # columns stacked
            return Value(stacked, value.labels + MATRIX_AXES)
        if name.endswith("{diag}"):
            tensor = _align(value, value.labels + MATRIX_AXES, {})
            if tensor.shape[-1] != 1:
                raise NotEvaluable("diag of something that is not a column vector")
            return Value(torch.diag_embed(tensor[..., 0]), value.labels + MATRIX_AXES)
        raise NotEvaluable(name)

    def maximum(self, a, b):
        return elementwise(torch.maximum, self(a), self(b))

    def indicator(self, a, relation, b):
        compare = {">": torch.gt, "<": torch.lt, "\\ge": torch.ge, "\\geq": torch.ge,
                   "\\le": torch.le, "\\leq": torch.le}[str(relation)]
        return elementwise(lambda x, y: compare(x, y).to(torch.float64), self(a), self(b))

    def call(self, function, argument):
        return self.scope.context.call(str(function), self, argument)

    def call_derivative(self, function, argument):
        """φ'(Z): the derivative of an element-wise function, entry by entry (the context computes it by autograd)."""
        return self.scope.context.call(str(function) + "'", self, argument)

    def square_root(self, argument):
        return elementwise(torch.sqrt, self(argument))

    # -- sums and derivatives
    def sum(self, _sum, sub, *rest):
        sup, body = (rest if len(rest) == 2 else (None, rest[0]))
        indices, start = self(sub)
        upper = None
        if sup is not None:
            upper = self.scope.context.size(_size_name(str(sup.children[0])))   # m, n_2
        if start is not None and start != 1:
            raise NotEvaluable("a sum that does not start at 1")
        for index in indices:
            if upper is not None:
                self.scope.note_range(index, upper, f"the sum over {index}")
        value = self(body)
        for index in indices:
            if index in value.axes:
                value = Value(value.t.sum(dim=value.axes.index(index)),
                              tuple(a for a in value.axes if a != index))
            else:
                if index not in self.scope.ranges:
                    raise NeedRange(index)
                value = Value(value.t * self.scope.ranges[index], value.axes)
        return value

    def sum_from(self, letter, number):
        return ([str(letter)], int(str(number)))

    def sum_over(self, indices):
        return (_indices(str(indices)), None)

    def derivative(self, numerator, denominator):
        return self._derivative(lambda evaluator: evaluator(numerator), denominator)

    def derivative_of(self, denominator, body):
        return self._derivative(lambda evaluator: evaluator(body), denominator)

    def second_derivative(self, order, numerator, first, second):
        if str(order) != "2":
            raise NotEvaluable("derivatives of order other than 2")
        return self._derivative(lambda evaluator: evaluator._derivative(lambda e: e(numerator), second), first)

    def _derivative(self, numerator, denominator):
        """d numerator / d denominator by autograd, where the denominator is V or V_{ab} for a variable V."""
        name, indices = _variable_of(denominator)
        context = self.scope.context
        at = context.value(name)
        if not at.is_matrix:
            raise NotEvaluable(f"a derivative with respect to {name}, which is not a matrix")
        box = {}

        def function(point):
            value = numerator(self.with_context(context.override(name, point)))
            if isinstance(value, Norm):
                raise NotEvaluable("a norm without its subscript")
            if isinstance(value, Value) and value.is_matrix and not value.labels and value.matrix_shape() == (1, 1):
                value = Value(value.t.reshape(()), ())     # a 1 × 1 matrix such as 1^T Z 1 is a number
            box["axes"] = value.axes
            return value.t

        point = _align(at, MATRIX_AXES, {})
        jacobian = torch.autograd.functional.jacobian(function, point, create_graph=torch.is_grad_enabled())
        axes = box["axes"]
        if indices in ("vec", "vec^T"):
            return _vec_derivative(jacobian, axes, indices, name)
        if indices is not None and len(indices) == 1:        # b_j, an entry of a column vector
            if point.shape[1] != 1:
                raise NotEvaluable(f"one index on {name}, which is not a column vector")
            jacobian, indices = jacobian[..., 0], indices
            self.scope.note_range(indices[0], point.shape[0], f"∂{name}_{indices[0]}")
            if indices[0] in axes:
                raise NotEvaluable("repeated indices in a derivative")
            return Value(jacobian, axes + indices)
        if indices is None:
            if "#r" in axes:
                raise NotEvaluable("the derivative of a matrix by a matrix (name the entries)")
            return Value(jacobian, axes + MATRIX_AXES)
        rows, cols = point.shape
        for index, size in zip(indices, (rows, cols)):
            self.scope.note_range(index, size, f"∂{name}_{{{''.join(indices)}}}")
        if len(set(indices)) != 2 or any(i in axes for i in indices):
            raise NotEvaluable("repeated indices in a derivative")
        return Value(jacobian, axes + tuple(indices))


def _vec_derivative(jacobian, axes, kind, name) -> Value:
    """∂y/∂vec(V)^T (the Jacobian: one row per entry of the column y, one column per entry of vec V) and ∂s/∂vec(V)
    (a column, for a number s) or ∂r/∂vec(V) (one row per entry of vec V, for a row r: the second derivative)."""
    if any(not a.startswith("#") for a in axes):
        raise NotEvaluable("a derivative by vec(...) of an indexed quantity")
    flat = jacobian.transpose(-1, -2).reshape(*jacobian.shape[:-2], -1)     # vec(V): its columns stacked
    if not axes:                                                            # a number
        return Value(flat.reshape(-1, 1) if kind == "vec" else flat.reshape(1, -1), MATRIX_AXES)
    rows, cols = (flat.shape[axes.index("#r")], flat.shape[axes.index("#c")])
    flat = flat.permute(axes.index("#r"), axes.index("#c"), 2)
    if kind == "vec^T" and cols == 1:                                       # a column y: its Jacobian
        return Value(flat[:, 0, :], MATRIX_AXES)
    if kind == "vec" and rows == 1:                                         # a row r: one row per entry of vec V
        return Value(flat[0].transpose(0, 1), MATRIX_AXES)
    raise NotEvaluable(f"the derivative of a {rows}×{cols} matrix by vec({name}){'^T' if kind == 'vec^T' else ''}")


class Norm:
    """‖P‖ waits for its subscript F (the Frobenius norm) and possibly a square."""

    def __init__(self, value: Value):
        self.value = value

    def frobenius(self) -> Value:
        return reduce_matrix(self.value, lambda t: t.pow(2).sum(dim=(-2, -1)).sqrt())


class KroneckerDelta:
    """δ is evaluated only with its indices, once their ranges are known."""


class Identity:
    """I_n: the identity matrix of the size named by its subscript."""


class Basis:
    """e_{ab}: the matrix with a 1 in entry (a, b), shaped like the variable a function call perturbs."""

    def __init__(self, shape: tuple[int, int]):
        self.shape = shape

    def entries(self, parts, scope) -> Value:
        rows, cols = self.shape
        if len(parts) == 2 and all(p.isdigit() for p in parts):   # e_{11}: one fixed basis matrix
            a, b = int(parts[0]), int(parts[1])
            if not (1 <= a <= rows and 1 <= b <= cols):
                raise Mismatch(f"e_{{{a}{b}}} outside a {rows}×{cols} matrix")
            basis = torch.zeros(rows, cols, dtype=torch.float64)
            basis[a - 1, b - 1] = 1
            return Value(basis, MATRIX_AXES)
        if len(parts) != 2 or not all(p.isalpha() for p in parts) or parts[0] == parts[1]:
            raise NotEvaluable("e needs two different index letters")
        scope.note_range(parts[0], rows, "e")
        scope.note_range(parts[1], cols, "e")
        return Value(torch.eye(rows * cols, dtype=torch.float64).reshape(rows, cols, rows, cols),
                     (parts[0], parts[1]) + MATRIX_AXES)


def _indices(text: str) -> list[str]:
    """"ij" -> [i, j]; "i, j" -> [i, j]; "12" -> [1, 2]; ":,j" -> [:, j]; "F" -> [F]."""
    text = text.strip()
    if "," in text:
        return [p.strip() for p in text.split(",")]
    return list(text)


def _describe(tree) -> str:
    if isinstance(tree, Token):
        return str(tree)
    if tree.data == "symbol":
        return str(tree.children[0])
    return tree.data


def _unwrapped(tree):
    """The one thing inside a group, a one-factor product or a factor without postfix: (W_1) -> W_1."""
    while isinstance(tree, Tree) and tree.data in ("group", "product", "postfixed") and len(tree.children) == 1:
        tree = tree.children[0]
    return tree


def _variable_of(tree) -> tuple[str, tuple[str, ...] | str | None]:
    """(V, (a, b)) for V_{ab} or (V)_{ab}, (V, (j,)) for the entry b_j of a column vector, (V, None) for V, and
    (V, "vec") or (V, "vec^T") for vec(V) or vec(V)^T; anything else is not a variable to differentiate by."""
    tree = _unwrapped(tree)
    if isinstance(tree, Tree) and tree.data == "operator" and str(tree.children[0]).endswith("{vec}"):
        name, indices = _variable_of(tree.children[1])
        if indices is None:
            return name, "vec"
    if isinstance(tree, Tree) and tree.data == "postfixed":
        atom, *postfixes = tree.children
        atom = _unwrapped(atom)
        if len(postfixes) == 1 and postfixes[0].data == "transpose" and isinstance(atom, Tree) \
                and atom.data == "operator":
            name, indices = _variable_of(atom)
            if indices == "vec":
                return name, "vec^T"
        if isinstance(atom, Tree) and atom.data == "symbol":
            name = re.sub(r"_\{?([0-9])\}?", r"_\1", str(atom.children[0]))
            if not postfixes:
                return name, None
            if len(postfixes) == 1 and postfixes[0].data == "entry":
                indices = tuple(_indices(str(postfixes[0].children[0])))
                if len(indices) in (1, 2) and all(i.isalpha() for i in indices):
                    return name, indices
    if isinstance(tree, Tree) and tree.data == "symbol":
        return re.sub(r"_\{?([0-9])\}?", r"_\1", str(tree.children[0])), None
    raise NotEvaluable("a derivative by something that is not a variable or one of its entries")


# Kronecker delta with its subscript: handled where the postfix meets the delta.
_original_postfix = Evaluator._postfix


def _postfix_with_delta(self, value, postfix, atom):
    if isinstance(value, KroneckerDelta):
        if postfix.data != "entry":
            raise NotEvaluable("δ without indices")
        parts = _indices(str(postfix.children[0]))
        if len(parts) != 2 or not all(p.isalpha() for p in parts):
            raise NotEvaluable("δ needs two index letters")
        p, q = parts
        if p not in self.scope.ranges or q not in self.scope.ranges:
            raise NeedRange(p if p not in self.scope.ranges else q)
        if p == q:
            return Value(torch.ones(self.scope.ranges[p], dtype=torch.float64), (p,))
        return Value(torch.eye(self.scope.ranges[p], self.scope.ranges[q], dtype=torch.float64), (p, q))
    if isinstance(value, Norm) and postfix.data not in ("entry", "frobenius"):
        raise NotEvaluable("a norm without its subscript F")
    return _original_postfix(self, value, postfix, atom)


Evaluator._postfix = _postfix_with_delta


# ---------------------------------------------------------------------------------------------- statements
def preprocess(latex: str, scope: Scope) -> str:
    """Stash matrix literals and cases, normalise spellings; what is left goes to the grammar."""
    def stash_matrix(match):
        key = f"\\MATRIX{len(scope.matrices)}"
        rows = [r for r in match.group(1).strip().split("\\\\") if r.strip()]
        scope.matrices[key] = torch.tensor([[_number(x) for x in row.split("&")] for row in rows],
                                           dtype=torch.float64)
        return f" {key} "

    def stash_cases(match):
        key = f"\\CASES{len(scope.cases)}"
        branches = [b for b in match.group(1).strip().split("\\\\") if b.strip()]
        parsed = []
        for branch in branches:
            value, _, condition = branch.partition("&")
            condition = re.sub(r"\\text\{\s*(if|otherwise)\s*,?\s*\}", r" \1 ", condition).strip().rstrip(",.")
            parsed.append((value.strip(), condition.strip()))
        scope.cases[key] = lambda evaluator: _evaluate_cases(evaluator, parsed)
        return f" {key} "

    text = re.sub(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", stash_matrix, latex, flags=re.S)
    text = re.sub(r"\\begin\{cases\}(.*?)\\end\{cases\}", stash_cases, text, flags=re.S)
    text = text.replace("\\tfrac", "\\frac").replace("\\dfrac", "\\frac")
    text = re.sub(r"\\mathrm\{tr\}", r"\\operatorname{tr}", text)
    text = re.sub(r"\\operatorname\*?\{(tr|vec|diag)\}", r"\\operatorname{\1}", text)
    text = re.sub(r"\\(lvert|rvert|vert)\b", "|", text)
    if "\\text" in text or "\\mathrm" in text:
        raise NotEvaluable("words inside the formula")
    return text.strip().rstrip(",.;").strip()


def _number(text: str) -> float:
    text = text.strip().replace("\\phantom{-}", "")
    fraction = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", text)
    if fraction:
        return (-1 if fraction.group(1) else 1) * int(fraction.group(2)) / int(fraction.group(3))
    return float(text)


def _evaluate_cases(evaluator, parsed):
    result, covered = None, None
    for value_text, condition in parsed:
        value = evaluator(PARSER.parse(value_text).children[0])
        if condition.startswith("otherwise"):
            mask = elementwise(lambda c: 1 - c, covered)
        elif condition.startswith("if"):
            relation = PARSER.parse(condition[2:].strip())
            left, op, right = relation.children
            mask = evaluator.indicator(left, Token("RELOP", str(op)), right)
        else:
            raise NotEvaluable("a case without 'if' or 'otherwise'")
        covered = mask if covered is None else elementwise(torch.maximum, covered, mask)
        term = elementwise(torch.mul, mask, value)
        result = term if result is None else elementwise(torch.add, result, term)
    return result


def parse(latex: str, scope: Scope):
    text = preprocess(latex, scope)
    try:
        return PARSER.parse(text)
    except Exception as error:   # lark's errors: the statement is outside the dialect
        raise NotEvaluable(f"cannot parse {text!r}: {type(error).__name__}") from None


def check_statement(latex: str, context, claims_shape_of=None) -> tuple[int, object]:
    """Check one chain `a REL b REL c ...`; returns (number of relations checked, the first side's value).

    Raises Mismatch when the numbers disagree and NotEvaluable when the statement is outside the dialect.
    """
    scope = Scope(context)
    tree = parse(latex, scope)
    pieces = tree.children if tree.data == "chain" else [tree]
    sides, relations = pieces[0::2], [str(r) for r in pieces[1::2]]
    values: list = [None] * len(sides)
    for attempt in range(2):   # a second pass for the sides whose Kronecker deltas needed ranges
        for position, side in enumerate(sides):
            if values[position] is None:
                try:
                    values[position] = Evaluator(scope)(side)
                except NeedRange:
                    if attempt:
                        raise NotEvaluable("an index whose range nothing fixes")
    if not relations:
        if claims_shape_of is not None and isinstance(values[0], Shape):
            problem = same(claims_shape_of, values[0])
            if problem:
                raise Mismatch(f"shape claim ({latex.strip()}): {problem}")
            return 1, claims_shape_of
        raise NotEvaluable("an expression with no relation")
    for value in values:
        if isinstance(value, Norm):
            raise NotEvaluable("a norm without its subscript F")
    for position, relation in enumerate(relations):
        left, right = values[position], values[position + 1]
        _check_relation(left, relation, right, sides[position], sides[position + 1], latex)
    return len(relations), values[0]


def _check_relation(left, relation, right, left_tree, right_tree, latex):
    where = f"in {latex.strip()!r}"
    if relation == "\\in":
        if not isinstance(right, Space):
            raise NotEvaluable("∈ something other than a matrix space")
        if not (isinstance(left, Value) and left.is_matrix and not left.labels):
            raise NotEvaluable("∈ for something that is not a matrix")
        if Shape(*left.matrix_shape()) != right.shape:
            raise Mismatch(f"{where}: a {left.matrix_shape()} matrix is not in R^{right.shape}")
        return
    if relation == "=":
        problem = same(left, right)
    elif relation == "\\approx":
        problem = same(left, right, rtol=1e-5)
    elif relation in ("\\ne", "\\neq"):
        problem = None if same(left, right) else "the two sides are equal"
    else:
        compare = {"<": torch.lt, ">": torch.gt, "\\le": torch.le, "\\leq": torch.le,
                   "\\ge": torch.ge, "\\geq": torch.ge}[relation]
        if left.axes != right.axes and (left.axes and right.axes):
            raise NotEvaluable("an inequality between indexed quantities")
        problem = None if bool(compare(left.t, right.t).all()) else f"{relation} does not hold"
    if problem:
        raise Mismatch(f"{where}: {problem}")

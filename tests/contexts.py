"""The worlds in which the chapters' equations are evaluated: the inputs, and what every symbol means.

Independent of the book's helper package on purpose: every derived symbol is computed here from its definition,
and every gradient (G included) by automatic differentiation, so that a wrong formula in a chapter cannot be
confirmed by the same wrong formula in `relugrad`.
"""

from __future__ import annotations

from typing import Callable

import torch

from equations import MATRIX_AXES, Basis, NotEvaluable, Value, _align


def _relu(z):
    return torch.relu(z)


def one_layer_definitions() -> dict[str, Callable]:
    """f = ||max(XW, 0) - Y||_F^2 and its intermediates, in the book's notation."""
    def gradient_at_Z(c):
        return torch.func.grad(lambda z: c.override("Z", z).tensor("f"))(c.tensor("Z"))

    return {
        "Z": lambda c: c.tensor("X") @ c.tensor("W"),
        "A": lambda c: _relu(c.tensor("Z")),
        "E": lambda c: c.tensor("A") - c.tensor("Y"),
        "M": lambda c: (c.tensor("Z") > 0).to(torch.float64),
        "f": lambda c: (c.tensor("E") ** 2).sum(),
        "G": gradient_at_Z,
    }


class Context:
    """Symbol values for one evaluation: sizes, inputs, derived quantities, and tangent directions."""

    def __init__(self, sizes: dict[str, int], inputs: dict[str, torch.Tensor],
                 definitions: dict[str, Callable], scalars: dict[str, float] | None = None,
                 directions: dict[str, torch.Tensor] | None = None, overrides=None):
        self.sizes, self.inputs, self.definitions = sizes, inputs, definitions
        self.scalars = scalars or {}
        self.directions = directions or {}
        self.overrides = overrides or {}
        self._memo: dict[str, torch.Tensor] = {}

    # -- values
    def size(self, name: str) -> int:
        if name not in self.sizes:
            raise NotEvaluable(f"{name} is not a size here")
        return self.sizes[name]

    def tensor(self, name: str) -> torch.Tensor:
        if name in self.overrides:
            return self.overrides[name]
        if name in self._memo:
            return self._memo[name]
        if name in self.inputs:
            return self.inputs[name]
        if name in self.definitions:
            self._memo[name] = self.definitions[name](self)
            return self._memo[name]
        raise NotEvaluable(f"unknown symbol {name}")

    def value(self, name: str) -> Value:
        if name in self.sizes:
            return Value(torch.tensor(float(self.sizes[name]), dtype=torch.float64))
        if name in self.scalars:
            return Value(torch.tensor(float(self.scalars[name]), dtype=torch.float64))
        tensor = self.tensor(name)
        return Value(tensor, MATRIX_AXES if tensor.dim() == 2 else ())

    def override(self, name: str, tensor: torch.Tensor) -> "Context":
        if name not in self.inputs and name not in self.definitions:
            raise NotEvaluable(f"cannot vary {name}")
        return Context(self.sizes, self.inputs, self.definitions, self.scalars, self.directions,
                       {**self.overrides, name: tensor})

    def with_directions(self, names, seed: int = 12345) -> "Context":
        """Random tangent directions for the inputs in `names` (the others stay fixed)."""
        generator = torch.Generator().manual_seed(seed)
        directions = {name: torch.randn(*self.inputs[name].shape, generator=generator, dtype=torch.float64)
                      for name in sorted(names)}
        return Context(self.sizes, self.inputs, self.definitions, self.scalars, directions, self.overrides)

    # -- tangents: rates of change along W + t Ẇ (and the other varied inputs), at t = 0
    def tangent(self, name: str) -> Value:
        if name in self.inputs:
            tensor = self.directions.get(name, torch.zeros_like(self.inputs[name]))
            return Value(tensor, MATRIX_AXES if tensor.dim() == 2 else ())
        if name not in self.definitions:
            raise NotEvaluable(f"no tangent for {name}")
        varied = sorted(self.directions)
        base = self.tensor(name)
        if not varied:
            return Value(torch.zeros_like(base), MATRIX_AXES if base.dim() == 2 else ())

        def function(*points):
            context = self
            for varied_name, point in zip(varied, points):
                context = context.override(varied_name, point)
            return context.tensor(name)

        _, tangent = torch.func.jvp(function, tuple(self.tensor(v) for v in varied),
                                    tuple(self.directions[v] for v in varied))
        return Value(tangent, MATRIX_AXES if tangent.dim() == 2 else ())

    # -- functions: f(W + h e_{ab}) is f with W replaced by the argument
    def call(self, function: str, evaluator, argument) -> Value:
        if function != "f":
            raise NotEvaluable(f"the function {function}")
        name = _leftmost_symbol(argument)
        shape = tuple(self.tensor(name).shape)
        inner = evaluator.with_context(self)
        inner.scope.basis_shape = shape
        try:
            point = inner(argument)
        finally:
            inner.scope.basis_shape = None
        labels = point.labels
        stacked = _align(point, labels + MATRIX_AXES, {})
        flat = stacked.reshape(-1, *shape)
        values = torch.stack([self.override(name, p).tensor("f") for p in flat])
        return Value(values.reshape(stacked.shape[:-2]), labels)


def _leftmost_symbol(tree) -> str:
    from lark import Tree
    while isinstance(tree, Tree):
        if tree.data == "symbol":
            return str(tree.children[0])
        tree = tree.children[0]
    raise NotEvaluable("a function call whose argument does not start with a variable")


def mixed_sign_draw(m: int, k: int, n: int, seed: int):
    """Normal X, W, Y with both signs in Z = XW, so that the mask matters."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        X, W, Y = (torch.randn(*shape, generator=generator, dtype=torch.float64)
                   for shape in ((m, k), (k, n), (m, n)))
        Z = X @ W
        if (Z > 0).any() and (Z < 0).any():
            return X, W, Y


def kink_free_step(X: torch.Tensor, W: torch.Tensor) -> float:
    """Half the smallest step, in one entry of X or W, that would move some Z_ij to 0."""
    Z = X @ W
    for_W = (Z.abs()[:, None, :] / X.abs()[:, :, None].clamp_min(1e-300)).min()   # |Z_ib| / |X_ia|
    for_X = (Z.abs()[:, None, :] / W.abs()[None, :, :].clamp_min(1e-300)).min()   # |Z_aj| / |W_bj|
    return 0.5 * min(for_W.item(), for_X.item())


def generic_matrices(m: int, k: int, n: int, seed: int) -> dict[str, torch.Tensor]:
    """P, Q, R (m × n), B (m × k) and C (k × n): the stand-ins of the identities of the notation chapter."""
    generator = torch.Generator().manual_seed(seed + 1000)
    shapes = {"P": (m, n), "Q": (m, n), "R": (m, n), "B": (m, k), "C": (k, n)}
    return {name: torch.randn(*shape, generator=generator, dtype=torch.float64) for name, shape in shapes.items()}


def one_layer(m: int, k: int, n: int, seed: int = 0) -> Context:
    X, W, Y = mixed_sign_draw(m, k, n, seed)
    return Context({"m": m, "k": k, "n": n}, {"X": X, "W": W, "Y": Y, **generic_matrices(m, k, n, seed)},
                   one_layer_definitions(), scalars={"h": kink_free_step(X, W)})


def one_layer_example(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor, **scalars: float) -> Context:
    """A worked example: its own matrices (and scalars such as a step h), nothing random."""
    (m, k), n = X.shape, W.shape[1]
    return Context({"m": m, "k": k, "n": n}, {"X": X, "W": W, "Y": Y}, one_layer_definitions(), scalars=scalars)


# The random worlds every non-example equation must hold in: m, k, n all distinct (a wrong transpose or index
# has the wrong shape or range), and k = n (where only the numbers can tell a transpose from the right answer).
ONE_LAYER_SHAPES = [(5, 3, 4), (6, 4, 4)]
CONTEXTS = {
    "one_layer": lambda: [one_layer(*shape, seed=0) for shape in ONE_LAYER_SHAPES],
}

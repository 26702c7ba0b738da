"""The worlds in which the chapters' equations are evaluated: the inputs, and what every symbol means.

Independent of the book's helper package on purpose: every derived symbol is computed here from its definition,
and every gradient (G included) by automatic differentiation, so that a wrong formula in a chapter cannot be
confirmed by the same wrong formula in `relugrad`.
"""

from __future__ import annotations

import copy
import re
from typing import Callable

import torch
import torch.nn.functional as F

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


# Element-wise functions the chapters name, as PyTorch computes them. \\varphi is the world's own activation.
ELEMENTWISE = {
    "\\sigma": torch.sigmoid, "\\tanh": torch.tanh, "\\exp": torch.exp, "\\log": torch.log,
    "\\Phi": torch.special.ndtr,   # the standard normal distribution function
    "\\operatorname{ReLU}": torch.relu, "\\operatorname{GELU}": F.gelu, "\\operatorname{softplus}": F.softplus,
}


def _entrywise_derivative(function, tensor: torch.Tensor) -> torch.Tensor:
    """φ'(t) entry by entry, by autograd (composable with the jacobians and jvps of the checks)."""
    flat = tensor.reshape(-1)
    return torch.func.vmap(torch.func.grad(function))(flat).reshape(tensor.shape)


class Context:
    """Symbol values for one evaluation: sizes, inputs, derived quantities, and tangent directions.

    Optional: `activation`, the world's φ (what \\varphi means); `families`, quantities written with a subscript that
    are not entries of a matrix (f_i, sample i's loss: a function of the context giving an m × 1 column)."""

    def __init__(self, sizes: dict[str, int], inputs: dict[str, torch.Tensor],
                 definitions: dict[str, Callable], scalars: dict[str, float] | None = None,
                 directions: dict[str, torch.Tensor] | None = None, overrides=None,
                 activation: Callable | None = None, families: dict[str, Callable] | None = None):
        self.sizes, self.inputs, self.definitions = sizes, inputs, definitions
        self.scalars = scalars or {}
        self.directions = directions or {}
        self.overrides = overrides or {}
        self.activation = activation
        self.families = families or {}
        self._memo: dict[str, torch.Tensor] = {}

    def _replace(self, **changes) -> "Context":
        """A copy with some attributes changed and nothing computed yet (a subclass stays a subclass)."""
        new = copy.copy(self)
        new.__dict__.update(changes)
        new._memo = {}
        return new

    def has(self, name: str) -> bool:
        return name in self.inputs or name in self.definitions or name in self.overrides

    def instances(self, statement: str) -> list[str]:
        """The statements to check for one written statement: itself (a layered world expands a layer index)."""
        return [statement]

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

    def family(self, name: str) -> Value | None:
        """The column of a family's members (f_i), or None if `name` is no family here."""
        if name not in self.families:
            return None
        return Value(self.families[name](self), MATRIX_AXES)

    def override(self, name: str, tensor: torch.Tensor) -> "Context":
        if name not in self.inputs and name not in self.definitions:
            raise NotEvaluable(f"cannot vary {name}")
        return self._replace(overrides={**self.overrides, name: tensor})

    def with_directions(self, names, seed: int = 12345) -> "Context":
        """Random tangent directions for the inputs in `names` (the others stay fixed)."""
        generator = torch.Generator().manual_seed(seed)
        for name in names:
            if name not in self.inputs:
                raise NotEvaluable(f"cannot vary {name}: it is not an input here")
        directions = {name: torch.randn(*self.inputs[name].shape, generator=generator, dtype=torch.float64)
                      for name in sorted(names)}
        return self._replace(directions=directions)

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

    def second_tangent(self, name: str) -> Value:
        """The second derivative along the same line: d²/dt² of name(W + t Ẇ) at t = 0 (0 for an input)."""
        if name in self.inputs:
            tensor = torch.zeros_like(self.inputs[name])
            return Value(tensor, MATRIX_AXES if tensor.dim() == 2 else ())
        if name not in self.definitions:
            raise NotEvaluable(f"no tangent for {name}")
        varied = sorted(self.directions)
        points = tuple(self.tensor(v) for v in varied)
        directions = tuple(self.directions[v] for v in varied)

        def function(*moved):
            context = self
            for varied_name, point in zip(varied, moved):
                context = context.override(varied_name, point)
            return context.tensor(name)

        def first(*moved):
            return torch.func.jvp(function, moved, directions)[1]

        if not varied:
            second = torch.zeros_like(self.tensor(name))
        else:
            _, second = torch.func.jvp(first, points, directions)
        return Value(second, MATRIX_AXES if second.dim() == 2 else ())

    # -- functions: f(W + h e_{ab}) is f with W replaced by the argument
    def _elementwise(self, name: str) -> Callable:
        if name == "\\varphi" and self.activation is not None:
            return self.activation
        if name == "\\operatorname{LeakyReLU}" and "\\alpha" in self.scalars:
            return lambda t: F.leaky_relu(t, self.scalars["\\alpha"])
        if name in ELEMENTWISE:
            return ELEMENTWISE[name]
        raise NotEvaluable(f"the function {name}")

    def call(self, function: str, evaluator, argument) -> Value:
        if function != "f":   # an element-wise function, or its derivative (a name ending in ')
            derivative = function.endswith("'")
            apply = self._elementwise(function.rstrip("'"))
            value = evaluator(argument)
            result = _entrywise_derivative(apply, value.t) if derivative else apply(value.t)
            return Value(result, value.axes)
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


# ---------------------------------------------------------------------------------------------- beyond one layer
# The worlds of the part "Beyond one layer": each chapter's symbols computed from their definitions, every gradient
# by autograd, in worlds with the sizes all different and with k = n.

def _gradient_at(name: str) -> Callable:
    """∂f/∂name by autograd: f recomputed with `name` replaced."""
    return lambda c: torch.func.grad(lambda value: c.override(name, value).tensor("f"))(c.tensor(name))


def _vec(matrix: torch.Tensor) -> torch.Tensor:
    """vec(P): the columns of P stacked into one column."""
    return matrix.transpose(0, 1).reshape(-1, 1)


def _jacobian_vec(c, of: str, by: str) -> torch.Tensor:
    """∂vec(of)/∂vec(by)^T by autograd, one row per entry of vec(of)."""
    jacobian = torch.autograd.functional.jacobian(lambda point: _vec(c.override(by, point).tensor(of)),
                                                  c.tensor(by))
    return jacobian[:, 0].transpose(-1, -2).reshape(jacobian.shape[0], -1)


def _newton_point(c) -> torch.Tensor:
    """One Newton step on f from W, with the Hessian and the gradient both by autograd (vec order of their own)."""
    W = c.tensor("W")
    size = W.numel()

    def objective(point):
        return c.override("W", point).tensor("f")

    hessian = torch.autograd.functional.hessian(objective, W).reshape(size, size)
    gradient = torch.func.grad(objective)(W).reshape(size)
    return W - torch.linalg.solve(hessian, gradient).reshape(W.shape)


def layer_definitions(activation: Callable = _relu, bias: bool = False) -> dict[str, Callable]:
    """f = ||φ(XW [+ 1_m b^T]) - Y||_F^2 and its intermediates; M = 1[Z > 0] whatever φ is."""
    def pre_activation(c):
        Z = c.tensor("X") @ c.tensor("W")
        if bias:
            Z = Z + torch.ones(Z.shape[0], 1, dtype=Z.dtype) @ c.tensor("b").T
        return Z

    return {
        "Z": pre_activation,
        "A": lambda c: activation(c.tensor("Z")),
        "E": lambda c: c.tensor("A") - c.tensor("Y"),
        "M": lambda c: (c.tensor("Z") > 0).to(torch.float64),
        "f": lambda c: (c.tensor("E") ** 2).sum(),
        "G": _gradient_at("Z"),
        "J": lambda c: _jacobian_vec(c, "E", "W"),          # ∂vec(E)/∂vec(W)^T
        "S": lambda c: _newton_point(c) - c.tensor("W"),    # the Newton step: W + S is the Newton point
    }


def _per_sample_losses(c) -> torch.Tensor:
    """f_i = ||E_{i,:}||^2, one per sample, as an m × 1 column."""
    return (c.tensor("E") ** 2).sum(dim=1, keepdim=True)


def _draw(generator, *shape):
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


def beyond_layer(m: int, k: int, n: int, seed: int = 0, activation: Callable = _relu, bias: bool = False,
                 alpha: float = 0.01, min_active: int = 0) -> Context:
    """One layer, with an optional bias and any activation; both signs in Z, and in every column at least
    `min_active` active entries with X^T diag(M_{:,j}) X well conditioned (for Newton steps). Extra matrices: U
    (m × n), an upstream gradient; D (n × m), the third factor of vec(BCD); c (m × 1), an offset per sample; and
    those of the notation chapter."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        X, W, Y = _draw(generator, m, k), _draw(generator, k, n), _draw(generator, m, n)
        b = _draw(generator, n, 1)
        Z = X @ W + (b.T if bias else 0)
        if not ((Z > 0).any() and (Z < 0).any()):
            continue
        if min_active:
            blocks = [X.T @ torch.diag((Z[:, j] > 0).double()) @ X for j in range(n)]
            if any(int((Z[:, j] > 0).sum()) < min_active or torch.linalg.cond(block) > 1e3
                   for j, block in enumerate(blocks)):
                continue
        break
    inputs = {"X": X, "W": W, "Y": Y, **generic_matrices(m, k, n, seed),
              "U": _draw(generator, m, n), "D": _draw(generator, n, m), "c": _draw(generator, m, 1)}
    if bias:
        inputs["b"] = b
    return Context({"m": m, "k": k, "n": n}, inputs, layer_definitions(activation, bias),
                   scalars={"\\alpha": alpha}, activation=activation, families={"f": _per_sample_losses})


def bias_example(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor, Y: torch.Tensor, **scalars: float) -> Context:
    """A worked example with a bias: its own matrices, nothing random."""
    (m, k), n = X.shape, W.shape[1]
    return Context({"m": m, "k": k, "n": n}, {"X": X, "W": W, "b": b, "Y": Y}, layer_definitions(bias=True),
                   scalars=scalars)


ACTIVATIONS = {   # name: (φ, α for the leaky one)
    "ReLU": torch.relu,
    "LeakyReLU": lambda t: F.leaky_relu(t, 0.01),
    "GELU": F.gelu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}


class LayeredContext(Context):
    """L layers, A_0 = X, Z_l = A_{l-1} W_l, A_l = max(Z_l, 0), E = A_L - Y. A statement written with a layer
    index \\ell (and L for the last layer) is checked for every l whose symbols all exist here: W_\\ell for
    l = 1..L, G_{\\ell-1} for l = 2..L (A_0 = X exists, M_0 does not)."""

    SUBSCRIPT = re.compile(r"_(\\ell(?![a-zA-Z])|L(?![a-zA-Z])|\{\s*(?:\\ell|L)\s*(?:[-+]\s*\d+\s*)?\})")
    # \sum_{\ell'=\ell+1}^{L} \langle ... \rangle: one term per layer above \ell, written out before \ell is
    LAYER_SUM = re.compile(r"\\sum_\{\\ell'\s*=\s*\\ell\s*\+\s*1\}\^\{?L\}?\s*\\langle(.*?)\\rangle", re.S)
    PRIMED = re.compile(r"_\{\s*\\ell'\s*(?:([-+])\s*(\d+)\s*)?\}")

    def _expand_layer_sum(self, statement: str, layer: int) -> str:
        def term(body: str, upper: int) -> str:
            number = lambda p: upper + (int(p.group(2)) * (1 if p.group(1) == "+" else -1) if p.group(1) else 0)
            return "\\langle " + self.PRIMED.sub(lambda p: f"_{{{number(p)}}}", body) + " \\rangle"

        def expand(match):
            terms = [term(match.group(1), upper) for upper in range(layer + 1, self.depth + 1)]
            return "(" + " + ".join(terms) + ")" if terms else "0"   # an empty sum at \ell = L
        return self.LAYER_SUM.sub(expand, statement)

    def __init__(self, *args, depth: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.depth = depth

    def with_directions(self, names, seed: int = 12345) -> "Context":
        """As for one layer; W_\\ell (or b_\\ell) names the weights (or biases) of every layer at once."""
        expanded = set()
        for name in names:
            layer = re.fullmatch(r"([A-Za-z])_\\ell", name)
            expanded |= {f"{layer.group(1)}_{l}" for l in range(1, self.depth + 1)} if layer else {name}
        return super().with_directions(expanded, seed)

    def instances(self, statement: str) -> list[str]:
        if not self.SUBSCRIPT.search(statement):
            return [statement]
        layers = range(1, self.depth + 1) if "\\ell" in statement else [None]
        found = []
        for layer in layers:
            ok = True

            def substitute(match):
                inner = match.group(1).strip("{} ").replace("\\ell", str(layer)).replace("L", str(self.depth))
                number = eval(re.sub(r"\s+", "", inner), {"__builtins__": {}})   # digits, + and - only
                return f"_{{{number}}}"

            text = self.SUBSCRIPT.sub(substitute, self._expand_layer_sum(statement, layer) if layer else statement)
            for symbol, number in re.findall(r"([A-Z])_\{(-?\d+)\}", text):
                ok &= self.has(f"{symbol}_{number}")
            if ok:
                found.append(text)
        if not found:
            raise NotEvaluable(f"no layer of this {self.depth}-layer world has every symbol of {statement!r}")
        return found


def layered(widths: tuple[int, ...], seed: int = 0, dead_unit: bool = False, bias: bool = False) -> LayeredContext:
    """X (m × k) = A_0 and weights W_l of sizes n_{l-1} × n_l, n_l = widths[l + 1] (n_0 = k, n_L = n); every Z_l has
    both signs. With `dead_unit`, hidden unit 1 of layer 1 is inactive for every sample (its column of Z_1 is
    negative). With `bias`, Z_l = A_{l-1} W_l + 1_m b_l^T, with a bias b_l (n_l × 1) per layer."""
    m, depth = widths[0], len(widths) - 2
    generator = torch.Generator().manual_seed(seed)
    while True:
        X = _draw(generator, m, widths[1])
        weights = {f"W_{l}": _draw(generator, widths[l], widths[l + 1]) for l in range(1, depth + 1)}
        Y = _draw(generator, m, widths[-1])
        biases = {f"b_{l}": _draw(generator, widths[l + 1], 1) for l in range(1, depth + 1)} if bias else {}
        if dead_unit:
            X[:, 0] = X[:, 0].abs() + 1
            weights["W_1"][0, 0] = -3.0
            weights["W_1"][1:, 0] *= 0.1
        A, good = X, True
        for l in range(1, depth + 1):
            Z = A @ weights[f"W_{l}"] + (biases[f"b_{l}"].T if bias else 0)
            live = Z[:, 1:] if (dead_unit and l == 1) else Z
            good &= bool((live > 0).any() and (live < 0).any())
            if dead_unit and l == 1:
                good &= bool((Z[:, 0] < 0).all())
            A = torch.relu(Z)
        if good:
            break
    return _layered_context(X, [weights[f"W_{l}"] for l in range(1, depth + 1)], Y,
                            [biases[f"b_{l}"] for l in range(1, depth + 1)] if bias else None)


def _layered_context(X: torch.Tensor, weights: list[torch.Tensor], Y: torch.Tensor,
                     biases: list[torch.Tensor] | None = None) -> LayeredContext:
    """The world of a network with these weights (and biases): A_0 = X, Z_l, A_l, M_l, G_l, E, f, and the widths
    n_0 = k, ..., n_L = n."""
    depth = len(weights)
    definitions: dict[str, Callable] = {"A_0": lambda c: c.tensor("X")}

    def pre_activation(c, l):
        Z = c.tensor(f"A_{l - 1}") @ c.tensor(f"W_{l}")
        if biases is not None:
            Z = Z + torch.ones(Z.shape[0], 1, dtype=Z.dtype) @ c.tensor(f"b_{l}").T
        return Z

    for l in range(1, depth + 1):
        definitions[f"Z_{l}"] = lambda c, l=l: pre_activation(c, l)
        definitions[f"A_{l}"] = lambda c, l=l: _relu(c.tensor(f"Z_{l}"))
        definitions[f"M_{l}"] = lambda c, l=l: (c.tensor(f"Z_{l}") > 0).to(torch.float64)
        definitions[f"G_{l}"] = _gradient_at(f"Z_{l}")
    definitions["E"] = lambda c: c.tensor(f"A_{depth}") - c.tensor("Y")
    definitions["f"] = lambda c: (c.tensor("E") ** 2).sum()
    widths = [X.shape[1]] + [W.shape[1] for W in weights]
    sizes = {"m": X.shape[0], "k": widths[0], "n": widths[-1], **{f"n_{l}": widths[l] for l in range(depth + 1)}}
    inputs = {"X": X, **{f"W_{l}": W for l, W in enumerate(weights, 1)}, "Y": Y}
    if biases is not None:
        inputs.update({f"b_{l}": b for l, b in enumerate(biases, 1)})
    return LayeredContext(sizes, inputs, definitions, depth=depth)


def two_layer_example(X: torch.Tensor, W_1: torch.Tensor, W_2: torch.Tensor, Y: torch.Tensor) -> LayeredContext:
    """A worked example of two layers: its own matrices, nothing random."""
    return _layered_context(X, [W_1, W_2], Y)


# Sizes (m, k, n): all different, and k = n. The Hessian's worlds have enough samples for every unit to be active
# on at least k + 1 of them, so that each block 2 X^T diag(M_{:,j}) X is invertible.
BEYOND_SHAPES = [(5, 3, 4), (6, 4, 4)]
HESSIAN_SHAPES = [(12, 3, 4), (10, 4, 4)]
# Layer widths (m, k, n_1, n) for two layers; (m, k, ..., n) for depths 2, 3 and 4; and for three layers alone.
TWO_LAYER_WIDTHS = [(5, 3, 6, 4), (6, 4, 4, 4)]
DEEP_WIDTHS = [(5, 3, 6, 4), (6, 4, 5, 3, 2), (7, 3, 4, 4, 5, 3)]
THREE_LAYER_WIDTHS = [(6, 4, 5, 3, 2), (5, 3, 4, 4, 4)]

CONTEXTS.update({
    "bias": lambda: [beyond_layer(*shape, seed=0, bias=True) for shape in BEYOND_SHAPES],
    "activations": lambda: [beyond_layer(*shape, seed=0, activation=phi) for phi in ACTIVATIONS.values()
                            for shape in BEYOND_SHAPES],
    "two_layers": lambda: [layered(widths, seed=0, dead_unit=True) for widths in TWO_LAYER_WIDTHS],
    "deep": lambda: [layered(widths, seed=0) for widths in DEEP_WIDTHS],
    "deep_bias": lambda: [layered(widths, seed=0, bias=True) for widths in DEEP_WIDTHS],
    "three_layers": lambda: [layered(widths, seed=0) for widths in THREE_LAYER_WIDTHS],
    "kronecker": lambda: [beyond_layer(*shape, seed=0) for shape in BEYOND_SHAPES],
    "hessian": lambda: [beyond_layer(*shape, seed=0, min_active=shape[1] + 1) for shape in HESSIAN_SHAPES],
    "per_sample": lambda: [beyond_layer(*shape, seed=0) for shape in BEYOND_SHAPES],
    "cost": lambda: [beyond_layer(*shape, seed=0) for shape in BEYOND_SHAPES],
})

# Worked examples: the context that reads a block's own matrices (eq-NAME-inputs), by the name of its chapter's context.
EXAMPLES = {"one_layer": one_layer_example, "bias": bias_example, "two_layers": two_layer_example}


def hessian_example(X: torch.Tensor, W: torch.Tensor, Y: torch.Tensor) -> Context:
    """The Newton chapter's step by hand (chapters/beyond/newton.md, in the "hessian" world): its own matrices, S
    from autograd's Hessian."""
    (m, k), n = X.shape, W.shape[1]
    return Context({"m": m, "k": k, "n": n}, {"X": X, "W": W, "Y": Y}, layer_definitions())


EXAMPLES["hessian"] = hessian_example


def kronecker_example(X: torch.Tensor, W: torch.Tensor) -> Context:
    """The Kronecker chapter's vec(XW) in numbers: its own X and W (no targets)."""
    (m, k), n = X.shape, W.shape[1]
    return Context({"m": m, "k": k, "n": n}, {"X": X, "W": W}, layer_definitions())


EXAMPLES["kronecker"] = kronecker_example


def cross_entropy_layer(m: int, k: int, n: int, seed: int = 0, one_hot: bool = True) -> Context:
    """Softmax with cross-entropy on a linear layer: Z = XW, P = softmax of each row of Z, f = -Σ_ij Y_ij log P_ij.
    Y is one-hot (each row sums to 1), or, with `one_hot=False`, positive with rows that do not sum to 1."""
    generator = torch.Generator().manual_seed(seed)
    X, W = _draw(generator, m, k), _draw(generator, k, n)
    if one_hot:
        Y = F.one_hot(torch.randint(n, (m,), generator=generator), n).to(torch.float64)
    else:
        Y = torch.rand(m, n, generator=generator, dtype=torch.float64) + 0.1
    definitions = {
        "Z": lambda c: c.tensor("X") @ c.tensor("W"),
        "P": lambda c: torch.softmax(c.tensor("Z"), dim=1),
        "f": lambda c: -(c.tensor("Y") * torch.log(c.tensor("P"))).sum(),
        "G": _gradient_at("Z"),
        # one row as columns: z = Z_{1,:}^T, y = Y_{1,:}^T (inputs), p = softmax(z), and J = ∂p/∂z^T by autograd
        "p": lambda c: torch.softmax(c.tensor("z"), dim=0),
        "J": lambda c: torch.autograd.functional.jacobian(lambda z: torch.softmax(z, dim=0),
                                                          c.tensor("z")).reshape(n, n),
    }
    rows = {"z": (X @ W)[:1].T.clone(), "y": Y[:1].T.clone()}
    return Context({"m": m, "k": k, "n": n}, {"X": X, "W": W, "Y": Y, **rows}, definitions)


def kronecker_rules(m: int, k: int, n: int, seed: int = 0) -> Context:
    """The kronecker world, with stand-ins whose products PR and QS exist: P (m × k), R (k × n), Q (n × m), S (m × k);
    B (m × k), C (k × n) and D (n × m) as before."""
    world = beyond_layer(m, k, n, seed)
    generator = torch.Generator().manual_seed(seed + 2000)
    shapes = {"P": (m, k), "R": (k, n), "Q": (n, m), "S": (m, k)}
    return world._replace(inputs={**world.inputs, **{name: _draw(generator, *shape) for name, shape in shapes.items()}})


CONTEXTS.update({
    "kronecker_rules": lambda: [kronecker_rules(*shape, seed=0) for shape in BEYOND_SHAPES],
    "cross_entropy": lambda: [cross_entropy_layer(*shape, seed=0) for shape in BEYOND_SHAPES],
    "soft_targets": lambda: [cross_entropy_layer(*shape, seed=0, one_hot=False) for shape in BEYOND_SHAPES],
})


def rounding(seed: int) -> Context:
    """Scalars of the near-fit identity (verification): an entry c of E that changes by ±hx along a step, computed
    with rounding errors r_1 and r_2; s and d their sum and difference."""
    generator = torch.Generator().manual_seed(seed + 2000)
    c, x, r_1, r_2 = (torch.randn(4, generator=generator, dtype=torch.float64)
                      * torch.tensor([1, 1, 1e-3, 1e-3], dtype=torch.float64)).tolist()
    return Context({}, {}, {}, scalars={"c": c, "x": x, "h": 10.0 ** -(seed + 2), "r_1": r_1, "r_2": r_2,
                                        "s": r_1 + r_2, "d": r_1 - r_2})


CONTEXTS["rounding"] = lambda: [rounding(seed) for seed in (0, 1)]

"""Unit tests of the equation checker's dialect added for the part "Beyond one layer" (tests/equations.py,
tests/contexts.py): each construct evaluates a true statement as true and a false one as false."""

import pytest

from contexts import CONTEXTS, LayeredContext, beyond_layer, layered
from equations import Mismatch, NotEvaluable, PARSER, check_statement


def holds(statement, world):
    count, _ = check_statement(statement, world)
    return count


def fails(statement, world):
    with pytest.raises(Mismatch):
        check_statement(statement, world)


@pytest.fixture(scope="module")
def layer():
    return beyond_layer(5, 3, 4, seed=0)


@pytest.fixture(scope="module")
def moving(layer):
    return layer.with_directions({"W"})


def test_symbols_with_a_layer_number_end_before_a_closing_brace():
    """W_2} used to be read as one symbol, braces and all."""
    PARSER.parse(r"\frac{\partial f}{\partial W_2}")
    PARSER.parse(r"(G_1)_{ic} = (M_1)_{ic}")


def test_derivatives_by_vec(layer):
    assert holds(r"\frac{\partial \operatorname{vec}(Z)}{\partial \operatorname{vec}(W)^\top} = I_n \otimes X", layer)
    fails(r"\frac{\partial \operatorname{vec}(Z)}{\partial \operatorname{vec}(W)^\top} = I_n \otimes (2X)", layer)
    assert holds(r"\frac{\partial f}{\partial \operatorname{vec}(W)} = \operatorname{vec}(X^\top G)", layer)
    fails(r"\frac{\partial f}{\partial \operatorname{vec}(W)} = \operatorname{vec}(2 X^\top G)", layer)


def test_second_derivative_by_vec_and_by_entries(layer):
    assert holds(r"\frac{\partial^2 f}{\partial \operatorname{vec}(W)\, \partial \operatorname{vec}(W)^\top} = 2 J^\top J",
                 layer)
    fails(r"\frac{\partial^2 f}{\partial \operatorname{vec}(W)\, \partial \operatorname{vec}(W)^\top} = J^\top J", layer)
    assert holds(r"\frac{\partial^2 f}{\partial W_{ab}\, \partial W_{cd}} = 2 \delta_{bd} \sum_{i=1}^{m} X_{ia} M_{ib} X_{ic}",
                 layer)
    fails(r"\frac{\partial^2 f}{\partial W_{ab}\, \partial W_{cd}} = 2 \sum_{i=1}^{m} X_{ia} M_{ib} X_{ic}", layer)


def test_second_tangent(moving):
    assert holds(r"\ddot f = 2 \lVert M \odot (X \dot W) \rVert_F^2", moving)
    fails(r"\ddot f = \lVert M \odot (X \dot W) \rVert_F^2", moving)
    assert holds(r"\ddot Z = 0", moving)


def test_functions_and_their_derivatives(layer):
    assert holds(r"\sigma'(Z) = \sigma(Z) \odot (1 - \sigma(Z))", layer)
    fails(r"\sigma'(Z) = \sigma(Z) \odot \sigma(Z)", layer)
    assert holds(r"\operatorname{LeakyReLU}'(Z) = M + \alpha (1 - M)", layer)
    fails(r"\operatorname{LeakyReLU}'(Z) = M", layer)
    assert holds(r"\varphi'(Z) = M", layer)          # this world's activation is the ReLU


def test_square_roots_and_pi(layer):
    assert holds(r"\Phi'(Z_{ij}) = \frac{1}{\sqrt{2\pi}} \exp(-\frac{1}{2} Z_{ij}^2)", layer)
    fails(r"\Phi'(Z_{ij}) = \frac{1}{\sqrt{\pi}} \exp(-\frac{1}{2} Z_{ij}^2)", layer)


def test_families_such_as_a_samples_loss(layer):
    assert holds(r"\sum_{i=1}^{m} f_i = f", layer)
    fails(r"\sum_{i=1}^{m} f_i = 2f", layer)
    assert holds(r"\frac{\partial f_i}{\partial W} = X_{i,:}^\top G_{i,:}", layer)
    with pytest.raises(NotEvaluable):
        check_statement(r"\sum_{i=1}^{m} E_i = f", layer)   # E is a matrix: no family, no single subscript


def test_zero_is_the_zero_matrix_and_a_1x1_matrix_is_a_number(layer):
    assert holds(r"X^\top G - X^\top G = 0", layer)
    fails(r"X^\top G = 0", layer)
    assert holds(r"X^\top G \ne 0", layer)
    assert holds(r"\mathbf{1}_m^\top Z \mathbf{1}_n = \sum_{i=1}^{m} \sum_{j=1}^{n} Z_{ij}", layer)
    fails(r"\mathbf{1}_m^\top Z \mathbf{1}_n = \sum_{i=1}^{m} Z_{i1}", layer)
    assert holds(r"\frac{\partial}{\partial Z} (\mathbf{1}_m^\top Z \mathbf{1}_n) = \mathbf{1}_m \mathbf{1}_n^\top", layer)


def test_shapes_with_products_of_sizes(layer):
    assert holds(r"I_n \otimes X \in \mathbb{R}^{mn \times kn}", layer)
    fails(r"I_n \otimes X \in \mathbb{R}^{mk \times kn}", layer)


def test_kronecker_products_of_transposed_operands(layer):
    assert holds(r"(I_n \otimes X)^\top = I_n \otimes X^\top", layer)
    fails(r"(I_n \otimes X)^\top = I_n \otimes X", beyond_layer(6, 4, 4, seed=0))


def test_derivative_by_an_entry_of_a_vector_or_of_a_named_layer():
    bias = CONTEXTS["bias"]()[0]
    assert holds(r"\frac{\partial f}{\partial b_j} = (G^\top \mathbf{1}_m)_j", bias)
    fails(r"\frac{\partial f}{\partial b_j} = 2 (G^\top \mathbf{1}_m)_j", bias)
    two = layered((5, 3, 6, 4), seed=0)
    assert holds(r"\frac{\partial f}{\partial (W_1)_{ac}} = \sum_{i=1}^{m} X_{ia} (G_1)_{ic}", two)
    fails(r"\frac{\partial f}{\partial (W_1)_{ac}} = \sum_{i=1}^{m} X_{ia} (G_2)_{ic}", two)


def test_a_layer_index_is_checked_for_every_layer_it_names():
    deep = layered((6, 4, 5, 3, 2), seed=0)
    assert isinstance(deep, LayeredContext) and deep.depth == 3
    instances = deep.instances(r"G_{\ell-1} = (G_\ell W_\ell^\top) \odot M_{\ell-1}")
    assert instances == [r"G_{1} = (G_{2} W_{2}^\top) \odot M_{1}", r"G_{2} = (G_{3} W_{3}^\top) \odot M_{2}"]
    assert len(deep.instances(r"\frac{\partial f}{\partial W_\ell} = A_{\ell-1}^\top G_\ell")) == 3   # A_0 = X
    assert deep.instances(r"G_L = 2E \odot M_L") == [r"G_{3} = 2E \odot M_{3}"]
    for statement in deep.instances(r"G_{\ell-1} = (G_\ell W_\ell^\top) \odot M_{\ell-1}"):
        assert holds(statement, deep)
    for statement in deep.instances(r"G_{\ell-1} = G_\ell W_\ell^\top"):
        fails(statement, deep)
    with pytest.raises(NotEvaluable):
        deep.instances(r"M_{\ell-4} = M_{\ell-4}")      # no layer has an M_{l-4} and an M_l... here, none at all

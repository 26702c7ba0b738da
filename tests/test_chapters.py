"""The chapters' formulas are checked by code: every display equation of the results, the 2 × 2 worked example,
and every Python snippet. A wrong sign, transpose, mask or factor typed into a chapter fails here."""

import re
from pathlib import Path

import pytest
import torch

from relugrad import exact_zero_inputs, homework_inputs, mixed_sign_inputs

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"

GRADIENT_NAMES = {rf"\frac{{\partial f}}{{\partial {v}}}": f"d{v}" for v in "WXYZAE"}
MATRIX_NAMES = set("XWYZAEMG")
# Labelled equations and how many of their statements must be checked (none may be skipped).
REQUIRED = {
    "eq-forward": 3, "eq-mask": 1, "eq-G": 2, "eq-dY": 2, "eq-dW": 2, "eq-dX": 2, "eq-dW-backprop": 5,
    "eq-summary": 5, "eq-wrong-transpose": 1, "eq-example-inputs": 3, "eq-example-forward": 5,
    "eq-example-G": 2, "eq-example-gradients": 6,
}


def display_equations(text):
    """(label, body) of every $$ ... $$ (label) block."""
    return re.findall(r"^\$\$\n(.*?)\n\$\$ *(?:\((\S+)\))?$", text, flags=re.S | re.M)


def parse_bmatrix(body):
    return torch.tensor([[float(x) for x in row.split("&")] for row in body.strip().split(r"\\")],
                        dtype=torch.float64)


def translate(tex):
    """A small LaTeX-to-PyTorch translator for the matrix expressions of the book; None if out of its reach."""
    s = tex
    for latex, name in GRADIENT_NAMES.items():
        s = s.replace(latex, f" {name} ")
    s = re.sub(r"\\mathbf\{1\}\[\s*([A-Z])\s*>\s*0\s*\]", r" mask(\1) ", s)
    s = re.sub(r"\\max\(\s*([A-Z]+)\s*,\s*0\s*\)", r" relu(\1) ", s)
    for sizing in (r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\left", r"\right"):
        s = s.replace(sizing, "")
    s = s.replace(r"\odot", " * ").replace(r"^\top", " .T ")
    s = re.sub(r"\\[,;!]", " ", s).strip().rstrip(".,").strip()
    if not s or re.search(r"[\\{}_^&|<>\[\]]", s):
        return None
    tokens = re.findall(r"d[WXYZAE]|MAT\d+|relu|mask|\.T|\d+(?:\.\d+)?|[A-Za-z]|[()+\-*]", s)
    if "".join(tokens) != s.replace(" ", "") or any(
            len(t) == 1 and t.isalpha() and t not in MATRIX_NAMES for t in tokens):
        return None
    out, prev = [], None
    for token in tokens:
        starts_operand = token == "(" or re.fullmatch(r"d[WXYZAE]|MAT\d+|relu|mask|\d+(\.\d+)?|[A-Za-z]", token)
        ends_operand = prev is not None and (prev in (")", ".T") or re.fullmatch(r"d[WXYZAE]|MAT\d+|\d+(\.\d+)?|[A-Za-z]", prev))
        if starts_operand and ends_operand and prev not in ("relu", "mask"):
            out.append("*" if re.fullmatch(r"\d+(\.\d+)?", prev) else "@")
        out.append(token)
        prev = token
    code = "".join(out)
    try:
        compile(code, "<chapter>", "eval")
    except SyntaxError:
        return None
    return code


def references(X, W, Y):
    """Every named quantity, from autograd alone (independent of the book's helper package)."""
    Z = (X @ W).requires_grad_(True)
    A = torch.relu(Z)
    A.retain_grad()
    E = A - Y
    E.retain_grad()
    Yl = Y.clone().requires_grad_(True)
    Xl, Wl = X.clone().requires_grad_(True), W.clone().requires_grad_(True)
    ((torch.relu(Xl @ Wl) - Yl) ** 2).sum().backward()
    (E ** 2).sum().backward()
    env = {"X": X, "W": W, "Y": Y, "Z": Z.detach(), "A": A.detach(), "E": E.detach(),
           "M": (Z > 0).double(), "G": Z.grad, "dZ": Z.grad, "dA": A.grad, "dE": E.grad,
           "dW": Wl.grad, "dX": Xl.grad, "dY": Yl.grad}
    env.update(relu=torch.relu, mask=lambda t: (t > 0).double())
    return env


def statements(body):
    """Each `a = b = c` chain of a block, as (subject, pieces); lines starting with `&=` continue a subject."""
    matrices = {}

    def stash(match):
        key = f"MAT{len(matrices)}"
        matrices[key] = parse_bmatrix(match.group(1))
        return f" {key} "

    body = re.sub(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", stash, body, flags=re.S)
    body = re.sub(r"\\begin\{cases\}.*?\\end\{cases\}", r" \\cases ", body, flags=re.S)
    body = body.replace(r"\begin{aligned}", "").replace(r"\end{aligned}", "")
    chains, subject = [], None
    for line in re.split(r"\\\\(?:\[[^\]]*\])?", body):   # line breaks, with optional spacing: \\[6pt]
        line = line.split("&&")[0]
        for part in re.split(r"\\qquad|\\quad", line):
            pieces = [p.replace("&", "").strip() for p in part.split("=")]
            if len(pieces) < 2:
                continue
            if pieces[0] == "" and subject is not None:
                pieces[0] = subject
            subject = pieces[0]
            chains.append(pieces)
    return chains, matrices


def check_block(body, env):
    """Evaluate every translatable piece; return how many were checked and the list of failures."""
    chains, matrices = statements(body)
    env = {**env, **matrices}
    checked, failures = 0, []
    for pieces in chains:
        values = []
        for piece in pieces:
            code = translate(piece)
            if code is None:
                continue
            try:
                values.append((piece, eval(code, {}, env)))  # noqa: S307 - our own chapters
            except (NameError, RuntimeError) as error:
                failures.append(f"{piece!r}: {error}")
        for piece, value in values[1:]:
            want = values[0][1]
            if not (isinstance(value, torch.Tensor) and value.shape == want.shape
                    and torch.allclose(value.double(), want.double(), rtol=1e-9, atol=1e-9)):
                failures.append(f"{piece!r} != {values[0][0]!r}")
        checked += max(len(values) - 1, 0)
    return checked, failures


def example_environment(text):
    body = dict((label, body) for body, label in display_equations(text))["eq-example-inputs"]
    chains, matrices = statements(body)
    named = {pieces[0]: matrices[pieces[1].strip(" ,.")] for pieces in chains}
    return references(named["X"], named["W"], named["Y"])


ALL_BLOCKS = [(path.name, label, body) for path in sorted(CHAPTERS.glob("*.md"))
              for body, label in display_equations(path.read_text())]


@pytest.mark.parametrize("chapter,label,body", ALL_BLOCKS, ids=[f"{c}:{l or '-'}" for c, l, _ in ALL_BLOCKS])
def test_display_equations_hold(chapter, label, body):
    if "MAT" in body or "bmatrix" in body:
        env = example_environment((CHAPTERS / chapter).read_text())
        checked, failures = check_block(body, env)
    else:
        checked, failures = 0, []
        for shape in ((6, 4, 4), (5, 3, 2)):   # k = n catches transposes only numerically; k != n by shape
            count, errs = check_block(body, references(*mixed_sign_inputs(*shape, seed=0)))
            checked, failures = count, failures + errs
    assert not failures, f"{chapter} ({label}): " + "; ".join(failures)
    if label in REQUIRED:
        assert checked >= REQUIRED[label], f"{chapter} ({label}): only {checked} statements could be checked"


def test_every_required_equation_exists():
    labels = {label for _, label, _ in ALL_BLOCKS}
    assert set(REQUIRED) <= labels, set(REQUIRED) - labels


def test_translator_rejects_what_it_cannot_read():
    assert translate(r"X^\top G") == "X.T@G"
    assert translate(r"-2\bigl(\max(XW, 0) - Y\bigr)") == "-2*(relu(X@W)-Y)"
    assert translate(r"(2E \odot M)\, W^\top") == "(2*E*M)@W.T"
    assert translate(r"\sum_{i} X_{ia} G_{ib}") is None
    assert translate(r"\mathbf{1}[Z \ge 0]") is None


PYTHON_BLOCKS = [(path.name, block) for path in sorted(CHAPTERS.glob("*.md"))
                 for block in re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)]


@pytest.mark.parametrize("chapter,code", PYTHON_BLOCKS, ids=[c for c, _ in PYTHON_BLOCKS])
def test_python_snippets_compute_what_they_claim(chapter, code):
    checked = False
    for X, W, Y in (mixed_sign_inputs(6, 4, 4, seed=0), mixed_sign_inputs(5, 3, 2, seed=1), exact_zero_inputs()):
        namespace = {"torch": torch, "X": X, "W": W, "Y": Y}
        exec(code, namespace)  # noqa: S102 - our own chapters
        if "dW" in namespace:
            env = references(X, W, Y)
            for name in ("dW", "dX", "dY"):
                assert torch.allclose(namespace[name].double(), env[name], rtol=1e-9, atol=1e-9), name
            checked = True
        if "x" in namespace:   # the homework's setting: seed, then x, W, y in that order
            for mine, theirs in zip((namespace["x"], namespace["W"], namespace["y"]), homework_inputs()):
                assert torch.equal(mine, theirs)
            checked = True
    assert checked, f"a Python snippet in {chapter} is not checked by any test"

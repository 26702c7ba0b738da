"""The worksheet's checks: a student's hand backward against autograd, finite differences, gradcheck and the catalogue
of known bugs, with a verdict that says what is wrong and where to read about it.

A check never raises on a wrong or unfinished answer: it prints its verdict and returns a `Report`, so that a
notebook run from top to bottom shows every part's verdict, and the book's build can execute the unfilled worksheet.
A grader who wants a failing exit code calls `Report.raise_if_failed()` (or `require_all_passed()` at the end).
"""

from dataclasses import dataclass, field
from typing import Callable

import torch

from relugrad.bugs import BUGS
from relugrad.checks import compare
from relugrad.finite_differences import central_difference, kink_free_step
from relugrad.formulas import Gradients, autograd_gradients, intermediates, objective
from relugrad.function import function_with_backward
from relugrad.inputs import exact_zero_inputs, mixed_sign_inputs


def page(title: str, section: str = "") -> str:
    """A page of the book by the title its table of contents shows (on the site, in the PDF, in the search), and the
    section to open: what a student can find, unlike a source file's path."""
    return f"the book's page “{title}”" + (f", section “{section}”" if section else "")


# Where each known mistake is explained: the book's pages, as a student finds them in its table of contents.
GRADIENT_W = "The gradient with respect to W"
HINTS = {
    "missing mask": "the ReLU passes a gradient only where Z > 0: G = 2E ⊙ M with M = 1[Z > 0] "
                    f"(read {page(GRADIENT_W, 'Route 3: staged backpropagation')}, the ReLU gate)",
    "wrong transpose": "a gradient has the shape of its variable: dW = XᵀG is k × n, dX = GWᵀ is m × k "
                       f"(read {page(GRADIENT_W, 'Why the shape check is not a proof')})",
    "missing factor 2": "the derivative of E² is 2E: G = 2E ⊙ M "
                        f"(read {page(GRADIENT_W, 'Route 1: entry by entry')})",
    "mean instead of sum": "f is a sum of squares, not a mean: nothing is divided by mn "
                           f"(read {page('Setting and notation', 'The objective and its intermediates')})",
    "wrong sign of dY": "E = A − Y, so ∂E/∂Y = −1 and dY = −2E "
                        f"(read {page('The gradient with respect to Y', 'Entry by entry')})",
    ">= for >": "the mask is 1[Z > 0], strict, as torch.relu's backward: at Z = 0 the slope is 0 "
                f"(read {page('ReLU at zero', 'What PyTorch and other spellings compute')})",
}
SHAPES = (5, 3, 4)        # m, k, n all different: a misplaced transpose cannot have the right shape
SQUARE = (6, 4, 4)        # k = n: a transposed dW has the right shape, and code that branches on shapes is caught
BRANCHES = ("right when m, k, n all differ but not when k = n: does your code branch on, or reshape by, the shapes? "
            f"(read {page(GRADIENT_W, 'Why the shape check is not a proof')})")
UNKNOWN = ("not one of the catalogued mistakes: compare each gradient with the numbers of "
           f"{page('A worked example with m, k, n all different', 'The gradients')}, one intermediate at a time")


@dataclass
class Report:
    """The verdicts of one check: each line is (passed, text)."""

    title: str
    lines: list[tuple[bool, str]] = field(default_factory=list)
    diagnosis: str = ""
    demonstration: bool = False   # a backward wrong on purpose: its failure is the expected outcome

    @property
    def passed(self) -> bool:
        return bool(self.lines) and all(ok for ok, _ in self.lines)

    def add(self, ok: bool, text: str) -> bool:
        self.lines.append((ok, text))
        return ok

    def __str__(self) -> str:
        out = [self.title]
        out += [f"  {'✓ PASS' if ok else '✗ FAIL'}  {text}" for ok, text in self.lines]
        if self.diagnosis:
            out.append(f"  → {self.diagnosis}")
        if self.passed:
            out.append("  All checks pass.")
        elif self.demonstration:
            out.append("  Caught, as it should be: this backward is wrong on purpose. Nothing to fix here "
                       "(a demonstration does not count towards your progress).")
        else:
            out.append("  Not done yet: fix the first ✗ above, then run the cell again.")
        return "\n".join(out)

    def raise_if_failed(self) -> None:
        if not self.passed:
            raise AssertionError(str(self))


_REPORTS: dict[str, Report] = {}


def _record(report: Report, keep: bool = True) -> Report:
    if keep:
        _REPORTS[report.title] = report
    print(report)
    return report


def _inputs():
    return {"mixed signs, m, k, n all different": mixed_sign_inputs(*SHAPES, seed=0),
            "mixed signs, k = n": mixed_sign_inputs(*SQUARE, seed=1),
            "integers with exact zeros in Z": exact_zero_inputs(seed=3)}


def _raised_in(error: BaseException) -> str | None:
    """The name of the function whose line raised `error` (the innermost frame), or None."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame.tb_frame.f_code.co_name if frame is not None else None


def _call(function, arguments, report: Report, what: str):
    """function(*arguments), or None with a verdict that says why it could not be used."""
    try:
        return function(*arguments)
    except NotImplementedError as error:
        unfinished = _raised_in(error)   # my_backward may call an unfinished my_G: name the one to finish
        whose = what if unfinished in (what, None) else f"{unfinished}, which {what} calls,"
        report.add(False, f"{whose} is not finished: {error or 'it raises NotImplementedError'}")
    except Exception as error:   # a student's code may fail in any way: say how, and carry on
        report.add(False, f"{what} raised {type(error).__name__}: {error}")
    return None


def check_G(my_G: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Report:
    """Part 1: G = ∂f/∂Z from Z and E, against autograd's gradient at Z, on inputs with both signs and exact zeros."""
    report = Report("Part 1: G = ∂f/∂Z")
    for label, (X, W, Y) in _inputs().items():
        parts = intermediates(X, W, Y)
        Z = parts.Z.detach().clone().requires_grad_(True)
        ((torch.relu(Z) - Y) ** 2).sum().backward()
        G = _call(my_G, (parts.Z.clone(), parts.E.clone()), report, "my_G")
        if G is None:
            break
        if not isinstance(G, torch.Tensor) or G.shape != Z.shape:
            shape = tuple(G.shape) if isinstance(G, torch.Tensor) else type(G).__name__
            report.add(False, f"my_G returned {shape}; G has the shape of Z, {tuple(Z.shape)}")
            break
        comparison = compare("G", G.to(Z.dtype), Z.grad)
        if not report.add(comparison.passed, f"against autograd ({label}): relative error "
                                             f"{comparison.relative_error:.1e}"):
            wrong = {"missing mask": 2 * parts.E, "missing factor 2": parts.E * parts.M,
                     ">= for >": 2 * parts.E * (parts.Z >= 0).to(Z.dtype)}
            for name, candidate in wrong.items():
                if torch.allclose(G.to(Z.dtype), candidate, rtol=1e-9, atol=1e-12):
                    report.diagnosis = f"this is the known mistake “{name}”: {HINTS[name]}"
            break
    return _record(report)


def diagnose(gradients: Gradients, X, W, Y) -> str:
    """The known mistake of the catalogue whose gradients these are, with its hint; '' if none matches."""
    for bug in BUGS:
        try:
            expected = bug.gradients(X, W, Y)
        except RuntimeError:
            continue
        if all(isinstance(g, torch.Tensor) and g.shape == e.shape and
               torch.allclose(g.to(e.dtype), e, rtol=1e-9, atol=1e-12) for g, e in zip(gradients, expected)):
            return f"this is the known mistake “{bug.name}” ({bug.description}): {HINTS[bug.name]}"
    return ""


def _as_gradients(result, report: Report):
    if isinstance(result, (tuple, list)) and len(result) == 3:
        return Gradients(*result)
    report.add(False, f"my_backward must return three tensors (dW, dX, dY), got {type(result).__name__}")
    return None


def check_backward(my_backward: Callable, title: str = "Part 2: the backward pass, dW, dX, dY",
                   keep: bool = True, demonstration: bool = False) -> Report:
    """Part 2: (dW, dX, dY) = my_backward(X, W, Y), climbing the verification ladder: shapes, autograd on three kinds
    of input, central differences with a kink-free step, then gradcheck with my_backward as the backward of a
    torch.autograd.Function. A wrong answer is compared with every bug of the catalogue. `keep=False` leaves the
    report out of `summary()`; `demonstration=True` (a backward wrong on purpose, such as one of `BUGS`) does too,
    and its verdict says that the checks caught it rather than asking for a fix."""
    keep = keep and not demonstration
    report = Report(title, demonstration=demonstration)
    inputs = _inputs()
    X, W, Y = inputs["mixed signs, m, k, n all different"]
    result = _call(my_backward, (X, W, Y), report, "my_backward")
    gradients = None if result is None else _as_gradients(result, report)
    if gradients is None:
        if result is None:   # it raised: if it runs when k = n, it may be a misplaced transpose
            Xs, Ws, Ys = inputs["mixed signs, k = n"]
            try:
                square = Gradients(*my_backward(Xs, Ws, Ys))
            except Exception:   # noqa: BLE001 - it fails there too: nothing more to say
                square = None
            known = diagnose(square, Xs, Ws, Ys) if square is not None else ""
            if known:
                report.diagnosis = f"it runs only when k = n, and there {known}"
        return _record(report, keep)
    shapes_right = all(isinstance(g, torch.Tensor) and g.shape == v.shape for g, v in zip(gradients, (W, X, Y)))
    m, k, n = SHAPES
    if not report.add(shapes_right, f"shapes with m = {m}, k = {k}, n = {n}: dW {k}×{n}, dX {m}×{k}, dY {m}×{n}"):
        report.diagnosis = diagnose(gradients, X, W, Y) or (
            "a gradient has the shape of its variable; check which side each transpose is on")
        return _record(report, keep)
    for label, (X, W, Y) in inputs.items():
        mine = _call(my_backward, (X, W, Y), report, "my_backward")
        mine = None if mine is None else _as_gradients(mine, report)
        if mine is None:
            return _record(report, keep)
        lower = [f"{name} is {str(got.dtype).removeprefix('torch.')}" for name, got in zip(Gradients._fields, mine)
                 if isinstance(got, torch.Tensor) and got.dtype != X.dtype]
        if lower:   # judged at float64's tolerance it would look like an unknown mistake
            report.add(False, f"{', '.join(lower)}, but the inputs are {str(X.dtype).removeprefix('torch.')}: "
                              f"compute in the inputs' dtype (look for a .float() or a float32 tensor you made)")
            return _record(report, keep)
        try:
            comparisons = [compare(name, got.to(ref.dtype), ref)
                           for name, got, ref in zip(Gradients._fields, mine, autograd_gradients(X, W, Y))]
        except (TypeError, ValueError, RuntimeError) as error:
            report.add(False, f"against autograd ({label}): {error}")
            return _record(report, keep)
        errors = ", ".join(f"{c.name} {c.relative_error:.1e}" for c in comparisons)
        if not report.add(all(c.passed for c in comparisons), f"against autograd ({label}): relative errors {errors}"):
            square_only = label == "mixed signs, k = n"   # reached only when the all-different case passed
            report.diagnosis = diagnose(mine, X, W, Y) or (BRANCHES if square_only else
                UNKNOWN)
            return _record(report, keep)
    X, W, Y = inputs["mixed signs, m, k, n all different"]
    mine = my_backward(X, W, Y)
    step = {"W": kink_free_step(X, W, wrt="W"), "X": kink_free_step(X, W, wrt="X")}
    numeric = (central_difference(lambda w: objective(X, w, Y), W, step=step["W"]),
               central_difference(lambda x: objective(x, W, Y), X, step=step["X"]),
               central_difference(lambda y: objective(X, W, y), Y, step=0.5))   # f is quadratic in Y: any step
    finite = [compare(name, got.to(torch.float64), ref) for name, got, ref in zip(Gradients._fields, mine, numeric)]
    worst = max(c.relative_error for c in finite)
    report.add(all(c.passed for c in finite), f"against central finite differences (kink-free steps): largest "
                                              f"relative error {worst:.1e}")
    layer = function_with_backward(lambda X, W, Y: Gradients(*my_backward(X, W, Y)), "YourBackward")
    try:
        passed = torch.autograd.gradcheck(layer.apply, tuple(t.clone().requires_grad_(True) for t in (X, W, Y)),
                                          raise_exception=False)
    except Exception as error:   # noqa: BLE001 - a student's backward may fail inside gradcheck in any way
        report.add(False, f"gradcheck with my_backward as the backward: {type(error).__name__}: {error}")
    else:
        report.add(passed, "gradcheck with my_backward as the backward of a torch.autograd.Function")
    return _record(report, keep)


def summary() -> str:
    """One line per part checked so far in this session; printed, and returned."""
    if not _REPORTS:
        text = "No part has been checked yet: run the cells above."
    else:
        done = sum(report.passed for report in _REPORTS.values())
        lines = [f"{'✓' if report.passed else '✗'} {title}" for title, report in _REPORTS.items()]
        text = "\n".join(lines + [f"{done} of {len(_REPORTS)} parts done."])
    print(text)
    return text


def require_all_passed() -> None:
    """For graders (nbconvert --execute): raise unless every part checked in this session passed."""
    failed = [title for title, report in _REPORTS.items() if not report.passed]
    if failed or not _REPORTS:
        raise AssertionError(f"parts not done: {failed or 'none checked'}")

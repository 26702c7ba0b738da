"""The reliability probe's table, as a test: every public helper on bad or unusual input gives a correct result
(checked against an independent float64 reference) or a ValueError/TypeError that names what was wrong; never a
silent non-finite or wrong result, never an unhelpful crash from deep inside torch.

`python tests/test_bad_inputs.py` prints how many cases end each way (clear, correct, silent, unhelpful), on
whichever `relugrad` is first on the path.
"""

import math
import re
import warnings
from collections import Counter
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Callable, NamedTuple

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import relugrad as R

CLEAR, CORRECT = "clear", "correct"
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-4, torch.float16: 3e-2, torch.bfloat16: 1e-1}


class Case(NamedTuple):
    id: str
    call: Callable[[], object]
    check: Callable[[object, list], bool]  # (result, warnings) -> is the result correct?
    allowed: frozenset                      # the outcomes that pass: CLEAR, CORRECT or both
    names: str = ""                         # a regex the error message must match: the argument at fault


def outcome(case: Case) -> str:
    """CLEAR, CORRECT, "silent" (a wrong or non-finite result) or "unhelpful" (an error that names nothing)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = case.call()
    except (ValueError, TypeError) as error:
        return CLEAR if case.names and re.search(case.names, str(error)) else f"unhelpful: {error!r}"[:300]
    except Exception as error:  # noqa: BLE001 - an error from inside torch is what this test rules out
        return f"unhelpful: {error!r}"[:300]
    try:
        return CORRECT if case.check(result, [str(w.message) for w in caught]) else "silent"
    except Exception:  # noqa: BLE001 - a result the check cannot even read is wrong
        return "silent"


def close(computed, reference, dtype) -> bool:
    """Norm-wise relative error within the dtype's tolerance, all finite, shapes equal."""
    computed = torch.as_tensor(computed).detach().to(torch.float64)
    reference = torch.as_tensor(reference).detach().to(torch.float64)
    if computed.shape != reference.shape or not torch.isfinite(computed).all() or not torch.isfinite(reference).all():
        return False
    # Results below the dtype's smallest normal number may underflow (IEEE, not the helpers' fault).
    underflow = 64 * torch.finfo(dtype).tiny * max(1, reference.numel())
    if reference.numel() == 0 or (computed - reference).abs().max().item() <= underflow:
        return True
    scale = reference.abs().max().item()
    computed, reference = computed / scale, reference / scale   # no underflow of the norms at tiny scales
    return (computed - reference).norm().item() <= TOLERANCE[dtype] * reference.norm().item()


def reference(X, W, Y) -> dict:
    """f, Z, E, G and the gradients by float64 autograd on float64 copies (exact for every input dtype)."""
    X, W, Y = (t.detach().to(torch.float64).clone().requires_grad_(True) for t in (X, W, Y))
    Z = X @ W
    E = torch.relu(Z) - Y
    f = (E ** 2).sum()
    f.backward()
    return dict(f=f.detach(), Z=Z.detach(), E=E.detach(), G=(2 * E * (Z > 0)).detach(), dW=W.grad, dX=X.grad,
                dY=Y.grad)


# ---- the functions of X, W and Y, each with what a correct result is -------------------------------------------

def _backward(X, W, Y):
    leaves = [t.detach().clone().requires_grad_(True) if isinstance(t, torch.Tensor) and t.dtype.is_floating_point
              and not t.is_meta and t.layout == torch.strided else t for t in (X, W, Y)]
    f = R.HandLayer.apply(*leaves)
    return dict(zip(("dX", "dW", "dY"), torch.autograd.grad(f, leaves)))


def _f_overflow_warned(ref, warned) -> bool:
    """An f too large for the dtype: intermediates may return inf for it, with a warning that names f."""
    return any(re.match(r"f = \S+ overflows", text) for text in warned)


CHECKS = {
    "objective": (R.objective, lambda r, ref, dt, w: r.dtype == dt and close(r, ref["f"], dt)),
    "intermediates": (R.intermediates, lambda r, ref, dt, w: all(close(getattr(r, q), ref[q], dt) for q in "ZEG")
                      and (close(r.f, ref["f"], dt) or (not torch.isfinite(r.f) and _f_overflow_warned(ref, w)))),
    "hand_gradients": (R.hand_gradients, lambda r, ref, dt, w: all(close(getattr(r, g), ref[g], dt)
                                                                   for g in ("dW", "dX", "dY"))),
    "autograd_gradients": (R.autograd_gradients, lambda r, ref, dt, w: all(close(getattr(r, g), ref[g], dt)
                                                                           for g in ("dW", "dX", "dY"))),
    "check_inputs": (R.check_inputs, lambda r, ref, dt, w: r is None),
    "HandLayer.apply": (R.HandLayer.apply, lambda r, ref, dt, w: close(r, ref["f"], dt)),
    "HandLayer backward": (_backward, lambda r, ref, dt, w: all(close(r[g], ref[g], dt) for g in r)),
}


def _inputs(m, k, n, dtype=torch.float64, scale=1.0, seed=0):
    if m * n >= 2 and k >= 1:
        X, W, Y = R.mixed_sign_inputs(m, k, n, seed)
    else:
        generator = torch.Generator().manual_seed(seed)
        X, W, Y = (torch.randn(*s, generator=generator, dtype=torch.float64) for s in ((m, k), (k, n), (m, n)))
    return tuple((t * scale).to(dtype) for t in (X, W, Y))


def _with(inputs, name, value):
    named = dict(zip("XWY", inputs))
    named[name] = value(named[name]) if callable(value) else value
    return tuple(named.values())


def _poked(t, value, requires_grad=False):
    t = t.clone()
    t[1, 1] = value
    return t.requires_grad_(requires_grad)


def _quantized(t):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # quantized tensors are deprecated: still one may come in
        return torch.quantize_per_tensor(t.float(), 0.1, 0, torch.qint8)


X0, W0, Y0 = _inputs(5, 3, 4)
VALID = {  # (inputs): a correct result expected
    "0×k": _inputs(0, 3, 4), "k=0": _inputs(5, 0, 4), "n=0": _inputs(5, 3, 0), "0×0×0": _inputs(0, 0, 0),
    "1×1×1": _inputs(1, 1, 1), "X transposed view": (X0.T.contiguous().T, W0, Y0),
    "W sliced view": (X0, torch.cat([W0, W0], 1)[:, ::2], Y0), "Y expanded (stride 0)": (X0, W0, Y0[:1].expand(5, 4)),
    "requires_grad": tuple(t.clone().requires_grad_(True) for t in (X0, W0, Y0)),
    "nn.Parameter": (X0, torch.nn.Parameter(W0.clone()), Y0),
    "float32": _inputs(5, 3, 4, torch.float32), "float16": _inputs(5, 3, 4, torch.float16),
    "bfloat16": _inputs(5, 3, 4, torch.bfloat16), "exact zeros": R.exact_zero_inputs(), "all dead": R.all_dead_inputs(),
    "scale 1e-300": _inputs(5, 3, 4, scale=1e-300), "scale 1e-160": _inputs(5, 3, 4, scale=1e-160),
}
OVERFLOWING = {  # a correct result or an error naming what overflowed
    "float64 at 1e150": _inputs(5, 3, 4, scale=1e150), "float64 at 1e300": _inputs(5, 3, 4, scale=1e300),
    "float32 at 1e20": _inputs(5, 3, 4, torch.float32, 1e20), "float16 at 300": _inputs(5, 3, 4, torch.float16, 300),
    "float16, f alone too large": _inputs(5, 3, 4, torch.float16, 1.0)[:2] + (torch.full((5, 4), 200.0).half(),),
}
OVERFLOW_NAMES = r"\b(Z|E|G|f|dW|dX|dY) = .* overflows"
BAD = {  # (inputs, regex naming what is wrong)
    "X 1-D": (_with((X0, W0, Y0), "X", X0[:, 0]), r"X must be a matrix"),
    "X 0-d": (_with((X0, W0, Y0), "X", X0[0, 0]), r"X must be a matrix"),
    "W 3-D": (_with((X0, W0, Y0), "W", W0[None]), r"W must be a matrix"),
    "inner mismatch": (_with((X0, W0, Y0), "W", W0[:2]), r"X is 5×3 and W is 2×4"),
    "Y mismatch": (_with((X0, W0, Y0), "Y", Y0[:, :3]), r"Y is 5×3 but XW is 5×4"),
    "Y broadcastable 1×n": (_with((X0, W0, Y0), "Y", Y0[:1]), r"Y is 1×4 but XW is 5×4"),
    "X int64": (_with((X0, W0, Y0), "X", X0.long()), r"X has dtype torch.int64"),
    "W bool": (_with((X0, W0, Y0), "W", W0 > 0), r"W has dtype torch.bool"),
    "Y int8": (_with((X0, W0, Y0), "Y", Y0.to(torch.int8)), r"Y has dtype torch.int8"),
    "X complex128": (_with((X0, W0, Y0), "X", X0.to(torch.complex128)), r"X has dtype torch.complex128"),
    "X float8": (_with((X0, W0, Y0), "X", X0.to(torch.float8_e4m3fn)), r"X has dtype torch.float8"),
    "X quantized": (_with((X0, W0, Y0), "X", _quantized(X0)), r"X has dtype torch.qint8"),
    "X sparse": (_with((X0, W0, Y0), "X", X0.to_sparse()), r"X is a torch.sparse_coo tensor"),
    "X meta": (_with((X0, W0, Y0), "X", X0.to("meta")), r"X is a meta tensor"),
    "X float32, W and Y float64": (_with((X0, W0, Y0), "X", X0.float()), r"must share one dtype"),
    "X numpy": (_with((X0, W0, Y0), "X", X0.numpy()), r"X must be a torch.Tensor, got numpy.ndarray"),
    "X list": (_with((X0, W0, Y0), "X", X0.tolist()), r"X must be a torch.Tensor, got list"),
    "W None": (_with((X0, W0, Y0), "W", None), r"W must be a torch.Tensor, got NoneType"),
    "X nan": (_with((X0, W0, Y0), "X", lambda t: _poked(t, math.nan)), r"X has 1 non-finite entry"),
    "W inf": (_with((X0, W0, Y0), "W", lambda t: _poked(t, math.inf)), r"W has 1 non-finite entry"),
    "Y -inf": (_with((X0, W0, Y0), "Y", lambda t: _poked(t, -math.inf)), r"Y has 1 non-finite entry"),
    "Y -inf, requires_grad": (_with((X0, W0, Y0), "Y", lambda t: _poked(t, -math.inf, True)),
                              r"Y has 1 non-finite entry"),
}


def _xwy_cases():
    for fn_name, (fn, check) in CHECKS.items():
        def case(label, inputs, allowed, names=""):
            return Case(f"{fn_name}: {label}", lambda fn=fn, inputs=inputs: fn(*inputs),
                        lambda r, w, inputs=inputs, check=check: check(r, reference(*inputs), inputs[0].dtype, w),
                        frozenset(allowed), names)
        for label, inputs in VALID.items():
            yield case(label, inputs, {CORRECT})
        for label, inputs in OVERFLOWING.items():
            yield case(label, inputs, {CORRECT} if fn_name == "check_inputs" else {CORRECT, CLEAR}, OVERFLOW_NAMES)
        for label, (inputs, names) in BAD.items():
            yield case(label, inputs, {CLEAR}, names)


# ---- relative_error and compare ---------------------------------------------------------------------------------

def exact_relative_error(a, b) -> float:
    """||a - b|| / ||b|| (or ||a - b|| for b = 0) in exact rationals, rounded once: the independent reference."""
    a, b = (np.asarray(t.detach().to(torch.float64) if isinstance(t, torch.Tensor) else t, dtype=np.float64)
            for t in (a, b))
    pairs = [(Fraction(x), Fraction(y)) for x, y in zip(a.ravel().tolist(), b.ravel().tolist())]
    num = sum(((x - y) ** 2 for x, y in pairs), Fraction(0))
    den = sum((y ** 2 for _, y in pairs), Fraction(0))
    ratio = num / den if den else num
    with localcontext() as context:
        context.prec, context.Emax, context.Emin = 60, 10 ** 6, -(10 ** 6)
        value = (Decimal(ratio.numerator) / Decimal(ratio.denominator)).sqrt()
    return float(value)


def _rel_case(label, a, b):
    expected = exact_relative_error(a, b)

    def check(result, warned):
        return result == expected or (math.isfinite(expected) and abs(result - expected) <= 4e-16 * expected)
    return Case(f"relative_error: {label}", lambda: R.relative_error(a, b), check, frozenset({CORRECT}))


def _compare_case(label, a, b):
    expected = exact_relative_error(a, b)
    return Case(f"compare: {label}", lambda: R.compare("dW", a, b),
                lambda r, w: (r.relative_error == expected or abs(r.relative_error - expected) <= 4e-16 * expected)
                and r.exact == (expected == 0),
                frozenset({CORRECT}))


_a = torch.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=torch.float64)
_b = _a * (1 + 1e-7) + torch.tensor([[0.0, 1e-9], [0.0, 0.0]], dtype=torch.float64)
RELATIVE_PAIRS = {
    "1e300": (_a * 1e300, _b * 1e300), "1e-300": (_a * 1e-300, _b * 1e-300),
    "subnormals": (_a * 5e-324, _b * 1e-322), "b = 0": (_a, torch.zeros(2, 2, dtype=torch.float64)),
    "b negligible next to a": (_a * 1e300, _b * 1e-300), "±1e308": (_a.sign() * 1e308, -_a.sign() * 1e308),
    "float16 against float64": (_a.half(), _b), "float32 against float64": (_a.float(), _b),
    "big-endian numpy": (_a.numpy().astype(">f8"), _b.numpy()), "float16 numpy": (_a.numpy().astype(np.float16), _b),
    "views": (_a.T, _b.T), "requires_grad": (_a.clone().requires_grad_(True), _b), "0-size": (_a[:0], _b[:0]),
    "0-d": (_a[0, 0], _b[0, 1]), "3-D": (_a[None], _b[None]),
}
RELATIVE_BAD = {  # (a, b, regex)
    "shapes differ": (_a, _b[:1], r"cannot compare shapes"), "int": (_a.long(), _b, r"\ba\b.*int64"),
    "bool": (_a > 0, _b, r"\ba\b.*bool"), "complex": (_a, _b.to(torch.complex128), r"\bb\b.*complex"),
    "nan": (_poked(_a, math.nan), _b, r"a has 1 non-finite"), "inf": (_a, _poked(_b, math.inf), r"b has 1 non-finite"),
    "None": (None, _b, r"a must be"), "list": (_a.tolist(), _b, r"a must be"), "Python float": (1.0, _b, r"a must be"),
    "numpy int": (np.arange(4).reshape(2, 2), _b, r"\ba\b.*int64"),
    "float128": (np.ones((2, 2), dtype=np.longdouble), _b, r"\ba\b.*float128"),
    "object": (object(), _b, r"a must be"), "numpy scalar": (np.float64(1.0), _b, r"a must be"),
    "meta": (_a.to("meta"), _b, r"a is a meta tensor"), "sparse": (_a.to_sparse(), _b, r"a is a torch.sparse_coo"),
}


def _checks_cases():
    for label, (a, b) in RELATIVE_PAIRS.items():
        yield _rel_case(label, a, b)
        if not isinstance(a, np.ndarray) or a.dtype != np.float16:
            yield _compare_case(label, a, b)
    for label, (a, b, names) in RELATIVE_BAD.items():
        yield Case(f"relative_error bad: {label}", lambda a=a, b=b: R.relative_error(a, b), lambda r, w: False,
                   frozenset({CLEAR}), names)
        if label != "shapes differ":
            yield Case(f"compare bad: {label}", lambda a=a, b=b: R.compare("dW", a, b), lambda r, w: False,
                       frozenset({CLEAR}), names.replace(r"\ba\b", "computed dW").replace(r"\bb\b", "reference dW")
                       .replace("a has", "computed dW has").replace("b has", "reference dW has")
                       .replace("a must", "computed dW must").replace("a is", "computed dW is"))
    yield Case("compare: shapes differ", lambda: R.compare("dW", _a, _b[:1]),
               lambda r, w: not r.passed and r.relative_error == math.inf and "shapes differ" in r.detail,
               frozenset({CORRECT}))
    yield Case("compare bad: name not a str", lambda: R.compare(1, _a, _b), lambda r, w: False, frozenset({CLEAR}),
               r"name must be a str")
    yield Case("compare bad: bfloat16", lambda: R.compare("dW", _a.bfloat16(), _b), lambda r, w: False,
               frozenset({CLEAR}), r"no tolerance for torch.bfloat16")
    yield Case("tolerance_for: no dtypes", lambda: R.tolerance_for(), lambda r, w: False, frozenset({CLEAR}),
               r"tolerance_for needs at least one dtype")
    yield Case("tolerance_for: float32 and float64", lambda: R.tolerance_for(torch.float32, torch.float64),
               lambda r, w: r == R.RELATIVE_TOLERANCE[torch.float32], frozenset({CORRECT}))


# ---- central_difference and kink_free_step ----------------------------------------------------------------------

def _quadratic(t):
    return (t * t).sum()


_at = torch.tensor([[0.5, -1.5], [2.0, 0.25]], dtype=torch.float64)
CENTRAL_VALID = {  # (fn, at, step, expected gradient)
    "transposed view": (_quadratic, _at.T, 1e-3, 2 * _at.T), "0-d": (_quadratic, _at[0, 0], 1e-3, 2 * _at[0, 0]),
    "0-size": (_quadratic, _at[:0], 1e-3, _at[:0]), "3-D": (_quadratic, _at[None], 1e-3, 2 * _at[None]),
    "expanded": (_quadratic, _at[:1].expand(3, 2), 1e-3, 2 * _at[:1].expand(3, 2)),
    "requires_grad": (_quadratic, _at.clone().requires_grad_(True), 1e-3, 2 * _at),
    "numpy float32 step": (_quadratic, _at, np.float32(1e-3), 2 * _at),
    "fn returns numpy float64": (lambda t: np.float64(_quadratic(t).item()), _at, 1e-3, 2 * _at),
    "linear fn, step 1e300": (lambda t: (3 * t).sum(), _at, 1e300, torch.full_like(_at, 3.0)),
    "float32": (_quadratic, _at.float(), 1e-2, 2 * _at),
}
CENTRAL_BAD = {  # (fn, at, step, regex)
    "fn not callable": (3, _at, 1e-3, r"fn must be callable"), "at numpy": (_quadratic, _at.numpy(), 1e-3, r"at must"),
    "at list": (_quadratic, _at.tolist(), 1e-3, r"at must"), "at int": (_quadratic, _at.long(), 1e-3, r"at has"),
    "at float16": (_quadratic, _at.half(), 1e-3, r"at has dtype torch.float16"),
    "at bfloat16": (_quadratic, _at.bfloat16(), 1e-3, r"at has dtype torch.bfloat16"),
    "at complex": (_quadratic, _at.to(torch.complex128), 1e-3, r"at has complex"),
    "at nan": (_quadratic, _poked(_at, math.nan), 1e-3, r"at has 1 non-finite"),
    "at meta": (_quadratic, _at.to("meta"), 1e-3, r"at is a meta"),
    **{f"step {s!r}": (_quadratic, _at, s, r"step must") for s in (0, -1.0, math.nan, math.inf, True, None)},
    "step tensor": (_quadratic, _at, torch.tensor(1e-3), r"step must"),
    "step too small": (_quadratic, _at, 1e-30, r"step 1e-30 does not move at\[0, 0\]"),
    "step 1e308": (_quadratic, _at, 1e308, r"fn returned inf"),
    "fn returns a vector": (lambda t: t.sum(0), _at, 1e-3, r"fn must return a scalar"),
    "fn returns None": (lambda t: None, _at, 1e-3, r"fn must return"),
    "fn returns nan": (lambda t: math.nan, _at, 1e-3, r"fn returned nan"),
    "fn returns complex": (lambda t: 1j, _at, 1e-3, r"fn must return"),
    "fn returns str": (lambda t: "1", _at, 1e-3, r"fn must return"),
    "fn returns a 1-element array": (lambda t: np.array([1.0]), _at, 1e-3, r"fn must return"),
}


def _kink_free_check(X, W, wrt):
    """A step > 0 that flips no sign of Z, at least as large as safety times the distance to the nearest kink."""
    def check(step, warned):
        if not (isinstance(step, float) and 0 < step < math.inf):
            return False
        X64, W64 = X.double(), W.double()
        Z = X64 @ W64
        for name, t in (("W", W64), ("X", X64)):
            if wrt not in (None, name):
                continue
            for index in range(t.numel()):
                for sign in (1, -1):
                    moved = t.clone(memory_format=torch.contiguous_format)
                    moved.view(-1)[index] += sign * step
                    Z_moved = X64 @ moved if name == "W" else moved @ W64
                    if ((Z_moved > 0) != (Z > 0)).any():
                        return False
        return True
    return check


Xk, Wk = X0.clone(), W0.clone()
Xz, Wz, _ = R.exact_zero_inputs()
KINK_VALID = {"both": (Xk, Wk, None), "W": (Xk, Wk, "W"), "X": (Xk, Wk, "X"), "float32": (Xk.float(), Wk.float(), None),
              "transposed view": (Xk.T.contiguous().T, Wk, None)}
KINK_BAD = {  # (X, W, kwargs, regex)
    "float64 at 1e200": (Xk * 1e200, Wk * 1e200, {}, r"Z = XW overflows float64"),
    "float32 at 1e20": ((Xk * 1e20).float(), (Wk * 1e20).float(), {}, r"Z = XW overflows float32"),
    "Z = inf - inf": (torch.tensor([[1e308, 1e308]], dtype=torch.float64),
                      torch.tensor([[1e308], [-1e308]], dtype=torch.float64), {}, r"Z = XW overflows"),
    "wrt Y": (Xk, Wk, {"wrt": "Y"}, r"wrt must be"), "wrt 0": (Xk, Wk, {"wrt": 0}, r"wrt must be"),
    "safety 1": (Xk, Wk, {"safety": 1}, r"safety must lie in"), "safety 0": (Xk, Wk, {"safety": 0}, r"safety must"),
    "safety nan": (Xk, Wk, {"safety": math.nan}, r"safety must"),
    "safety '0.5'": (Xk, Wk, {"safety": "0.5"}, r"safety must"),
    "exact zeros": (Xz, Wz, {}, r"Z = XW has \d+ exact zeros?"),
    "empty Z": (Xk[:0], Wk, {}, r"Z = XW is 0×4"), "k=0": (Xk[:, :0], Wk[:0], {}, r"\bZ\b|\bX\b"),
    "X 1-D": (Xk[:, 0], Wk, {}, r"X must be a matrix"), "X numpy": (Xk.numpy(), Wk, {}, r"X must be a torch.Tensor"),
    "X meta": (Xk.to("meta"), Wk, {}, r"X is a meta"), "W int": (Xk, Wk.long(), {}, r"W has dtype torch.int64"),
    "X nan": (_poked(Xk, math.nan), Wk, {}, r"X has 1 non-finite"),
    "mismatch": (Xk, Wk[:2], {}, r"X is 5×3 and W is 2×4"),
}


def _difference_cases():
    for label, (fn, at, step, expected) in CENTRAL_VALID.items():
        yield Case(f"central_difference: {label}", lambda fn=fn, at=at, step=step: R.central_difference(fn, at, step),
                   lambda r, w, expected=expected, at=at: r.shape == at.shape and close(r, expected, at.dtype)
                   if at.dtype == torch.float64 else close(r, expected, torch.float16), frozenset({CORRECT}))
    for label, (fn, at, step, names) in CENTRAL_BAD.items():
        yield Case(f"central_difference bad: {label}", lambda fn=fn, at=at, step=step: R.central_difference(fn, at, step),
                   lambda r, w: False, frozenset({CLEAR}), names)
    for label, (X, W, wrt) in KINK_VALID.items():
        yield Case(f"kink_free_step: {label}", lambda X=X, W=W, wrt=wrt: R.kink_free_step(X, W, wrt=wrt),
                   _kink_free_check(X, W, wrt), frozenset({CORRECT}))
    for label, (X, W, kwargs, names) in KINK_BAD.items():
        yield Case(f"kink_free_step bad: {label}", lambda X=X, W=W, kwargs=kwargs: R.kink_free_step(X, W, **kwargs),
                   lambda r, w: False, frozenset({CLEAR}), names)


# ---- the input generators ---------------------------------------------------------------------------------------

def _generated_check(m, k, n, dtype, sign_check):
    def check(result, warned):
        X, W, Y = result
        shapes_ok = (X.shape, W.shape, Y.shape) == ((m, k), (k, n), (m, n))
        return shapes_ok and all(t.dtype == dtype and torch.isfinite(t).all() for t in result) \
            and sign_check((X.double() @ W.double()))
    return check


MIXED = lambda Z: bool((Z > 0).any() and (Z < 0).any())  # noqa: E731
GENERATORS = {
    "mixed_sign_inputs": (lambda seed, dtype: R.mixed_sign_inputs(5, 3, 4, seed, dtype), MIXED),
    "exact_zero_inputs": (lambda seed, dtype: R.exact_zero_inputs(seed, 5, 3, 4, dtype),
                          lambda Z: MIXED(Z) and bool((Z == 0).any())),
    "all_dead_inputs": (lambda seed, dtype: R.all_dead_inputs(5, 3, 4, seed, dtype), lambda Z: bool((Z < 0).all())),
}
GENERATOR_BAD = {  # (call, regex)
    "m = 0": (lambda: R.mixed_sign_inputs(0, 3, 4, 0), r"m must be at least 1"),
    "k = -1": (lambda: R.exact_zero_inputs(k=-1), r"k must be at least 1"),
    "n = 2.0": (lambda: R.all_dead_inputs(n=2.0), r"n must be an int"),
    "m = True": (lambda: R.mixed_sign_inputs(True, 3, 4, 0), r"m must be an int"),
    "k = numpy.int64": (lambda: R.mixed_sign_inputs(5, np.int64(3), 4, 0), r"k must be an int"),
    "seed None": (lambda: R.mixed_sign_inputs(5, 3, 4, None), r"seed must be an int"),
    "dtype int64": (lambda: R.exact_zero_inputs(dtype=torch.int64), r"dtype must be"),
    "dtype 'float64'": (lambda: R.all_dead_inputs(dtype="float64"), r"dtype must be"),
    "m·n too small": (lambda: R.mixed_sign_inputs(1, 3, 1, 0), r"Z is 1×1"),
    "exact zeros, m·n too small": (lambda: R.exact_zero_inputs(m=1, n=2), r"Z is 1×2"),
    **{f"{name}: {dtype}": ((lambda call=call, dtype=dtype: call(0, dtype)), r"dtype must be .*float8")
       for name, (call, _) in GENERATORS.items() for dtype in (torch.float8_e4m3fn, torch.float8_e5m2)},
    **{f"{name}: seed {seed}": ((lambda call=call, seed=seed: call(seed, torch.float64)),
                                rf"seed must lie in .*got {seed}")
       for name, (call, _) in GENERATORS.items() for seed in (2 ** 64, -2 ** 63 - 1)},
}


def _generator_cases():
    for name, (call, sign_check) in GENERATORS.items():
        for seed in (2 ** 64 - 1, -2 ** 63):
            yield Case(f"{name}: seed {seed}", lambda call=call, seed=seed: call(seed, torch.float64),
                       _generated_check(5, 3, 4, torch.float64, sign_check), frozenset({CORRECT}))
        for dtype in (torch.float16, torch.bfloat16, torch.float32):
            yield Case(f"{name}: {dtype}", lambda call=call, dtype=dtype: call(0, dtype),
                       _generated_check(5, 3, 4, dtype, sign_check), frozenset({CORRECT}))
    for label, (call, names) in GENERATOR_BAD.items():
        yield Case(f"inputs bad: {label}", call, lambda r, w: False, frozenset({CLEAR}), names)


# ---- torch.func transforms and HandLayer ------------------------------------------------------------------------

def _stacked(count=3):
    return [torch.stack(t) for t in zip(*(R.mixed_sign_inputs(5, 3, 4, seed) for seed in range(count)))]


def _per_sample(result_of, key):
    Xs, Ws, Ys = _stacked()
    return lambda r, w: all(close(result_of(r, i), reference(Xs[i], Ws[i], Ys[i])[key], torch.float64)
                            for i in range(len(Xs)))


def _batched_nan():
    Xs, Ws, Ys = _stacked()
    Xs[1, 2, 0] = math.nan
    return Xs, Ws, Ys


def _transform_cases():
    vmap, grad = torch.func.vmap, torch.func.grad
    yield Case("vmap(objective)", lambda: vmap(R.objective)(*_stacked()), _per_sample(lambda r, i: r[i], "f"),
               frozenset({CORRECT}))
    for g in ("dW", "dX", "dY"):
        yield Case(f"vmap(hand_gradients).{g}", lambda g=g: getattr(vmap(R.hand_gradients)(*_stacked()), g),
                   _per_sample(lambda r, i: r[i], g), frozenset({CORRECT}))
    yield Case("vmap(intermediates).G", lambda: vmap(R.intermediates)(*_stacked()).G,
               _per_sample(lambda r, i: r[i], "G"), frozenset({CORRECT}))
    yield Case("vmap(grad(objective, W))", lambda: vmap(grad(R.objective, argnums=1))(*_stacked()),
               _per_sample(lambda r, i: r[i], "dW"), frozenset({CORRECT}))
    yield Case("grad(objective, W)", lambda: grad(R.objective, argnums=1)(X0, W0, Y0),
               lambda r, w: close(r, reference(X0, W0, Y0)["dW"], torch.float64), frozenset({CORRECT}))
    yield Case("vmap(objective), nan in one sample", lambda: vmap(R.objective)(*_batched_nan()), lambda r, w: False,
               frozenset({CLEAR}), r"X has 1 non-finite entry")
    yield Case("vmap(hand_gradients), Z overflows", lambda: vmap(R.hand_gradients)(*(t * 1e300 for t in _stacked())),
               lambda r, w: False, frozenset({CLEAR}), r"Z = XW overflows")
    leaves = tuple(t.clone().requires_grad_(True) for t in (X0, W0, Y0))
    yield Case("HandLayer gradcheck", lambda: torch.autograd.gradcheck(R.HandLayer.apply, leaves),
               lambda r, w: r is True, frozenset({CORRECT}))
    yield Case("HandLayer gradgradcheck", lambda: torch.autograd.gradgradcheck(R.HandLayer.apply, leaves),
               lambda r, w: r is True, frozenset({CORRECT}))

    def apply_with(formula):
        def call():
            layer = R.function_with_backward(formula, "formula")
            inputs = [t.clone().requires_grad_(True) for t in (X0, W0, Y0)]
            layer.apply(*inputs).backward()
            return inputs
        return call
    yield Case("function_with_backward(None)", lambda: R.function_with_backward(None), lambda r, w: False,
               frozenset({CLEAR}), r"formula must be callable")
    yield Case("formula returns a tuple", apply_with(lambda X, W, Y: tuple(R.hand_gradients(X, W, Y))),
               lambda r, w: False, frozenset({CLEAR}), r"formula must return Gradients")
    yield Case("formula returns a wrong shape", apply_with(
        lambda X, W, Y: R.Gradients(*R.hand_gradients(X, W, Y))._replace(dW=W.T)), lambda r, w: False,
        frozenset({CLEAR}), r"formula returned dW of shape 4×3 for W of shape 3×4")
    yield Case("formula returns float32", apply_with(
        lambda X, W, Y: R.Gradients(*(g.float() for g in R.hand_gradients(X, W, Y)))),
        lambda r, w: all(close(t.grad, reference(X0, W0, Y0)[g], torch.float32) for t, g in zip(r, ("dX", "dW", "dY"))),
        frozenset({CORRECT, CLEAR}), r"dtype|float32")


CASES = [*_xwy_cases(), *_checks_cases(), *_difference_cases(), *_generator_cases(), *_transform_cases()]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_correct_result_or_a_clear_error(case):
    assert outcome(case) in case.allowed, case.id


def test_the_table_covers_the_probe():
    """As many calls as the probe made, or more: shrinking the table would let a category drop out unnoticed."""
    assert len(CASES) >= 322
    assert len({case.id for case in CASES}) == len(CASES)


# ---- properties -------------------------------------------------------------------------------------------------

SCALES = st.sampled_from([1e-300, 1e-30, 1e-3, 1.0, 1e3, 1e20, 1e100, 1e150, 1e200, 1e300])
DTYPES = st.sampled_from([torch.float64, torch.float32, torch.float16, torch.bfloat16])
SIZE = st.integers(0, 4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(m=SIZE, k=SIZE, n=SIZE, scale_x=SCALES, scale_w=SCALES, scale_y=SCALES, dtype=DTYPES, seed=st.integers(0, 99))
def test_gradients_are_right_or_name_what_overflowed(m, k, n, scale_x, scale_w, scale_y, dtype, seed):
    generator = torch.Generator().manual_seed(seed)
    X, W, Y = (torch.randn(*s, generator=generator, dtype=torch.float64) * c
               for s, c in (((m, k), scale_x), ((k, n), scale_w), ((m, n), scale_y)))
    X, W, Y = (t.to(dtype) for t in (X, W, Y))
    if not all(torch.isfinite(t).all() for t in (X, W, Y)):
        return  # the inputs themselves overflowed the dtype: covered by the non-finite cases above
    Z = reference(X, W, Y)["Z"]
    assume(not ((Z != 0) & (Z.abs() < 1e3 * torch.finfo(dtype).tiny)).any())  # Z underflows: a mask flip by IEEE
    for name, (fn, check) in CHECKS.items():
        case = Case(name, lambda fn=fn: fn(X, W, Y),
                    lambda r, w, check=check: check(r, reference(X, W, Y), dtype, w), frozenset(), OVERFLOW_NAMES)
        assert outcome(case) in ({CORRECT} if name == "check_inputs" else {CORRECT, CLEAR}), (name, outcome(case))


FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(FLOATS, FLOATS), min_size=0, max_size=6))
def test_relative_error_is_exact_over_the_whole_float64_range(pairs):
    a = torch.tensor([p[0] for p in pairs], dtype=torch.float64)
    b = torch.tensor([p[1] for p in pairs], dtype=torch.float64)
    expected = exact_relative_error(a, b) if pairs else 0.0
    result = R.relative_error(a, b)
    assert result == expected or abs(result - expected) <= 4e-16 * expected


@settings(max_examples=100, deadline=None)
@given(m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4), seed=st.integers(0, 10 ** 6),
       scale=SCALES, wrt=st.sampled_from([None, "W", "X"]))
def test_kink_free_step_never_crosses_a_kink_or_names_z(m, k, n, seed, scale, wrt):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(m, k, generator=generator, dtype=torch.float64) * scale
    W = torch.randn(k, n, generator=generator, dtype=torch.float64) * scale
    case = Case("kink_free_step", lambda: R.kink_free_step(X, W, wrt=wrt), _kink_free_check(X, W, wrt),
                frozenset(), r"Z = XW (overflows|has \d+ exact zero)|kink-free step")
    assert outcome(case) in {CORRECT, CLEAR}


if __name__ == "__main__":
    tally = Counter()
    for case in CASES:
        result = outcome(case)
        kind = result.split(":")[0]
        tally[kind] += 1
        if result not in case.allowed:
            print(f"{case.id}: {result}")
    print(f"{len(CASES)} cases: " + ", ".join(f"{count} {kind}" for kind, count in tally.most_common()))

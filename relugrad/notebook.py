"""Notebook helpers that work wherever a notebook runs: the book's build, Binder, Colab, a laptop.

The chapters quote numbers that the notebooks compute, through myst-nb's `glue`. Only the book's build has
myst-nb; Binder, Colab and a plain Jupyter do not, and a notebook must not fail there for a number that only
the book uses. So the notebooks import `glue` from here: it is myst-nb's own where myst-nb is installed, and
elsewhere it records nothing and shows the value only when asked to (`display=True`, as myst-nb would).
"""

import importlib.util
from typing import Any


def glue(name: str, variable: Any, display: bool = True) -> None:
    """myst-nb's `glue(name, variable, display)` where myst-nb is installed; elsewhere only its display."""
    if importlib.util.find_spec("myst_nb") is None:
        if display:
            from IPython.display import display as show
            show(variable)
        return
    from myst_nb import glue as myst_nb_glue  # a broken myst-nb fails loudly here, as it should
    myst_nb_glue(name, variable, display=display)


# The languages of the book's editions: English, then each translation (_ext/editions.py builds them).
LANGUAGES = ("en", "zh_CN")


def glue_words(name: str, words: dict[str, str]) -> None:
    """Glue a phrase the prose quotes, in each language of the book: `name` in English, `name_zh_CN` in Chinese. A
    glued number reads the same in every edition; words do not, so each edition's sentence pastes its own."""
    if set(words) != set(LANGUAGES):
        raise ValueError(f"{name!r} needs its words in {', '.join(LANGUAGES)}; got {', '.join(words) or 'none'}")
    glue(name, words["en"], display=False)
    for language in LANGUAGES[1:]:
        glue(f"{name}_{language}", words[language], display=False)


def agreement(error: float) -> dict[str, str]:
    """How two computations agree, for a sentence, in each language: "bit for bit" when the relative error is
    exactly 0 (the same floats), else "to a relative error of 1.2e-16"; the book quotes it rather than "an error of
    0.0e+00"."""
    if not error >= 0:
        raise ValueError(f"a relative error is a number >= 0, got {error!r}")
    if error == 0:
        return {"en": "bit for bit", "zh_CN": "逐位相同"}
    return {"en": f"to a relative error of {error:.1e}", "zh_CN": f"相对误差为 {error:.1e}"}


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def readable(value: float, digits: int = 2) -> str:
    """A number as the prose writes it: `digits` significant digits, with a power of ten only when it is very small
    or very large ("0.065", "1.1 × 10¹²", "10⁻⁵"), and exactly 0 as "0"."""
    import math

    value = float(value)
    if value == 0:
        return "0"
    if not math.isfinite(value):
        raise ValueError(f"cannot write {value} in prose")
    exponent = math.floor(math.log10(abs(value)))
    if 1e-3 <= abs(value) < 1e4:   # plain digits: `g` would switch to 1e+03 once the digits run out
        decimals = max(digits - 1 - exponent, 0)
        text = f"{round(value, digits - 1 - exponent):,.{decimals}f}"
        return (text.rstrip("0").rstrip(".") if "." in text else text).replace("-", "−")
    mantissa = round(value / 10 ** exponent, digits - 1)
    if abs(mantissa) >= 10:   # rounding carried into the next power of ten
        mantissa, exponent = mantissa / 10, exponent + 1
    power = f"10{str(exponent).translate(SUPERSCRIPTS)}"
    if mantissa == 1:
        return power
    if mantissa == -1:
        return f"−{power}"
    return f"{mantissa:.{digits - 1}f} × {power}".replace("-", "−")

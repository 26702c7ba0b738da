"""Numbers in the prose are written for readers: relugrad.notebook.readable."""

import math

import pytest

from relugrad.notebook import readable


@pytest.mark.parametrize("value,digits,text", [
    (0.0, 2, "0"),
    (0.0651, 2, "0.065"),
    (1e-5, 1, "10⁻⁵"),
    (1.8e-12, 2, "1.8 × 10⁻¹²"),
    (1.0995e12, 2, "1.1 × 10¹²"),
    (-4.1e-6, 2, "−4.1 × 10⁻⁶"),
    (9.96e-6, 2, "10⁻⁵"),          # rounding carries into the next power of ten
    (65536.0, 2, "6.6 × 10⁴"),
    (2.0, 2, "2"),
    (1000.0, 1, "1,000"),           # not 1e+03
    (2457.0, 2, "2,500"),
    (999.9, 2, "1,000"),
    (12.0, 1, "10"),
    (0.5, 2, "0.5"),
    (-0.0651, 2, "−0.065"),
])
def test_readable_writes_numbers_as_prose_does(value, digits, text):
    assert readable(value, digits) == text


def test_readable_refuses_what_prose_cannot_state():
    for value in (math.inf, math.nan):
        with pytest.raises(ValueError, match="cannot write"):
            readable(value)

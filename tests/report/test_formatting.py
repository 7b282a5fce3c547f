"""Rounding of estimates (Particle Data Group rule) and names."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from landaulab.report.formatting import capital, estimate, human, interval, plain, with_error


@pytest.mark.parametrize(
    ("value", "error", "text"),
    [
        (0.3123, 0.0234, "0.312 ± 0.023"),  # leading digits 234 < 355: two digits
        (0.3123, 0.0456, "0.31 ± 0.05"),  # 456 ≥ 355: one digit
        (1234.5, 67.0, "1230 ± 70"),
        (1.2463, 0.0030, "1.2463 ± 0.0030"),
        (5.0, 0.96, "5.0 ± 1.0"),
        (0.31, None, "0.31"),
        (float("nan"), 0.1, "n/a"),
    ],
)
def test_with_error(value: float, error: float | None, text: str) -> None:
    assert with_error(value, error) == text


def test_estimate_uses_the_half_width_of_the_interval() -> None:
    assert estimate(0.31, [0.29, 0.33]) == "0.310 ± 0.020"  # 200 < 355: two digits
    assert estimate(0.31, [0.27, 0.35]) == "0.31 ± 0.04"
    assert estimate(0.31, None) == "0.31"
    assert estimate(None, [0, 1]) == "n/a"
    assert interval(0.29, 0.33) == "[0.290, 0.330]"
    assert interval(None, 0.3) == ""


def test_plain_and_names() -> None:
    assert plain(1324.7) == "1320"
    assert plain(0.000123) == "0.000123"
    assert plain(1e7) == "1×10^7"
    assert human("weight_decay") == "weight decay"
    assert capital("weight decay is") == "Weight decay is"
    assert capital("m is the only") == "m is the only"


@given(
    st.floats(allow_nan=True, allow_infinity=True),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
@example(0.0, 5e-324)  # a subnormal error
@example(0.0, 1.75e308)  # an error near the largest float
def test_formatting_never_fails(value: float, error: float | None) -> None:
    text = with_error(value, error)
    assert isinstance(text, str) and text
    if math.isfinite(value) and error is not None and math.isfinite(error) and error > 0:
        assert "±" in text

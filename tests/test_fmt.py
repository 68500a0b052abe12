"""Number formats of tables and figures (RevMan 5 conventions, as printed in Cochrane reviews)."""

from __future__ import annotations

import pytest

from trialmeta import fmt


@pytest.mark.parametrize("x, text", [
    (0.654, "0.65"), (1.0, "1.00"), (0.004, "0.004"), (0.0012345, "0.0012"), (2.9e-17, "< 0.001"),
    (19.996, "20.00"), (1234.5, "1234"), (3.2e7, "> 999999"), (None, ""), (float("nan"), ""),
])
def test_ratio(x, text):
    assert fmt.ratio(x) == text


@pytest.mark.parametrize("p, text", [
    (0.163, "P = 0.16"), (0.0021, "P = 0.002"), (0.00043, "P = 0.0004"), (3e-6, "P < 0.00001"),
    (0.999, "P = 1.00"), (None, "P not available"),
])
def test_p_value(p, text):
    assert fmt.p_value(p) == text


def test_ratio_ci_without_ci_is_the_estimate():
    assert fmt.ratio_ci(0.58, None, None) == "0.58"
    assert fmt.ratio_ci(0.55, 0.28, 1.09) == "0.55 [0.28, 1.09]"

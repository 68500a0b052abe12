"""Effect derivations: HR/CI <-> log HR/SE and the other published routes (Parmar et al. 1998; Tierney et al. 2007)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialmeta.stats import effects


@given(log_hr=st.floats(-3, 3), se=st.floats(0.01, 2), level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_hr_ci_round_trip(log_hr, se, level):
    hr, lo, hi = effects.ci_from_log(log_hr, se, level)
    d = effects.from_hr_ci(hr, lo, hi, level)
    assert d.log_estimate == pytest.approx(log_hr, abs=1e-12)
    assert d.se == pytest.approx(se, rel=1e-12)
    assert abs(effects.asymmetry(hr, lo, hi)) < 1e-9


def test_flaura_worked_example():
    """FLAURA (Soria et al., NEJM 2018) PFS HR 0.46 (0.37-0.57), Parmar eq. 7 by hand -> ln HR = -0.7765, SE = 0.1102."""
    d = effects.from_hr_ci(0.46, 0.37, 0.57)
    assert d.log_estimate == pytest.approx(-0.7765, abs=5e-5)
    assert d.se == pytest.approx(0.1102, abs=5e-5)
    assert d.method == "hr-ci"


def test_conv_wald_example():
    """metafor conv.wald docs (oracles O14): OR 1.37 (1.03-1.82) -> yi 0.3148, vi 0.0211."""
    d = effects.from_hr_ci(1.37, 1.03, 1.82)
    assert d.log_estimate == pytest.approx(0.3148, abs=5e-5)
    assert d.se**2 == pytest.approx(0.0211, abs=5e-5)


def test_p_value_route_conv_wald():
    """O14: OR 0.64 with p = 0.17 -> vi 0.1058 (two-sided p)."""
    d = effects.from_hr_p(0.64, 0.17, "two")
    assert d.se**2 == pytest.approx(0.1058, abs=5e-5)
    one = effects.from_hr_p(0.64, 0.085, "one")
    assert one.se == pytest.approx(d.se, rel=1e-12)


def test_p_and_events_worked_example():
    """Tierney et al. 2007 p-value + events route (V = O_R O_C / O_tot), by hand: O_R=100, O_C=130, two-sided p=0.03 favouring R -> V=56.52, O-E=-16.31,
    HR=0.749, SE=0.133."""
    d = effects.from_p_events(0.03, "two", 100, 130, favours_exp=True)
    v = 1 / d.se**2
    assert v == pytest.approx(56.52, abs=5e-3)
    assert d.log_estimate * v == pytest.approx(-16.31, abs=5e-3)
    assert math.exp(d.log_estimate) == pytest.approx(0.749, abs=5e-4)
    assert d.se == pytest.approx(0.133, abs=5e-4)
    assert d.approximate


def test_oe_v():
    d = effects.from_oe_v(-10.0, 40.0)
    assert (d.log_estimate, d.se) == (-0.25, pytest.approx(1 / math.sqrt(40)))


def test_medians_exponential_is_flagged_approximate():
    """FLAURA medians 18.9 vs 10.2 give 10.2/18.9 = 0.54 (exponential assumption: HR = median_ctrl / median_exp)."""
    d = effects.from_medians(18.9, 10.2, 100, 130)
    assert math.exp(d.log_estimate) == pytest.approx(10.2 / 18.9)
    assert d.approximate and d.method == "medians-exp"


def test_binary_effects_and_zero_cells():
    """FAKTION ORR 20/69 vs 6/71: RR = (20/69)/(6/71)."""
    rr = effects.log_risk_ratio(20, 69, 6, 71)
    assert math.exp(rr.log_estimate) == pytest.approx((20 / 69) / (6 / 71))
    assert rr.se == pytest.approx(math.sqrt(1 / 20 - 1 / 69 + 1 / 6 - 1 / 71))
    zero = effects.log_odds_ratio(0, 10, 5, 10)
    assert "0.5 added" in zero.detail
    assert zero.log_estimate == pytest.approx(math.log((0.5 * 5.5) / (10.5 * 5.5)))
    assert "0.5 added" not in effects.log_odds_ratio(1, 10, 5, 10).detail


@pytest.mark.parametrize("x, d", [(0.85, 2), (0.791, 3), (1.5, 1), (2.0, 0), (0.633, 3)])
def test_decimals(x, d):
    assert effects.decimals(x) == d


def test_rounding_allowance_accepts_published_rounding():
    """ENDEAVOR updated OS 0.76 (0.633-0.915): asymmetric by rounding only."""
    assert abs(effects.asymmetry(0.76, 0.633, 0.915)) < effects.rounding_allowance(0.76, 0.633, 0.915)
    assert abs(effects.asymmetry(0.58, 0.39, 0.99)) > effects.rounding_allowance(0.58, 0.39, 0.99)

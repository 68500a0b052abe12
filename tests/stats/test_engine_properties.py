"""Property tests (hypothesis) for the pooling engine: invariances and identities that hold
for every data set, whatever the method."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from trialmeta.stats import tau2 as tau2_solvers
from trialmeta.stats.notes import NoteKind
from trialmeta.stats.pooling import PoolSettings, pool, pool_many
from trialmeta.synthesis.pooltable import read_effects_table

METHODS = ("fe", "dl", "reml", "pm")
CIS = ("wald", "hksj", "hksj-adhoc")
FAST = settings(max_examples=40, deadline=None)


@st.composite
def studies(draw, min_k=2, max_k=8):
    k = draw(st.integers(min_k, max_k))
    y = draw(st.lists(st.floats(-3, 3, allow_nan=False, allow_subnormal=False), min_size=k, max_size=k))
    se = draw(st.lists(st.floats(0.05, 2.0), min_size=k, max_size=k))
    return np.array(y), np.array(se)


def close(a, b, rel=1e-9, abs_=1e-11):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


FIELDS = ("log_est", "se", "log_ci_low", "log_ci_high", "p", "tau2", "tau2_ci_low", "tau2_ci_high",
          "q", "q_p", "i2", "h2", "log_pi_low", "log_pi_high")


@FAST
@given(studies(), st.sampled_from(METHODS), st.sampled_from(CIS), st.randoms(use_true_random=False))
def test_reordering_studies_changes_nothing(data, method, ci, rnd):
    y, se = data
    order = list(range(y.size))
    rnd.shuffle(order)
    s = PoolSettings(method, ci)
    a, b = pool(y, se, s), pool(y[order], se[order], s)
    for name in FIELDS:
        assert close(getattr(a, name), getattr(b, name)), name
    assert np.allclose(np.array(a.weights)[order], b.weights, rtol=1e-9, atol=1e-11)


@FAST
@given(st.floats(-3, 3), st.floats(0.01, 3), st.sampled_from(METHODS), st.sampled_from(CIS))
def test_one_study_returns_the_study(y, se, method, ci):
    r = pool([y], [se], PoolSettings(method, ci))
    z = stats.norm.isf(0.025)
    assert (r.k, r.log_est, r.stat_name, r.ci_method) == (1, y, "z", "wald")
    assert r.se == pytest.approx(se, rel=1e-15)  # sqrt(se²): at most an ulp away
    assert (r.log_ci_low, r.log_ci_high) == pytest.approx((y - z * se, y + z * se), rel=1e-14, abs=1e-14)
    assert r.est == pytest.approx(math.exp(y), rel=1e-15)
    assert r.tau2 is None and r.q is None and r.i2 is None and r.pi_low is None and r.df is None
    assert r.weights == (100.0,) and r.notes[0].kind is NoteKind.SINGLE_STUDY


@FAST
@given(studies(min_k=1))
def test_common_effect_lies_within_the_studies(data):
    y, se = data
    r = pool(y, se, PoolSettings("fe", "wald"))
    assert y.min() - 1e-12 <= r.log_est <= y.max() + 1e-12
    assert sum(r.weights) == pytest.approx(100.0, rel=1e-12)


@FAST
@given(studies())
def test_dl_equals_fe_exactly_when_q_at_most_df(data):
    """DL tau² = max(0, (Q - df)/c): zero, and the DL fit the FE fit, iff Q <= k - 1."""
    y, se = data
    fe, dl = pool(y, se, PoolSettings("fe", "wald")), pool(y, se, PoolSettings("dl", "wald"))
    if fe.q <= fe.df:
        assert dl.tau2 == 0.0
        assert (dl.log_est, dl.se) == pytest.approx((fe.log_est, fe.se), rel=1e-14)
    else:
        assert dl.tau2 > 0.0 and dl.se > fe.se


@FAST
@given(st.integers(2, 8), st.floats(-2, 2), st.data())
def test_dl_equals_fe_on_homogeneous_data(k, mu, draw):
    """Studies within half an SE of a common value have Q <= sum(u²) <= k/4 <= k - 1."""
    se = np.array(draw.draw(st.lists(st.floats(0.05, 2.0), min_size=k, max_size=k)))
    u = np.array(draw.draw(st.lists(st.floats(-0.5, 0.5), min_size=k, max_size=k)))
    y = mu + u * se
    fe, dl = pool(y, se, PoolSettings("fe", "wald")), pool(y, se, PoolSettings("dl", "wald"))
    assert fe.q <= k - 1 and dl.tau2 == 0.0
    assert dl.log_est == pytest.approx(fe.log_est, rel=1e-14, abs=1e-15)


@FAST
@given(studies(), st.sampled_from(METHODS))
def test_adhoc_hksj_never_narrower_than_wald_or_hksj(data, method):
    y, se = data
    width = {ci: (lambda r: r.log_ci_high - r.log_ci_low)(pool(y, se, PoolSettings(method, ci))) for ci in CIS}
    assert width["hksj-adhoc"] >= width["wald"] * (1 - 1e-12)
    assert width["hksj-adhoc"] >= width["hksj"] * (1 - 1e-12)


@FAST
@given(studies())
def test_paule_mandel_solves_the_generalised_q_equation(data):
    y, se = data
    r = pool(y, se, PoolSettings("pm", "wald"))
    q = tau2_solvers.q_gen(y[:, None], se[:, None] ** 2, r.tau2)[0]
    if r.tau2 > 0:
        assert q == pytest.approx(y.size - 1, rel=1e-10)
    else:
        assert r.q < y.size - 1  # Q(0) already below k - 1: no positive root


@FAST
@given(studies())
def test_qprofile_bounds_solve_their_equations(data):
    """Q(lower) = chi²(k-1) upper 2.5% point, Q(upper) = lower 2.5% point (Viechtbauer 2007)."""
    y, se = data
    r = pool(y, se, PoolSettings("dl", "wald"))
    df = y.size - 1
    for bound, crit in ((r.tau2_ci_low, stats.chi2.isf(0.025, df)), (r.tau2_ci_high, stats.chi2.ppf(0.025, df))):
        q = tau2_solvers.q_gen(y[:, None], se[:, None] ** 2, bound)[0]
        if bound > 0:
            assert q == pytest.approx(crit, rel=1e-9)
        else:
            assert r.q <= crit
    assert r.tau2_ci_low <= r.tau2_ci_high


@FAST
@given(st.floats(0.1, 10), st.floats(0.01, 1.5))
def test_hr_ci_round_trips_through_the_table(hr, half_width):
    """hr, CI -> (log_hr, se) -> pooled k = 1 -> hr, CI (SE = (ln U - ln L)/(2 z), Parmar eq. 7)."""
    lo, hi = hr * math.exp(-half_width), hr * math.exp(half_width)
    frame = read_effects_table(f"study,hr,ci_low,ci_high\nA,{hr!r},{lo!r},{hi!r}\n", "t.csv")
    r = pool(frame["log_hr"], frame["se"], PoolSettings("reml", "hksj"))
    assert (r.est, r.ci_low, r.ci_high) == pytest.approx((hr, lo, hi), rel=1e-12)


@FAST
@given(st.lists(studies(min_k=1, max_k=6), min_size=1, max_size=6), st.sampled_from(METHODS),
       st.sampled_from(CIS))
def test_batch_equals_one_at_a_time(analyses, method, ci):
    """Bucketing by k gives the same numbers as pooling each analysis alone."""
    s = PoolSettings(method, ci)
    together = pool_many(analyses, s)
    for (y, se), r in zip(analyses, together):
        alone = pool(y, se, s)
        for name in FIELDS:
            assert close(getattr(alone, name), getattr(r, name), rel=1e-12, abs_=1e-14), name

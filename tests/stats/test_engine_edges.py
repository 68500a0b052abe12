"""Edge cases of the pooling engine and checks of the tau² solvers' calculus."""

import doctest
import math

import numpy as np
import pytest
from scipy import stats

from trialmeta.stats import engine, pooling as meta, sensitivity, tau2 as solvers
from trialmeta.errors import PoolingError
from trialmeta.stats.pooling import PoolSettings, pool, pool_many, summary_frame
from trialmeta.stats.notes import NoteKind, has
from trialmeta.errors import InputError
from trialmeta.stats.subgroups import subgroup_test


def test_two_studies_pool_without_prediction_interval():
    """k = 2 works with every method; HKSJ uses t(1); no PI (t needs k - 2 >= 1 df)."""
    y, se = [-0.4, 0.1], [0.2, 0.3]
    for method in ("dl", "reml", "pm"):
        r = pool(y, se, PoolSettings(method, "hksj"))
        assert (r.k, r.df, r.df_test) == (2, 1, 1.0)
        assert r.pi_low is None and has(r.notes, NoteKind.NO_PI_FEW_STUDIES)
        crit = stats.t.isf(0.025, 1)
        assert r.log_ci_high - r.log_est == pytest.approx(crit * r.se, rel=1e-12)
        assert r.tau2_ci_high > r.tau2_ci_low >= 0.0


def test_small_k_notes_name_the_wald_interval_and_the_wald_risk():
    """k = 2 under HKSJ: the note gives the Wald CI with the same tau², which must equal
    pooling with ci='wald' (same estimate, SE = 1/sqrt(sum w)); Wald with k < 5 is flagged,
    a common-effect model and k >= 5 are not."""
    y, se = [-0.4, 0.1], [0.2, 0.3]
    wald = pool(y, se, PoolSettings("reml", "wald"))
    hksj = pool(y, se, PoolSettings("reml", "hksj"))
    (note,) = [str(n) for n in hksj.notes if n.kind is NoteKind.K2_HKSJ]
    assert note.startswith("k = 2: the HKSJ CI uses t with 1 df")
    times = (hksj.log_ci_high - hksj.log_ci_low) / (wald.log_ci_high - wald.log_ci_low)
    assert f"(here {times:.2f} times the Wald width)" in note
    assert f"critical value {stats.t.isf(0.025, 1):.2f}" in note
    assert note.endswith(f"[{wald.ci_low:.2f}, {wald.ci_high:.2f}]")
    assert [str(n) for n in wald.notes if n.kind is NoteKind.WALD_FEW_STUDIES][0].startswith("Wald (z) CI with k = 2")
    assert not has(pool(y, se, PoolSettings("fe", "wald")).notes, NoteKind.WALD_FEW_STUDIES)
    five = pool([-0.4, 0.1, 0.0, -0.2, 0.3], [0.2] * 5, PoolSettings("reml", "wald"))
    assert not has(five.notes, NoteKind.WALD_FEW_STUDIES) and not has(five.notes, NoteKind.K2_HKSJ)


def test_identical_studies():
    """Q = 0: tau² = 0 for every method, I² = 0, Q-profile CI {0}; the HKSJ factor is 0 as in
    metafor (RSS.knha <= eps), so plain HKSJ has a zero-width CI and ad hoc falls back to Wald."""
    y, se = [0.2] * 4, [0.1, 0.2, 0.3, 0.4]
    for method in ("dl", "reml", "pm"):
        wald = pool(y, se, PoolSettings(method, "wald"))
        assert (wald.tau2, wald.i2, wald.tau2_ci_low, wald.tau2_ci_high) == (0.0, 0.0, 0.0, 0.0)
        assert wald.q == pytest.approx(0.0, abs=1e-25)  # rounding residue of the pooled mean
        assert has(wald.notes, NoteKind.TAU2_ZERO) and has(wald.notes, NoteKind.TAU2_CI_POINT)
        hk = pool(y, se, PoolSettings(method, "hksj"))
        assert hk.se == 0.0 and hk.log_ci_low == hk.log_ci_high
        assert any("zero width" in str(n) for n in hk.notes if n.kind is NoteKind.HKSJ_ZERO_SCALE)
        adhoc = pool(y, se, PoolSettings(method, "hksj-adhoc"))
        assert adhoc.se == pytest.approx(wald.se, rel=1e-15)


def test_variance_ratio_ten_thousand():
    """SEs 0.01 to 1 (variance ratio 1e4): finite results, weights sum to 100, REML converged."""
    y, se = [0.1, -0.5, 0.3, 0.9, -0.2], [0.01, 1.0, 0.1, 0.5, 0.03]
    for method in ("fe", "dl", "reml", "pm"):
        r = pool(y, se, PoolSettings(method))
        assert all(math.isfinite(x) for x in (r.log_est, r.se, r.ci_low, r.ci_high, r.p))
        assert sum(r.weights) == pytest.approx(100.0, rel=1e-12)
        assert not has(r.notes, NoteKind.REML_NOT_CONVERGED)


@pytest.mark.parametrize("yi, sei, message", [
    ([0.1, float("nan")], [0.1, 0.2], "study 2 has estimate nan"),
    ([0.1, 0.2], [0.1, 0.0], "SEs finite and > 0"),
    ([0.1, 0.2], [0.1, float("inf")], "study 2"),
    ([0.1, 0.2], [0.1], "2 estimates but 1 standard errors"),
    ([], [], "no studies to pool"),
])
def test_invalid_input_raises_a_located_error(yi, sei, message):
    with pytest.raises(PoolingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        pool(yi, sei, group="PD-L1 high")


def test_pool_many_names_every_invalid_analysis():
    with pytest.raises(PoolingError) as err:
        pool_many([([0.1, 0.2], [0.1, 0.1]), ([np.nan], [0.1]), ([0.3], [-1.0])], groups=["a", "b", "c"])
    assert "b: study 1" in str(err.value) and "c: study 1" in str(err.value)


def test_engine_batch_survives_invalid_analyses():
    """One NaN or zero-variance analysis does not fail the batch (PyMARE alone would raise
    LinAlgError); the others equal their stand-alone fits."""
    ys = [[0.1, 0.4, -0.2], [0.3, np.nan, 0.1], [0.2, 0.5, 0.0], [0.1, 0.2, 0.3], []]
    vs = [[0.04, 0.09, 0.05], [0.04, 0.09, 0.05], [0.01, 0.02, 0.0], [0.02, 0.03, 0.04], []]
    b = engine.fit_batch(ys, vs, method="reml", ci="hksj", level=0.95, prediction=True)
    assert b.reason == (None, "non-finite estimate or standard error", "standard error <= 0", None,
                        "k = 0: no studies")
    assert np.isnan(b.est[[1, 2, 4]]).all()
    for i in (0, 3):
        alone = engine.fit_batch([ys[i]], [vs[i]], method="reml", ci="hksj", level=0.95, prediction=True)
        assert b.est[i] == pytest.approx(alone.est[0], rel=1e-12)
        assert b.tau2_ci_high[i] == pytest.approx(alone.tau2_ci_high[0], rel=1e-12)
        assert b.study_weights(i) == pytest.approx(alone.study_weights(0), rel=1e-12)


def test_engine_accepts_a_two_dimensional_block():
    """(k, n) arrays are n analyses of one size, without copying per analysis."""
    rng = np.random.default_rng(7)
    v = rng.uniform(0.01, 0.5, (6, 20))
    y = rng.normal(0.0, np.sqrt(v + 0.1))
    block = engine.fit_batch(y, v, method="pm", ci="wald", level=0.9, prediction=True)
    listed = engine.fit_batch(list(y.T), list(v.T), method="pm", ci="wald", level=0.9, prediction=True)
    assert np.allclose(block.est, listed.est, rtol=1e-14) and np.allclose(block.pi_high, listed.pi_high, rtol=1e-14)


@pytest.mark.parametrize("kwargs, field", [({"method": "ml"}, "method"), ({"ci": "kr"}, "ci"),
                                           ({"level": 95}, "level"), ({"tau2_ci": "jackson"}, "tau2_ci")])
def test_settings_reject_unknown_values(kwargs, field):
    with pytest.raises(InputError) as err:
        PoolSettings(**kwargs)
    assert err.value.problems[0].path == field
    assert ("level must be in [0.5, 1)" if field == "level" else "choose one of") in str(err.value)


def test_defaults_are_cochrane_2025():
    """RevMan 2025 random-effects defaults: REML, HKSJ, Q-profile, prediction interval."""
    s = PoolSettings()
    assert (s.method, s.ci, s.level, s.prediction, s.tau2_ci) == ("reml", "hksj", 0.95, True, "qprofile")
    assert s.describe() == ("REML τ² (Q-profile CI); HKSJ t(k-1) CI; 95% level; "
                            "prediction interval t(k-2) (Higgins 2009)")


def test_summary_has_both_scales_and_the_level():
    r = pool([-0.5, -0.1, 0.2], [0.2, 0.25, 0.3], PoolSettings("dl", "wald", level=0.9))
    row = r.summary.iloc[0]
    assert row["exp(est) lower 90%"] == pytest.approx(math.exp(row["est lower 90%"]), rel=1e-15)
    assert row["exp(est) PI upper 90%"] == pytest.approx(math.exp(row["est PI upper 90%"]), rel=1e-15)
    assert row["z"] == r.stat and row["tau2 upper 90%"] == r.tau2_ci_high
    frame = summary_frame([r, r])
    assert len(frame) == 2 and list(frame.columns) == list(r.summary.columns)


def test_subgroup_test_with_reported_se_uses_hksj_se():
    y, se = np.array([-0.6, -0.3, -0.5, 0.2, 0.0, 0.1]), np.full(6, 0.2)
    rs = pool_many([(y[:3], se[:3]), (y[3:], se[3:])], PoolSettings("reml", "hksj"), ["a", "b"])
    w = 1 / np.array([r.se for r in rs]) ** 2
    th = np.array([r.log_est for r in rs])
    expected = float((w * (th - (w * th).sum() / w.sum()) ** 2).sum())
    assert subgroup_test(rs, se="reported").q_between == pytest.approx(expected, rel=1e-14)
    assert "HKSJ" not in subgroup_test(rs).method and "REML τ²" in subgroup_test(rs).method


@pytest.mark.parametrize("X", [None, np.column_stack([np.ones(7), [0, 0, 1, 1, 0, 1, 0]])])
def test_reml_score_and_information_match_finite_differences(X):
    """The restricted log-likelihood's derivatives used by reml_polish: dl/dtau² = (y'PPy - tr P)/2,
    d²l/dtau²² = tr(PP)/2 - a'Pa (central differences, step 1e-5)."""
    rng = np.random.default_rng(3)
    v = rng.uniform(0.02, 0.4, (7, 3))
    y = rng.normal(0.0, np.sqrt(v + 0.2))
    t, h = np.array([0.05, 0.3, 1.0]), 1e-5
    ypp, tr_p, tr_pp, a_pa, ll = solvers._reml_terms(y, v, t, X)
    ll_up, ll_dn = solvers._reml_terms(y, v, t + h, X)[4], solvers._reml_terms(y, v, t - h, X)[4]
    assert (ll_up - ll_dn) / (2 * h) == pytest.approx(0.5 * (ypp - tr_p), rel=1e-6)
    assert (ll_up - 2 * ll + ll_dn) / h ** 2 == pytest.approx(0.5 * tr_pp - a_pa, rel=1e-4)


def test_reml_polish_stops_at_the_boundary_and_at_the_root():
    """Steurer (O11): REML maximum at tau² = 0; BCG (O2): interior root, score 0."""
    y = np.array([[-0.592], [-0.0791], [-0.237], [0.163]])
    v = np.array([[0.345], [0.0787], [0.144], [0.312]]) ** 2
    t, ok = solvers.reml_polish(y, v, np.array([0.05]))
    assert t[0] == 0.0 and ok[0]
    y2 = np.array([[-0.88931133], [-1.58538866], [-1.34807315], [-1.44155119], [-0.21754732]])
    v2 = np.array([[0.325584765], [0.194581121], [0.415367965], [0.020010032], [0.051210172]])
    t2, ok2 = solvers.reml_polish(y2, v2, np.array([1.0]))
    ypp, tr_p = solvers._reml_terms(y2, v2, t2, None)[:2]
    assert ok2[0] and t2[0] > 0 and abs(ypp[0] - tr_p[0]) < 1e-10 * tr_p[0]


def test_solve_q_handles_huge_upper_bounds():
    """k = 2: the Q-profile upper bound solves (y1 - y2)²/(v1 + v2 + 2 tau²) = chi²_1(0.025),
    exactly, since with two studies Q(tau²) = (y1 - y2)²/(v1 + v2 + 2 tau²)."""
    y, v = np.array([[0.0], [3.0]]), np.array([[0.01], [0.02]])
    crit = stats.chi2.ppf(0.025, 1)
    low, high, null = solvers.q_profile(y, v, 0.95)
    assert high[0] == pytest.approx((9.0 / crit - 0.03) / 2, rel=1e-12) and high[0] > 4000
    assert low[0] == pytest.approx((9.0 / stats.chi2.isf(0.025, 1) - 0.03) / 2, rel=1e-12)
    assert not null[0]


@pytest.mark.parametrize("module", [engine, meta, sensitivity])
def test_docstring_examples_run(module):
    """The Examples sections are executed, so they cannot drift from the code."""
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0

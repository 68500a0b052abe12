"""Pooling engine against published numbers (each test names its source: metafor documentation, papers, Cochrane reviews).

Each number carries its source: the metafor call, the paper table or the oracle id.
Printed 4-dp values are checked to 5e-5 (plus ~1e-4 optimiser slack where the source's own
iteration was loose); full-precision oracles (O9) to 1e-8.
"""

import csv
import math

import numpy as np
import pytest
from conftest import DATA

from trialmeta.stats.pooling import PoolSettings, pool, pool_many
from trialmeta.stats.notes import NoteKind, has
from trialmeta.stats.sensitivity import bucher, cumulative, interaction, leave_one_out
from trialmeta.stats.subgroups import moderator_test, subgroup_test

# O1: dat.bcg log risk ratios, printed by metafor's trimfill example (docs/reference/trimfill.html).
BCG_YI = np.array([-0.88931133, -1.58538866, -1.34807315, -1.44155119, -0.21754732, -0.78611559,
                   -1.62089822, 0.01195233, -0.46941765, -1.37134480, -0.33935883, 0.44591340,
                   -0.01731395])
BCG_VI = np.array([0.325584765, 0.194581121, 0.415367965, 0.020010032, 0.051210172, 0.006905618,
                   0.223017248, 0.003961579, 0.056434210, 0.073024794, 0.012412214, 0.532505845,
                   0.071404660])
BCG_SEI = np.sqrt(BCG_VI)
BCG_YEAR = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]
BCG_ALLOC = ["random", "random", "random", "random", "alternate", "alternate", "random", "random",
             "random", "systematic", "systematic", "systematic", "systematic"]
TOL4 = 5e-5  # half a unit in the 4th decimal


def fit(method, ci="wald", **kw):
    return pool(BCG_YI, BCG_SEI, PoolSettings(method=method, ci=ci, **kw))


def test_bcg_common_effect():
    """O2 row EE/FE: rma(yi, vi, data=dat, method="FE") (rma.uni docs)."""
    r = fit("fe")
    assert r.log_est == pytest.approx(-0.4303, abs=TOL4)
    assert r.se == pytest.approx(0.0405, abs=TOL4)
    assert (r.log_ci_low, r.log_ci_high) == pytest.approx((-0.5097, -0.3509), abs=TOL4)
    assert r.stat == pytest.approx(-10.6247, abs=TOL4)
    assert r.q == pytest.approx(152.2330, abs=TOL4) and r.df == 12
    assert r.i2 == pytest.approx(92.1173, abs=TOL4)  # Q-based = metafor's for FE
    assert r.h2 == pytest.approx(12.6861, abs=TOL4)
    assert (r.est, r.ci_low, r.ci_high) == pytest.approx((0.6503, 0.6007, 0.7040), abs=TOL4)
    assert r.tau2 is None and r.pi_low is None


def test_bcg_dersimonian_laird():
    """O2 row DL: rma(yi, vi, method="DL") (test_misc_metan_vs_rma.uni); RR 0.4896 [0.3449, 0.6950]."""
    r = fit("dl")
    assert r.tau2 == pytest.approx(0.3088, abs=TOL4)
    assert r.log_est == pytest.approx(-0.7141, abs=TOL4)
    assert (r.log_ci_low, r.log_ci_high) == pytest.approx((-1.0644, -0.3638), abs=TOL4)
    assert r.stat == pytest.approx(-3.9952, abs=TOL4)
    assert r.i2 == pytest.approx(92.1173, abs=TOL4)  # DL: Q-based I² equals metafor's tau²-based
    assert (r.est, r.ci_low, r.ci_high) == pytest.approx((0.4896, 0.3449, 0.6950), abs=TOL4)
    # confint(res): Q-profile tau² CI does not depend on the estimator (test_misc_confint).
    assert (r.tau2_ci_low, r.tau2_ci_high) == pytest.approx((0.1197, 1.1115), abs=TOL4)


def test_bcg_reml_wald_and_qprofile():
    """O2 row REML: rma(yi, vi) (rma.uni docs) and confint(res): tau² 0.3132 [0.1197, 1.1115]."""
    r = fit("reml")
    assert r.tau2 == pytest.approx(0.3132, abs=TOL4)
    assert r.log_est == pytest.approx(-0.7145, abs=TOL4)
    assert r.se == pytest.approx(0.1798, abs=TOL4)
    assert (r.log_ci_low, r.log_ci_high) == pytest.approx((-1.0669, -0.3622), abs=TOL4)
    assert r.stat == pytest.approx(-3.9744, abs=TOL4)
    assert (r.est, r.ci_low, r.ci_high) == pytest.approx((0.4894, 0.3441, 0.6962), abs=TOL4)
    assert (r.tau2_ci_low, r.tau2_ci_high) == pytest.approx((0.1197, 1.1115), abs=TOL4)


def test_bcg_prediction_interval_hts():
    """O2 PI variants [derived]: REML t(k-2) (Higgins 2009) RR (0.1342, 1.7848); DL (0.1355, 1.7693)."""
    assert (fit("reml").pi_low, fit("reml").pi_high) == pytest.approx((0.1342, 1.7848), abs=TOL4)
    assert (fit("dl").pi_low, fit("dl").pi_high) == pytest.approx((0.1355, 1.7693), abs=TOL4)


def test_bcg_hksj():
    """O2 KNHA [derived], t(12): REML SE 0.1808, t -3.9522, p 0.0019, RR 0.4894 [0.3301, 0.7257];
    DL RR CI [0.3303, 0.7258] (meta::metabin REML+HK gives 0.489 (0.330-0.726))."""
    r = fit("reml", "hksj")
    assert r.stat_name == "t" and r.df_test == 12
    assert r.se == pytest.approx(0.1808, abs=TOL4)
    assert r.stat == pytest.approx(-3.9522, abs=TOL4)
    assert r.p == pytest.approx(0.0019, abs=TOL4)
    assert (r.log_ci_low, r.log_ci_high) == pytest.approx((-1.1084, -0.3206), abs=TOL4)
    assert (r.est, r.ci_low, r.ci_high) == pytest.approx((0.4894, 0.3301, 0.7257), abs=TOL4)
    d = fit("dl", "hksj")
    assert d.se == pytest.approx(0.1807, abs=TOL4)
    assert (d.ci_low, d.ci_high) == pytest.approx((0.3303, 0.7258), abs=TOL4)


def test_bcg_paule_mandel():
    """O2 [derived] PM tau² 0.3181, mu -0.7150 (= DLIT/SJIT fixed point, test_misc_rma_uni)."""
    r = fit("pm")
    assert r.tau2 == pytest.approx(0.3181, abs=TOL4)
    assert r.log_est == pytest.approx(-0.7150, abs=TOL4)


def test_bcg_subgroups_by_allocation():
    """O3: rma(yi, vi, subset=alloc==...) (rma.uni docs): per-subgroup REML fits."""
    levels = ["alternate", "random", "systematic"]
    g = np.array(BCG_ALLOC)
    rs = pool_many([(BCG_YI[g == lv], BCG_SEI[g == lv]) for lv in levels], PoolSettings("reml", "wald"), levels)
    expected = {"alternate": (2, 0.1326, -0.5408, 0.2816, 5.5625),
                "random": (7, 0.3925, -0.9710, 0.2760, 110.2133),
                "systematic": (4, 0.4003, -0.4242, 0.3597, 16.5919)}
    for r in rs:
        k, tau2, mu, se, q = expected[r.group]
        assert r.k == k
        assert (r.tau2, r.log_est, r.se, r.q) == pytest.approx((tau2, mu, se, q), abs=TOL4)


@pytest.mark.parametrize("method, q_between, p", [
    ("fe", 19.8654, 4.86e-5),  # O3 [derived]: FE within, p = 4.86e-05
    ("dl", 1.5368, 0.4638),  # O3 [derived]: DL within
    ("reml", 1.8614, 0.3943),  # O3 [derived]: REML within
])
def test_bcg_q_between(method, q_between, p):
    """O3: Q-between on subgroup estimates, separate tau² (RevMan/meta style), w = 1/SE² (Wald)."""
    levels = ["alternate", "random", "systematic"]
    g = np.array(BCG_ALLOC)
    rs = pool_many([(BCG_YI[g == lv], BCG_SEI[g == lv]) for lv in levels], PoolSettings(method, "wald"), levels)
    t = subgroup_test(rs)
    assert t.q_between == pytest.approx(q_between, abs=TOL4)
    assert t.df_between == 2
    assert t.p_between == pytest.approx(p, rel=1e-3)
    assert "separate τ² per subgroup" in t.method


def test_bcg_moderator_qm():
    """O3: rma(yi, vi, mods = ~ factor(alloc)) (REML): QM(2) 1.7675, p 0.4132, tau² 0.3615,
    QE(10) 132.3676; under test="knha" [derived] F(2, 10) 0.9662, p 0.4134."""
    z = moderator_test(BCG_YI, BCG_SEI, BCG_ALLOC, PoolSettings("reml", "wald"))
    assert (z.stat_name, z.df_num, z.df_den) == ("QM", 2, None)
    assert (z.stat, z.p, z.tau2) == pytest.approx((1.7675, 0.4132, 0.3615), abs=TOL4)
    assert (z.qe, z.qe_df) == (pytest.approx(132.3676, abs=TOL4), 10)
    f = moderator_test(BCG_YI, BCG_SEI, BCG_ALLOC, PoolSettings("reml", "hksj"))
    assert (f.stat_name, f.df_num, f.df_den) == ("F", 2, 10)
    assert (f.stat, f.p) == pytest.approx((0.9662, 0.4134), abs=TOL4)


# O4: leave1out(res) on the REML fit (metafor docs): estimate, se, ci.lb, ci.ub, Q, tau².
LOO = {1: (-0.7071, 0.1900, -1.0794, -0.3348, 151.5826, 0.3362),
       2: (-0.6540, 0.1807, -1.0082, -0.2999, 145.3176, 0.2926),
       4: (-0.6284, 0.1766, -0.9746, -0.2822, 96.5626, 0.2628),
       8: (-0.7948, 0.1799, -1.1473, -0.4422, 67.9858, 0.2732),
       13: (-0.7775, 0.1855, -1.1412, -0.4139, 149.7884, 0.3037)}
LOO_EST = {3: (-0.6856, 0.1857, 150.1970, 0.3207), 5: (-0.7642, 0.1918, 151.3200, 0.3278),
           6: (-0.7109, 0.2003, 128.1867, 0.3596), 7: (-0.6552, 0.1805, 145.8296, 0.2930),
           9: (-0.7412, 0.1967, 152.2051, 0.3495), 10: (-0.6530, 0.1843, 139.8271, 0.2987),
           11: (-0.7579, 0.1958, 151.4655, 0.3405), 12: (-0.7598, 0.1821, 150.7868, 0.3082)}


def test_bcg_leave_one_out():
    """O4: leave1out() rows "-k" (REML, test="z")."""
    rows = leave_one_out(BCG_YI, BCG_SEI, PoolSettings("reml", "wald"))
    assert [r.k for r in rows] == [12] * 13 and rows[0].group == "omitting 1"
    for i, (est, se, lo, hi, q, tau2) in LOO.items():
        r = rows[i - 1]
        assert (r.log_est, r.se, r.log_ci_low, r.log_ci_high, r.q, r.tau2) == pytest.approx(
            (est, se, lo, hi, q, tau2), abs=TOL4)
    for i, (est, se, q, tau2) in LOO_EST.items():
        r = rows[i - 1]
        assert (r.log_est, r.se, r.q, r.tau2) == pytest.approx((est, se, q, tau2), abs=TOL4)


def test_bcg_cumulative_by_year():
    """O4: cumul(res, order=year) (REML, 3 dp): Aronson 1948 k=1 -0.889 (se 0.571); Stein &
    Aronson 1953 k=3 -0.972, tau² 0.087; Hart & Sutherland 1977 k=12 -0.795, Q 67.986;
    TPT Madras 1980 k=13 -0.715, Q 152.233, tau² 0.313."""
    order = np.argsort(BCG_YEAR, kind="stable")
    rows = cumulative(BCG_YI[order], BCG_SEI[order], PoolSettings("reml", "wald"),
                      [BCG_YEAR[i] for i in order])
    assert [r.k for r in rows] == list(range(1, 14))
    assert (rows[0].log_est, rows[0].se) == pytest.approx((-0.889, 0.571), abs=5e-4)
    assert rows[0].tau2 is None and rows[0].notes[0].kind is NoteKind.SINGLE_STUDY
    assert (rows[2].log_est, rows[2].tau2) == pytest.approx((-0.972, 0.087), abs=5e-4)
    assert (rows[11].log_est, rows[11].q) == pytest.approx((-0.795, 67.986), abs=5e-4)
    assert (rows[12].log_est, rows[12].q, rows[12].tau2) == pytest.approx((-0.715, 152.233, 0.313), abs=5e-4)


VIECHTBAUER_YI = [-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232]
VIECHTBAUER_VI = [0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040]


def test_viechtbauer_2005_example_1():
    """O6: test_analysis_example_viechtbauer2005.r: tau² DL 0.2768, REML 0.2232; DL I² 80.4447,
    H² 5.1137 (for DL the Q-based and tau²-based definitions coincide)."""
    se = np.sqrt(VIECHTBAUER_VI)
    dl = pool(VIECHTBAUER_YI, se, PoolSettings("dl", "wald"))
    assert dl.tau2 == pytest.approx(0.2768, abs=TOL4)
    assert (dl.i2, dl.h2) == pytest.approx((80.4447, 5.1137), abs=TOL4)
    assert pool(VIECHTBAUER_YI, se, PoolSettings("reml", "wald")).tau2 == pytest.approx(0.2232, abs=TOL4)


CLASP = dict(n1=[156, 303, 565, 1570, 103, 4659], n2=[74, 303, 477, 1565, 105, 4650],
             a=[5, 5, 12, 69, 9, 313], c=[8, 17, 9, 94, 11, 352])


@pytest.mark.parametrize("method, tau, mu, se", [
    ("pm", 0.3681, -0.3811, 0.2060),  # DerSimonian & Kacker 2007 Table 3-4 (test_analysis_example_dersimonian2007.r)
    ("dl", 0.2323, -0.3240, 0.1540),
    ("reml", 0.1843, -0.2980, 0.1343),
])
def test_clasp_dersimonian_kacker(method, tau, mu, se):
    """O6 CLASP: log OR (escalc "OR") pooled with PM, DL, REML: tau, mu, SE."""
    n1, n2, a, c = (np.array(CLASP[x], dtype=float) for x in ("n1", "n2", "a", "c"))
    y = np.log(a / (n1 - a)) - np.log(c / (n2 - c))
    sei = np.sqrt(1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c))
    r = pool(y, sei, PoolSettings(method, "wald"))
    assert (math.sqrt(r.tau2), r.log_est, r.se) == pytest.approx((tau, mu, se), abs=TOL4)


RAUDENBUSH_YI = [0.03, 0.12, -0.14, 1.18, 0.26, -0.06, -0.02, -0.32, 0.27, 0.80, 0.54, 0.18, -0.02, 0.23,
                 -0.18, -0.06, 0.30, 0.07, -0.07]
RAUDENBUSH_VI = [0.0156, 0.0216, 0.0279, 0.1391, 0.1362, 0.0106, 0.0106, 0.0484, 0.0269, 0.0630, 0.0912,
                 0.0497, 0.0835, 0.0841, 0.0253, 0.0279, 0.0193, 0.0088, 0.0303]


@pytest.mark.parametrize("method, tau2, mu, se_z, z, ci_z, se_t, t, ci_t, tol", [
    # Raudenbush 2009 Table 16.3 via metafor test_analysis_example_raudenbush2009.r (O7)
    ("fe", 0.0, 0.0604, 0.0365, 1.6553, (-0.0111, 0.1318), 0.0515, 1.1733, (-0.0477, 0.1685), TOL4),
    # REML: the table's t 1.3593 reflects a loose iteration; metafor 3.8.1 with
    # control=list(threshold=1e-12) gives t = 1.359243 as we do, hence the 1e-4 optimiser slack.
    ("reml", 0.0188, 0.0837, 0.0516, 1.6208, (-0.0175, 0.1849), 0.0616, 1.3593, (-0.0457, 0.2131), 1e-4),
    ("dl", 0.0259, 0.0893, 0.0558, 1.6009, (-0.0200, 0.1987), 0.0636, 1.4050, (-0.0442, 0.2229), TOL4),
])
def test_raudenbush_knapp_hartung(method, tau2, mu, se_z, z, ci_z, se_t, t, ci_t, tol):
    """O7: rma(yi, vi, method=M, test="z") and test="knha" (t with 18 df)."""
    se = np.sqrt(RAUDENBUSH_VI)
    w = pool(RAUDENBUSH_YI, se, PoolSettings(method, "wald"))
    h = pool(RAUDENBUSH_YI, se, PoolSettings(method, "hksj"))
    assert (w.tau2 or 0.0, w.log_est, w.se, w.stat) == pytest.approx((tau2, mu, se_z, z), abs=tol)
    assert (w.log_ci_low, w.log_ci_high) == pytest.approx(ci_z, abs=tol)
    assert (h.se, h.stat, h.df_test) == pytest.approx((se_t, t, 18), abs=tol)
    assert (h.log_ci_low, h.log_ci_high) == pytest.approx(ci_t, abs=tol)


KACKER_Y = [61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9]
KACKER_V = [0.2025, 1.21, 0.09, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]


def test_kacker_full_precision():
    """O9: statsmodels results_meta.py (metafor with tol=1e-9), Kacker 2004 interlaboratory data."""
    se = np.sqrt(KACKER_V)
    pm = pool(KACKER_Y, se, PoolSettings("pm", "wald"))
    assert pm.tau2 == pytest.approx(0.705395309224248, rel=1e-8)
    assert (pm.log_est, pm.se) == pytest.approx((62.4076199113286, 0.338030602684471), abs=1e-8)
    assert (pm.log_ci_low, pm.log_ci_high) == pytest.approx((61.7450921043947, 63.0701477182625), abs=1e-8)
    assert (pm.q, pm.q_p) == pytest.approx((24.801897741835, 0.00167935146372742), rel=1e-10)
    dl = pool(KACKER_Y, se, PoolSettings("dl", "wald"))
    assert dl.tau2 == pytest.approx(0.288049246973751, rel=1e-10)
    assert (dl.log_est, dl.se) == pytest.approx((62.3901386044504, 0.245749668040304), abs=1e-10)
    assert (dl.log_ci_low, dl.log_ci_high) == pytest.approx((61.9084781058787, 62.8717991030221), abs=1e-10)


STEURER_LNHR = [-0.592, -0.0791, -0.237, 0.163]
STEURER_SE = [0.345, 0.0787, 0.144, 0.312]


def test_steurer_fixed_and_dl():
    """O11 [derived, full precision] from lnHR/selnHR; published metagen(lnHR, selnHR, sm="HR")
    under RevMan5 settings: FE HR 0.89 [0.78, 1.01], z -1.82, p 0.0688, Q 3.62 (p 0.3049)."""
    fe = pool(STEURER_LNHR, STEURER_SE, PoolSettings("fe", "wald"))
    assert (fe.log_est, fe.se) == pytest.approx((-0.120425672, 0.066175208), abs=1e-9)
    assert (fe.est, fe.ci_low, fe.ci_high) == pytest.approx((0.886543, 0.778702, 1.009319), abs=1e-6)
    assert (fe.stat, fe.p) == pytest.approx((-1.819800, 0.068789), abs=1e-6)
    assert (fe.q, fe.q_p, fe.i2) == pytest.approx((3.624681, 0.304948, 17.234), abs=1e-3)
    assert fe.weights == pytest.approx((3.68, 70.70, 21.12, 4.50), abs=5e-3)
    dl = pool(STEURER_LNHR, STEURER_SE, PoolSettings("dl", "wald"))
    assert dl.tau2 == pytest.approx(0.0060505, abs=1e-7)
    assert (dl.est, dl.ci_low, dl.ci_high) == pytest.approx((0.873626, 0.738779, 1.033085), abs=1e-6)
    assert dl.p == pytest.approx(0.11424, abs=1e-5)
    assert dl.weights == pytest.approx((5.85, 59.76, 27.32, 7.08), abs=5e-3)


def test_steurer_reml_boundary():
    """O11 [derived]: REML tau² = 0 (metafor#14), so RE = FE; REML+HKSJ HR CI [0.7033, 1.1175]
    (t3, p 0.1964); Q-profile tau² CI (0, 1.2885)."""
    r = pool(STEURER_LNHR, STEURER_SE, PoolSettings("reml", "hksj"))
    assert r.tau2 == 0.0 and has(r.notes, NoteKind.TAU2_ZERO)
    assert r.log_est == pytest.approx(-0.120425672, abs=1e-9)
    assert (r.ci_low, r.ci_high, r.p) == pytest.approx((0.7033, 1.1175, 0.1964), abs=TOL4)
    assert (r.tau2_ci_low, r.tau2_ci_high) == pytest.approx((0.0, 1.2885), abs=TOL4)


# O13: metawho vignette inputs (deft_prepare): ln HR, sei = (ln ub - ln lb)/(2 x 1.959964).
DEFT = [(math.log(0.11), 0.8500678, math.log(0.30), 0.6142831, "Rizvi 2015"),
        (math.log(0.63), 0.2082200, math.log(1.25), 0.2143674, "Rizvi 2018"),
        (math.log(0.28), 0.4387290, math.log(0.90), 0.4030005, "Hellmann 2018")]


def test_deft_interaction():
    """O13 [published, metawho vignette]: Female vs Male within-trial interaction, FE:
    -0.7956 (SE 0.2589), z -3.0737, p 0.0021, Q(2) 0.5657 (p 0.7536); ratio 0.451 [0.272, 0.750]
    and per-trial ratios 0.3667 [0.0469, 2.8642], 0.5040 [0.2806, 0.9053], 0.3111 [0.0968, 1.0000]
    [derived back-transforms]."""
    r = interaction(DEFT, PoolSettings("fe", "wald"))
    assert (r.log_ratio, r.se, r.pooled.stat, r.p) == pytest.approx((-0.7956, 0.2589, -3.0737, 0.0021), abs=TOL4)
    assert (r.pooled.q, r.pooled.df, r.pooled.q_p) == pytest.approx((0.5657, 2, 0.7536), abs=TOL4)
    assert (r.ratio, r.ci_low, r.ci_high) == pytest.approx((0.451, 0.272, 0.750), abs=5e-4)
    assert r.k == 3 and r.trials == ("Rizvi 2015", "Rizvi 2018", "Hellmann 2018")
    got = [x for t in r.per_trial for x in (t.ratio, t.ci_low, t.ci_high)]
    assert got == pytest.approx([0.3667, 0.0469, 2.8642, 0.5040, 0.2806, 0.9053, 0.3111, 0.0968, 1.0000],
                                abs=TOL4)


def test_deft_interaction_single_trial_is_its_own_contrast():
    """k = 1: the trial's own ratio of HRs (O13 per-trial row for Rizvi 2018: 0.5040 [0.2806, 0.9053])."""
    r = interaction(DEFT[1:2], PoolSettings())
    assert (r.ratio, r.ci_low, r.ci_high) == pytest.approx((0.5040, 0.2806, 0.9053), abs=TOL4)
    assert r.k == 1 and r.pooled.ci_method == "wald"


def test_daft_across_trial_subgroups_for_contrast():
    """O13 [derived] 'daft': Male FE HR 1.034 [0.725, 1.474], Female 0.504 [0.351, 0.722],
    Q-between 7.777 (p 0.0053); naive all-entries FE -0.3207 (SE 0.1289), Q(5) 18.8865."""
    male = pool([d[2] for d in DEFT], [d[3] for d in DEFT], PoolSettings("fe", "wald"), "male")
    female = pool([d[0] for d in DEFT], [d[1] for d in DEFT], PoolSettings("fe", "wald"), "female")
    assert (male.est, male.ci_low, male.ci_high) == pytest.approx((1.034, 0.725, 1.474), abs=5e-4)
    assert (female.est, female.ci_low, female.ci_high) == pytest.approx((0.504, 0.351, 0.722), abs=5e-4)
    t = subgroup_test([male, female])
    assert (t.q_between, t.p_between) == pytest.approx((7.777, 0.0053), abs=5e-4)
    naive = pool([d[i] for d in DEFT for i in (0, 2)], [d[i] for d in DEFT for i in (1, 3)],
                 PoolSettings("fe", "wald"))
    assert (naive.log_est, naive.se, naive.q) == pytest.approx((-0.3207, 0.1289, 18.8865), abs=TOL4)


def test_bucher_methods_example():
    """Bucher et al. 1997 formula, worked example: HR_AB 0.65 (SE 0.10), HR_CB 0.80 (SE 0.12) -> HR_AC 0.81 (0.60-1.10)."""
    r = bucher(math.log(0.65), 0.10, math.log(0.80), 0.12)
    assert (r.est, r.ci_low, r.ci_high) == pytest.approx((0.81, 0.60, 1.10), abs=5e-3)
    assert r.se == pytest.approx(math.sqrt(0.10 ** 2 + 0.12 ** 2), rel=1e-15)
    assert r.est == pytest.approx(0.65 / 0.80, rel=1e-15)


def test_pignon_2000_o_minus_e_by_timing():
    """O12: MACH-NC (Pignon et al., Lancet 2000;355:949-55), metadat dat.pignon2000 (exported by
    tests/data/metafor/generate.R), log HR = OmE/V, SE = 1/sqrt(V), IV fixed effect.
    [published] HR 0.90 (0.85-0.94), p < 0.0001. [derived] all k=65: HR 0.8951 [0.8544, 0.9377],
    log HR -0.110798 (SE 0.023734), z -4.668, Q 123.671 (df 64), I² 48.2%; adjuvant k=8 0.9770
    [0.8537, 1.1182], Q 7.826; neoadjuvant k=31 0.9456 [0.8847, 1.0108], Q 31.567; concomitant
    k=26 0.8144 [0.7562, 0.8771], Q 73.809, I² 66.1%; subgroup differences Chi² 10.469, df 2, p 0.0053."""
    with open(DATA / "metafor" / "pignon2000.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    y = np.array([float(r["OmE"]) / float(r["V"]) for r in rows])
    se = np.array([1 / math.sqrt(float(r["V"])) for r in rows])
    grp = np.array([r["grp"] for r in rows])
    fe = PoolSettings("fe", "wald")
    every = pool(y, se, fe)
    assert every.k == 65 and (round(every.est, 2), round(every.ci_low, 2), round(every.ci_high, 2)) == (0.90, 0.85, 0.94)
    assert every.p < 1e-4
    assert (every.est, every.ci_low, every.ci_high) == pytest.approx((0.8951, 0.8544, 0.9377), abs=TOL4)
    assert (every.log_est, every.se) == pytest.approx((-0.110798, 0.023734), abs=5e-7)
    assert (every.stat, every.q, every.df, every.i2) == pytest.approx((-4.668, 123.671, 64, 48.2), abs=5e-2)
    subs = pool_many([(y[grp == g], se[grp == g]) for g in "123"], fe, ["adjuvant", "neoadjuvant", "concomitant"])
    expected = [(8, 0.9770, 0.8537, 1.1182, 7.826), (31, 0.9456, 0.8847, 1.0108, 31.567),
                (26, 0.8144, 0.7562, 0.8771, 73.809)]
    for r, (k, est, lo, hi, q) in zip(subs, expected):
        assert r.k == k
        assert (r.est, r.ci_low, r.ci_high) == pytest.approx((est, lo, hi), abs=TOL4)
        assert r.q == pytest.approx(q, abs=5e-4)
    assert subs[2].i2 == pytest.approx(66.1, abs=0.05)
    t = subgroup_test(subs)
    assert (t.q_between, t.df_between, t.p_between) == pytest.approx((10.469, 2, 0.0053), abs=5e-4)

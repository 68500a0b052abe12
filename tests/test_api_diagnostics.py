"""A notebook's diagnostics of its own studies equal metafor 3.8.1 on the same model, and draw themselves.

Reference: tests/data/smallstudy/reference.json (tests/data/smallstudy/generate.R; R 4.2.2, metafor 3.8.1,
metadat 1.2.0). dat.egger2001 (magnesium, counts) through tm.meta_binary(method="IV", tau2="reml", ci="wald")
is metafor's rma(yi, vi) [REML, z]; dat.bcg log RRs through tm.meta(log_hr=, se=, ci="hksj") is
rma(yi, vi, test="knha").
"""

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from conftest import DATA

import trialmeta as tm
from trialmeta.errors import InputError
from trialmeta.stats.smallstudy import FEW_STUDIES_NOTE

REF = json.loads((DATA / "smallstudy" / "reference.json").read_text())
EGGER, BCG = REF["egger2001"], REF["bcg"]
TOL = 1e-6


def _close(a, b):
    assert np.asarray(a, float) == pytest.approx(np.asarray(b, float), abs=TOL, rel=0)


@pytest.fixture(scope="module")
def magnesium():
    df = pd.DataFrame({"trial": [f"{s} {i + 1}" for i, s in enumerate(EGGER["study"])], "d_mg": EGGER["ai"],
                       "n_mg": EGGER["n1i"], "d_ctl": EGGER["ci"], "n_ctl": EGGER["n2i"]})
    return tm.meta_binary(df, "d_mg", "n_mg", "d_ctl", "n_ctl", study="trial", measure="OR", method="IV",
                          tau2="reml", ci="wald")


@pytest.fixture(scope="module")
def bcg():
    df = pd.DataFrame({"study": BCG["study"], "log_rr": BCG["yi"], "se": np.sqrt(BCG["vi"])})
    return tm.meta(df, log_hr="log_rr", se="se", measure="RR", ci="hksj")


def test_small_study_tests_equal_metafor(magnesium):
    want = EGGER["reml"]
    r = magnesium.regtest()
    _close((r.stat, r.p, r.est, r.ci_low, r.ci_high), [want["regtest_rma"][k] for k in
                                                       ("zval", "pval", "est", "ci_lb", "ci_ub")])
    r = magnesium.regtest(model="lm")
    _close((r.stat, r.p), (want["regtest_lm"]["zval"], want["regtest_lm"]["pval"]))
    _close((magnesium.peters().stat, magnesium.harbord().stat), (want["peters"]["zval"], EGGER["harbord"]["zval"]))
    _close((magnesium.ranktest().tau, magnesium.ranktest().p), (want["ranktest"]["tau"], want["ranktest"]["pval"]))
    for est in ("L0", "R0"):
        t, w = magnesium.trimfill(est), want[f"trimfill_{est}"]
        assert (t.k0, t.side) == (w["k0"], w["side"])
        _close((t.fit.beta[0], t.fit.se[0]), (w["beta"], w["se"]))
    assert "Test for funnel plot asymmetry: z = -4.6686" in str(magnesium.regtest())


def test_influence_leave1out_and_metareg_equal_metafor_knha(bcg):
    want = BCG["influence_knha"]
    f = bcg.influence()
    assert list(f["study"]) == BCG["study"]
    _close(f["rstudent"], want["rstudent"])
    _close(f["cook_d"], want["cook_d"])
    _close(f["hat"], want["hat"])
    assert list(f["influential"]) == want["influential"]
    loo = bcg.leave1out()
    _close(np.log(loo["exp(coef)"]), want["leave1out"]["estimate"])
    _close(np.log(loo["exp(coef) lower 95%"]), want["leave1out"]["ci_lb"])
    fit = bcg.metareg(pd.Series(BCG["alloc"], name="alloc"))
    assert fit.names == ("intrcpt", "alloc[random]", "alloc[systematic]")  # R factor(): alternate is the reference
    _close(fit.beta, BCG["mods_alloc_knha"]["beta"])
    _close((fit.qm, fit.qm_p), (BCG["mods_alloc_knha"]["QM"], BCG["mods_alloc_knha"]["QMp"]))
    assert "F(2, 10) = " in str(fit)
    with pytest.raises(InputError, match="12 rows of moderators for 13 studies"):
        bcg.metareg(pd.Series(BCG["ablat"][:12], name="ablat"))


def test_binary_only_tests_and_the_few_studies_note(bcg):
    with pytest.raises(InputError, match="needs 2x2 counts"):
        bcg.harbord()
    df = pd.DataFrame({"study": BCG["study"][:6], "log_rr": BCG["yi"][:6], "se": np.sqrt(BCG["vi"][:6])})
    assert tm.meta(df, log_hr="log_rr", se="se", measure="RR").regtest().notes == (FEW_STUDIES_NOTE,)


def test_figures_display_themselves_and_leave_the_backend(magnesium, bcg):
    backend = matplotlib.get_backend()
    fig = magnesium.funnel(trimfill=True)
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG") and matplotlib.get_backend() == backend
    assert magnesium.plot()._repr_png_().startswith(b"\x89PNG")
    for f in (bcg.baujat(), bcg.bubble(pd.Series(BCG["ablat"], name="Absolute latitude"))):
        assert f._repr_png_().startswith(b"\x89PNG")


def test_funnel_scene_contents():
    from trialmeta.plot.diagnostics import funnel_scene

    y, se = np.array(EGGER["yi"]), np.sqrt(EGGER["vi"])
    s = funnel_scene(y, se, ratio=True, measure="OR", pooled=-0.7, filled_yi=[0.5, 0.8], filled_sei=[1.0, 1.2])
    p = s.panel("funnel")
    assert p.y.inverted and p.x.scale == "log" and p.y.lim[0] == 0
    from trialmeta.plot.scene import Markers, Polygon
    studies = s.items(Markers, "study")[0]
    assert studies.xs == pytest.approx(tuple(np.exp(y))) and studies.ys == pytest.approx(tuple(se))
    assert len(s.items(Markers, "filled-study")[0].xs) == 2
    # the p = 0.05 region is the triangle exp(+-1.96 SE) around no effect (OR 1)
    tri = s.items(Polygon, "contour-p0.05")[0]
    top = tri.ys[1]
    assert tri.xs == pytest.approx((1.0, np.exp(-1.959963984540054 * top), np.exp(1.959963984540054 * top)))
    assert [t.text for t in s.texts("legend")][:4] == ["p > 0.10", "0.05 < p ≤ 0.10", "0.01 < p ≤ 0.05", "p ≤ 0.01"]

"""Meta-regression (continuous and categorical moderators, z and Knapp-Hartung), leave-one-out, influence
diagnostics and Baujat coordinates equal metafor 3.8.1 rma(mods =), leave1out, influence and baujat on dat.bcg.

Reference: tests/data/smallstudy/reference.json["bcg"], from tests/data/smallstudy/generate.R (R 4.2.2,
metafor 3.8.1, metadat 1.2.0): log RR by escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg),
moderators ablat (absolute latitude) and factor(alloc) (random, alternate, systematic).
"""

import json

import numpy as np
import pytest
from conftest import DATA

from trialmeta.stats.influence import baujat, influence, leave1out
from trialmeta.stats.metareg import metareg

BCG = json.loads((DATA / "smallstudy" / "reference.json").read_text())["bcg"]
Y, V = np.array(BCG["yi"]), np.array(BCG["vi"])
ONES = np.ones(len(Y))
ABLAT = np.column_stack([ONES, BCG["ablat"]])
LEVELS = sorted(set(BCG["alloc"]))  # R's factor(): alphabetical, first level the reference
ALLOC = np.column_stack([ONES] + [[a == lv for a in BCG["alloc"]] for lv in LEVELS[1:]]).astype(float)
TOL = 1e-6


def _close(a, b):
    assert np.asarray(a, float) == pytest.approx(np.asarray(b, float), abs=TOL, rel=0)


@pytest.mark.parametrize(("key", "X", "method", "test"), [
    ("mods_ablat_knha", ABLAT, "reml", "knha"), ("mods_alloc_knha", ALLOC, "reml", "knha"),
    ("mods_both_z", np.column_stack([ABLAT, ALLOC[:, 1:]]), "reml", "z"),
    ("mods_ablat_dl_knha", ABLAT, "dl", "knha")])
def test_meta_regression_matches_rma_mods(key, X, method, test):
    want = BCG[key]
    r = metareg(Y, V, X, method=method, test=test)
    for got, name in ((r.beta, "beta"), (r.se, "se"), (r.stat, "zval"), (r.p, "pval"), (r.ci_low, "ci_lb"),
                      (r.ci_high, "ci_ub")):
        _close(got, want[name])
    _close((r.tau2, r.qe, r.qe_p, r.qm, r.qm_p, r.i2, r.r2), (want["tau2"], want["QE"], want["QEp"], want["QM"],
                                                              want["QMp"], want["I2"], want["R2"]))
    assert r.df == want.get("ddf") if test == "knha" else r.df is None


@pytest.mark.parametrize(("key", "method", "test", "X"), [
    ("influence_reml", "reml", "z", None), ("influence_knha", "reml", "knha", None),
    ("influence_dl", "dl", "z", None), ("influence_mods_knha", "reml", "knha", ABLAT)])
def test_influence_matches_metafor(key, method, test, X):
    want = BCG[key]
    r = influence(Y, V, X, method=method, test=test)
    for name in ("rstudent", "dffits", "cov_r", "tau2_del", "hat", "weight"):
        _close(getattr(r, name), want[name])
    _close(r.cook_d, want["cook_d"])
    _close(r.qe_del, want["QE_del"])
    _close(r.dfbs, want["dfbs"])
    assert list(r.influential) == want["influential"]


@pytest.mark.parametrize(("key", "method", "test"), [("influence_reml", "reml", "z"), ("influence_knha", "reml", "knha"),
                                                     ("influence_dl", "dl", "z")])
def test_baujat_matches_metafor(key, method, test):
    x, y = baujat(Y, V, method=method, test=test)
    _close(x, BCG[key]["baujat_x"])
    _close(y, BCG[key]["baujat_y"])


@pytest.mark.parametrize(("key", "method", "test"), [("influence_reml", "reml", "z"), ("influence_knha", "reml", "knha"),
                                                     ("influence_dl", "dl", "z")])
def test_leave1out_matches_metafor(key, method, test):
    want = BCG[key]["leave1out"]
    fits = leave1out(Y, V, method=method, test=test)
    _close([f.beta[0] for f in fits], want["estimate"])
    _close([f.se[0] for f in fits], want["se"])
    _close([f.p[0] for f in fits], want["pval"])
    _close([f.ci_low[0] for f in fits], want["ci_lb"])
    _close([f.ci_high[0] for f in fits], want["ci_ub"])
    _close([f.qe for f in fits], want["Q"])
    _close([f.tau2 for f in fits], want["tau2"])
    _close([f.i2 for f in fits], want["I2"])

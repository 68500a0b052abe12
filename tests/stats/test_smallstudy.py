"""Small-study effects equal metafor 3.8.1 on real datasets: regtest (model "rma" with predictor sei or vi, the
classical "lm"; Peters via predictor "ninv"; Harbord as "lm" on Peto's log OR), ranktest, trimfill (L0, R0).

Reference: tests/data/smallstudy/reference.json, written by tests/data/smallstudy/generate.R (R 4.2.2, metafor
3.8.1, metadat 1.2.0; each dataset's R call in its "call"): dat.hackshaw1998 (k = 37, log OR), dat.egger2001
(magnesium, k = 16, counts) and dat.bcg (k = 13, log RR).
"""

import json

import numpy as np
import pytest
from conftest import DATA

from trialmeta.stats.smallstudy import FEW_STUDIES_NOTE, harbord, peters, ranktest, regtest, trimfill

REF = json.loads((DATA / "smallstudy" / "reference.json").read_text())
TOL = 1e-6
#: (dataset, fit name) -> (tau² estimator, test) of metafor's model
FITS = {("hackshaw1998", "reml"): ("reml", "z"), ("hackshaw1998", "knha"): ("reml", "knha"),
        ("hackshaw1998", "dl"): ("dl", "z"), ("egger2001", "reml"): ("reml", "z"), ("bcg", "reml"): ("reml", "z")}


def _close(a, b):
    assert a == pytest.approx(b, abs=TOL, rel=0)


@pytest.mark.parametrize(("name", "fit"), list(FITS))
def test_regtest_matches_metafor(name, fit):
    d, ref = REF[name], REF[name][fit]
    y, v = np.array(d["yi"]), np.array(d["vi"])
    method, test = FITS[(name, fit)]
    for key, kw in (("regtest_rma", {}), ("regtest_lm", {"model": "lm"}), ("regtest_rma_vi", {"predictor": "vi"})):
        r, want = regtest(y, v, method=method, test=test, **kw), ref[key]
        _close(r.stat, want["zval"])
        _close(r.p, want["pval"])
        _close((r.est, r.ci_low, r.ci_high), (want["est"], want["ci_lb"], want["ci_ub"]))
        assert r.df == (want["ddf"] if test == "knha" or kw.get("model") == "lm" else None)


@pytest.mark.parametrize(("name", "fit"), list(FITS))
def test_ranktest_matches_metafor(name, fit):
    d, want = REF[name], REF[name][fit]["ranktest"]
    r = ranktest(d["yi"], d["vi"])
    _close((r.tau, r.p), (want["tau"], want["pval"]))


@pytest.mark.parametrize("estimator", ["L0", "R0"])
@pytest.mark.parametrize(("name", "fit"), list(FITS))
def test_trimfill_matches_metafor(name, fit, estimator):
    d, want = REF[name], REF[name][fit][f"trimfill_{estimator}"]
    method, _ = FITS[(name, fit)]
    r = trimfill(d["yi"], d["vi"], estimator=estimator, method=method)
    assert (r.k0, r.side) == (want["k0"], want["side"])
    _close(r.se_k0, want["se_k0"])
    if estimator == "R0":
        _close(r.p_k0, want["p_k0"])
    _close(list(r.yi_filled), want["yi_filled"] if r.k0 != 1 else [want["yi_filled"]])
    _close(list(r.vi_filled), want["vi_filled"] if r.k0 != 1 else [want["vi_filled"]])
    _close((r.fit.beta[0], r.fit.se[0], r.fit.ci_low[0], r.fit.ci_high[0], r.fit.tau2),
           (want["beta"], want["se"], want["ci_lb"], want["ci_ub"], want["tau2"]))


def test_peters_and_harbord_match_metafor():
    d = REF["egger2001"]
    r, want = peters(d["yi"], d["vi"], np.add(d["n1i"], d["n2i"])), d["reml"]["peters"]
    _close((r.stat, r.p, r.df), (want["zval"], want["pval"], want["ddf"]))
    h, want = harbord(d["ai"], d["n1i"], d["ci"], d["n2i"]), d["harbord"]
    _close((h.stat, h.p, h.df, h.est), (want["zval"], want["pval"], want["ddf"], want["est"]))


def test_few_studies_note():
    d = REF["bcg"]
    assert regtest(d["yi"], d["vi"]).notes == ()  # k = 13
    assert regtest(d["yi"][:9], d["vi"][:9]).notes == (FEW_STUDIES_NOTE,)
    assert "Cochrane Handbook, section 13.3.5.4" in FEW_STUDIES_NOTE
    with pytest.raises(ValueError, match="at least 3 studies"):
        regtest(d["yi"][:2], d["vi"][:2])

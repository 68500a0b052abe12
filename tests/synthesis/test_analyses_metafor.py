"""The pooled numbers of every analysis in trials/analyses.yaml equal metafor's.

Reference: tests/data/metafor/analyses_reference.json, written by tests/data/metafor/analyses.R
(R 4.2.2, metafor 3.8.1) from the inputs in analyses_input.json:
rma(yi = yi, sei = sei, method = "REML", test = "knha", level = 95,
    control = list(threshold = 1e-12, maxiter = 1000, tol = 1e-12, tau2.max = 1e6)),
confint(fit) for the Q-profile tau^2 CI, and the t(k-2) prediction interval; for the risk-ratio
analyses (random effects like every measure) rma.mh(measure = "RR", ai, n1i, ci, n2i) on the responder
counts for their Mantel-Haenszel sensitivity line (``mh_*``), or the primary result of an analysis that
sets ``binary_pooling: mh``.
"""

from __future__ import annotations

import json
import math

import pytest

from conftest import DATA
from trialmeta.stats.notes import NoteKind

REF = json.loads((DATA / "metafor" / "analyses_reference.json").read_text())
INPUT = json.loads((DATA / "metafor" / "analyses_input.json").read_text())


@pytest.fixture(scope="module")
def current():
    import importlib.util

    spec = importlib.util.spec_from_file_location("export", DATA / "metafor" / "export_analyses.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.groups()


@pytest.fixture(scope="module")
def pooled():
    from conftest import TRIALS
    from trialmeta.registry.analyses import load_analyses
    from trialmeta.synthesis.run import run_analyses
    from trialmeta.registry.load import load_registry

    results = run_analyses(load_registry(TRIALS), load_analyses(TRIALS / "analyses.yaml")[0])
    return {(r.name, g.key): g.pooled for r in results for g in r.groups if g.pooled is not None}


def test_pinned_inputs_are_the_registry_inputs(current):
    """If this fails, a trial or analysis changed: rerun export_analyses.py and analyses.R."""
    assert current == INPUT


@pytest.mark.parametrize("ref", REF["groups"], ids=lambda r: f"{r['analysis']}/{r['group']}")
def test_pooled_group_equals_metafor(ref, pooled):
    r = pooled[(ref["analysis"], ref["group"])]
    assert r.k == ref["k"]
    assert r.log_est == pytest.approx(ref["beta"], abs=1e-6)
    assert r.se == pytest.approx(ref["se"], abs=1e-6)
    assert r.log_ci_low == pytest.approx(ref["ci_lb"], abs=1e-6)
    assert r.log_ci_high == pytest.approx(ref["ci_ub"], abs=1e-6)
    assert r.p == pytest.approx(ref["pval"], abs=1e-6)
    if ref.get("pooling") == "mh":  # rma.mh: common effect, no tau^2
        assert (r.method, r.tau2, r.pi_low) == ("fe", None, None)
        assert r.q == pytest.approx(ref["QE"], abs=1e-6)
        assert r.q_p == pytest.approx(ref["QEp"], abs=1e-6)
    elif ref["k"] >= 2:
        assert r.tau2 == pytest.approx(ref["tau2"], rel=1e-5, abs=1e-8)
        assert r.q == pytest.approx(ref["QE"], abs=1e-6)
        assert r.q_p == pytest.approx(ref["QEp"], abs=1e-6)
        assert r.tau2_ci_low == pytest.approx(ref["tau2_ci_lb"], rel=1e-4, abs=1e-6)
        assert r.tau2_ci_high == pytest.approx(ref["tau2_ci_ub"], rel=1e-4)
    if ref["k"] >= 3:
        assert math.log(r.pi_low) == pytest.approx(ref["pi_lb_hts"], abs=1e-6)
        assert math.log(r.pi_high) == pytest.approx(ref["pi_ub_hts"], abs=1e-6)
    if ref["k"] >= 2:  # fit$I2, fit$H2: tau²-based (metafor, RevMan 2025)
        assert r.i2 == pytest.approx(ref["I2"], abs=1e-6)
        assert r.h2 == pytest.approx(ref["H2"], rel=1e-6)
    mh = [n for n in r.notes if getattr(n, "kind", None) is NoteKind.MH_SENSITIVITY]
    if "mh_beta" in ref:  # the labelled Mantel-Haenszel line beside a random-effects risk ratio
        assert len(mh) == 1
        for name, key in (("est", "mh_beta"), ("low", "mh_ci_lb"), ("high", "mh_ci_ub")):
            assert math.log(mh[0][name]) == pytest.approx(ref[key], abs=1e-6)
    else:
        assert mh == []


@pytest.mark.parametrize("ref", [r for r in REF["groups"] if r["k"] >= 2 and r.get("pooling") != "mh"],
                         ids=lambda r: f"{r['analysis']}/{r['group']}")
def test_i2_h2_under_reml_dl_pm_equal_metafor(ref):
    """``by_method``: rma(yi, sei, method = M, test = <test>)$I2 / $H2 for M = REML, DL, PM
    (analyses.R), on the same inputs; I² to 1e-6 (percent), H² to 1e-6 relative."""
    from trialmeta.stats.pooling import PoolSettings, pool

    g = next(g for g in INPUT if (g["analysis"], g["group"]) == (ref["analysis"], ref["group"]))
    ci = {"z": "wald", "knha": "hksj", "adhoc": "hksj-adhoc"}[g["test"]]
    for method, want in ref["by_method"].items():
        r = pool(g["yi"], g["sei"], PoolSettings(method.lower(), ci))
        assert r.tau2 == pytest.approx(want["tau2"], rel=1e-5, abs=1e-8), method
        assert r.i2 == pytest.approx(want["I2"], abs=1e-6), method
        assert r.h2 == pytest.approx(want["H2"], rel=1e-6), method


@pytest.mark.parametrize("ref", [r for r in REF["groups"] if r["k"] >= 3],
                         ids=lambda r: f"{r['analysis']}/{r['group']}")
def test_prediction_interval_is_metafor_riley_on_the_z_fit(ref, pooled):
    """The README's PI, exp(mu +- t(k-2) sqrt(tau² + SE_wald²)), is metafor 3.8.1's
    ``predict(rma(..., test = "z"), pi.type = "riley")`` (analyses.R), not its default
    ``predict()`` of the HKSJ fit (t(k-1) with the HKSJ-scaled SE), which differs here."""
    r = pooled[(ref["analysis"], ref["group"])]
    assert math.log(r.pi_low) == pytest.approx(ref["pi_lb_riley_z"], abs=1e-6)
    assert math.log(r.pi_high) == pytest.approx(ref["pi_ub_riley_z"], abs=1e-6)
    assert abs(math.log(r.pi_low) - ref["pi_lb_predict_default"]) > 1e-3

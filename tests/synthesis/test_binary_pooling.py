"""Risk ratios of the registry: Mantel-Haenszel from the responder counts by default (RevMan), inverse
variance when ``binary_pooling: iv``. The MH numbers themselves are pinned against metafor rma.mh in
test_analyses_metafor.py."""

import pytest
from conftest import TRIALS

from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.synthesis.data import analysis_dict, describe_method
from trialmeta.synthesis.run import run_analyses


@pytest.fixture(scope="module")
def setup():
    return load_registry(TRIALS), load_analyses(TRIALS / "analyses.yaml")[0]


def _rr(results):
    return next(r for r in results if r.spec.measure == "RR")


def test_rr_analyses_default_to_mantel_haenszel(setup):
    registry, spec = setup
    r = _rr(run_analyses(registry, spec))
    assert r.pooling == "mh"
    g = r.groups[0].pooled
    assert (g.method, g.ci_method, g.tau2, g.stat_name) == ("fe", "wald", None, "z")
    assert str(describe_method(r)) == "Risk ratio, M-H, fixed, 95% CI"
    assert "Mantel-Haenszel" in r.describe_pooling()
    assert analysis_dict(r)["pooling"] == "mh"
    assert all(r.spec.measure == "HR" for r2 in run_analyses(registry, spec) if r2.pooling == "iv"
               for r in [r2])


def test_inverse_variance_selectable(setup):
    registry, spec = setup
    iv = spec.model_copy(update={"defaults": spec.defaults.model_copy(update={"binary_pooling": "iv"})})
    r = _rr(run_analyses(registry, iv))
    assert r.pooling == "iv"
    assert r.groups[0].pooled.method == spec.defaults.method
    assert str(describe_method(r)).startswith("Risk ratio, IV, ")
    mh = _rr(run_analyses(registry, spec)).groups[0].pooled
    assert r.groups[0].pooled.log_est != pytest.approx(mh.log_est, abs=1e-9)

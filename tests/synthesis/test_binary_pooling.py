"""Risk ratios of the registry (issue 21 policy): random effects (REML + HKSJ, with the Bayesian few-study
line) as every measure, the Mantel-Haenszel common effect beside them as a labelled sensitivity line, and
``binary_pooling: mh`` only per analysis with a ``reason:``. The numbers themselves are pinned against
metafor rma / rma.mh in test_analyses_metafor.py."""

import pytest
from conftest import TRIALS

from trialmeta.errors import InputError
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.stats.notes import NoteKind
from trialmeta.synthesis.data import analysis_dict, describe_method
from trialmeta.synthesis.run import run_analyses


@pytest.fixture(scope="module")
def setup():
    return load_registry(TRIALS), load_analyses(TRIALS / "analyses.yaml")[0]


def _rr(results):
    return next(r for r in results if r.spec.measure == "RR")


def test_orr_is_random_effects_with_its_bayesian_and_mantel_haenszel_lines(setup):
    registry, spec = setup
    r = _rr(run_analyses(registry, spec))
    assert r.name == "carfilzomib-orr" and r.pooling == "iv"
    g = r.groups[0].pooled
    assert (g.method, g.ci_method, g.k) == ("reml", "hksj", 2)
    assert str(describe_method(r)) == "Risk ratio, IV, random (REML, HKSJ), 95% CI"
    assert analysis_dict(r)["pooling"] == "iv"
    kinds = [n.kind for n in g.notes]
    # README "Few studies": HKSJ 1.27 [0.86, 1.87], Wald [1.20, 1.35], Bayesian [0.81, 2.00]
    assert NoteKind.BAYES_SENSITIVITY in kinds and NoteKind.K2_READ in kinds and NoteKind.MH_SENSITIVITY in kinds
    assert (round(g.est, 2), round(g.ci_low, 2), round(g.ci_high, 2)) == (1.27, 0.86, 1.87)
    assert (round(g.bayes.ci_low, 2), round(g.bayes.ci_high, 2)) == (0.81, 2.00)
    mh = next(n for n in g.notes if n.kind is NoteKind.MH_SENSITIVITY)
    assert "sensitivity, Mantel-Haenszel common effect" in str(mh) and "1.27 [1.19, 1.34]" in str(mh)
    line = analysis_dict(r)["groups"][0]["mh_sensitivity"]  # also as numbers in the JSON
    assert (line["rr"], line["rr_ci_low"], line["rr_ci_high"]) == (mh["est"], mh["low"], mh["high"])


def test_mantel_haenszel_primary_per_analysis_with_a_reason(setup, tmp_path):
    registry, spec = setup
    text = (TRIALS / "analyses.yaml").read_text()
    marker = "    endpoint: ORR\n    measure: RR\n"
    assert marker in text
    path = tmp_path / "analyses.yaml"
    path.write_text(text.replace(marker, marker + "    settings:\n      binary_pooling: mh\n"
                                 "      reason: a common effect is the question here (a test fixture)\n"))
    mh_spec = load_analyses(path)[0]
    r = _rr(run_analyses(registry, mh_spec))
    assert r.pooling == "mh" and str(describe_method(r)) == "Risk ratio, M-H, fixed, 95% CI"
    g = r.groups[0].pooled
    assert (g.method, g.ci_method, g.tau2) == ("fe", "wald", None)
    assert not any(getattr(n, "kind", None) is NoteKind.MH_SENSITIVITY for n in g.notes)
    iv = _rr(run_analyses(registry, spec)).groups[0].pooled
    assert g.log_est != pytest.approx(iv.log_est, abs=1e-9)


def test_mantel_haenszel_as_a_default_is_refused_with_its_location(tmp_path):
    text = (TRIALS / "analyses.yaml").read_text()
    path = tmp_path / "analyses.yaml"
    path.write_text(text.replace("  binary_pooling: iv", "  binary_pooling: mh", 1))
    with pytest.raises(InputError) as err:
        load_analyses(path)
    p = err.value.problems[0]
    assert "binary_pooling" in p.path and p.line is not None and "reason" in p.message

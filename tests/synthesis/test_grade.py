"""GRADE suggestions (synthesis/grade.py) on constructed cases, and the reviewers' rating as input."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import yaml
from pydantic import ValidationError

from trialmeta.registry.analyses import Certainty
from trialmeta.registry.rob import RiskOfBias
from trialmeta.stats.pooling import pool
from trialmeta.stats.settings import PoolSettings
from trialmeta.synthesis import grade
from trialmeta.synthesis.run import GroupOutcome
from trialmeta.synthesis.selection import Study


def _rob(judgement: str) -> RiskOfBias:
    d = {"judgement": judgement, "support": "constructed", "source": "x"}
    return RiskOfBias(endpoint="PFS", assessed_by="test", domains={k: d for k in (
        "randomisation", "deviations", "missing_data", "measurement", "reporting")})


def _case(hrs_ses, robs=None, events=None, measure="HR", mid=None, settings=None):
    """A group of constructed studies t0, t1, ... with RoB overall judgements ``robs`` (None: not assessed)."""
    s = settings or PoolSettings()
    ys = [math.log(h) for h, _ in hrs_ses]
    pooled = pool(ys, [se for _, se in hrs_ses], s)
    studies, trials = [], {}
    for i, (y, (_, se)) in enumerate(zip(ys, hrs_ses)):
        ev = events[i] if events else (None, None)
        row = {"assessment": "investigator", "events_exp": ev[0], "events_ctrl": ev[1], "acronym": f"T{i}"}
        studies.append(Study(f"t{i}", "itt", row, y, se, True))
        j = robs[i] if robs else None
        trials[f"t{i}"] = SimpleNamespace(risk_of_bias=[_rob(j)] if j else [])
    group = GroupOutcome("all", "All", tuple(studies), pooled)
    registry = SimpleNamespace(by_id=trials.__getitem__)
    result = SimpleNamespace(name="case", settings=s, spec=SimpleNamespace(endpoint="PFS", measure=measure, mid=mid))
    return grade.suggest(result, group, registry), pooled


def test_risk_of_bias_is_the_share_of_weight():
    # equal SEs: equal weights (25% each under any model)
    base = [(0.7, 0.2)] * 4
    g, _ = _case(base, robs=["high", "high", "low", "low"])
    d = g.domain("risk_of_bias")
    assert d["high"] == pytest.approx(50) and d.concern == "very serious"
    g, _ = _case(base, robs=["high", "some concerns", "low", "low"])
    assert g.domain("risk_of_bias").concern == "serious"
    g, _ = _case(base, robs=["some concerns", "low", "low", "low"])
    assert g.domain("risk_of_bias").concern == "not serious"
    g, _ = _case(base, robs=["some concerns", None, None, "low"])  # 75% could be at risk: no suggestion
    assert g.domain("risk_of_bias").concern is None and "not assessed 50%" in g.domain("risk_of_bias").rationale


def test_risk_of_bias_uses_the_pooling_weights():
    # SEs 0.1 and 0.3 with tau2 = 0 (identical HRs): IV weights 1/0.01 : 1/0.09 = 90% : 10%
    g, pooled = _case([(0.7, 0.1), (0.7, 0.3)], robs=["high", "low"])
    assert pooled.weights == pytest.approx((90.0, 10.0))
    assert g.domain("risk_of_bias")["high"] == pytest.approx(90.0)


def test_inconsistency_from_i2_and_the_prediction_interval():
    g, p = _case([(0.7, 0.1)] * 3)  # identical studies: I2 0
    d = g.domain("inconsistency")
    assert d.concern == "not serious" and d["i2"] == pytest.approx(0)
    g, p = _case([(0.4, 0.1), (1.0, 0.1), (0.7, 0.1), (1.3, 0.1)], mid=0.8)
    d = g.domain("inconsistency")
    assert p.i2 >= 75 and d.concern == "very serious"
    assert "crosses the decision threshold 0.80" in d.rationale and "includes the null" in d.rationale
    g, _ = _case([(0.7, 0.1)])
    assert g.domain("inconsistency").concern is None and "single study" in g.domain("inconsistency").rationale


def test_imprecision_ci_against_null_and_mid():
    g, p = _case([(0.9, 0.3)], mid=0.8)  # CI 0.50-1.62 holds 0.8 and 1.25: important benefit and harm
    d = g.domain("imprecision")
    assert d.concern == "very serious" and "includes both" in d.rationale
    g, p = _case([(0.9, 0.05)], mid=0.8)  # CI 0.816-0.993: excludes the null and both thresholds
    assert p.ci_high < 1 and g.domain("imprecision")["ois"] is None  # no events: OIS not assessable
    assert g.domain("imprecision").concern == "not serious"
    assert "OIS not assessable: event counts not reported" in g.domain("imprecision").rationale


def test_optimal_information_size_for_a_hazard_ratio():
    """Schoenfeld: 4 (1.959964 + 0.841621)^2 / ln(0.8)^2 = 4 x 7.84887 / 0.0497929 = 630.5 events (by hand)."""
    g, _ = _case([(0.6, 0.1)], events=[(150, 200)], mid=0.8)
    d = g.domain("imprecision")
    assert d["ois"] == pytest.approx(4 * (1.959964 + 0.841621) ** 2 / math.log(0.8) ** 2, rel=1e-5)
    assert d["ois"] == pytest.approx(630.5, abs=0.1) and d["available"] == 350
    assert d.concern == "serious" and "not met" in d.rationale  # CI excludes 1 but OIS not met


def test_publication_bias_and_indirectness_are_never_suggested():
    g, _ = _case([(0.7, 0.2)] * 3)
    assert g.domain("publication_bias").concern is None and "k = 3 < 10" in g.domain("publication_bias").rationale
    assert g.domain("indirectness").concern is None


def test_k2_imprecision_reads_the_bayesian_interval():
    s = PoolSettings()
    g, p = _case([(0.5, 0.15), (0.85, 0.2)], settings=s)
    assert p.bayes is not None
    r = grade.reading(p, s)
    assert (r.est, r.ci_low, r.ci_high) == (p.bayes.est, p.bayes.ci_low, p.bayes.ci_high) and r.label
    assert "credible interval" in g.domain("imprecision").rationale


def test_reviewers_rating_must_match_their_domains():
    c = Certainty(rating="low", domains={"imprecision": {"concern": "serious", "reason": "CI crosses 1 and 0.8"},
                                         "risk_of_bias": {"concern": "serious", "reason": "open-label, investigator PFS"}})
    assert c.footnotes()[0].startswith("Risk of bias (serious, -1): open-label")
    with pytest.raises(ValidationError, match="rate randomised-trial evidence down 2 level"):
        Certainty(rating="moderate", domains=c.domains.model_dump())
    with pytest.raises(ValidationError, match="needs its `reason`"):
        Certainty(rating="moderate", domains={"imprecision": {"concern": "serious"}})
    old = yaml.safe_load("{rating: moderate, reasons: ['imprecision: CI crosses 1']}")  # backward compatible
    assert Certainty(**old).footnotes() == ("imprecision: CI crosses 1",)

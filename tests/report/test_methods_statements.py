"""Every printed I², H², prediction interval and CI is recomputed here from the printed inputs, with the formula
the printed Methods line states (issue 21: the Methods said I² = max(0, (Q - df)/Q) while the numbers were
tau²-based).

Recomputed independently of trialmeta.stats: the typical within-study variance s² from the studies' SEs
(Higgins & Thompson 2002 eq. 9), the Wald SE 1/sqrt(sum 1/(v + tau²)), the t and z quantiles from scipy.
"""

from __future__ import annotations

import math
import re

import pytest
from conftest import TRIALS
from scipy import stats

import trialmeta
from trialmeta import fmt
from trialmeta.report import evidence, html
from trialmeta.stats import formulas
from trialmeta.synthesis.data import analysis_dict


@pytest.fixture(scope="module")
def analyses():
    results = trialmeta.analyse(TRIALS)
    return [(r, analysis_dict(r)) for r in results.values() if r.spec.pooled]


def _groups(result, doc):
    by_key = {g["group"]: g for g in doc["groups"]}
    if doc.get("overall"):
        by_key["overall"] = doc["overall"]
    for g in (*result.groups, *([result.overall] if result.overall else [])):
        if g.pooled is not None and g.pooled.k >= 2:
            yield g, by_key[g.key]


def test_methods_line_states_the_formula_that_computed_each_printed_i2_h2_pi_and_ci(analyses):
    checked = 0
    for result, doc in analyses:
        m = doc["measure"].lower()
        lines = evidence.footers(result)
        method = lines[0]
        tau_based, q_based = formulas.I2_TAU_TEXT in method, formulas.I2_Q_TEXT in method
        assert tau_based != q_based, (doc["name"], method)
        for g, j in _groups(result, doc):
            se = [s[f"se"] for s in j["studies"] if s["usable"]]
            k = len(se)
            w = [1 / x ** 2 for x in se]
            if tau_based:  # I² = tau²/(tau² + s²), H² = (tau² + s²)/s²
                s2 = (k - 1) * sum(w) / (sum(w) ** 2 - sum(x * x for x in w))
                i2, h2 = 100 * j["tau2"] / (j["tau2"] + s2), (j["tau2"] + s2) / s2
            else:  # I² = max(0, (Q - df)/Q), H² = Q/df
                i2, h2 = 100 * max(0.0, (j["q"] - j["df"]) / j["q"]), j["q"] / j["df"]
            assert j["i2"] == pytest.approx(i2, abs=1e-9) and j["h2"] == pytest.approx(h2, rel=1e-9), doc["name"]
            printed = next(line for line in lines if line.startswith(f"{g.label}: Heterogeneity"))
            assert f"I\u00b2 = {i2:.0f}%" in printed, (doc["name"], printed)
            # CI: est +- crit SE (t(k-1) under HKSJ, z under Wald), on the log scale
            crit = (stats.t.isf(0.025, k - 1) if j["ci_method"] in ("hksj", "hksj-adhoc")
                    else stats.norm.isf(0.025))
            lo, hi = (math.exp(j[f"log_{m}"] + s * crit * j["se"]) for s in (-1, 1))
            assert (j[f"{m}_ci_low"], j[f"{m}_ci_high"]) == pytest.approx((lo, hi), rel=1e-9)
            # PI as stated: exp(mu +- t(k-2) sqrt(tau² + SE²)), SE the Wald SE
            if j[f"{m}_pi_low"] is not None:
                assert "t(k\u22122)" in method and "Wald" in method
                se_wald = 1 / math.sqrt(sum(1 / (x ** 2 + j["tau2"]) for x in se))
                half = stats.t.isf(0.025, k - 2) * math.sqrt(j["tau2"] + se_wald ** 2)
                pi = (math.exp(j[f"log_{m}"] - half), math.exp(j[f"log_{m}"] + half))
                assert (j[f"{m}_pi_low"], j[f"{m}_pi_high"]) == pytest.approx(pi, rel=1e-9)
                assert f"Prediction interval: [{fmt.ratio(pi[0])}, {fmt.ratio(pi[1])}]" in printed
            checked += 1
    assert checked >= 10


def test_no_methods_text_states_q_based_i2_for_random_effects(analyses):
    for result, doc in analyses:
        method = evidence.footers(result)[0]
        if doc["pooling"] != "mh" and doc["method"] != "fe":
            assert "max(0, (Q" not in method and formulas.I2_TAU_TEXT in method, doc["name"]
    section = html.methods_section(analyses[0][0].settings)
    heterogeneity = re.search(r"<li>Heterogeneity:(.*?)</li>", section).group(1)
    assert html.esc(formulas.I2_TAU_TEXT) in heterogeneity  # the default model's I², then the common-effect one
    assert heterogeneity.index(html.esc(formulas.I2_TAU_TEXT)) < heterogeneity.index(html.esc(formulas.I2_Q_TEXT))

"""tm.netmeta on a user's DataFrame: league table, P-scores, forest and graph, errors that name rows and columns."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from nma_reference import NETS, pairs_of

import trialmeta as tm
from trialmeta.errors import InputError
from trialmeta.stats.nma import DisconnectedNetwork


@pytest.fixture(scope="module")
def senn():
    s, t1, t2, te, se = pairs_of(NETS["senn2013"])
    return pd.DataFrame({"trial": s, "a": t1, "b": t2, "md": te, "se_md": se})


def test_netmeta_reproduces_rma_mv_and_gives_tables(senn):
    r = tm.netmeta(senn, study="trial", treat1="a", treat2="b", te="md", se="se_md", reference="placebo",
                   measure="MD", method="reml")
    R = NETS["senn2013"]["random"]
    est = r.estimates.set_index("treatment")
    np.testing.assert_allclose(est.loc[NETS["senn2013"]["treatments"], "coef"], R["beta"], atol=1e-6)
    np.testing.assert_allclose(est.loc[NETS["senn2013"]["treatments"], "se(coef)"], R["se"], atol=1e-6)
    league = r.league
    assert list(league.index) == list(r.pscores["treatment"])  # best P-score first
    assert league.loc["placebo", "placebo"] == "placebo"
    m = est.loc["metformin"]
    assert league.loc["metformin", "placebo"] == f"{m['coef']:.2f} [{m['ci_low']:.2f}, {m['ci_high']:.2f}]"
    assert r.pscores["P-score"].iloc[-1] < 0.05 and r.pscores["treatment"].iloc[-1] == "placebo"
    assert list(r.consistency["part"]) == ["total", "within designs", "between designs",
                                           f"between designs, random effects (tau² = {R['tau2']:.4g})"]
    # metafor_nma.R 'q_between_random': rma.mv(yi, V + tau² M, ...)$QE, consistency minus design-by-treatment model
    assert r.consistency["Q"].iloc[3] == pytest.approx(NETS["senn2013"]["q_between_random"]["Q"], abs=1e-6)
    assert "random effects (tau² =" in str(r) and "random effects (tau²" in r._repr_html_()
    assert r.consistency["Q"].iloc[0] == pytest.approx(NETS["senn2013"]["common"]["QE"], abs=1e-6)
    assert len(r.node_split) == 15 and set(r.node_split.columns) >= {"direct", "indirect", "p"}
    assert len(r.pairs) == 90
    text = str(r)
    assert "P-scores" in text and "ignore the size of the differences" in text and "REML" in r.method
    json.dumps(r.to_dict(), allow_nan=False)
    assert "<table" in r._repr_html_()


def test_netmeta_plots_forest_and_graph(senn):
    from matplotlib.figure import Figure

    r = tm.netmeta(senn, study="trial", treat1="a", treat2="b", te="md", se="se_md", reference="placebo", measure="MD")
    fig = r.plot(title="HbA1c")
    assert isinstance(fig, Figure)
    from trialmeta.plot.network_figures import nma_forest_scene, network_graph_scene

    scene = nma_forest_scene(r.analysis)
    assert [t.text for t in scene.texts("study-label")][:2] == ["rosiglitazone", "metformin"]
    g = network_graph_scene(r.analysis)
    assert len(g.items(type(g.panels[0].items[0]), "edge")) == 15  # 15 directly compared pairs in Senn 2013
    assert isinstance(r.graph(), Figure)
    with pytest.raises(TypeError):
        r.plot(colour="red")


def test_netmeta_errors_name_the_row_and_column(senn):
    bad = senn.copy()
    bad.loc[2, "se_md"] = 0
    with pytest.raises(InputError, match=r"row 2, 'se_md': 0(\.0)? must be positive"):
        tm.netmeta(bad, study="trial", treat1="a", treat2="b", te="md", se="se_md")
    with pytest.raises(InputError, match="column 'nope' not found"):
        tm.netmeta(senn, study="trial", treat1="a", treat2="b", te="nope", se="se_md")
    df = pd.DataFrame({"study": ["ENDEAVOR", "ASPIRE"], "treat1": ["Kd", "KRd"], "treat2": ["Vd", "Rd"],
                       "te": [math.log(0.53), math.log(0.69)], "se": [0.09, 0.08]})
    with pytest.raises(DisconnectedNetwork, match=r"2 separate sub-networks \{KRd, Rd\}; \{Kd, Vd\}"):
        tm.netmeta(df)


def test_netmeta_arms_counts_and_means_reproduce_rma_mv():
    """Arm rows (metadat's own data): Hasselblad counts with 1/2 added to every cell (escalc(add = 1/2, to = "all"),
    as the help page), Senn means; REML as rma.mv (tests/data/nma/metafor_nma.R)."""
    from nma_reference import REF

    h = pd.DataFrame(REF["arms"]["hasselblad1998"])
    r = tm.netmeta_arms(h, treat="trt", events="xi", n="ni", measure="OR", reference="no_contact", to="all")
    ref = NETS["hasselblad1998"]
    assert r.analysis.fit.tau2 == pytest.approx(ref["random"]["tau2"], abs=1e-6)
    np.testing.assert_allclose(r.estimates.set_index("treatment").loc[ref["treatments"], "coef"], ref["random"]["beta"],
                               atol=1e-6)
    s = pd.DataFrame(REF["arms"]["senn2013"])
    r = tm.netmeta_arms(s, treat="treatment", mean="mi", sd="sdi", n="ni", measure="MD", reference="placebo")
    assert r.analysis.fit.tau2 == pytest.approx(NETS["senn2013"]["random"]["tau2"], abs=1e-6)


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_arm_level_contrasts_are_escalc_for_two_arm_studies(measure):
    """The same numbers as stats.binary.escalc_binary (metafor escalc defaults), zero cells included."""
    from trialmeta.stats.binary import escalc_binary
    from trialmeta.stats.nma_data import arm_level

    a, n1, c, n2 = [12, 0, 30], [100, 50, 80], [20, 4, 30], [100, 52, 80]
    study = ["s1", "s1", "s2", "s2", "s3", "s3"]
    ev, n = [a[0], c[0], a[1], c[1], a[2], c[2]], [n1[0], n2[0], n1[1], n2[1], n1[2], n2[2]]
    yi, vi, corrected = arm_level(measure, study, events=ev, n=n)
    e = escalc_binary(measure, a, n1, c, n2)
    np.testing.assert_allclose(yi[0::2] - yi[1::2], e.yi, atol=1e-12)
    np.testing.assert_allclose(vi[0::2] + vi[1::2], e.vi, atol=1e-12)
    assert list(corrected[0::2]) == list(e.corrected)


def test_netmeta_arms_errors():
    df = pd.DataFrame({"study": ["a", "a"], "treatment": ["X", "Y"], "events": [5, 12], "n": [10, 10]})
    with pytest.raises(InputError, match=r"row 1, 'events': 12 is not a valid events"):
        tm.netmeta_arms(df, events="events")
    with pytest.raises(TypeError):
        tm.netmeta_arms(df)

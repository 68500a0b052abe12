"""Node-splitting, P-scores, pairwise input and the Bucher identity of the NMA engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from nma_reference import NETS, network, order, pairs_of

from trialmeta.errors import InputError
from trialmeta.stats.nma import fit_nma, network_from_arms
from trialmeta.stats.nma_consistency import decompose_q, node_split, q_between_random
from trialmeta.stats.nma_data import network_from_pairs
from trialmeta.stats.sensitivity import bucher


def _pooled(y, v):
    w = 1 / np.asarray(v)
    return float(np.sum(w * y) / np.sum(w)), float(1 / np.sum(w))


def test_bucher_equals_common_effect_nma_on_a_star_network():
    """One study A vs B, one study C vs B: the NMA's common-effect A vs C is Bucher's adjusted indirect
    comparison (stats.sensitivity.bucher, used by synthesis/indirect.py), estimate, SE and CI."""
    net = network_from_pairs(["SOLAR-1", "CAPItello-291"], ["alpelisib", "capivasertib"], ["placebo"] * 2,
                             [math.log(0.65), math.log(0.50)], [0.135, 0.116])
    f = fit_nma(net, "placebo", "fe")
    lg = f.league()
    a, c = net.treatments.index("alpelisib"), net.treatments.index("capivasertib")
    b = bucher(math.log(0.65), 0.135, math.log(0.50), 0.116, 0.95)
    assert lg["est"][a, c] == pytest.approx(b.log_est, abs=1e-12)
    assert lg["se"][a, c] == pytest.approx(b.se, abs=1e-12)
    assert math.exp(lg["ci_low"][a, c]) == pytest.approx(b.ci_low, abs=1e-12)
    assert math.exp(lg["ci_high"][a, c]) == pytest.approx(b.ci_high, abs=1e-12)
    # more studies per side: still Bucher on the two fixed-effect pooled sides (a star has no loop)
    y = [math.log(0.65), math.log(0.50), math.log(0.58)]
    se = [0.135, 0.116, 0.2]
    net = network_from_pairs(["S", "C", "F"], ["alpelisib", "capivasertib", "capivasertib"], ["placebo"] * 3, y, se)
    lg = fit_nma(net, "placebo", "fe").league()
    yc, vc = _pooled(y[1:], np.square(se[1:]))
    b = bucher(y[0], se[0], yc, math.sqrt(vc))
    assert lg["est"][a, c] == pytest.approx(b.log_est, abs=1e-12)
    assert lg["se"][a, c] == pytest.approx(b.se, abs=1e-12)


TRIANGLE = dict(study=["s1", "s2", "s3", "s4", "s5", "s6", "s7"],
                t1=["B", "B", "C", "C", "C", "C", "B"], t2=["A", "A", "A", "A", "B", "B", "A"],
                te=[-0.30, -0.10, -0.55, -0.20, -0.05, -0.40, 0.10], se=[0.12, 0.2, 0.15, 0.1, 0.18, 0.25, 0.3])


@pytest.mark.parametrize("method", ["fe", "reml", "dl"])
def test_node_split_back_calculation_on_a_loop_equals_bucher_from_the_other_two_edges(method):
    """In a loop of two-arm studies the back-calculated indirect estimate of C vs A is Bucher's C vs B + B vs A from
    the two other edges' pooled direct estimates (with 1/(v + tau²) weights), and the direct one is their IV mean."""
    d = TRIANGLE
    net = network_from_pairs(d["study"], d["t1"], d["t2"], d["te"], d["se"])
    f = fit_nma(net, "A", method)
    rows = {(r.treat1, r.treat2): r for r in node_split(f)}
    te, v = np.array(d["te"]), np.square(d["se"]) + f.tau2
    pair = lambda a, b: [i for i in range(7) if (d["t1"][i], d["t2"][i]) == (a, b)]  # noqa: E731
    ba, ca, cb = (_pooled(te[pair(*p)], v[pair(*p)]) for p in (("B", "A"), ("C", "A"), ("C", "B")))
    r = rows[("A", "C")]  # A vs C = -(C vs A)
    assert r.direct == pytest.approx(-ca[0], abs=1e-12) and r.direct_se == pytest.approx(math.sqrt(ca[1]), abs=1e-12)
    assert r.indirect == pytest.approx(-(cb[0] + ba[0]), abs=1e-9)
    assert r.indirect_se == pytest.approx(math.sqrt(cb[1] + ba[1]), abs=1e-9)
    assert r.k == 2 and 0 < r.prop_direct < 1
    assert r.nma == pytest.approx(f.d[0] - f.d[2], abs=1e-12)
    z = (r.direct - r.indirect) / math.hypot(r.direct_se, r.indirect_se)
    assert r.p == pytest.approx(2 * (1 - __import__("scipy").stats.norm.cdf(abs(z))), abs=1e-12)


def test_node_split_without_indirect_evidence_is_not_estimable():
    net = network_from_pairs(["s1", "s2"], ["B", "C"], ["A", "A"], [0.1, 0.2], [0.1, 0.1])
    rows = node_split(fit_nma(net, "A", "fe"))
    assert all(math.isnan(r.indirect) and math.isnan(r.p) and r.prop_direct == pytest.approx(1) for r in rows)


@pytest.mark.parametrize("name", sorted(NETS))
def test_p_scores_equal_the_metadat_help_page_computation(name):
    """R: the P-scores of the dat.senn2013 help page (pnorm of every pairwise z from coef/vcov of the REML fit)."""
    ref = NETS[name]
    net = network(ref)
    p = fit_nma(net, ref["reference"], "reml").p_scores("good")
    for t, want in ref["pscores"].items():
        assert p[net.treatments.index(t)] == pytest.approx(want, abs=1e-6)
    assert p.mean() == pytest.approx(0.5, abs=1e-12)  # P-scores always average 1/2
    q = fit_nma(net, ref["reference"], "reml").p_scores("bad")
    np.testing.assert_allclose(p + q, 1.0, atol=1e-12)


@pytest.mark.parametrize("name", ["senn2013", "hasselblad1998"])
def test_pairwise_input_with_all_pairs_of_multi_arm_studies_gives_rma_mv(name):
    ref = NETS[name]
    study, t1, t2, te, se = pairs_of(ref)
    net = network_from_pairs(study, t1, t2, te, se)
    f = fit_nma(net, ref["reference"], "reml")
    assert f.tau2 == pytest.approx(ref["random"]["tau2"], abs=1e-6)
    np.testing.assert_allclose(f.d[order(ref, net)], ref["random"]["beta"], atol=1e-6, rtol=0)


def test_pairwise_input_errors_are_located():
    with pytest.raises(InputError) as err:
        network_from_pairs(["a", "b", "b"], ["X", "Y", "Y"], ["X", "Z", "Z"], [0.1, "x", 0.2], [0.1, 0.1, -1],
                           source="net.csv", lines=[2, 3, 4])
    text = str(err.value)
    assert "net.csv:2: treat2: 'X' is compared with itself" in text
    assert "net.csv:3: te: 'x' is not a number" in text and "net.csv:4: se: -1 must be positive" in text
    with pytest.raises(InputError, match="needs each of its 3 pairs exactly once"):
        network_from_pairs(["m", "m"], ["B", "C"], ["A", "A"], [0.1, 0.2], [0.1, 0.1])
    with pytest.raises(InputError, match="inconsistent"):  # C-A should be 0.3 = (C-B) + (B-A)
        network_from_pairs(["m"] * 3, ["B", "C", "C"], ["A", "B", "A"], [0.1, 0.2, 0.9], [0.1, 0.1, 0.12])


def test_arm_and_pair_inputs_agree():
    arms = network_from_arms(["s", "s", "s", "t", "t"], ["A", "B", "C", "A", "C"], [0.0, 0.3, 0.5, 0.1, 0.4],
                             [0.01, 0.02, 0.015, 0.01, 0.02])
    pairs = network_from_pairs(["s", "s", "s", "t"], ["B", "C", "C", "C"], ["A", "A", "B", "A"],
                               [0.3, 0.5, 0.2, 0.3], np.sqrt([0.03, 0.025, 0.035, 0.03]))
    fa, fp = fit_nma(arms, "A", "fe"), fit_nma(pairs, "A", "fe")
    np.testing.assert_allclose(fa.d, fp.d, atol=1e-12)
    np.testing.assert_allclose(fa.cov, fp.cov, atol=1e-12)


@pytest.mark.parametrize("method", ["reml", "dl"])
def test_no_degrees_of_freedom_gives_tau2_zero(method):
    """Two studies, three treatments (a star with one study per edge): df = 0, tau² not identifiable -> 0."""
    net = network_from_pairs(["s1", "s2"], ["B", "C"], ["A", "A"], [-0.3, -0.5], [0.1, 0.2])
    f = fit_nma(net, "A", method)
    assert f.df == 0 and f.tau2 == 0.0
    np.testing.assert_allclose(f.d, fit_nma(net, "A", "fe").d)


@pytest.mark.parametrize("name", sorted(NETS))
def test_random_effects_between_design_q_at_tau2_zero_is_the_common_effect_one(name):
    """Krahn 2013: with tau² = 0 the random-effects between-designs Q is Q_total - sum(Q_within designs)."""
    ref = NETS[name]
    net = network(ref)
    fe = fit_nma(net, ref["reference"], "fe")
    d = decompose_q(fe)
    for fit in (fe, fit_nma(net, ref["reference"], "reml")):
        q, df, p = q_between_random(fit, 0.0)
        assert q == pytest.approx(d.q_between, abs=1e-9) and df == d.df_between
        assert p == pytest.approx(d.p_between, abs=1e-12)
    assert q_between_random(fe) == q_between_random(fe, 0.0)  # the common-effect fit's own tau² is 0


@pytest.mark.parametrize("name", sorted(NETS))
def test_random_effects_between_design_q_equals_metafor(name):
    """R (tests/data/nma/metafor_nma.R, 'q_between_random'): with the consistency model's REML tau² held fixed,
    rma.mv(yi, V + tau² M, mods = <consistency>)$QE - rma.mv(yi, V + tau² M, mods = <design-by-treatment
    columns>, intercept = FALSE)$QE, cross-checked in R against rma.mv(random = ~ comp | study, rho = 1/2,
    tau2 = tau²)."""
    ref = NETS[name]
    want = ref["q_between_random"]
    fit = fit_nma(network(ref), ref["reference"], "reml")
    q, df, p = q_between_random(fit, want["tau2"])
    assert q == pytest.approx(want["Q"], abs=1e-6) and df == want["df"]
    assert p == pytest.approx(stats.chi2.sf(want["Q"], want["df"]), abs=1e-6)
    # at trialmeta's own REML tau² (equal to R's to 1e-6) the statistic agrees as well
    assert fit.tau2 == pytest.approx(want["tau2"], abs=1e-6)
    assert q_between_random(fit)[0] == pytest.approx(want["Q"], abs=1e-6)
    # heterogeneity added to the within-study variances can only lower the between-designs Q here
    assert q < decompose_q(fit_nma(network(ref), ref["reference"], "fe")).q_between


def test_random_effects_between_design_q_rejects_a_bad_tau2():
    ref = NETS["senn2013"]
    fit = fit_nma(network(ref), ref["reference"], "fe")
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="tau2 must be"):
            q_between_random(fit, bad)

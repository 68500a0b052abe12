"""The network meta-analysis engine against metafor ``rma.mv`` (contrast-based consistency model).

Reference numbers: tests/data/nma/reference.json, written by ``Rscript tests/data/nma/metafor_nma.R``
(R and metafor/metadat versions inside; the model is the one on metadat's help pages for dat.senn2013
and dat.hasselblad1998: ``rma.mv(yi, V, mods = ~ <treatments> - 1, random = ~ comp | study, rho = 1/2)``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from nma_reference import NETS, REF, network, order

from trialmeta.stats.nma import DisconnectedNetwork, Network, fit_nma, network_from_arms
from trialmeta.stats.nma_consistency import decompose_q

TOL = 1e-6


@pytest.mark.parametrize("name", sorted(NETS))
def test_common_effect_equals_rma_mv(name):
    ref = NETS[name]
    net = network(ref)
    f = fit_nma(net, ref["reference"], "fe")
    i = order(ref, net)
    np.testing.assert_allclose(f.d[i], ref["common"]["beta"], atol=TOL, rtol=0)
    np.testing.assert_allclose(np.sqrt(np.diag(f.cov))[i], ref["common"]["se"], atol=TOL, rtol=0)
    assert f.Q == pytest.approx(ref["common"]["QE"], abs=TOL) and f.df == ref["common"]["QEdf"]


@pytest.mark.parametrize("name", sorted(NETS))
def test_reml_equals_rma_mv(name):
    """Estimates, SEs, tau², Wald CIs, z-based PIs and every pairwise contrast (league table) to 1e-6."""
    ref, = [NETS[name]]
    net = network(ref)
    f = fit_nma(net, ref["reference"], "reml")
    R = ref["random"]
    i = order(ref, net)
    assert f.tau2 == pytest.approx(R["tau2"], abs=TOL)
    np.testing.assert_allclose(f.d[i], R["beta"], atol=TOL, rtol=0)
    np.testing.assert_allclose(np.sqrt(np.diag(f.cov))[i], R["se"], atol=TOL, rtol=0)
    lg = f.league()
    refi = net.treatments.index(ref["reference"])
    np.testing.assert_allclose(lg["ci_low"][i, refi], R["ci_lb"], atol=TOL, rtol=0)
    np.testing.assert_allclose(lg["ci_high"][i, refi], R["ci_ub"], atol=TOL, rtol=0)
    a = [net.treatments.index(p[0]) for p in ref["common"]["pairs"]]
    b = [net.treatments.index(p[1]) for p in ref["common"]["pairs"]]
    np.testing.assert_allclose(lg["est"][a, b], R["pair_pred"], atol=TOL, rtol=0)  # predict(res, newmods = contrasts)
    np.testing.assert_allclose(lg["se"][a, b], R["pair_se"], atol=TOL, rtol=0)
    np.testing.assert_allclose(lg["pi_low"][a, b], R["pi_lb"], atol=TOL, rtol=0)
    np.testing.assert_allclose(lg["pi_high"][a, b], R["pi_ub"], atol=TOL, rtol=0)
    fc = fit_nma(net, ref["reference"], "fe").league()
    np.testing.assert_allclose(fc["est"][a, b], ref["common"]["pair_pred"], atol=TOL, rtol=0)
    np.testing.assert_allclose(fc["se"][a, b], ref["common"]["pair_se"], atol=TOL, rtol=0)


@pytest.mark.parametrize("name", sorted(NETS))
def test_hksj_scale_is_generalised_q_over_df(name):
    """R: t(r) %*% solve(res$M) %*% r at the REML fit (res$M = S + tau² M); t-quantile with k - p df as test='t'."""
    ref = NETS[name]
    f = fit_nma(network(ref), ref["reference"], "reml", ci="hksj")
    assert f.hksj_scale * f.df == pytest.approx(ref["random"]["q_at_tau2"], abs=1e-5)
    assert f.df == ref["random"]["t_df"]
    assert f.crit == pytest.approx(float(__import__("scipy").stats.t.ppf(0.975, ref["random"]["t_df"])), abs=1e-12)
    w = fit_nma(network(ref), ref["reference"], "reml", ci="wald")
    lg_h, lg_w = f.league(), w.league()
    np.testing.assert_allclose(lg_h["se"], lg_w["se"] * math.sqrt(f.hksj_scale), atol=1e-12)


@pytest.mark.parametrize("name", sorted(NETS))
def test_q_within_designs_equals_rma_mv_by_design(name):
    """Krahn 2013: each design fitted alone (rma.mv on its rows, all its contrasts free); QE summed."""
    ref = NETS[name]
    net = network(ref)
    dec = decompose_q(fit_nma(net, ref["reference"], "fe"))
    got = {":".join(sorted(d.design)): (d.q, d.df) for d in dec.designs}
    for d in ref["designs"]:
        assert got[d["design"]][0] == pytest.approx(d["QE"], abs=TOL) and got[d["design"]][1] == d["df"]
    assert dec.q_within == pytest.approx(sum(d["QE"] for d in ref["designs"]), abs=TOL)
    assert dec.q_between == pytest.approx(ref["common"]["QE"] - dec.q_within, abs=1e-9)
    assert dec.df_between == ref["common"]["QEdf"] - sum(d["df"] for d in ref["designs"])


@pytest.mark.parametrize("name", sorted(NETS))
def test_generalised_dl_equals_contrast_space_moment_estimator(name):
    """netmeta's tau² formula in the space of all pairs with reduced weights equals Jackson, White & Riley's (2013)
    method of moments in the contrast space, (Q - df) / tr(P0 M) with P0 = S^-1 - S^-1 X (X'S^-1X)^-1 X'S^-1."""
    ref = NETS[name]
    net = network(ref)
    f = fit_nma(net, ref["reference"], "dl")
    X, Si = net.design(net.treatments.index(ref["reference"])), np.linalg.inv(net.S)
    P0 = Si - Si @ X @ np.linalg.inv(X.T @ Si @ X) @ X.T @ Si
    assert f.tau2 == pytest.approx(max(0.0, (f.Q - f.df) / np.trace(P0 @ net.M)), rel=1e-10)


@pytest.mark.parametrize("method", ["dl", "reml"])
def test_two_treatment_network_equals_univariate_rma(method):
    """A network of one comparison is a pairwise meta-analysis: rma(yi, vi, method = 'DL' / 'REML')
    on the metformin vs placebo contrasts of dat.senn2013."""
    t = REF["twoarm"]
    k = len(t["yi"])
    net = Network(("metformin", "placebo"), tuple(t["study"]), np.arange(k), np.zeros(k, int), np.ones(k, int),
                  np.array(t["yi"]), np.diag(t["vi"]))
    f = fit_nma(net, "placebo", method)
    assert f.tau2 == pytest.approx(t[f"{method}_tau2"], abs=1e-9)
    assert f.d[0] == pytest.approx(t[f"{method}_beta"], abs=1e-9)
    assert math.sqrt(f.cov[0, 0]) == pytest.approx(t[f"{method}_se"], abs=1e-9)
    assert f.Q == pytest.approx(t["QE"], abs=1e-9)


def _arm_network(name):
    arms = REF["arms"][name]
    if name == "senn2013":
        return network_from_arms([a["study"] for a in arms], [a["treatment"] for a in arms],
                                 [a["mi"] for a in arms], [a["sdi"] ** 2 / a["ni"] for a in arms])
    x, n = np.array([a["xi"] for a in arms], float), np.array([a["ni"] for a in arms], float)
    # escalc("PLO", add = 1/2, to = "all"): differences are escalc("OR", add = 1/2, to = "all")
    return network_from_arms([a["study"] for a in arms], [a["trt"] for a in arms],
                             np.log((x + 0.5) / (n - x + 0.5)), 1 / (x + 0.5) + 1 / (n - x + 0.5))


@pytest.mark.parametrize("name", ["senn2013", "hasselblad1998"])
def test_arm_level_input_gives_the_same_fit(name):
    """From the arms (baselines: first treatment in sort order, not R's) to the same REML fit."""
    ref = NETS[name]
    net = _arm_network(name)
    f = fit_nma(net, ref["reference"], "reml")
    assert f.tau2 == pytest.approx(ref["random"]["tau2"], abs=TOL)
    np.testing.assert_allclose(f.d[order(ref, net)], ref["random"]["beta"], atol=TOL, rtol=0)


def test_disconnected_network_is_refused_with_components():
    net = network_from_arms(["A", "A", "B", "B"], ["KRd", "Rd", "Kd", "Vd"], [0, 0.1, 0, 0.2], [0.1] * 4)
    with pytest.raises(DisconnectedNetwork) as err:
        fit_nma(net, "Rd")
    assert err.value.components == [["KRd", "Rd"], ["Kd", "Vd"]]
    assert "{KRd, Rd}; {Kd, Vd}" in str(err.value)

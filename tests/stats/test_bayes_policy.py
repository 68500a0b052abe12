"""The few-studies policy (issue 14): every group carries HKSJ, Wald (same tau²) and Bayesian
intervals; 2 <= k <= bayes_max_k get a sensitivity note; k = 2 says which interval to read;
method "bayes" makes the Bayesian result the primary one."""

import json
import math

import pytest

from trialmeta.errors import InputError
from trialmeta.stats.bayes import TauPrior, fit_bayes
from trialmeta.stats.notes import NoteKind, has
from trialmeta.stats.pooling import PoolSettings, pool

Y, SE = [0.25, 0.21], [0.03, 0.035]  # two precise trials, like carfilzomib ORR (log RR)


def test_every_group_has_three_intervals_and_the_k2_note():
    r = pool(Y, SE)
    z = 1.959963984540054
    assert (r.wald_ci_low, r.wald_ci_high) == pytest.approx(
        (math.exp(r.log_est - z * r.se_wald), math.exp(r.log_est + z * r.se_wald)), rel=1e-12)
    ref = fit_bayes([Y], [[s * s for s in SE]], prior=TauPrior("half-normal", 0.5))
    assert r.bayes.prior == "half-normal(0.5)"
    assert r.bayes.est == pytest.approx(math.exp(ref.mu_median[0]), rel=1e-12)
    assert (r.bayes.ci_low, r.bayes.ci_high) == pytest.approx(
        (math.exp(ref.mu_low[0]), math.exp(ref.mu_high[0])), rel=1e-12)
    assert r.bayes.p_below_null == pytest.approx(ref.p_below_zero[0], abs=1e-12)
    assert has(r.notes, NoteKind.BAYES_SENSITIVITY) and has(r.notes, NoteKind.K2_READ)
    (k2,) = [n for n in r.notes if n.kind is NoteKind.K2_READ]
    assert "which interval to read: the Bayesian one" in str(k2) and "half-normal(0.5)" in str(k2)
    assert (k2["hksj_low"], k2["wald_low"], k2["low"]) == (r.ci_low, r.wald_ci_low, r.bayes.ci_low)


def test_policy_threshold_and_common_effect():
    """The Bayesian model is fitted where the policy shows it (k <= bayes_max_k, or method bayes):
    a batch of large meta-analyses does not pay for the integration (bench_pool: 10,000 x k = 10)."""
    big = pool([0.1, 0.2, 0.15, 0.3, 0.05], [0.1] * 5)
    assert big.bayes is None and not has(big.notes, NoteKind.BAYES_SENSITIVITY)
    assert pool([0.1, 0.2, 0.15, 0.3, 0.05], [0.1] * 5, PoolSettings(bayes_max_k=5)).bayes is not None
    off = pool(Y, SE, PoolSettings(bayes_max_k=0))
    assert off.bayes is None and not has(off.notes, NoteKind.BAYES_SENSITIVITY)
    wald = pool(Y, SE, PoolSettings(ci="wald"))
    assert has(wald.notes, NoteKind.BAYES_SENSITIVITY) and not has(wald.notes, NoteKind.K2_READ)


def test_method_bayes_is_the_primary_result():
    s = PoolSettings(method="bayes", prior="half-cauchy", prior_scale=0.3)
    r = pool(Y, SE, s)
    ref = fit_bayes([Y], [[x * x for x in SE]], prior=TauPrior("half-cauchy", 0.3))
    assert r.ci_method == "credible" and r.p is None and r.stat is None
    assert (r.log_est, r.log_ci_low, r.log_ci_high) == pytest.approx(
        (ref.mu_median[0], ref.mu_low[0], ref.mu_high[0]), abs=1e-12)
    assert (math.log(r.pi_low), math.log(r.pi_high)) == pytest.approx((ref.pred_low[0], ref.pred_high[0]), abs=1e-12)
    assert r.tau2 == pytest.approx(ref.tau_median[0] ** 2, rel=1e-12)
    assert has(r.notes, NoteKind.BAYES_PRIMARY) and has(r.notes, NoteKind.BAYES_PRIOR_MATTERS)
    assert "half-cauchy(0.3)" in s.describe()


@pytest.mark.parametrize("kw, field", [({"prior": "gamma"}, "prior"), ({"prior_scale": 0}, "prior_scale"),
                                       ({"bayes_max_k": -1}, "bayes_max_k")])
def test_bad_bayes_settings_name_the_setting(kw, field):
    with pytest.raises(InputError) as exc:
        PoolSettings(**kw)
    assert exc.value.problems[0].path == field


def test_pool_table_cli_bayes(run_cli, tmp_path):
    f = tmp_path / "two.csv"
    f.write_text("study,log_hr,se\nA,0.25,0.03\nB,0.21,0.035\n")
    code, out, _ = run_cli("pool-table", str(f), "--method", "bayes", "--prior-scale", "0.3", "--format", "json")
    assert code == 0
    (g,) = json.loads(out)["groups"]
    assert g["method"] == "bayes" and g["bayes"]["prior"] == "half-normal(0.3)" and g["hr_wald_ci_low"] > 0
    code, _, err = run_cli("pool-table", str(f), "--prior-scale", "-1")
    assert code == 2 and "--prior-scale" in err

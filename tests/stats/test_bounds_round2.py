"""Issue 29: heterogeneity statistics exact when one study outweighs the rest by 1e200, and
every estimator in O(k) memory (a k x k matrix made 50,000 studies fail with 18.6 GiB)."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from trialmeta.stats.bayes import fit_bayes
from trialmeta.stats.engine import fit_batch


@pytest.mark.parametrize("se0", [1e-100, 1e-150, 1e-9])
def test_q_tau2_i2_exact_for_a_study_that_outweighs_the_rest(se0):
    """k = 2: Q = w1 w2 (y1 - y2)^2 / (w1 + w2) (the two-study identity of Cochran's Q), = 10 to
    1e-12 for y = (0, 1), v = (se0^2, 0.1); DerSimonian-Laird tau^2 = (Q - 1) / tr P with
    tr P = 2 w1 w2 / (w1 + w2) = 20, so 0.45; I^2 (Q-based) = (Q - 1)/Q = 90%.
    Before: Q = 1.9e166 at se0 = 1e-100 (the heavy study's residual was a rounding error times 1e200)."""
    v = [se0 ** 2, 0.1]
    b = fit_batch([[0.0, 1.0]], [v], method="dl", ci="wald", level=0.95, prediction=False)
    w1, w2 = 1 / v[0], 1 / v[1]
    q = w1 * w2 / (w1 + w2)
    assert b.q[0] == pytest.approx(q, rel=1e-12) and b.q[0] == pytest.approx(10.0, rel=1e-9)
    assert b.tau2[0] == pytest.approx((q - 1) / (2 * w1 * w2 / (w1 + w2)), rel=1e-12)
    assert b.i2_q[0] == pytest.approx(100 * (q - 1) / q, rel=1e-12)
    r = fit_batch([[0.0, 1.0, 0.5]], [[se0 ** 2, 0.1, 0.1]], method="reml", ci="hksj", level=0.95,
                  prediction=False)
    assert r.q[0] == pytest.approx(12.5, rel=1e-9)  # 10 * 1^2 + 10 * 0.5^2 around the heavy study's 0
    assert math.isfinite(r.hk_scale[0]) and r.hk_scale[0] < 1e3


def _peak_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("method", ["dl", "reml", "pm", "fe"])
def test_frequentist_estimators_pool_in_linear_memory(method):
    k = 20_000  # a k x k matrix of floats: 3,052 MiB
    rng = np.random.default_rng(29)
    y, v = rng.normal(-0.2, 0.3, k), rng.uniform(0.01, 0.25, k)
    peak = _peak_mib(lambda: fit_batch([y], [v], method=method, ci="hksj", level=0.95, prediction=True))
    assert peak < 40, f"{method}: {peak:.0f} MiB for k = {k}"


def test_bayesian_model_pools_in_linear_memory_and_blocks_change_nothing_small():
    k = 20_000  # the grid x studies array: 2049 x 20,000 floats = 313 MiB per array, several at once
    rng = np.random.default_rng(29)
    y, v = rng.normal(-0.2, 0.3, k), rng.uniform(0.01, 0.25, k)
    peak = _peak_mib(lambda: fit_bayes([y], [v]))
    assert peak < 60, f"{peak:.0f} MiB for k = {k}"
    # summed in blocks of 256 or at once: the same posterior to rounding
    import trialmeta.stats.bayes as bayes

    small_y, small_v = y[:600], v[:600]
    blocked = fit_bayes([small_y], [small_v])
    old, bayes.STUDY_BLOCK = bayes.STUDY_BLOCK, 10_000
    try:
        whole = fit_bayes([small_y], [small_v])
    finally:
        bayes.STUDY_BLOCK = old
    for name in ("mu_median", "mu_low", "mu_high", "tau_median", "tau_high"):
        assert getattr(blocked, name)[0] == pytest.approx(getattr(whole, name)[0], rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("scale", [1e300, 1e10, 10.5, 0.0, 1e-6, float("nan"), float("inf")])
def test_prior_scales_outside_the_range_are_refused_naming_it(scale, run_cli):
    """--prior-scale 1e300 printed the REML/HKSJ result under a 'Bayesian' method line; 1e10
    gave tau^2 742,196 with a narrow credible interval."""
    from conftest import DATA

    code, out, err = run_cli("pool-table", DATA / "pooltable" / "steurer-lnhr.csv", "--method", "bayes",
                             "--prior-scale", repr(scale))
    assert code == 2 and out == "", err
    assert "--prior-scale: the prior scale on tau must be a number from 0.001 to 10 (log scale" in err, err


def test_a_bayesian_method_line_only_over_bayesian_numbers(monkeypatch):
    """Should the posterior not be evaluable, the group is not pooled: never REML's numbers
    under the Bayesian label."""
    import trialmeta.stats.bayes as bayes
    from trialmeta.stats.pooling import PoolingError, PoolSettings, pool

    real = bayes.fit_bayes

    def broken(ys, vs, **kw):
        b = real(ys, vs, **kw)
        return type(b)(**{n: np.full_like(getattr(b, n), np.nan) if n != "k" else b.k for n in bayes.FIELDS})

    monkeypatch.setattr(bayes, "fit_bayes", broken)
    with pytest.raises(PoolingError, match="the Bayesian posterior could not be evaluated"):
        pool([-0.2, -0.4, 0.1], [0.2, 0.3, 0.25], settings=PoolSettings(method="bayes"))

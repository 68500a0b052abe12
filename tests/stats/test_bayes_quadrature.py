"""The Bayesian posterior at every printed bound, against an independent adaptive quadrature (issue 21).

For each posterior bound the module prints (mu, tau and a new study's effect: median and 95% limits) the
posterior probability below it is recomputed here by ``scipy.integrate.quad`` over tau (adaptive, no grid;
mu integrated out analytically given tau, a normal with precision ``sum 1/(v_i + tau^2)``), and must equal
the bound's nominal probability to 1e-6. This is the check that found the uniform-prior bug: the top grid
node rounded to 2.0000000000000004 > 2 got zero prior density (P = 0.9747 at a printed 97.5% bound).
Priors: uniform(0, 2) and (0, 0.3), half-normal(0.5), half-Cauchy(0.5); k = 1 to 4.
"""

import math

import numpy as np
import pytest
from scipy import integrate, special

from trialmeta.stats.bayes import TauPrior, finite_moments, fit_bayes
from trialmeta.stats.pooling import PoolSettings, pool
from trialmeta.stats.notes import NoteKind

CASES = {
    "k2-close": ([0.35, 0.12], [0.0144, 0.0225]),
    "k3": ([-0.6, -0.25, -0.05], [0.04, 0.02, 0.09]),
    "k1": ([0.2], [0.05]),
    "k4": ([-0.3, 0.1, -0.5, -0.2], [0.05, 0.08, 0.03, 0.1]),
    "k2-precise": ([0.01, 0.02], [0.001, 0.002]),
    "k2-apart": ([-1.2, 0.9], [0.02, 0.03]),
}
PRIORS = {"uniform(0,2)": TauPrior("uniform", 2.0), "uniform(0,0.3)": TauPrior("uniform", 0.3),
          "half-normal": TauPrior("half-normal", 0.5), "half-cauchy": TauPrior("half-cauchy", 0.5)}


class Quadrature:
    """P(. <= q | y) by adaptive quadrature over tau of the marginal posterior of tau."""

    def __init__(self, y, v, prior: TauPrior):
        self.y, self.v, self.prior = np.asarray(y, float), np.asarray(v, float), prior
        self.upper = prior.scale if prior.family == "uniform" else math.inf
        self.shift = 0.0
        grid = np.linspace(0.0, min(self.upper, 10.0), 400)
        self.shift = max(self._log_density(t) for t in grid)  # keeps exp() away from underflow
        self.total = self._integral(lambda t: 1.0)

    def _given_tau(self, tau):
        w = 1.0 / (self.v + tau * tau)
        precision = w.sum()
        return w, precision, (w * self.y).sum() / precision

    def _log_density(self, tau):
        s = self.prior.scale
        log_prior = {"half-normal": -0.5 * (tau / s) ** 2, "half-cauchy": -math.log1p((tau / s) ** 2),
                     "uniform": 0.0}[self.prior.family]
        w, precision, m = self._given_tau(tau)
        return (log_prior + 0.5 * np.log(w).sum() - 0.5 * math.log(precision)
                - 0.5 * (w * (self.y - m) ** 2).sum() - self.shift)

    def _integral(self, h, upper=None):
        f = lambda t: math.exp(self._log_density(t)) * h(t)  # noqa: E731
        top = self.upper if upper is None else upper
        opts = {"epsabs": 1e-13, "epsrel": 1e-11, "limit": 500}
        if math.isfinite(top):
            return integrate.quad(f, 0.0, top, **opts)[0]
        return integrate.quad(f, 0.0, 50.0, **opts)[0] + integrate.quad(f, 50.0, math.inf, **opts)[0]

    def cdf(self, what: str, q: float) -> float:
        if what == "tau":
            return self._integral(lambda t: 1.0, upper=q) / self.total

        def below(t):
            _, precision, m = self._given_tau(t)
            var = 1.0 / precision + (t * t if what == "pred" else 0.0)
            return float(special.ndtr((q - m) / math.sqrt(var)))
        return self._integral(below) / self.total


@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("case", CASES)
def test_every_printed_bound_has_its_nominal_probability_to_1e6(case, prior):
    y, v = CASES[case]
    got = fit_bayes([y], [v], prior=PRIORS[prior])
    ref = Quadrature(y, v, PRIORS[prior])
    for what in ("mu", "tau", "pred"):
        for field, p in (("median", 0.5), ("low", 0.025), ("high", 0.975)):
            bound = float(getattr(got, f"{what}_{field}")[0])
            assert abs(ref.cdf(what, bound) - p) <= 1e-6, (what, field, bound)
    assert abs(ref.cdf("mu", 0.0) - float(got.p_below_zero[0])) <= 1e-6


def test_uniform_prior_never_puts_tau_beyond_its_bound():
    for c in np.linspace(0.05, 3.0, 60):  # the posterior scale that sets the grid; 2.0000000000000004 before
        got = fit_bayes([[c * 0.3, -c * 0.4, c]], [[0.02, 0.05, 0.03]], prior=TauPrior("uniform", 2.0))
        assert float(got.tau_high[0]) <= 2.0


@pytest.mark.parametrize("k", [1, 2, 3])
def test_posterior_sd_is_undefined_under_half_cauchy_with_two_studies_or_fewer(k):
    y, v = [0.3, -0.1, 0.2][:k], [0.04, 0.05, 0.06][:k]
    hc = fit_bayes([y], [v], prior=TauPrior("half-cauchy", 0.5))
    hn = fit_bayes([y], [v], prior=TauPrior("half-normal", 0.5))
    assert math.isnan(hc.mu_sd[0]) is (k <= 2) and math.isfinite(hn.mu_sd[0])
    assert math.isnan(hc.mu_mean[0]) is (k == 1) and finite_moments(TauPrior("half-cauchy", 0.5), k, True)["mu_sd"]
    r = pool(y, [math.sqrt(x) for x in v], PoolSettings(method="bayes", prior="half-cauchy"))
    if k <= 2:  # the SE under method bayes is the posterior SD: null, with a note, not a number set by the grid
        assert r.se is None and any(n.kind is NoteKind.BAYES_SD_UNDEFINED for n in r.notes)
    else:
        assert r.se is not None and math.isfinite(r.se)
        assert not any(n.kind is NoteKind.BAYES_SD_UNDEFINED for n in r.notes)

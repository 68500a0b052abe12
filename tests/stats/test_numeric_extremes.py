"""Extreme but valid numbers: no overflow, no cancellation, no Infinity or NaN in JSON."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest


def _dl_exact(y, se) -> float:
    """DerSimonian & Laird (1986) tau^2 = max(0, (Q - (k-1)) / (S1 - S2/S1)) in exact rational
    arithmetic on the given floats: the reference, free of rounding."""
    w = [1 / Fraction(s) ** 2 for s in se]
    ys = [Fraction(v) for v in y]
    s1 = sum(w)
    mu = sum(wi * yi for wi, yi in zip(w, ys)) / s1
    q = sum(wi * (yi - mu) ** 2 for wi, yi in zip(w, ys))
    return float(max(Fraction(0), (q - (len(y) - 1)) / (s1 - sum(wi * wi for wi in w) / s1)))


@pytest.mark.parametrize("y, se", [
    ([0.1, 0.5, -0.3], [1e-9, 0.2, 0.1]),  # one study outweighs the rest by 1e16: textbook DL cancels
    ([0.1, 0.5], [1e-9, 0.2]),  # k = 2: textbook DL divides by a zero it computed
    ([-0.2, 0.3, 0.05, -0.6], [1e-7, 1e-7, 0.3, 0.25]),
    ([-0.5, -0.2, 0.1], [0.2, 0.3, 0.2236]),  # ordinary data
])
def test_dl_tau2_equals_the_exact_value(y, se):
    from trialmeta.stats.engine import fit_batch

    b = fit_batch([y], [[s * s for s in se]], method="dl", ci="wald", level=0.95, prediction=True)
    assert float(b.tau2[0]) == pytest.approx(_dl_exact(y, se), rel=1e-9, abs=1e-15)


def test_dl_tau2_with_moderators_matches_the_intercept_only_form_for_an_intercept_design():
    from trialmeta.stats.tau2 import dl

    rng = np.random.default_rng(3)
    y, v = rng.normal(size=(6, 4)), rng.uniform(0.01, 0.2, size=(6, 4))
    np.testing.assert_allclose(dl(y, v, np.ones((6, 1))), dl(y, v), rtol=1e-12)


def _strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"JSON contains {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("rows", [
    "A,700,0.1\nB,710,0.2\nC,705,0.1\n",  # exp(705) overflows a float
    "A,-0.2,1e10\nB,0.1,0.2\nC,0.3,0.3\n",  # a CI of +-2e10 on the log scale
    "A,0.1,1e-9\nB,0.5,0.2\n",
])
@pytest.mark.parametrize("method", ["fe", "dl", "reml", "pm"])
def test_pool_table_with_extreme_effects_exits_0_with_valid_json(tmp_path, run_cli, rows, method):
    table = tmp_path / "effects.csv"
    table.write_text("study,log_hr,se\n" + rows)
    code, out, err = run_cli("pool-table", table, "--method", method, "--format", "json")
    assert code == 0, err
    group = _strict_json(out)["groups"][0]
    if group["hr"] is None or group["hr_ci_high"] is None:
        assert any("beyond the float range" in n for n in group["notes"])
    for fmt in ("table", "csv", "md"):
        code, _, err = run_cli("pool-table", table, "--method", method, "--format", fmt)
        assert code == 0, err


def test_ratio_scale_values_saturate_instead_of_raising():
    from trialmeta.stats.effects import ci_from_log

    est, lo, hi = ci_from_log(800.0, 1.0)
    assert est == hi == math.inf and lo == math.inf
    assert ci_from_log(-800.0, 1.0) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("se, word", [("1e-300", "small"), ("1e200", "large")])
def test_an_se_whose_variance_is_no_float_is_a_located_error(tmp_path, run_cli, se, word):
    table = tmp_path / "effects.csv"
    table.write_text(f"study,log_hr,se\nA,0.1,{se}\nB,0.2,0.1\n")
    code, _, err = run_cli("pool-table", table)
    assert code == 1 and f"effects.csv:2: se: SE {float(se):g} is too {word} to pool" in err, err

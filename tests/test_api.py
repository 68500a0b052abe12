"""The public Python API: load_trials, analyse, pool, with pandas summaries."""

from __future__ import annotations

import dataclasses
import json

import pytest

import trialmeta
from conftest import ROOT, TRIALS

REFERENCE = json.loads((ROOT / "tests" / "data" / "metafor" / "analyses_reference.json").read_text())


def reference(analysis: str, group: str) -> dict:
    return next(g for g in REFERENCE["groups"] if g["analysis"] == analysis and g["group"] == group)


def test_analyse_returns_frozen_results_with_summary():
    """pi3k-akt-pfs / altered against metafor 3.8.1 (tests/data/metafor/analyses.R:
    rma(yi, sei = sei, method = "REML", test = "knha"))."""
    results = trialmeta.analyse(TRIALS, only="pi3k-akt-pfs")
    r = results["pi3k-akt-pfs"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.name = "other"
    row = r.summary.set_index("group").loc["altered"]
    ref = reference("pi3k-akt-pfs", "altered")
    assert row["est"] == pytest.approx(ref["beta"], abs=1e-6)
    assert row["est lower 95%"] == pytest.approx(ref["ci_lb"], abs=1e-6)
    assert row["exp(est) upper 95%"] == pytest.approx(2.718281828459045 ** ref["ci_ub"], rel=1e-6)


def test_pool_on_arrays():
    """Two studies, common effect: the inverse-variance mean (-0.43/0.01 - 0.58/0.04) / (1/0.01 + 1/0.04)."""
    g = trialmeta.pool([-0.43, -0.58], [0.1, 0.2], trialmeta.PoolSettings(method="fe", ci="wald"))
    assert g.log_est == pytest.approx((-43 - 14.5) / 125)
    assert g.summary.loc[0, "se(est)"] == pytest.approx(125 ** -0.5)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        trialmeta.no_such_function  # noqa: B018

"""Results marked ``status: unverified`` (new-trial drafts) are listed as not pooled, with the reason,
unless the analysis allows them (``--include-unverified``)."""

from __future__ import annotations

from trialmeta.registry.analyses import Settings
from trialmeta.synthesis.selection import choose


def _row(status: str) -> dict:
    return {"trial": "t", "population": "itt", "data_cut": "ctgov-results", "assessment": "unspecified",
            "data_cutoff": None, "publication_date": "2012-11-30", "derivation": "hr-ci", "approximate": False,
            "log_hr": 0.0862, "se": 0.21, "status": status}


def test_unverified_is_skipped_with_its_reason():
    study = choose([_row("unverified")], "HR", Settings(), None)
    assert not study.usable and "unverified result" in study.reason and "--include-unverified" in study.reason
    assert choose([_row("verified")], "HR", Settings(), None).usable


def test_include_unverified_lets_it_in():
    assert choose([_row("unverified")], "HR", Settings(include_unverified=True), None).usable

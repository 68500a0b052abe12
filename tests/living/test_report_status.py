"""The report's Evidence status section is built from the saved living-evidence state."""

from __future__ import annotations

from trialmeta.report.status import disagreements, status_html

STATE = {"version": 1, "checked": "2026-12-07T06:15:00+00:00",
         "trials": {"NCT00791778": {"acronym": "NCT00791778", "last_update_posted": "2015-09-28",
                                    "not_in_registry": ["Time to First Pathologic CA-125 (...): Hazard Ratio (HR) 1.43"]}},
         "crosscheck": [{"acronym": "NCT00791778", "endpoint": "PFS", "population": "itt", "data_cut": "ctgov-results",
                         "verdict": "differ", "registry": "HR 1.19 (0.72-1.63)", "posted": "Hazard Ratio (HR) 1.09",
                         "detail": "HR 1.19 vs 1.09"},
                        {"acronym": "NCT00791778", "endpoint": "OS", "population": "itt", "data_cut": "ctgov-results",
                         "verdict": "agree", "registry": "HR 1.49", "posted": "Hazard Ratio (HR) 1.49", "detail": ""}]}


def test_section_lists_last_check_updates_missing_results_and_disagreements():
    html = status_html(STATE)
    assert "<h2>Evidence status</h2>" in html and "last checked 2026-12-07T06:15:00+00:00" in html
    assert "crosscheck: 1 agree, 1 differ, 0 not posted" in html
    assert "<td>2015-09-28</td>" in html and "Hazard Ratio (HR) 1.43" in html
    assert disagreements(STATE) == ["NCT00791778 PFS (itt, ctgov-results): registry HR 1.19 (0.72-1.63), posted "
                                    "Hazard Ratio (HR) 1.09 (HR 1.19 vs 1.09)"]


def test_no_state_no_section():
    assert status_html(None) == "" and status_html({}) == ""

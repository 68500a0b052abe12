"""Risk of bias (registry/rob.py): the RoB 2 overall algorithm on every combination, the schema for
open-label designs and investigator-assessed PFS, and located errors for bad input."""

from __future__ import annotations

import itertools

import pytest
import yaml

from conftest import DATA, TRIALS
from trialmeta.registry import rob
from trialmeta.registry.load import load_registry

LEVELS = ("low", "some concerns", "high")


def _expected(combo) -> str:
    # RoB 2 guidance (Sterne et al. BMJ 2019, Table 2), stated as counts rather than as an order
    highs = sum(j == "high" for j in combo)
    concerns = sum(j == "some concerns" for j in combo)
    if highs:
        return "high"
    return "some concerns" if concerns else "low"


def test_rob2_algorithm_on_all_243_combinations():
    combos = list(itertools.product(LEVELS, repeat=5))
    assert len(combos) == 3 ** 5
    for combo in combos:
        assert rob.rob2_overall(combo) == _expected(combo), combo


def test_a_domain_not_assessed_leaves_the_overall_not_assessed_unless_one_is_high():
    for combo in itertools.product((*LEVELS, None), repeat=5):
        if None not in combo:
            continue
        got = rob.rob2_overall(combo)
        assert got == ("high" if "high" in combo else None), combo


def _trial(tmp_path, entries):
    data = yaml.safe_load((DATA / "valid" / "minimal.yaml").read_text())
    data["design"]["blinding"] = "open-label"
    data["design"]["placebo_controlled"] = False
    data["risk_of_bias"] = entries
    path = tmp_path / "minimal.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _domain(judgement, support="quote", source="jones2020"):
    return {"judgement": judgement, "support": support, "source": source}


OPEN_LABEL_PFS = {
    "endpoint": "PFS", "assessment": "investigator", "assessed_by": "test",
    "domains": {"randomisation": _domain("low"), "deviations": _domain("low"), "missing_data": _domain("low"),
                "measurement": _domain("some concerns", "open-label; progression assessed by the investigators, "
                                                        "aware of the assigned arm"),
                "reporting": _domain("low")}}


def test_open_label_investigator_pfs_is_expressible(tmp_path):
    reg = load_registry(_trial(tmp_path, [OPEN_LABEL_PFS]))
    trial = reg.by_id("minimal")
    found = rob.find(trial.risk_of_bias, "itt", "PFS", "investigator")
    assert found is not None and rob.overall(found) == "some concerns"
    assert rob.find(trial.risk_of_bias, "itt", "PFS", "irc") is None  # another assessor: not assessed
    assert rob.find(trial.risk_of_bias, "itt", "ORR", "investigator") is None


def test_explicit_overall_above_the_algorithm_with_a_reason(tmp_path):
    entry = {**OPEN_LABEL_PFS, "overall": {"judgement": "high", "reason": "several some-concerns domains together"}}
    trial = load_registry(_trial(tmp_path, [entry])).by_id("minimal")
    assert rob.overall(trial.risk_of_bias[0]) == "high"


@pytest.mark.parametrize("change, where, message", [
    (lambda e: e["domains"].update(measurement=_domain("unclear")), "risk_of_bias[0].domains.measurement.judgement",
     "input should be 'low', 'some concerns' or 'high' (got 'unclear')"),
    (lambda e: e.update(overall={"judgement": "low", "reason": "the reviewers say so"}),
     "risk_of_bias[0].overall.judgement", "overall 'low' is below what the domains imply under RoB 2 "
                                          "('some concerns'"),
    (lambda e: e.update(overall={"judgement": "high"}), "risk_of_bias[0].overall.reason",
     "required field is missing"),
    (lambda e: e["domains"].update(reporting=_domain("low", source="andre2019")),
     "risk_of_bias[0].domains.reporting.source", "unknown source (publication key) 'andre2019'"),
    (lambda e: e.update(populations=["itt", "alterd"]), "risk_of_bias[0].populations[1]",
     "unknown population 'alterd'"),
    (lambda e: e["domains"].update(blinding=_domain("low")), "risk_of_bias[0].domains.blinding",
     "unknown field 'blinding'"),
])
def test_bad_assessment_is_a_located_error(tmp_path, run_cli, change, where, message):
    entry = yaml.safe_load(yaml.safe_dump(OPEN_LABEL_PFS))
    change(entry)
    path = _trial(tmp_path, [entry])
    code, out, err = run_cli("validate", path)
    assert code == 1 and "Traceback" not in out + err
    line = next(ln for ln in err.splitlines() if where in ln)
    assert message in line and f"minimal.yaml:" in line and line.split(":")[1].isdigit()


def test_two_assessments_of_one_result_are_an_error(tmp_path, run_cli):
    code, _, err = run_cli("validate", _trial(tmp_path, [OPEN_LABEL_PFS, {**OPEN_LABEL_PFS, "assessment": None}]))
    assert code == 1
    assert "risk_of_bias[1]: a second assessment for PFS of population 'itt' (also risk_of_bias[0])" in err


def test_registry_judgements_are_sourced_and_only_what_design_facts_support():
    """Every registry judgement names a publication of its trial; nothing beyond D4 is entered (no published
    RoB 2 assessment of these trials is in trials-facts.md), so every overall is 'not assessed'."""
    reg = load_registry(TRIALS)
    seen = 0
    for lt in reg.trials:
        keys = {p.key for p in lt.trial.publications}
        for entry in lt.trial.risk_of_bias:
            js = rob.domain_judgements(entry)
            assert js[:3] == (None, None, None) and js[4] is None and js[3] == "low"
            assert entry.domains.measurement.source in keys
            assert rob.overall(entry) is None
            if entry.endpoint == "PFS":  # D4 low for PFS only where the trial is double-blind
                assert lt.trial.design.blinding == "double-blind"
            seen += 1
    assert seen == 9

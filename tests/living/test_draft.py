"""Drafting from the recorded NCT00791778 record (tests/data/ctgov/PROVENANCE.md), without a server."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from conftest import DATA
from trialmeta.living.draft import build_draft
from trialmeta.living.record import RecordError, parse_study

RECORD = json.loads((DATA / "ctgov" / "NCT00791778.json").read_text(encoding="utf-8"))


def test_analysed_n_goes_to_the_arm_named_by_the_group_title():
    rec = copy.deepcopy(RECORD)
    os_measure = rec["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][2]
    os_measure["denoms"][0]["counts"] = [{"groupId": "OG001", "value": "118"}, {"groupId": "OG000", "value": "120"}]
    os_measure["groups"].reverse()  # group order is not a direction: titles decide
    data = yaml.safe_load(build_draft(parse_study(rec)).text)
    os_result = data["results"][1]
    assert (os_result["n_exp"], os_result["n_ctrl"]) == (120, 118)
    assert "n_exp" not in data["results"][0]  # PFS analysed all 123 + 123 randomised


def test_a_single_arm_study_cannot_be_drafted():
    rec = copy.deepcopy(RECORD)
    rec["protocolSection"]["armsInterventionsModule"]["armGroups"] = \
        rec["protocolSection"]["armsInterventionsModule"]["armGroups"][:1]
    with pytest.raises(RecordError, match="has 1 arm"):
        build_draft(parse_study(rec))


def test_a_record_without_results_has_nothing_to_draft():
    rec = {k: v for k, v in RECORD.items() if k != "resultsSection"}
    with pytest.raises(RecordError, match="no posted hazard-ratio analysis"):
        build_draft(parse_study(rec))


def test_a_record_without_design_names_the_missing_module():
    rec = copy.deepcopy(RECORD)
    del rec["protocolSection"]["designModule"]
    with pytest.raises(RecordError, match="has no designModule: the API may have changed"):
        build_draft(parse_study(rec))

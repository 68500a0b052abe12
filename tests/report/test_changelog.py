"""Changelog entries: what moved between two evidence documents, with conclusion flips in bold."""

from __future__ import annotations

import copy
import json

import pytest

from trialmeta.report import changelog


@pytest.fixture(scope="module")
def evidence():
    """The evidence of the registry as `trialmeta pool --format json` gives it, plus the results."""
    import trialmeta
    from trialmeta import tables
    from trialmeta.synthesis.data import analysis_dict

    from conftest import TRIALS

    results = trialmeta.analyse(TRIALS)
    doc = {"analyses": [analysis_dict(r) for r in results.values()],
           "results": tables.records(trialmeta.results_frame(TRIALS)), "inputs": {"fingerprint": "0" * 64}}
    return json.loads(json.dumps(tables.jsonable(doc)))


def group(doc, analysis, key):
    a = next(a for a in doc["analyses"] if a["name"] == analysis)
    return a, next(g for g in a["groups"] if g["group"] == key)


def test_nothing_moved_no_entry(evidence):
    assert changelog.entry(evidence, copy.deepcopy(evidence), "2026-01-01") is None
    assert changelog.entry(None, evidence, "2026-01-01") is None  # first refresh: nothing to compare


def test_ci_that_no_longer_excludes_one_is_a_flip(evidence):
    new = copy.deepcopy(evidence)
    _, g = group(new, "capivasertib-pfs", "all")
    old_text = changelog.fmt.ratio_ci(g["hr"], g["hr_ci_low"], g["hr_ci_high"])
    assert g["hr_ci_high"] < 1  # CAPItello-291 + FAKTION: the pooled CI excludes 1
    g["hr_ci_high"] = 1.02
    text = changelog.entry(evidence, new, "2026-01-01")
    line = next(s for s in text.splitlines() if "capivasertib-pfs / all" in s)
    assert line.startswith("- **Conclusion flip: the CI no longer excludes 1.** capivasertib-pfs / all: HR "
                           f"{old_text} -> ")
    assert line.split(" -> ")[1].startswith(f"{g['hr']:.2f} [{g['hr_ci_low']:.2f}, 1.02]")


def test_subgroup_test_crossing_alpha_is_a_flip(evidence):
    new = copy.deepcopy(evidence)
    a, _ = group(new, "pi3k-akt-pfs", "altered")
    p_before = a["subgroup_test"]["p_between"]
    a["subgroup_test"]["p_between"] = 0.2 if p_before < 0.05 else 0.01
    text = changelog.entry(evidence, new, "2026-01-01")
    assert "**Conclusion flip: subgroup-difference P crossed 0.05.** pi3k-akt-pfs: test for subgroup " \
           f"differences P {p_before:.4f} -> " in text


def test_changed_result_names_trial_population_endpoint_cut_and_field(evidence):
    new = copy.deepcopy(evidence)
    row = next(r for r in new["results"] if r["trial"] == "solar-1" and r["population"] == "pik3ca-mutated"
               and r["endpoint"] == "PFS")
    before = row["hr"]
    row["hr"] = 0.66
    text = changelog.entry(evidence, new, "2026-01-01")
    assert f"- Changed: SOLAR-1 pik3ca-mutated PFS ({row['data_cut']}): hr {before} -> 0.66" in text


def test_each_move_names_its_cause_data_settings_or_software(evidence):
    """Issue 21: carfilzomib-orr moved from Mantel-Haenszel to random effects; the entry says the method,
    not the data, changed. A changed study input is a data change; a new trialmeta version is named."""
    old = copy.deepcopy(evidence)
    a, g = group(old, "carfilzomib-orr", "all")
    a["pooling"], g["method"], g["ci_method"] = "mh", "fe", "wald"
    g["rr"], g["rr_ci_low"], g["rr_ci_high"] = 1.27, 1.19, 1.34
    text = changelog.entry(old, evidence, "2026-01-01")
    line = next(s for s in text.splitlines() if "carfilzomib-orr / all" in s)
    assert line.startswith("- **Conclusion flip: the CI no longer excludes 1.**")
    assert line.endswith("cause: settings or method changed (pooling mh -> iv; method fe -> reml; "
                         "ci_method wald -> hksj), not the data")
    new = copy.deepcopy(evidence)
    _, g = group(new, "capivasertib-pfs", "all")
    g["hr"] *= 1.01
    g["studies"][0]["se"] *= 1.1
    new["trialmeta_version"] = "9.9"
    line = next(s for s in changelog.entry(evidence, new, "2026-01-01").splitlines() if "capivasertib-pfs / all" in s)
    assert line.endswith("cause: data changed (studies or their inputs) and software version changed "
                         "(trialmeta ? -> 9.9)")

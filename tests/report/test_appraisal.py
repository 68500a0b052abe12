"""RoB 2 and GRADE in evidence.json (synthesis/appraisal.py) and in evidence.xlsx (report/appraisal_sheets.py):
the JSON holds what the forest's RoB columns, the GRADE table and the SoF print; the workbook holds the JSON."""

from __future__ import annotations

import io
import json
import shutil

import pytest
import yaml
from openpyxl import load_workbook

from conftest import TRIALS
from trialmeta import tables
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.report import grade_table, sof
from trialmeta.report.appraisal_sheets import GRADE_HEADER, ROB_HEADER
from trialmeta.synthesis.appraisal import appraisal
from trialmeta.synthesis.run import run_analyses

ANALYSIS = "pi3k-akt-pfs"


def _run(trials):
    registry = load_registry(trials)
    spec, lines = load_analyses(trials / "analyses.yaml")
    return registry, run_analyses(registry, spec, spec_file="analyses.yaml", lines=lines)


def _as_written(results, registry) -> list[dict]:
    """evidence.json's ``appraisal`` as refresh writes it (jsonable, then through JSON)."""
    return json.loads(json.dumps(tables.jsonable(appraisal(results, registry)), ensure_ascii=False))


@pytest.fixture(scope="module")
def rated(tmp_path_factory):
    """The registry with a structured reviewers' rating on pi3k-akt-pfs (one subgroup rated, one
    domain left unstated) and an explicit overall RoB 2 judgement with its reason on SOLAR-1 PFS."""
    trials = tmp_path_factory.mktemp("appraisal") / "trials"
    shutil.copytree(TRIALS, trials)
    data = yaml.safe_load((trials / "analyses.yaml").read_text())
    a = next(x for x in data["analyses"] if x["name"] == ANALYSIS)
    a["certainty"] = [{"subgroup": "altered", "rating": "low", "assessed_by": "two reviewers, 2026-12-07",
                       "domains": {"risk_of_bias": {"concern": "not serious"},
                                   "inconsistency": {"concern": "serious", "reason": "I2 above 50% across trials"},
                                   "imprecision": {"concern": "serious", "reason": "CI includes HR 0.8"}}}]
    (trials / "analyses.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    solar = yaml.safe_load((trials / "solar-1.yaml").read_text())
    solar["risk_of_bias"][0]["overall"] = {"judgement": "high", "reason": "reviewers' call for this test case"}
    (trials / "solar-1.yaml").write_text(yaml.safe_dump(solar, sort_keys=False, allow_unicode=True))
    registry, results = _run(trials)
    return registry, results, _as_written(results, registry)


def _grade_cells(record: dict, outcome: str) -> list[str]:
    """The GRADE table's row (report/grade_table.py) rebuilt from the JSON record alone."""
    cells, rating = [f"{outcome}: {record['label']}"], record["certainty"]
    for d in record["domains"]:
        mine = d["reviewers"]
        said = (f"{mine['concern']}" + (f" ({mine['reason']})" if mine["reason"] else "")) if mine else "not stated"
        hint = f"suggested {d['suggestion']}" if d["suggestion"] else "no suggestion"
        cells.append((f"Reviewers: {said}. " if rating else "") + f"{hint.capitalize()}: {d['rationale']}.")
    cells.append(rating["rating"].replace("-", " ") if rating else "not rated")
    return cells


def test_grade_in_evidence_json_is_what_the_grade_table_and_sof_print(rated):
    registry, results, doc = rated
    by_name = {a["analysis"]: a for a in doc}
    assert [a["analysis"] for a in doc] == [r.name for r in results]
    rated_rows = 0
    for r in results:
        records = by_name[r.name]["grade"]
        assert [_grade_cells(g, r.spec.endpoint) for g in records] == grade_table.rows(r, registry), r.name
        sofs = {row.subgroup: row for row in sof.sof_rows(r, registry)}
        for g in records:
            if g["subgroup"] in sofs:  # (a not-pooled analysis has one SoF row per trial, same rating)
                row = sofs[g["subgroup"]]
                want = (g["certainty"]["rating"], tuple(g["certainty"]["reasons"])) if g["certainty"] else (None, ())
                assert (row.certainty, row.reasons) == want, (r.name, g["subgroup"])
                rated_rows += g["certainty"] is not None
    assert rated_rows == 1
    (altered,) = [g for g in by_name[ANALYSIS]["grade"] if g["subgroup"] == "altered"]
    doms = {d["domain"]: d for d in altered["domains"]}
    assert doms["imprecision"]["reviewers"] == {"concern": "serious", "reason": "CI includes HR 0.8"}
    assert doms["indirectness"]["reviewers"] is None and doms["indirectness"]["suggestion"] is None
    assert altered["certainty"]["reasons"] == ["Inconsistency (serious, -1): I2 above 50% across trials",
                                               "Imprecision (serious, -1): CI includes HR 0.8"]
    others = [g for g in by_name[ANALYSIS]["grade"] if g["subgroup"] != "altered"]
    assert others and all(g["certainty"] is None for g in others)  # never filled in from the suggestion


def test_rob_in_evidence_json_is_what_the_forest_columns_show(rated):
    registry, results, doc = rated
    by_name = {a["analysis"]: a for a in doc}
    assessed = 0
    for r in results:
        records = by_name[r.name]["risk_of_bias"]
        keys = [(x["trial"], x["population"]) for x in records]
        assert len(keys) == len(set(keys)) and set(keys) == {(s.trial, s.population) for g in r.groups
                                                             for s in g.studies}
        for x in records:
            shown = r.risk_of_bias.get((x["trial"], x["population"]))  # what rob_columns / traffic light draw
            got = tuple(d["judgement"] for d in x["domains"]) + (x["overall"]["judgement"],)
            if shown is None:
                assert not x["assessed"] and set(got) == {"not assessed"}
            else:
                assert x["assessed"] and got == tuple(j or "not assessed" for j in shown), (r.name, x["trial"])
                assessed += 1
    assert assessed >= 10
    solar = next(x for x in by_name[ANALYSIS]["risk_of_bias"] if x["trial"] == "solar-1")
    d4 = next(d for d in solar["domains"] if d["short"] == "D4")
    # trials/solar-1.yaml risk_of_bias[0]: D4 low, supported by the design facts of publication S1
    assert (d4["judgement"], d4["source"]) == ("low", "S1") and "blinded" in d4["support"]
    assert solar["overall"] == {"judgement": "high", "by": "reviewers", "algorithm": "not assessed",
                                "reason": "reviewers' call for this test case"}


def test_appraisal_is_deterministic():
    """Two independent runs of the registry give byte-identical appraisal JSON."""
    one, two = (json.dumps(_as_written(*reversed(_run(TRIALS))), ensure_ascii=False) for _ in range(2))
    assert one == two


def test_workbook_grade_and_rob_sheets_hold_the_appraisal(rated):
    from trialmeta.pipeline.export import write_exports
    from trialmeta.registry.frame import results_frame

    import tempfile
    from pathlib import Path

    registry, results, doc = rated

    with tempfile.TemporaryDirectory() as tmp:
        (path,) = write_exports(Path(tmp), ("xlsx",), results, registry, results_frame(registry),
                                {"trialmeta_version": "test", "as_of": None, "inputs": {}})
        wb = load_workbook(io.BytesIO(path.read_bytes()))
    contents = [row[0].value for row in wb["Contents"].iter_rows(min_row=2)]
    assert "GRADE" in contents and "Risk of bias" in contents

    ws = wb["GRADE"]
    assert [c.value for c in ws[1]] == GRADE_HEADER
    rows = [dict(zip(GRADE_HEADER, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]
    assert len(rows) == sum(len(g["domains"]) for a in doc for g in a["grade"])
    imp = next(x for x in rows if x["Analysis"] == ANALYSIS and x["Subgroup"] == "altered"
               and x["Domain"] == "Imprecision")
    want = next(d for g in doc if g["analysis"] == ANALYSIS for gg in g["grade"] if gg["subgroup"] == "altered"
                for d in gg["domains"] if d["domain"] == "imprecision")
    assert (imp["Reviewers' judgement"], imp["Reviewers' reason"]) == ("serious", "CI includes HR 0.8")
    assert imp["Suggested by trialmeta (data only)"] == want["suggestion"] and imp["Data behind the suggestion"] == \
        want["rationale"]
    assert imp["Certainty (reviewers')"] == "low" and imp["Rated by"] == "two reviewers, 2026-12-07"
    ind = next(x for x in rows if x["Analysis"] == ANALYSIS and x["Subgroup"] == "altered"
               and x["Domain"] == "Indirectness")
    assert (ind["Reviewers' judgement"], ind["Suggested by trialmeta (data only)"]) == ("not stated", "no suggestion")
    unrated = [x for x in rows if x["Analysis"] != ANALYSIS]
    assert unrated and {x["Reviewers' judgement"] for x in unrated} == {"not rated"}
    assert {x["Certainty (reviewers')"] for x in unrated} == {"not rated"}

    ws = wb["Risk of bias"]
    assert [c.value for c in ws[1]] == ROB_HEADER
    rows = [dict(zip(ROB_HEADER, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]
    assert len(rows) == sum(len(a["risk_of_bias"]) for a in doc)
    solar = next(x for x in rows if x["Analysis"] == ANALYSIS and x["Trial"] == "SOLAR-1")
    assert (solar["D4 measurement"], solar["D1 randomisation"], solar["Overall"], solar["Overall by"]) == \
        ("low", "not assessed", "high", "reviewers")
    assert solar["D4 support [source]"].endswith("[S1]") and solar["D1 support [source]"] is None
    for x, rec in zip(rows, (rec for a in doc for rec in a["risk_of_bias"])):
        assert [x[h] for h in ROB_HEADER[7:13]] == [d["judgement"] for d in rec["domains"]] + \
            [rec["overall"]["judgement"]]

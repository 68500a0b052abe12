"""Summary-of-findings tables (report/sof.py): absolute effects, certainty inputs, missing data."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import TRIALS
from trialmeta.errors import InputError
from trialmeta.registry.analyses import load_analyses
from trialmeta.registry.load import load_registry
from trialmeta.report import sof
from trialmeta.synthesis.run import run_analyses


def _run(trials):
    registry = load_registry(trials)
    spec, lines = load_analyses(trials / "analyses.yaml")
    return registry, run_analyses(registry, spec, spec_file="analyses.yaml", lines=lines)


@pytest.fixture(scope="module")
def real():
    return _run(TRIALS)


def test_hazard_ratio_absolute_effect_closed_form():
    """S_c(t) = 0.5 and HR 2: S_e = 0.5^2 = 0.25, so 750 vs 500 events per 1000 (250 more);
    HR CI [1, 4]: 0 more to 1000 x (1 - 0.5^4) - 500 = 437.5 more (worked by hand)."""
    base = sof.Baseline(12.0, 0.5, ("hypothetical",))
    a = sof.absolute_effect("HR", base, 2.0, 1.0, 4.0)
    assert (a.per_1000_control, a.per_1000_exp, a.diff) == pytest.approx((500.0, 750.0, 250.0))
    assert (a.diff_low, a.diff_high) == pytest.approx((0.0, 437.5))


def test_risk_ratio_absolute_effect_closed_form():
    """Control risk 0.4, RR 1.5 [1.0, 2.0]: 600 vs 400 per 1000, 200 more [0 to 400 more] (by hand)."""
    a = sof.absolute_effect("RR", sof.Baseline(None, 0.4, ()), 1.5, 1.0, 2.0)
    assert (a.per_1000_exp, a.diff, a.diff_low, a.diff_high) == pytest.approx((600.0, 200.0, 0.0, 400.0))


def test_landmark_from_the_registry_gives_the_absolute_effect(real):
    """carfilzomib-os: ASPIRE reports 24-month OS 65.0% in the control arm (Stewart 2015, the
    interim cut; trials/aspire.yaml); ENDEAVOR reports no landmark. The experimental risk is
    1 - 0.65^HR with the pooled HR and its CI."""
    registry, results = real
    r = next(x for x in results if x.name == "carfilzomib-os")
    (row,) = sof.sof_rows(r, registry)
    bayes = r.groups[0].pooled.bayes  # k = 2: the row reads the Bayesian estimate, as the forest's note says
    assert (row.est, row.ci_low, row.ci_high) == (bayes.est, bayes.ci_low, bayes.ci_high) and row.reading
    a = row.absolute
    assert a.baseline.time == 24 and a.baseline.control_risk == pytest.approx(0.35)
    assert len(a.baseline.sources) == 1 and a.baseline.sources[0].startswith("ASPIRE itt, interim-2014")
    assert a.diff == pytest.approx(1000 * (1 - 0.65 ** bayes.est) - 350)
    assert a.diff_low == pytest.approx(1000 * (1 - 0.65 ** bayes.ci_low) - 350)
    assert a.diff_high == pytest.approx(1000 * (1 - 0.65 ** bayes.ci_high) - 350)
    cells = sof.cells(row)
    assert cells[3] == "350 per 1,000 by 24 months"
    assert cells[4].startswith(f"{round(-a.diff)} fewer per 1,000 by 24 months [")
    assert row.participants == sum(int(s.row["n_exp"]) + int(s.row["n_ctrl"]) for s in r.groups[0].usable)


def test_every_hr_analysis_has_a_row_per_estimate_and_missing_landmarks_are_stated(real):
    registry, results = real
    for r in results:
        rows = sof.sof_rows(r, registry)
        if r.spec.pooled:
            assert [x.subgroup for x in rows] == [g.key for g in r.groups] + (["overall"] if r.overall else [])
        else:  # one row per trial, with its own estimate
            assert [x.subgroup for x in rows] == [g.key for g in r.groups for _ in g.usable]
            assert all(x.single == "not pooled" and x.k == 1 for x in rows)
        for x in rows:
            if x.absolute is None:
                assert sof.cells(x)[4].startswith("not available: ") and x.absolute_missing
                assert sof.cells(x)[3] == "control risk not available"
            assert x.certainty is None and sof.cells(x)[5] == "not rated"  # nothing rated in the registry
            assert "not pooled" not in sof.cells(x)[2] or "own estimate" in sof.cells(x)[2]
    pi3k = next(x for x in results if x.name == "pi3k-akt-pfs")
    assert "no control-arm landmark PFS survival" in sof.cells(sof.sof_rows(pi3k, registry)[0])[4]


def test_risk_ratio_uses_control_responders(real):
    registry, results = real
    r = next(x for x in results if x.name == "carfilzomib-orr")
    (row,) = sof.sof_rows(r, registry)
    risks = sorted(s.row["responders_ctrl"] / s.row["n_ctrl"] for s in r.groups[0].usable)
    assert row.absolute.baseline.control_risk == pytest.approx(sum(risks) / 2)  # median of two
    assert row.absolute.per_1000_exp == pytest.approx(1000 * row.absolute.baseline.control_risk * row.est)


def _with_certainty(tmp_path, certainty):
    trials = tmp_path / "trials"
    shutil.copytree(TRIALS, trials)
    data = yaml.safe_load((trials / "analyses.yaml").read_text())
    a = next(x for x in data["analyses"] if x["name"] == "pi3k-akt-pfs")
    a["certainty"] = certainty
    (trials / "analyses.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return trials


def test_certainty_comes_from_analyses_yaml(tmp_path):
    trials = _with_certainty(tmp_path, [
        {"subgroup": "altered", "rating": "moderate", "reasons": ["imprecision: wide prediction interval"]},
        {"rating": "low", "reasons": ["inconsistency", "indirectness"]}])
    registry, results = _run(trials)
    r = next(x for x in results if x.name == "pi3k-akt-pfs")
    rows = sof.sof_rows(r, registry)
    assert [(x.subgroup, x.certainty) for x in rows] == [("altered", "moderate"), ("non-altered", "low")]
    assert sof.cells(rows[0])[5] == "\u2295\u2295\u2295\u25ef Moderate (imprecision: wide prediction interval)"
    assert sof.cells(rows[1])[5].startswith("\u2295\u2295\u25ef\u25ef Low")
    _, body, notes = sof.table(r, rows)  # in a table the reasons become lettered footnotes
    assert [b[5] for b in body] == ["\u2295\u2295\u2295\u25ef Moderate (a)", "\u2295\u2295\u25ef\u25ef Low (b, c)"]
    assert notes == ["a. imprecision: wide prediction interval", "b. inconsistency", "c. indirectness"]


def test_structured_certainty_footnotes_each_domain_and_the_suggestion_stays_apart(tmp_path):
    trials = _with_certainty(tmp_path, [{"rating": "low", "domains": {
        "risk_of_bias": {"concern": "not serious"},
        "imprecision": {"concern": "very serious", "reason": "CI includes HR 0.8 and 1.25"}}}])
    registry, results = _run(trials)
    r = next(x for x in results if x.name == "pi3k-akt-pfs")
    head, body, notes = sof.table(r, sof.sof_rows(r, registry))
    assert notes == ["a. Imprecision (very serious, -2): CI includes HR 0.8 and 1.25"]
    assert body[0][5].endswith("Low (a)")
    from trialmeta.report import grade_table

    g = grade_table.rows(r, registry)
    assert g[0][4].startswith("Reviewers: very serious (CI includes HR 0.8 and 1.25). Suggested not serious: CI")
    assert g[0][-1] == "low"  # the reviewers' rating, not a suggestion


def test_a_rating_that_disagrees_with_its_domains_is_a_located_error(tmp_path):
    trials = _with_certainty(tmp_path, [{"rating": "moderate", "domains": {
        "imprecision": {"concern": "very serious", "reason": "CI includes HR 0.8 and 1.25"}}}])
    with pytest.raises(InputError) as err:
        load_analyses(trials / "analyses.yaml")
    (p,) = err.value.problems
    assert p.path == "analyses[0].certainty[0]" and p.line is not None and "down 2 level(s) from high, to 'low'" in str(p)


def test_sof_numbers_equal_evidence_json(real):
    """Every relative effect in the SoF is the number evidence.json holds: the primary pooled estimate, the
    Bayesian one where the k = 2 note says to read it, or the trial's own estimate for a single trial."""
    import json

    from trialmeta import tables

    registry, results = real
    checked = {"primary": 0, "bayes": 0, "trial": 0}
    for r in results:
        doc = json.loads(json.dumps(tables.jsonable(r.to_dict())))  # as refresh writes it into evidence.json
        m = r.spec.measure.lower()
        groups = {g.key: d for g, d in zip(r.groups, doc["groups"])} | {"overall": doc["overall"]}
        seen: dict = {}
        for row in sof.sof_rows(r, registry):
            g = groups[row.subgroup]
            if row.single:  # the group's usable trials in order, one row each
                i = seen[row.subgroup] = seen.get(row.subgroup, -1) + 1
                st = [s for s in g["studies"] if s["usable"]][i]
                want, kind = (st[m], st["ci_low"], st["ci_high"]), "trial"
            elif row.reading:
                want, kind = (g["bayes"]["est"], g["bayes"]["ci_low"], g["bayes"]["ci_high"]), "bayes"
                assert row.replaced == (g[f"{m}_ci_low"], g[f"{m}_ci_high"])
                assert any("which interval to read" in n for n in g["notes"])
            else:
                want, kind = (g[m], g[f"{m}_ci_low"], g[f"{m}_ci_high"]), "primary"
            assert (row.est, row.ci_low, row.ci_high) == pytest.approx(want, rel=1e-12), (r.name, row.subgroup)
            checked[kind] += 1
    assert all(checked.values()), checked


def test_certainty_for_an_unknown_subgroup_is_a_located_error(tmp_path):
    trials = _with_certainty(tmp_path, [{"subgroup": "alterd", "rating": "high"}])
    with pytest.raises(InputError) as err:
        load_analyses(trials / "analyses.yaml")
    (p,) = err.value.problems
    assert "certainty[0].subgroup" in str(p) and "'alterd'" in str(p) and p.line is not None


def test_an_invented_rating_is_refused(tmp_path):
    trials = _with_certainty(tmp_path, [{"rating": "very high"}])
    with pytest.raises(InputError) as err:
        load_analyses(trials / "analyses.yaml")
    assert "certainty" in str(err.value.problems[0])


def test_markdown_and_html(real):
    registry, results = real
    md = sof.document(results, registry)
    assert md.count("| Outcome | Participants") == len(results)
    assert md.count("### GRADE: ") == len(results)
    html = sof.to_html(results[0], sof.sof_rows(results[0], registry))
    assert "<table class=\"sof\">" in html and "Summary of findings" in html


def test_k2_without_a_bayesian_result_says_what_the_hksj_interval_is(tmp_path):
    trials = tmp_path / "trials"
    shutil.copytree(TRIALS, trials)
    data = yaml.safe_load((trials / "analyses.yaml").read_text())
    a = next(x for x in data["analyses"] if x["name"] == "carfilzomib-os")
    a["settings"] = {"bayes_max_k": 0, "reason": "test: no Bayesian sensitivity result"}
    (trials / "analyses.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    registry, results = _run(trials)
    r = next(x for x in results if x.name == "carfilzomib-os")
    (row,) = sof.sof_rows(r, registry)
    assert (row.est, row.ci_low, row.ci_high) == (r.groups[0].pooled.est, r.groups[0].pooled.ci_low,
                                                  r.groups[0].pooled.ci_high) and not row.reading
    assert sof.K2_CAUTION in sof.cells(row)[2]

"""Analyses on the real registry: study selection, guards, as-of, subgroups and interaction."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from conftest import TRIALS
from trialmeta.registry.analyses import load_analyses
from trialmeta.errors import InputError
from trialmeta.synthesis.run import run_analyses
from trialmeta.registry.load import load_registry


@pytest.fixture(scope="module")
def registry():
    return load_registry(TRIALS)


@pytest.fixture(scope="module")
def spec():
    return load_analyses(TRIALS / "analyses.yaml")[0]


@pytest.fixture(scope="module")
def results(registry, spec):
    return {r.name: r for r in run_analyses(registry, spec)}


def group(result, key):
    return next(g for g in result.groups if g.key == key)


REQUIRED = ["pi3k-akt-pfs", "pi3k-akt-os", "capivasertib-pfs", "capivasertib-os", "carfilzomib-pfs",
            "carfilzomib-pfs-cytogenetics", "carfilzomib-os", "carfilzomib-orr", "pearl-pfs-ccne1"]


def test_every_clinical_question_is_defined(results):
    assert set(REQUIRED) <= set(results)


def test_latest_usable_cut_and_why_newer_was_skipped(results):
    """FAKTION ITT PFS: the 2022 update reports HR 0.56 without CI or p, so the 2020 cut
    (0.58 (0.39-0.84)) is used and the output says why (fact sheet section 3)."""
    faktion = next(s for s in group(results["capivasertib-pfs"], "all").studies if s.trial == "faktion")
    assert faktion.row["data_cut"] == "primary-2020" and faktion.row["hr"] == 0.58
    assert faktion.skipped and "update-2022" in faktion.skipped[0] and "no standard error" in faktion.skipped[0]
    assert any("update-2022" in s["skipped"][0] for g in results["capivasertib-pfs"].to_dict()["groups"]
               for s in g["studies"] if s["skipped"])


def test_latest_os_cuts_are_used(results):
    """ASPIRE final OS 0.79 (0.67-0.95) replaces interim 0.79 (0.63-0.99); ENDEAVOR updated OS
    0.76 (0.633-0.915) replaces 0.791 (0.648-0.964) (fact sheet discrepancy 7)."""
    studies = {s.trial: s.row for s in group(results["carfilzomib-os"], "all").studies}
    assert (studies["aspire"]["ci_low"], studies["aspire"]["ci_high"]) == (0.67, 0.95)
    assert (studies["endeavor"]["hr"], studies["endeavor"]["ci_low"]) == (0.76, 0.633)


def test_interaction_uses_only_trials_with_both_subgroups(results):
    """PFS: SOLAR-1 (0.65 vs 0.85) and CAPItello-291 (0.50 vs 0.70); FAKTION has no verified
    non-altered PFS. Per-trial ratios 0.65/0.85 and 0.50/0.70."""
    it = results["pi3k-akt-pfs"].interaction
    assert it.trials == ("SOLAR-1", "CAPItello-291") and it.k == 2
    assert [t.ratio for t in it.per_trial] == pytest.approx([0.65 / 0.85, 0.50 / 0.70])
    # SOLAR-1 by hand from the published CIs: SE = ln(U/L)/(2*1.959964); z = ln(0.65/0.85)/sqrt(sum SE^2)
    se = (math.log(0.85 / 0.50) / 3.919928, math.log(1.25 / 0.58) / 3.919928)
    z = math.log(0.65 / 0.85) / math.hypot(*se)
    assert it.per_trial[0].p == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-6)
    os_it = results["pi3k-akt-os"].interaction
    assert os_it.trials == ("FAKTION",)
    assert os_it.ratio == pytest.approx(0.46 / 0.86)


def test_evidence_footers_show_each_trials_interaction_and_how_they_were_pooled(results):
    """Carfilzomib PFS by cytogenetic risk, high vs standard: ASPIRE 0.70 [0.43, 1.16] vs
    0.66 [0.48, 0.90] (ratio 1.06); ENDEAVOR 0.65 [0.45, 0.92] vs 0.44 [0.33, 0.58] (ratio 1.48).
    Wald CI of each ratio by hand from the published CIs (SE = ln(U/L) / 3.919928)."""
    from trialmeta.report.evidence import footers

    r = results["carfilzomib-pfs-cytogenetics"]
    line = next(x for x in footers(r) if x.startswith("Within-trial interaction by trial"))
    for (hr_a, lo_a, hi_a), (hr_b, lo_b, hi_b), trial in (((0.70, 0.43, 1.16), (0.66, 0.48, 0.90), "ASPIRE"),
                                                        ((0.65, 0.45, 0.92), (0.44, 0.33, 0.58), "ENDEAVOR")):
        se = math.hypot(math.log(hi_a / lo_a) / 3.919928, math.log(hi_b / lo_b) / 3.919928)
        d = math.log(hr_a / hr_b)
        expect = f"{trial} {math.exp(d):.2f} [{math.exp(d - 1.959964 * se):.2f}, {math.exp(d + 1.959964 * se):.2f}]"
        assert expect in line, (expect, line)
    assert "Pooled on the log scale: IV, random (REML, HKSJ), 95% CI" in line
    assert "heterogeneity: Tau\u00b2 = 0.00; Chi\u00b2 = 0.76, df = 1" in line
    # a single-trial interaction has nothing to pool: no such line
    assert not any(x.startswith("Within-trial interaction by trial") for x in footers(results["pi3k-akt-os"]))


def test_subgroup_test_and_caveat(results):
    r = results["pi3k-akt-pfs"]
    assert r.subgroup_test.df_between == 1
    assert any("observational" in n for n in r.notes)


def test_pearl_is_shown_not_pooled_and_not_tested(results):
    r = results["pearl-pfs-ccne1"]
    assert all(g.pooled is None for g in r.groups) and r.subgroup_test is None
    assert [s.row["hr"] for g in r.groups for s in g.studies] == [1.13, 1.63]


def test_orr_risk_ratio_from_derived_counts(results):
    """ASPIRE 345/396 vs 264/396 (87.1% vs 66.7%), derived; RR = 345/264."""
    aspire = next(s for s in group(results["carfilzomib-orr"], "all").studies if s.trial == "aspire")
    assert math.exp(aspire.log_est) == pytest.approx(345 / 264)


def _spec_with(tmp_path: Path, analysis: dict) -> Path:
    path = tmp_path / "analyses.yaml"
    path.write_text(yaml.safe_dump({"analyses": [analysis]}, sort_keys=False))
    return path


BASE = {"name": "x", "title": "t", "question": "q", "endpoint": "PFS", "experimental": "e", "control": "c"}


def test_trial_twice_in_one_pool_is_refused_naming_both(tmp_path, registry):
    spec, lines = load_analyses(_spec_with(tmp_path, {**BASE, "subgroups": [
        {"key": "all", "label": "All", "studies": [{"trial": "capitello-291", "population": "itt"},
                                                     {"trial": "capitello-291", "population": "akt-altered"}]}]}))
    with pytest.raises(InputError) as exc:
        run_analyses(registry, spec, spec_file="analyses.yaml", lines=lines)
    assert "trial CAPItello-291 would contribute twice (populations 'itt' and 'akt-altered')" in str(exc.value)
    assert "analyses.yaml:2: analyses[0] (x)" in str(exc.value)


def test_overall_pool_with_a_trial_in_two_subgroups_is_refused(tmp_path, registry):
    spec, _ = load_analyses(_spec_with(tmp_path, {**BASE, "overall": True, "subgroups": [
        {"key": "a", "label": "A", "studies": [{"trial": "solar-1", "population": "pik3ca-mutated"}]},
        {"key": "b", "label": "B", "studies": [{"trial": "solar-1", "population": "pik3ca-non-mutated"}]}]}))
    with pytest.raises(InputError, match="overall pool: trial SOLAR-1 would contribute twice"):
        run_analyses(registry, spec)


def test_unknown_population_in_analysis_is_located(tmp_path, registry):
    spec, _ = load_analyses(_spec_with(tmp_path, {**BASE, "subgroups": [
        {"key": "a", "label": "A", "studies": [{"trial": "faktion", "population": "nope"}]}]}))
    with pytest.raises(InputError, match="trial 'faktion' has no population 'nope'"):
        run_analyses(registry, spec)



def test_a_population_without_responder_counts_is_listed_not_pooled(tmp_path, registry):
    """ENDEAVOR's high-risk-cytogenetics ORR row has no responder counts (its log RR is NaN in the
    results table, not None): the study is shown as not usable with that reason, and the
    subgroup as not estimable, instead of the pool failing on a NaN estimate."""
    spec, _ = load_analyses(_spec_with(tmp_path, {**BASE, "endpoint": "ORR", "measure": "RR", "subgroups": [
        {"key": "all", "label": "All", "studies": [{"trial": "aspire", "population": "itt"},
                                                   {"trial": "endeavor", "population": "itt"}]},
        {"key": "cyto", "label": "Cyto", "studies": [{"trial": "endeavor", "population": "cyto-high"}]}]}))
    (r,) = run_analyses(registry, spec)
    (study,) = group(r, "cyto").studies
    assert not study.usable and study.reason == "no responder counts per arm"
    assert group(r, "cyto").pooled is None and group(r, "all").pooled.k == 2

def test_nested_populations_are_not_compared(tmp_path, registry):
    """CAPItello-291 ITT vs its own altered subgroup share patients: no subgroup test."""
    spec, _ = load_analyses(_spec_with(tmp_path, {**BASE, "interaction": ["a", "b"], "subgroups": [
        {"key": "a", "label": "A", "studies": [{"trial": "capitello-291", "population": "itt"}]},
        {"key": "b", "label": "B", "studies": [{"trial": "capitello-291", "population": "akt-altered"}]}]}))
    (r,) = run_analyses(registry, spec)
    assert r.subgroup_test is None and r.interaction is None
    assert any("share patients (one is nested in the other)" in n for n in r.notes)


def test_as_of_reproduces_the_evidence_before_the_2022_faktion_update(registry, spec):
    """--as-of 2021-12-31: FAKTION's 2022 cut (published 2022-06) is not used; its pathway-altered
    PFS did not exist yet, so the altered subgroup has SOLAR-1 only."""
    (r,) = run_analyses(registry, spec, as_of="2021-12-31", only="pi3k-akt-pfs")
    altered = group(r, "altered")
    assert [s.trial for s in altered.usable] == ["solar-1"]
    assert r.as_of == "2021-12-31"
    (os_r,) = run_analyses(registry, spec, as_of="2021-12-31", only="capivasertib-os")
    faktion = group(os_r, "all").usable
    assert [(s.trial, s.row["data_cut"], s.row["hr"]) for s in faktion] == [("faktion", "primary-2020", 0.59)]
    # the notes name what was left out of *this* analysis: its trials and endpoint, nobody else's
    left_out = [n for n in r.notes if "left out" in n]
    assert "as of 2021-12-31: left out FAKTION pathway-altered PFS (update-2022, published 2022-06)" in left_out
    assert not any(acr in n for n in left_out for acr in ("ASPIRE", "ENDEAVOR", "PEARL"))
    assert not any(" OS (" in n for n in left_out)


def test_pool_json_contract(run_cli):
    import json

    code, out, err = run_cli("pool", "--format", "json")
    assert code == 0, err
    analyses = json.loads(out)["analyses"]
    first = analyses[0]
    for key in ("name", "question", "endpoint", "method", "ci_method", "level", "groups", "subgroup_test",
                "interaction", "notes"):
        assert key in first
    assert {"ratio_hr", "ci_low", "ci_high", "p", "k", "trials"} <= set(first["interaction"])
    study = first["groups"][0]["studies"][0]
    assert {"trial", "population", "data_cutoff", "log_hr", "se", "weight", "source"} <= set(study)
    assert {a["name"] for a in analyses} >= set(REQUIRED)


@pytest.mark.parametrize("fmt", ["table", "csv", "md"])
def test_pool_formats(fmt, run_cli):
    code, out, err = run_cli("pool", "--analysis", "carfilzomib-os", "--format", fmt)
    assert code == 0, err
    assert "0.78 [0.61, 0.99]" in out or fmt == "csv"


def test_pool_bad_analysis_name(run_cli):
    code, _, err = run_cli("pool", "--analysis", "pi3k-pfs")
    assert code == 2 and "unknown analysis 'pi3k-pfs'" in err and "Traceback" not in err


def test_hksj_narrower_than_wald_is_flagged_and_wider_is_not():
    """Five near-identical studies (Q << df): the HKSJ scale Q/(k-1) shrinks the CI below Wald
    (Jackson et al. 2017); the PI3K/AKT altered subgroup (t(2) = 4.30) is wider and not flagged."""
    import numpy as np

    from trialmeta.stats.notes import NoteKind, has
    from trialmeta.stats.pooling import PoolSettings, pool_many

    y, se = np.array([0.0, 0.01, 0.02, -0.01, 0.0]), np.full(5, 0.2)
    r = pool_many([(y, se)], PoolSettings(method="reml", ci="hksj"), ["tight"])[0]
    assert r.se < r.se_wald and has(r.notes, NoteKind.HKSJ_NARROWER)
    assert str(next(n for n in r.notes if n.kind is NoteKind.HKSJ_NARROWER)).startswith("the HKSJ CI is narrower than the Wald CI")
    wide = pool_many([(np.log([0.65, 0.50, 0.44]), np.array([0.1356, 0.1339, 0.2570]))],
                     PoolSettings(method="reml", ci="hksj"), ["altered"])[0]
    assert wide.se < wide.se_wald and not has(wide.notes, NoteKind.HKSJ_NARROWER)

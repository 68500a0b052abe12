"""Digitised KM figures referenced from a trial file: validated, reconstructed, fed to analyses.

The figure is tests/data/km/{curves,at-risk}.csv: a simulated trial (60 patients per arm,
38 and 49 events; tests/guyot_simulate.py, parameters in the files' headers), never a
publication. The trial file below is a fixture written for these tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT

KM = ROOT / "tests" / "data" / "km"

TRIAL = """\
id: sim-1
acronym: SIM-1
nct_id: NCT00000000
phase: "3"
design: {randomisation: "1:1", blinding: double-blind, placebo_controlled: true}
disease: Simulated disease (test fixture)
setting: Test fixture, not a trial
line_of_therapy: First line
primary_endpoint: PFS
arms:
  experimental: {label: Drug A, drugs: [drug-a], drug_class: test, n: 60}
  control: {label: Placebo, drugs: [placebo], drug_class: placebo, n: 60}
publications:
  - {key: sim2026, kind: journal, citation: Simulated publication (test fixture), published: 2026-01}
data_cuts:
  - {key: primary, label: Primary analysis, cutoff: 2025-06-01, publication: sim2026}
populations:
  - {key: itt, label: All patients, definition: All randomised patients, biomarker: all-patients}
results:
  - population: itt
    endpoint: PFS
    data_cut: primary
    assessment: investigator
    median_exp: 12.0
    events_exp: 38
    events_ctrl: 49
    km:
      curves: km/curves.csv
      at_risk: km/at-risk.csv
      source: sim2026
      figure: Figure 2
    sources: [sim2026]
sources: [sim2026]
"""

ANALYSES = """\
analyses:
  - name: sim-pfs
    title: "SIM-1: drug A vs placebo, PFS"
    question: Does drug A prolong PFS in the simulated trial?
    endpoint: PFS
    experimental: drug A
    control: placebo
    subgroups:
      - key: all
        label: All patients
        studies:
          - {trial: sim-1, population: itt}
"""


def registry_dir(tmp_path: Path, trial: str = TRIAL, analyses: str = ANALYSES, at_risk: str = "at-risk.csv") -> Path:
    root = tmp_path / "trials"
    (root / "km").mkdir(parents=True)
    shutil.copy(KM / "curves.csv", root / "km" / "curves.csv")
    shutil.copy(KM / at_risk, root / "km" / "at-risk.csv")
    (root / "sim-1.yaml").write_text(trial)
    (root / "analyses.yaml").write_text(analyses)
    return root


def test_reconstruction_becomes_columns_of_the_results_table(tmp_path):
    from trialmeta.registry.frame import results_frame
    from trialmeta.survival.reconstruct import reconstruct
    from trialmeta.registry.load import load_registry

    registry = load_registry(registry_dir(tmp_path))
    row = results_frame(registry).iloc[0]
    # the same reconstruction as `trialmeta reconstruct tests/data/km/curves.csv tests/data/km/at-risk.csv`
    direct = reconstruct((KM / "curves.csv").read_text(), (KM / "at-risk.csv").read_text(),
                         events={"experimental": 38, "control": 49})
    assert row["derivation"] == "reconstructed-ipd"  # no HR, CI or p published: reconstructed IPD
    assert row["log_hr"] == pytest.approx(direct.analysis.log_hr, rel=1e-12)
    assert row["km_hr"] == pytest.approx(direct.analysis.hr, rel=1e-12)
    assert row["rmst_diff"] == pytest.approx(direct.analysis.rmst_diff, rel=1e-12)
    assert row["rmst_horizon"] == pytest.approx(direct.analysis.horizon)
    assert 0.4 < row["km_hr"] < 0.9  # the simulated truth is 0.6


def test_reported_hr_with_ci_outranks_the_reconstruction(tmp_path):
    from trialmeta.registry.frame import results_frame
    from trialmeta.registry.load import load_registry

    trial = TRIAL.replace("    median_exp: 12.0\n", "    hr: 0.62\n    ci: [0.40, 0.95]\n")
    row = results_frame(load_registry(registry_dir(tmp_path, trial))).iloc[0]
    assert row["derivation"] == "hr-ci" and row["hr"] == 0.62
    assert row["rmst_diff"] is not None  # the RMST is still reported


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    from trialmeta.cli.main import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_analysis_uses_reconstructed_hr_only_when_allowed(tmp_path, capsys):
    root = registry_dir(tmp_path)
    code, out, _ = run(["pool", str(root), "--format", "json"], capsys)
    assert code == 0
    study = json.loads(out)["analyses"][0]["groups"][0]["studies"][0]
    assert study["usable"] is False and "allow_reconstructed" in study["reason"]

    (root / "analyses.yaml").write_text(ANALYSES + "    settings:\n      allow_reconstructed: true\n"
                                        "      reason: no HR was published; the KM figure was digitised\n")
    code, out, _ = run(["pool", str(root), "--format", "json"], capsys)
    group = json.loads(out)["analyses"][0]["groups"][0]
    assert code == 0 and group["studies"][0]["derivation"] == "reconstructed-ipd"
    assert group["k"] == 1 and group["hr"] == pytest.approx(group["studies"][0]["hr"], rel=1e-12)


def test_refresh_writes_km_figure_and_rmst_column(tmp_path, capsys):
    root = registry_dir(tmp_path)
    out = tmp_path / "outputs"
    code, _, err = run(["refresh", str(root), "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    stem = out / "km" / "sim-1-pfs-itt-primary"
    for suffix in (".png", ".svg"):
        assert stem.with_suffix(suffix).stat().st_size > 1000
    ipd = (out / "km" / "sim-1-pfs-itt-primary-ipd.csv").read_text().splitlines()
    assert ipd[0] == "arm,time,event" and len(ipd) == 1 + 120  # one line per patient
    table = (out / "tables" / "sim-pfs.md").read_text()
    assert "RMST difference (mo) [CI] at horizon" in table
    evidence = json.loads((out / "evidence.json").read_text())
    assert any(f.endswith("km/curves.csv") for f in evidence["inputs"]["files"])  # curves are inputs
    assert 'id="km-sim-1-pfs-itt-primary' in (out / "report.html").read_text()


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("curves: km/curves.csv", "curves: km/missing.csv"),
     "sim-1.yaml:{line}: results[0].km.curves: file not found: "),
    (lambda t: t.replace("source: sim2026\n      figure", "source: sim2025\n      figure"),
     "results[0].km.source: unknown publication 'sim2025'"),
    (lambda t: t.replace("n: 60}\n  control", "n: 61}\n  control"),
     "km/at-risk.csv:4: n_at_risk: first at-risk count 60 of arm 'experimental' is not the randomised n = 61 ("),
])
def test_bad_km_blocks_are_located_errors(tmp_path, capsys, edit, message):
    root = registry_dir(tmp_path, edit(TRIAL))
    code, out, err = run(["validate", str(root)], capsys)
    assert code == 1 and "Traceback" not in err
    line = next(i for i, text in enumerate(edit(TRIAL).splitlines(), 1) if "curves:" in text)
    assert message.format(line=line) in err, err


def test_km_block_on_a_binary_endpoint_is_refused(tmp_path, capsys):
    trial = TRIAL.replace("    endpoint: PFS\n", "    endpoint: ORR\n", 1).replace(
        "    median_exp: 12.0\n    events_exp: 38\n    events_ctrl: 49\n",
        "    responders_exp: 30\n    responders_ctrl: 20\n")
    code, _, err = run(["validate", str(registry_dir(tmp_path, trial))], capsys)
    assert code == 1 and "results[0].km: a Kaplan-Meier figure needs a time-to-event endpoint, not ORR" in err


def test_events_far_from_the_trial_file_are_located_at_its_field(tmp_path, capsys):
    """The trial file says 20 experimental events; the figure needs 37 before its last at-risk time."""
    trial = TRIAL.replace("events_exp: 38", "events_exp: 20")
    code, _, err = run(["validate", str(registry_dir(tmp_path, trial))], capsys)
    line = next(i for i, text in enumerate(trial.splitlines(), 1) if "events_exp:" in text)
    assert code == 1
    assert (f"sim-1.yaml:{line}: results[0].events_exp: 37 events reconstructed in the experimental arm, 20 "
            f"published (results[0].events_exp): more than 10% (and 2 events) apart") in err, err
    assert "to reconstruct anyway, set 'accept_event_mismatch: true' in results[0].km" in err


def test_an_accepted_event_mismatch_is_in_the_results_table_and_the_figure(tmp_path, capsys):
    from trialmeta.plot.km import km_scene
    from trialmeta.registry.frame import results_frame
    from trialmeta.registry.load import load_registry

    trial = TRIAL.replace("events_exp: 38", "events_exp: 20").replace(
        "      figure: Figure 2\n", "      figure: Figure 2\n      accept_event_mismatch: true\n")
    registry = load_registry(registry_dir(tmp_path, trial))
    note = "37 events reconstructed in the experimental arm, 20 published (results[0].events_exp)"
    assert results_frame(registry).iloc[0]["km_event_mismatch"] == note
    assert any(note in str(w) for w in registry.warnings)
    scene = km_scene(registry.curves[("sim-1", 0)])
    texts = [item.text for panel in scene.panels for item in panel.items if item.role == "event-mismatch"]
    assert texts == ["Events differ from the publication: experimental arm 37 reconstructed vs 20 published"]
    # without a mismatch the column is empty
    assert results_frame(load_registry(registry_dir(tmp_path / "ok"))).iloc[0]["km_event_mismatch"] is None

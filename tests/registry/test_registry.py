"""The curated registry: the trial files are valid and say what the fact sheet says.

Numbers are checked against the publications named in the trial files (section and source in each
comment). The tidy results table keeps its column contract.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT, TRIALS
from trialmeta import load_trials, results_frame
from trialmeta.registry.frame import COLUMNS

CONTRACT = ["trial", "population", "biomarker", "endpoint", "data_cutoff", "publication", "hr", "ci_low",
            "ci_high", "ci_level", "log_hr", "se", "derivation", "median_exp", "median_ctrl", "n_exp", "n_ctrl",
            "events_exp", "events_ctrl", "source"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return results_frame(load_trials(TRIALS))


def one(frame, trial, population, endpoint, cut) -> dict:
    rows = frame[(frame.trial == trial) & (frame.population == population) & (frame.endpoint == endpoint)
                 & (frame.data_cut == cut)]
    assert len(rows) == 1, (trial, population, endpoint, cut, len(rows))
    return rows.iloc[0].to_dict()


def test_six_trials_validate(run_cli):
    code, out, err = run_cli("validate", "trials/")
    assert code == 0, err
    assert out.startswith("6 trials valid")
    for acronym in ("SOLAR-1", "CAPItello-291", "FAKTION", "PEARL", "ASPIRE", "ENDEAVOR"):
        assert acronym in out
    assert "warning" not in err


def test_tidy_table_column_contract(frame):
    assert list(frame.columns[: len(CONTRACT)]) == CONTRACT
    assert list(frame.columns) == COLUMNS
    assert not frame.duplicated(["trial", "population", "endpoint", "data_cut", "assessment"]).any()


def test_faktion_trap_os_is_not_pfs(frame):
    """Fact sheet section 3 / discrepancy 1: 0.66 (0.45-0.97) is 2022 ITT OS, not PFS; ITT PFS is
    0.58 (0.39-0.84) in 2020 and 0.56 (no CI) in 2022."""
    os22 = one(frame, "faktion", "itt", "OS", "update-2022")
    assert (os22["hr"], os22["ci_low"], os22["ci_high"]) == (0.66, 0.45, 0.97)
    pfs20 = one(frame, "faktion", "itt", "PFS", "primary-2020")
    assert (pfs20["hr"], pfs20["ci_low"], pfs20["ci_high"]) == (0.58, 0.39, 0.84)
    assert (pfs20["events_exp"], pfs20["events_ctrl"]) == (49, 63)  # [F2]
    pfs22 = one(frame, "faktion", "itt", "PFS", "update-2022")
    assert pfs22["hr"] == 0.56 and pd.isna(pfs22["ci_low"]) and pfs22["derivation"] == "none"
    assert not (frame[(frame.trial == "faktion") & (frame.endpoint == "PFS")]["hr"] == 0.66).any()


def test_faktion_derivation_is_parmar(frame):
    """SE = (ln 0.84 - ln 0.39) / (2 x 1.959964) = 0.195745 (Parmar 1998 eq. 7)."""
    row = one(frame, "faktion", "itt", "PFS", "primary-2020")
    assert row["se"] == pytest.approx((math.log(0.84) - math.log(0.39)) / (2 * 1.959963984540054), rel=1e-12)
    assert row["log_hr"] == pytest.approx(math.log(0.58))
    assert row["derivation"] == "hr-ci"
    assert row["n_exp"] == 69 and row["n_ctrl"] == 71


def test_every_row_has_a_known_source(frame):
    registry = load_trials(TRIALS)
    for t in registry.trials:
        keys = {p.key for p in t.trial.publications}
        for r in t.trial.results:
            assert set(r.sources) <= keys
    assert frame["source"].str.len().gt(0).all()


def test_hr_direction_is_experimental_vs_control(frame):
    """PEARL HRs are palbociclib + ET vs capecitabine: cohort-2 PFS aHR 1.13 (0.85-1.50) > 1
    (fact sheet section 4, discrepancy 9); SOLAR-1 must not hold the inverted 1.54 / 1.18."""
    pearl = frame[(frame.trial == "pearl") & (frame.endpoint == "PFS") & frame.hr.notna()]
    assert (pearl.hr == 1.13).any()
    solar = frame[frame.trial == "solar-1"]
    assert not solar.hr.isin([1.54, 1.18]).any()


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_results_command_formats(fmt, run_cli):
    code, out, err = run_cli("results", "trials/", "--format", fmt)
    assert code == 0, err
    if fmt == "json":
        data = json.loads(out)["results"]
        assert set(CONTRACT) <= set(data[0])
    elif fmt == "csv":
        assert out.splitlines()[0].startswith(",".join(CONTRACT))
    else:
        assert "FAKTION" in out


def test_results_are_deterministic(run_cli):
    first = run_cli("results", "trials/", "--format", "csv")[1]
    assert run_cli("results", "trials/", "--format", "csv")[1] == first


def test_schema_command_matches_committed_schema(run_cli):
    """The trial files point editors at trials/trial.schema.json; it must be current."""
    code, out, _ = run_cli("schema")
    assert code == 0
    assert json.loads(out) == json.loads((TRIALS / "trial.schema.json").read_text())
    for path in TRIALS.glob("*.yaml"):
        if path.name != "analyses.yaml":
            assert path.read_text().startswith("# yaml-language-server: $schema=trial.schema.json")


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "trialmeta", "validate", "trials/", "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    bad = subprocess.run([sys.executable, "-m", "trialmeta", "validate", "tests/data/invalid/ci-reversed.yaml"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr

"""Each file in tests/data/invalid/ holds exactly one defect; validate must name file, line,
field and value for it, exit 1, and print no traceback."""

from __future__ import annotations

import pytest

from conftest import DATA

INVALID = DATA / "invalid"

# file stem -> (line, the located message that must appear)
CASES = {
    "hr-negative": (52, "results[0].hr: input should be greater than 0 (got -0.58)"),
    "ci-reversed": (53, "results[0].ci: lower bound 0.84 is above upper bound 0.39 (got [0.84, 0.39])"),
    "hr-outside-ci": (52, "results[0].hr: hr 0.95 is outside its CI [0.39, 0.84]"),
    "ci-level-out-of-range": (54, "results[0].ci_level: CI level must be a fraction between 0 and 1, got 95 "
                                  "(for a 95% CI write 0.95)"),
    "ci-without-hr": (52, "results[0].ci: a CI is given without the hr it belongs to"),
    "median-negative": (56, "results[0].median_exp: input should be 'NR' or 'NE', or greater than 0 "
                            "(got -10.3)"),
    "median-outside-ci": (56, "results[0].median_exp: median 10.3 is outside its CI [11.0, 14.5]"),
    "events-exceed-n": (58, "results[0].events_exp: 90 events is more than the 69 patients in the arm (got 90)"),
    "responders-exceed-n": (66, "results[1].responders_ctrl: 76 responders is more than the 71 patients in "
                                "the arm (got 76)"),
    "rate-disagrees": (66, "results[1].rate_exp: rate 39% disagrees with responders 20/69 = 29.0%"),
    "cutoff-after-publication": (33, "data_cuts[0].cutoff: data cut-off 2021-06-30 is after the publication "
                                     "date 2020-03 of 'jones2020'"),
    "unknown-population": (48, "results[0].population: unknown population 'ITT-all' (did you mean 'itt'?)"),
    "unknown-data-cut": (50, "results[0].data_cut: unknown data cut 'primray' (did you mean 'primary'?)"),
    "unknown-publication": (34, "data_cuts[0].publication: unknown publication 'jones2021' "
                                "(did you mean 'jones2020'?)"),
    "unknown-source": (60, "results[0].sources[1]: unknown source (publication key) 'andre2019'"),
    "unknown-nested-in": (46, "populations[1].nested_in: unknown population 'intention-to-treat'"),
    "duplicate-result": (62, "results[1].endpoint: duplicate result: population 'itt', endpoint PFS, "
                             "data cut 'primary', assessment investigator is also results[0]"),
    "duplicate-population-key": (42, "populations[1].key: duplicate key 'itt' (also populations[0])"),
    "unknown-biomarker": (45, "populations[1].biomarker: unknown biomarker category 'pi3k-altered' "
                              "(did you mean 'pi3k-akt-altered'?)"),
    "unknown-endpoint": (49, "results[0].endpoint: unknown endpoint 'Pfs' (did you mean 'PFS'?)"),
    "unknown-assessment": (51, "results[0].assessment: unknown assessment 'blinded'"),
    "unknown-field": (52, "results[0].hazard_ratio: unknown field 'hazard_ratio' (did you mean 'hr'?)"),
    "wrong-type": (52, "results[0].hr: input should be a valid number (got 'abc')"),
    "count-not-integer": (58, "results[0].events_exp: input should be a valid integer"),
    "p-without-sidedness": (48, "results[0].p_sided: give p_sided (one, two or unspecified) with every p-value"),
    "p-malformed": (54, "results[0].p: expected a p-value like 0.035 or '<0.001', got 'p<0.05'"),
    "bad-date": (29, "publications[0].published: not a calendar date: '2020-13'"),
    # unquoted YYYY-MM-DD is a YAML timestamp: PyYAML itself would fail the whole file on it
    "bad-full-date": (29, "publications[0].published: not a calendar date: '2020-02-30' (day is out of range "
                          "for month)"),
    "bad-nct-id": (4, "nct_id: string should match pattern '^NCT\\d{8}$' (got 'NCT0199')"),
    "missing-field": (2, "nct_id: required field is missing"),
    "binary-endpoint-with-hr": (65, "results[1].hr: hr does not apply to the binary endpoint ORR"),
    "duplicate-yaml-key": (53, "results[0].hr: duplicate key 'hr' (first given on line 52)"),
    "malformed-yaml": (54, "YAML syntax error: did not find expected ',' or ']'"),  # libyaml's wording
    "not-a-mapping": (1, "expected a mapping of trial fields, got list"),
    "empty": (1, "file is empty"),
    "n-total-mismatch": (42, "populations[0].n_total: n_total 150 is not n_exp + n_ctrl = 69 + 71 = 140"),
}


def test_every_invalid_file_has_a_case():
    assert {p.stem for p in INVALID.glob("*.yaml")} == set(CASES)


@pytest.mark.parametrize("stem", sorted(CASES))
def test_invalid_file_is_located(stem, run_cli):
    line, message = CASES[stem]
    code, out, err = run_cli("validate", f"tests/data/invalid/{stem}.yaml")
    assert code == 1
    assert f"tests/data/invalid/{stem}.yaml:{line}: {message}" in err
    assert "Traceback" not in err + out
    assert err.rstrip().endswith("found.")


def test_duplicate_trial_ids_across_files(run_cli):
    code, _, err = run_cli("validate", "tests/data/invalid/duplicate-trial-id")
    assert code == 1
    assert ("tests/data/invalid/duplicate-trial-id/first.yaml:2: id: duplicate trial id 'minimal' "
            "(also in tests/data/invalid/duplicate-trial-id/second.yaml)") in err


def test_problems_from_all_files_are_reported_together(tmp_path, run_cli):
    for stem in ("ci-reversed", "unknown-biomarker", "malformed-yaml"):
        (tmp_path / f"{stem}.yaml").write_text((INVALID / f"{stem}.yaml").read_text())
    code, _, err = run_cli("validate", tmp_path)
    assert code == 1
    assert "ci-reversed.yaml:53: results[0].ci" in err
    assert "unknown-biomarker.yaml:45: populations[1].biomarker" in err
    assert "malformed-yaml.yaml:54: YAML syntax error" in err
    assert "3 errors found." in err


def test_asymmetric_ci_is_a_warning_showing_both_ses(run_cli):
    code, out, err = run_cli("validate", "tests/data/valid/asymmetric-ci.yaml")
    assert code == 0
    # ln(0.58/0.39)/1.96 = 0.2025 and ln(0.99/0.58)/1.96 = 0.2728
    assert ("asymmetric-ci.yaml:53: warning: results[0].ci: CI [0.39, 0.99] is asymmetric around hr 0.58 "
            "on the log scale by +0.1378") in err
    assert "SE from the lower bound 0.2025, from the upper bound 0.2728" in err
    assert "1 trial valid (1 warning)" in out


def test_rounded_cis_of_the_registry_are_not_flagged(run_cli):
    """Published CIs rounded to 2-3 decimals (e.g. ENDEAVOR 0.76 (0.633-0.915)) are within the
    rounding allowance: no asymmetry warnings on the real trials."""
    code, _, err = run_cli("validate", "trials")
    assert code == 0
    assert "asymmetric" not in err


@pytest.mark.parametrize("args", [("validate", "no/such/dir"), ("results", "--format", "xml"), ("frobnicate",)])
def test_usage_errors_exit_2(args, run_cli):
    code, _, err = run_cli(*args)
    assert code == 2
    assert "Traceback" not in err


def test_validate_checks_the_analyses_beside_the_trials(run_cli, tmp_path):
    """A directory is the whole registry: validate also resolves trials/analyses.yaml, so a
    mistyped trial id there fails here, located, not later in refresh."""
    import shutil

    from conftest import TRIALS

    shutil.copytree(TRIALS, tmp_path / "trials")
    spec = tmp_path / "trials" / "analyses.yaml"
    text = spec.read_text()
    assert "trials: [capitello-291, faktion]" in text
    spec.write_text(text.replace("trials: [capitello-291, faktion]", "trials: [capitelo-291, faktion]", 1))
    code, out, err = run_cli("validate", str(tmp_path / "trials"))
    assert code == 1 and "Traceback" not in err + out
    assert "analyses.yaml:" in err
    assert "unknown trial 'capitelo-291' (did you mean 'capitello-291'?)" in err
    code, out, _ = run_cli("validate")
    assert code == 0 and "12 analyses in trials/analyses.yaml resolve and respect the guards" in out

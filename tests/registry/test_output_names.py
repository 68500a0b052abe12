"""Analysis names become file names and report anchors, so they are slugs that no derived
name (`<name>-history.csv`, `trial-<id>-<endpoint>.svg`, a report section) can collide with."""

from __future__ import annotations

import pytest

from tiny_registry import ANALYSES, tiny_registry


@pytest.mark.parametrize("name, message", [
    ("minimal.pfs", "analysis names are lower-case letters and digits joined by single '-'"),
    ("Minimal-PFS", "analysis names are lower-case letters and digits"),
    ("minimal--pfs", "analysis names are lower-case letters and digits"),
    ("../escape", "analysis names are lower-case letters and digits"),
    ("other-history", "would collide with a derived output name"),
    ("other-document", "would collide with a derived output name"),
    ("trial-minimal-pfs", "would collide with a derived output name"),
    ("methods", "would collide with a derived output name"),
])
def test_a_colliding_analysis_name_is_a_located_error(tmp_path, run_cli, name, message):
    trials = tiny_registry(tmp_path)
    (trials / "analyses.yaml").write_text(ANALYSES.replace("name: minimal-pfs", f"name: {name!r}"))
    line = ANALYSES.splitlines().index("  - name: minimal-pfs") + 1
    code, _, err = run_cli("validate", trials, cwd=tmp_path)
    assert code == 1, err
    assert f"trials/analyses.yaml:{line}: analyses[0].name: " in err and message in err, err


def test_two_analyses_whose_outputs_collided_before_are_refused(tmp_path, run_cli):
    """`a` writes tables/a-history.csv; an analysis named `a-history` would overwrite it."""
    trials = tiny_registry(tmp_path)
    second = ANALYSES.split("analyses:\n", 1)[1].replace("name: minimal-pfs", "name: minimal-pfs-history")
    (trials / "analyses.yaml").write_text(ANALYSES + second)
    code, _, err = run_cli("refresh", "--quiet", cwd=tmp_path)
    assert code == 1 and "analyses[1].name" in err and "-history" in err, err
    assert not (tmp_path / "outputs").exists()


def test_two_km_results_whose_names_join_to_the_same_stem_are_refused(tmp_path, run_cli):
    """Issue 29: trial-endpoint-population-cut joined by '-' (keys may hold '-'): population
    `itt` with cut `late-primary` and population `itt-late` with cut `primary` both made
    km/sim-1-pfs-itt-late-primary.*, the second overwriting the first."""
    from test_km_registry import TRIAL, registry_dir

    result = TRIAL[TRIAL.index("  - population: itt\n"):TRIAL.rindex("\nsources: [sim2026]\n") + 1]
    trial = (TRIAL.replace("  - {key: primary, label: Primary analysis, cutoff: 2025-06-01, publication: sim2026}\n",
                           "  - {key: primary, label: Primary analysis, cutoff: 2025-06-01, publication: sim2026}\n"
                           "  - {key: late-primary, label: Late, cutoff: 2025-09-01, publication: sim2026}\n")
             .replace("  - {key: itt, label: All patients, definition: All randomised patients, biomarker: all-patients}\n",
                      "  - {key: itt, label: All patients, definition: All randomised patients, biomarker: all-patients}\n"
                      "  - {key: itt-late, label: Late, definition: All randomised patients, biomarker: all-patients}\n")
             .replace(result, result.replace("data_cut: primary", "data_cut: late-primary")
                      + result.replace("population: itt", "population: itt-late")))
    root = registry_dir(tmp_path, trial=trial)
    code, _, err = run_cli("validate", root, cwd=tmp_path)
    assert code == 1, err
    assert "results[1].km: its files km/sim-1-pfs-itt-late-primary.* would overwrite those of trials/sim-1.yaml " \
           "results[0]" in err, err

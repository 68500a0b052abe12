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

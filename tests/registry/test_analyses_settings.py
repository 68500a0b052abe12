"""Settings in analyses.yaml are the one settings type (PoolSettings) validated as a file: a bad
value is a located problem (file, line, field, value), never an unlocated 'pool settings' error."""

from __future__ import annotations

import shutil

import pytest
from conftest import TRIALS


@pytest.mark.parametrize("old, new, line_text, message", [
    ("  method: reml", "  method: remli", "defaults.method", "(got 'remli')"),
    ("  prior_scale: 0.5", "  prior_scale: true", "defaults.prior_scale", "valid number (got True)"),
    ("  ci: hksj", "  ci: hsjk", "defaults.ci", "(got 'hsjk')"),
])
def test_a_bad_setting_is_located(tmp_path, run_cli, old, new, line_text, message):
    trials = tmp_path / "trials"
    shutil.copytree(TRIALS, trials)
    spec = trials / "analyses.yaml"
    lines = spec.read_text().splitlines()
    at = next(i for i, ln in enumerate(lines) if ln == old)
    lines[at] = new
    spec.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli("validate", str(trials))
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith(f"{spec.name}:{at + 1}: ") or f"analyses.yaml:{at + 1}: " in first, err
    assert line_text in first and message in first, err


def test_direct_construction_still_names_the_setting():
    from trialmeta.errors import InputError
    from trialmeta.stats.settings import PoolSettings

    with pytest.raises(InputError) as err:
        PoolSettings("remli")
    assert err.value.problems[0].path == "method" and "choose one of" in str(err.value)

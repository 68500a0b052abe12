"""``trialmeta init DIR``: a new registry anywhere, after which validate, pool and refresh work
there; and every command takes the registry folder the same way (positional PATH)."""

from __future__ import annotations

import json

from trialmeta.registry.scaffold import analyses_json_schema
from trialmeta.registry.schema import trial_json_schema


def test_init_then_validate_and_refresh_work_there(tmp_path, run_cli):
    root = tmp_path / "my registry"
    code, out, err = run_cli("init", root, cwd=tmp_path)
    assert code == 0, err
    assert "my registry/trials/analyses.yaml" in out.splitlines() and "validate trials" in err
    trials = root / "trials"
    for name in ("faktion.yaml", "capitello-291.yaml"):
        assert (trials / name).read_text().startswith("# yaml-language-server: $schema=trial.schema.json\n")
    assert (trials / "analyses.yaml").read_text().startswith("# yaml-language-server: $schema=analyses.schema.json\n")
    assert json.loads((trials / "trial.schema.json").read_text()) == trial_json_schema()
    assert json.loads((trials / "analyses.schema.json").read_text()) == analyses_json_schema()
    assert ".*.trialmeta-lock" in (root / ".gitignore").read_text() and (root / "README.md").is_file()

    code, out, err = run_cli("validate", "trials", cwd=root)
    assert code == 0 and "2 trials valid" in out and "1 analysis in trials/analyses.yaml" in out, err
    code, out, err = run_cli("pool", "trials", "--format", "json", cwd=root)
    assert code == 0, err
    (pooled,) = json.loads(out)["analyses"]
    assert pooled["name"] == "capivasertib-altered-pfs"
    code, out, err = run_cli("refresh", "--quiet", "--jobs", "1", cwd=root)  # defaults: trials/ -> outputs/
    assert code == 0, err
    assert (root / "outputs" / "forest" / "capivasertib-altered-pfs.svg").is_file()
    assert not (root / "outputs" / ".cache").exists()
    assert run_cli("refresh", "trials", cwd=root)[1].startswith("outputs is up to date")


def test_init_never_overwrites(tmp_path, run_cli):
    (tmp_path / "trials").mkdir()
    (tmp_path / "trials" / "analyses.yaml").write_text("mine\n")
    code, out, err = run_cli("init", tmp_path, cwd=tmp_path)
    assert code == 1 and "trials/analyses.yaml" in err and "never overwrites" in err
    assert (tmp_path / "trials" / "analyses.yaml").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["analyses.yaml", "trials"]


def test_refresh_takes_the_registry_as_positional_path_and_trials_as_deprecated_alias(tmp_path, run_cli):
    run_cli("init", tmp_path / "r", cwd=tmp_path)
    code, out, err = run_cli("refresh", "r/trials", "--out", "a", "--quiet", "--jobs", "1", cwd=tmp_path)
    assert code == 0 and err == "", err
    code, out, err = run_cli("refresh", "--trials", "r/trials", "--out", "b", "--quiet", "--jobs", "1", cwd=tmp_path)
    assert code == 0 and "--trials DIR is deprecated" in err and "trialmeta refresh r/trials" in err
    assert (tmp_path / "a" / "evidence.json").read_bytes() == (tmp_path / "b" / "evidence.json").read_bytes()
    code, _, err = run_cli("refresh", "r/trials", "--trials", "elsewhere", "--out", "c", cwd=tmp_path)
    assert code == 2 and "two registry folders" in err and not (tmp_path / "c").exists()


def test_version(run_cli):
    import trialmeta

    assert run_cli("--version") == (0, f"trialmeta {trialmeta.__version__}\n", "")

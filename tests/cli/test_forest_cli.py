"""`trialmeta forest` through main([...]): files, names, formats, errors; and write_forests
on its own (refresh calls it with its staging directory)."""

from __future__ import annotations

from conftest import TRIALS
from trialmeta.registry.analyses import load_analyses
from trialmeta.pipeline.outputs import write_forests
from trialmeta.synthesis.run import run_analyses
from trialmeta.registry.load import load_registry

ANALYSES = ["pi3k-akt-pfs", "pi3k-akt-pfs-confirmed-negative", "pi3k-akt-os", "alpelisib-altered-pfs",
            "capivasertib-altered-pfs", "capivasertib-pfs", "capivasertib-os", "carfilzomib-pfs",
            "carfilzomib-pfs-cytogenetics", "carfilzomib-os", "carfilzomib-orr", "pearl-pfs-ccne1"]


def test_forest_writes_every_analysis_and_trial(run_cli, tmp_path):
    code, out, err = run_cli("forest", "--format", "svg", "--out", tmp_path)
    assert code == 0, err
    names = {p.name for p in tmp_path.iterdir() if p.name != ".trialmeta-outputs"}  # the manifest of what it wrote
    assert {f"{a}.svg" for a in ANALYSES} <= names
    assert {"trial-aspire-pfs.svg", "trial-pearl-pfs.svg", "trial-faktion-os.svg"} <= names
    assert all(n.endswith(".svg") for n in names)
    assert f"{len(names)} files" in err
    assert all((tmp_path / n).read_bytes().startswith(b"<?xml") for n in names)


def test_one_analysis_in_several_formats(run_cli, tmp_path):
    code, out, _ = run_cli("forest", "--analysis", "pearl-pfs-ccne1", "--format", "png,pdf", "--out", tmp_path)
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".trialmeta-outputs", "pearl-pfs-ccne1.pdf",
                                                          "pearl-pfs-ccne1.png"]
    assert (tmp_path / "pearl-pfs-ccne1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "pearl-pfs-ccne1.pdf").read_bytes()[:5] == b"%PDF-"
    assert "pearl-pfs-ccne1.{png,pdf}" in out


def test_unknown_analysis_lists_the_known_ones(run_cli, tmp_path):
    code, _, err = run_cli("forest", "--analysis", "pi3k-akt-pfx", "--out", tmp_path)
    assert code == 2  # a usage error (issue 29)
    assert "unknown analysis 'pi3k-akt-pfx'" in err and "did you mean 'pi3k-akt-pfs'" in err
    assert all(a in err for a in ANALYSES)
    assert not any(tmp_path.iterdir())


def test_unknown_format_is_a_usage_error(run_cli, tmp_path):
    code, _, err = run_cli("forest", "--format", "png,jpeg", "--out", tmp_path)
    assert code == 2 and "jpeg" in err and "png, svg, pdf" in err


def test_write_forests_without_the_cli(tmp_path):
    registry = load_registry(TRIALS)
    results = run_analyses(registry, load_analyses(TRIALS / "analyses.yaml")[0], only="carfilzomib-orr")
    paths = write_forests(results, registry, tmp_path / "stage" / "forest", ["svg"], trials=False)
    assert [p.name for p in paths] == ["carfilzomib-orr.svg"] and paths[0].is_file()

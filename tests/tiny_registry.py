"""A registry of one trial and one analysis: refresh runs in about a second on it, so tests can
run many refreshes (concurrency, fuzzing). The trial is tests/data/valid/minimal.yaml (FAKTION's
2020 PFS numbers)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import DATA

ANALYSES = """analyses:
  - name: minimal-pfs
    title: "Minimal: PFS, all patients"
    question: Does the experimental arm prolong PFS?
    endpoint: PFS
    experimental: capivasertib + fulvestrant
    control: placebo + fulvestrant
    subgroups:
      - key: all
        label: All patients
        studies:
          - trial: minimal
            population: itt
"""


def tiny_registry(root: Path) -> Path:
    """Write ``root/trials`` (one trial file and analyses.yaml); return that folder."""
    trials = Path(root) / "trials"
    trials.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "valid" / "minimal.yaml", trials / "minimal.yaml")
    (trials / "analyses.yaml").write_text(ANALYSES)
    return trials


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes), leaving out paths starting with ``skip``."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*"))
            if p.is_file() and not p.relative_to(root).as_posix().startswith(skip)}


def complete(out: Path) -> bool:
    """``out`` holds exactly the files its manifest lists, evidence.json parses, and none is empty."""
    import json

    from trialmeta.outdir import read_manifest

    listed = read_manifest(out)
    if listed is None:
        return False
    present = {k for k in snapshot(out) if k != ".trialmeta-outputs"}
    if present != listed:
        return False
    json.loads((out / "evidence.json").read_text())
    return all((out / f).stat().st_size > 0 for f in listed)


def refreshed_tiny(work: Path) -> Path:
    """:func:`tiny_registry` in ``work`` with the outputs of a first ``trialmeta refresh`` (run in-process)."""
    import os

    from trialmeta.cli.main import main

    tiny_registry(work)
    cwd = os.getcwd()
    os.chdir(work)
    try:
        assert main(["refresh", "--quiet"]) == 0
    finally:
        os.chdir(cwd)
    return work

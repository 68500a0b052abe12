"""Shared fixtures: repository paths and a CLI runner that captures output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TRIALS = ROOT / "trials"

# Figures render headless everywhere, CI included.
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_addoption(parser):
    parser.addoption("--save-figures", action="store_true", default=False,
                     help="write rendered test figures to tests/_artifacts/ for a person to look at")


@pytest.fixture
def save_figures(request) -> Path | None:
    if not request.config.getoption("--save-figures"):
        return None
    out = ROOT / "tests" / "_artifacts"
    out.mkdir(exist_ok=True)
    return out


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run ``trialmeta`` in-process from the repository root; return (code, stdout, stderr)."""
    from trialmeta.cli.main import main

    def run(*args: str, cwd: Path = ROOT):
        monkeypatch.chdir(cwd)
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="session")
def refreshed(tmp_path_factory) -> Path:
    """trials/ copied to a scratch directory and refreshed once, cold and on one process: the
    reference every other refresh is compared with. Tests copy it before changing anything."""
    import shutil

    from trialmeta.cli.main import main

    work = tmp_path_factory.mktemp("refreshed")
    shutil.copytree(TRIALS, work / "trials")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        assert main(["refresh", "--quiet", "--jobs", "1", "--no-cache"]) == 0
    finally:
        os.chdir(cwd)
    return work

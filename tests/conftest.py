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

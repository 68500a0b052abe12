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


def pytest_configure(config):
    """Refresh caches (trialmeta.pipeline.store) go to a scratch folder of this run, never to the
    user's cache folder; subprocesses inherit it."""
    import tempfile

    os.environ["TRIALMETA_CACHE_DIR"] = tempfile.mkdtemp(prefix="trialmeta-test-cache-")


def pytest_unconfigure(config):
    import shutil

    shutil.rmtree(os.environ.pop("TRIALMETA_CACHE_DIR", ""), ignore_errors=True)


def cache_of(out: Path) -> Path:
    """The refresh cache of the output folder ``out`` (manifest.json, stamp.json, docx/)."""
    from trialmeta.pipeline import store

    return store.folder(out)


def copy_tree(src: Path, dst: Path, **kwargs) -> None:
    """shutil.copytree, and with every output folder in it its refresh cache (kept outside it)."""
    import shutil

    shutil.copytree(src, dst, **kwargs)
    for marker in Path(dst).rglob(".trialmeta-outputs"):
        rel = marker.parent.relative_to(dst)
        if cache_of(Path(src) / rel).is_dir():
            shutil.rmtree(cache_of(Path(dst) / rel), ignore_errors=True)
            shutil.copytree(cache_of(Path(src) / rel), cache_of(Path(dst) / rel))


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

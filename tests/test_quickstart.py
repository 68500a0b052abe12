"""The README's quick start: `make refresh` and `make test` set up .venv on a fresh clone.

A dry run (`make -n`) in a copy of the repository without .venv shows what a new user's
machine will do; CI (.ci/run) runs `make test` itself on a clean clone for real.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    work = tmp_path_factory.mktemp("clone")
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, work / name)
    return work


def dry_run(work, target: str) -> list[str]:
    # Under `make test` (CI) the outer make exports MAKELEVEL/MAKEFLAGS, which would make this
    # inner make print "Entering directory" lines; run it as a user's top-level make would.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    done = subprocess.run(["make", "--no-print-directory", "-n", target, "PYTHON=python3"], cwd=work,
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("target, runs", [
    ("refresh", [".venv/bin/trialmeta refresh"]),
    # the tests, the tutorial notebooks (nbmake) and the documentation built with warnings as errors
    ("test", [".venv/bin/python -m pytest --nbmake tests docs/tutorials",
              "NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet"]),
])
def test_each_quick_start_command_creates_the_venv_installs_and_runs(fresh, target, runs):
    lines = dry_run(fresh, target)
    assert any(re.search(r"python3 -m venv \.venv$", s) for s in lines), lines
    assert any("pip install" in s and "-c constraints.txt -e '.[test]'" in s for s in lines), lines
    assert lines[-len(runs):] == runs


def test_an_installed_venv_is_reused(fresh):
    (fresh / ".venv" / "bin").mkdir(parents=True)
    (fresh / ".venv" / "bin" / "python").touch()
    (fresh / ".venv" / ".installed-stamp").touch()
    assert dry_run(fresh, "refresh") == [".venv/bin/trialmeta refresh"]

"""The layering of src/trialmeta (pyproject.toml [tool.importlinter]) holds, fails when broken,
and no module imports itself through a cycle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path, contract: str | None = None) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "NO_COLOR": "1"}
    only = ["--contract", contract] if contract else []
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache", *only],
                          cwd=src.parent, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def copy_src(tmp_path_factory):
    def make(edit: dict[str, str]) -> Path:
        base = tmp_path_factory.mktemp("src") / "src"
        shutil.copytree(ROOT / "src" / "trialmeta", base / "trialmeta",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for rel, line in edit.items():
            path = base / "trialmeta" / rel
            path.write_text(path.read_text() + "\n" + line + "\n")
        return base
    return make


def test_contracts_kept():
    out = _lint(ROOT / "src")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


@pytest.mark.parametrize("rel, line, contract", [
    ("plot/scene.py", "from trialmeta.report import evidence  # noqa", "layers"),
    ("report/changelog.py", "from trialmeta.plot import scene  # noqa", "layers"),
    ("stats/tau2.py", "from trialmeta.registry import vocab  # noqa", "layers"),
    ("pipeline/refresh.py", "from trialmeta.cli import inputs  # noqa", "layers"),
    ("report/evidence.py", "from trialmeta.pipeline import summary  # noqa", "layers"),
    ("cli/main.py", "from trialmeta.outdir import staging_dir  # noqa", "cli-writes-nothing"),
    ("stats/effects.py", "import matplotlib  # noqa", "matplotlib"),
    ("registry/frame.py", "import pymare  # noqa", "pymare"),
    ("plot/km.py", "import lifelines  # noqa", "lifelines"),
])
def test_a_wrong_import_breaks_a_contract(copy_src, rel, line, contract):
    """The contract that the added import breaks fails (and the untouched tree keeps it)."""
    out = _lint(copy_src({rel: line}), contract)
    assert out.returncode == 1 and "1 broken" in out.stdout, out.stdout


def _graph():
    grimp = pytest.importorskip("grimp")
    return grimp.build_graph("trialmeta", include_external_packages=False)


def test_no_import_cycles():
    """Tarjan's strongly connected components over direct imports: every component is one module."""
    graph = _graph()
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for m in modules:
        if m not in index:
            visit(m)
    # The package root imports its subpackages lazily for the public API; a subpackage's
    # __init__ re-exporting its own module is not a cycle between layers.
    cycles = [c for c in cycles if not (set(c) <= {"trialmeta", *[m for m in c if m.count(".") == 1]}
                                        and "trialmeta" in c)]
    assert cycles == []

"""Quick commands start quickly: they import none of the heavy libraries they do not need.

Checked in a fresh interpreter (the test process itself has imported everything), by the
modules loaded after the command ran; `python -X importtime -m trialmeta validate trials/`
shows where the time goes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, TRIALS

HEAVY = ("scipy", "pymare", "matplotlib", "lifelines")

PROBE = """
import contextlib, io, json, sys
from trialmeta.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def loaded_after(*args: str) -> tuple[int, set[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    return report["code"], set(report["modules"])


@pytest.mark.parametrize("args", [("validate", str(TRIALS)), ("results", str(TRIALS)), ("schema",), ("--help",),
                                  ("refresh", "--help")])
def test_quick_commands_import_nothing_heavy(args):
    code, modules = loaded_after(*args)
    assert code == 0
    assert not modules & set(HEAVY), f"`trialmeta {' '.join(args)}` imported {sorted(modules & set(HEAVY))}"


def test_schema_and_help_need_neither_pandas_nor_yaml():
    for args in (("schema",), ("--help",)):
        _, modules = loaded_after(*args)
        assert not modules & {"pandas", "numpy", "yaml"}, args


def test_the_probe_sees_heavy_imports():
    """The check above can fail: `pool` does pool, so it loads SciPy and PyMARE."""
    code, modules = loaded_after("pool", str(TRIALS), "--format", "json")
    assert code == 0 and {"scipy", "pymare"} <= modules

"""Two refreshes at once: the second waits for the first (one lock per output folder), so
outputs/ is always one complete set, never a mix or a fraction, and nothing is left behind.

Two worker processes each run 20 refreshes with random pauses, alternating two ``--as-of``
dates so consecutive outputs differ, while this process watches outputs/ and checks that
every state it sees is complete (its manifest lists exactly the files present). The workers
replace figure drawing by one small SVG: figures do not touch the lock or the swap, and
drawing them would make each refresh seconds instead of a fraction of one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from tiny_registry import complete, tiny_registry

WORKER = """
import random, sys, time
from pathlib import Path
import trialmeta.pipeline.refresh as refresh_mod
from trialmeta import io
from trialmeta.cli.main import main

def one_figure(stage, *args):
    io.write_text(Path(stage) / "forest" / "minimal-pfs.svg", "<svg></svg>")
    return 1

refresh_mod._write_forest_figures = one_figure
refresh_mod._write_history_figures = lambda *args: 0
rng = random.Random(int(sys.argv[1]))
codes = []
for i in range(int(sys.argv[2])):
    time.sleep(rng.uniform(0.0, 0.15))
    codes.append(main(["refresh", "--quiet", "--wait", "120", "--as-of", rng.choice(["2020-06", "2021-06"])]))
print(" ".join(map(str, codes)))
"""

ROUNDS = 20


def _seen_complete(out) -> bool | None:
    """Whether the folder now at ``out`` is complete; None when it was swapped away mid-look."""
    try:
        fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return False
    try:
        try:
            ok = complete(type(out)(f"/proc/self/fd/{fd}"))
        except (OSError, ValueError):
            ok = False
        if not ok and os.stat(out).st_ino != os.fstat(fd).st_ino:
            return None  # we were reading the previous outputs while they were being deleted
        return ok
    finally:
        os.close(fd)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="the observer reads through /proc/self/fd")
def test_two_concurrent_refreshes_always_leave_a_complete_outputs(tmp_path):
    tiny_registry(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(seed), str(ROUNDS)], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    out, looks, bad = tmp_path / "outputs", 0, []
    while any(w.poll() is None for w in workers):
        if out.exists():
            seen = _seen_complete(out)
            looks += seen is not None
            if seen is False:
                bad.append(sorted(os.listdir(out)) if out.exists() else None)
        time.sleep(0.01)
    results = [w.communicate() for w in workers]
    for w, (stdout, stderr) in zip(workers, results):
        assert w.returncode == 0, stderr[-2000:]
        assert stdout.split() == ["0"] * ROUNDS, stderr[-2000:]
    assert not bad, bad[:3]
    assert looks > 0
    assert complete(out)
    leftovers = [p.name for p in tmp_path.iterdir() if "trialmeta-staging" in p.name or "trialmeta-old" in p.name]
    assert leftovers == [] and not [p for p in out.iterdir() if p.name.startswith(".trialmeta-") and p.is_dir()]


def test_a_second_refresh_that_may_not_wait_exits_1(tmp_path, run_cli):
    """While the lock is held, `--wait 0` fails at once with a message and changes nothing."""
    from trialmeta.outdir import refresh_lock

    tiny_registry(tmp_path)
    out = tmp_path / "outputs"
    lock = refresh_lock(out, 0)
    lock.__enter__()
    try:
        child = subprocess.run([sys.executable, "-m", "trialmeta", "refresh", "--quiet", "--wait", "0"],
                               cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                               capture_output=True, text=True)
    finally:
        lock.__exit__(None, None, None)
    assert child.returncode == 1, child.stderr
    assert "another refresh is running on outputs" in child.stderr
    assert not out.exists()

"""``trialmeta refresh --executor dask``: drawing and pooling on a Dask distributed cluster (here a
``LocalCluster`` of two worker processes, one thread each) write the same outputs, byte for byte,
as the worker processes of one machine; a cluster that cannot do the work is a clear error that
leaves the outputs as they were; Dask is never imported on the default path."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

import trialmeta
from conftest import ROOT, TRIALS
from tiny_registry import refreshed_tiny, snapshot, tiny_registry
from trialmeta.errors import TrialmetaError

distributed = pytest.importorskip("distributed")  # the `dask` extra, in the `test` extra


@pytest.fixture(scope="module")
def scheduler():
    """The address of a LocalCluster: 2 worker processes, 1 thread each (matplotlib is not
    thread-safe). A task whose worker dies fails at once (no retry on another worker), so that
    the lost-worker test is deterministic."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=50)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_dask_refresh_writes_every_file_byte_for_byte_as_processes(refreshed, tmp_path, monkeypatch, scheduler):
    # `refreshed`: trials/ refreshed cold by the command line on processes; the same registry
    # refreshed cold on the cluster, figures drawn and analyses pooled (in chunks) on its workers
    shutil.copytree(TRIALS, tmp_path / "trials")
    monkeypatch.chdir(tmp_path)
    summary = trialmeta.refresh("trials", "outputs", executor="dask", scheduler=scheduler, cache=False)
    assert summary.drawn > 50 and summary.analyses == 12
    local, dask = snapshot(refreshed / "outputs"), snapshot(tmp_path / "outputs")
    assert sorted(dask) == sorted(local) and len(local) > 150
    assert [name for name in local if local[name] != dask[name]] == []


def test_dask_without_a_scheduler_starts_a_local_cluster_of_jobs_workers_and_says_so(tmp_path, run_cli):
    local = refreshed_tiny(tmp_path / "a") / "outputs"  # (processes)
    shutil.copytree(tmp_path / "a" / "trials", tmp_path / "b" / "trials")
    code, _, err = run_cli("refresh", "--executor", "dask", "--jobs", "1", cwd=tmp_path / "b")
    assert code == 0, err
    assert "starting a local Dask cluster: 1 worker process, one thread each (no --scheduler given)" in err
    assert snapshot(tmp_path / "b" / "outputs") == snapshot(local)


def test_dask_pooling_returns_the_same_results_in_the_same_order(scheduler):
    from pathlib import Path

    from trialmeta.pipeline import cluster
    from trialmeta.registry.analyses import load_analyses
    from trialmeta.registry.load import load_registry
    from trialmeta.synthesis.run import run_analyses

    registry = load_registry(TRIALS)
    spec, _ = load_analyses(Path(TRIALS) / "analyses.yaml")
    here = run_analyses(registry, spec)
    with cluster.connect(scheduler, jobs=2) as connected:
        there = run_analyses(registry, spec, distribute=connected.distribute)
    assert [r.name for r in there] == [r.name for r in here] and len(here) == 12
    assert [r.to_dict() for r in there] == [r.to_dict() for r in here]


def test_a_style_sheet_file_travels_with_the_drawing_as_its_content(tmp_path, scheduler):
    # drawn on a worker from the sheet's bytes sent with the task (the file is gone by then),
    # the same bytes as drawn here from the file
    from dataclasses import replace

    from trialmeta.pipeline import cluster, parallel
    from trialmeta.plot.scene import Axis, Markers, Panel, Scene, Text

    panel = Panel("p", (0.1, 0.1, 0.8, 0.8), Axis((0.0, 1.0)), Axis((0.0, 1.0), scale="linear"),
                  (Text(0.5, 0.5, "HR 0.58", role="hr"), Markers((0.2,), (0.3,), areas=(9.0,))))
    plain = Scene(3.0, 2.0, (panel,), title="t", metadata={"kind": "test"})
    sheet = tmp_path / "house.mplstyle"
    sheet.write_text("text.color: 990000\naxes.edgecolor: red\n")
    styled = replace(plain, metadata={"kind": "test", "stylesheet": str(sheet)})
    here = parallel.draw((styled, ("png", "svg")))
    assert here != parallel.draw((plain, ("png", "svg")))
    with cluster.connect(scheduler, jobs=2) as connected:
        future = connected.executor.submit(parallel.draw, (styled, ("png", "svg")))
        sheet.unlink()
        assert future.result() == here


def test_default_refresh_never_imports_dask(tmp_path):
    trials = tiny_registry(tmp_path)
    code = ("import sys; from trialmeta.cli.main import main; "
            f"code = main(['refresh', {str(trials)!r}, '--out', {str(tmp_path / 'out')!r}, '--quiet', '--jobs', '2']); "
            "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "0 []", done.stderr
    assert (tmp_path / "out" / "evidence.json").is_file()


def test_scheduler_without_the_dask_executor_is_a_usage_error(tmp_path, run_cli):
    trials = tiny_registry(tmp_path)
    code, _, err = run_cli("refresh", trials, "--out", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:8786")
    assert code == 2 and "--scheduler" in err and "--executor dask" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    code, _, err = run_cli("refresh", trials, "--out", tmp_path / "out", "--executor", "dask", "--scheduler", "bogus::")
    assert code == 2 and "--scheduler: invalid address 'bogus::'" in err


def test_dask_not_installed_says_how_to_install_it(tmp_path, run_cli, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("dask", "distributed")
                        else real(name, *a))
    trials = tiny_registry(tmp_path)
    code, _, err = run_cli("refresh", trials, "--out", tmp_path / "out", "--executor", "dask")
    assert code == 2 and "pip install 'trialmeta[dask]'" in err and "Traceback" not in err


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_fails_within_the_timeout_and_keeps_the_outputs(tmp_path, run_cli, monkeypatch):
    import time

    out = refreshed_tiny(tmp_path) / "outputs"
    before = snapshot(out)
    monkeypatch.setenv("TRIALMETA_DASK_TIMEOUT", "1")
    start = time.monotonic()
    code, _, err = run_cli("refresh", tmp_path / "trials", "--out", out, "--no-cache", "--executor", "dask",
                           "--scheduler", f"tcp://127.0.0.1:{_free_port()}")
    assert code == 1 and "cannot connect to the Dask scheduler at tcp://127.0.0.1:" in err, err
    assert "nothing was changed" in err and "Traceback" not in err
    assert time.monotonic() - start < 15
    assert snapshot(out) == before


def test_workers_with_another_version_are_refused_by_name(tmp_path, monkeypatch, scheduler):
    # this process says it is trialmeta 9.9.9; the workers run the installed 0.1.0
    out = refreshed_tiny(tmp_path) / "outputs"
    before = snapshot(out)
    monkeypatch.setattr(trialmeta, "__version__", "9.9.9")
    with pytest.raises(TrialmetaError) as err:
        trialmeta.refresh(tmp_path / "trials", out, cache=False, executor="dask", scheduler=scheduler)
    message = str(err.value)
    assert "not be byte-identical" in message and message.count("worker tcp://") == 2
    assert message.count("trialmeta 0.1.0 (here 9.9.9)") == 2 and "matplotlib" not in message
    assert snapshot(out) == before


def test_environment_differences_name_each_worker_and_library():
    from trialmeta.pipeline.cluster import differences

    here = {"python": "3.11.7", "matplotlib": "3.10.9", "numpy": "2.4.6"}
    workers = {"tcp://b:1": dict(here), "tcp://a:1": {**here, "matplotlib": "3.11.2", "numpy": None}}
    assert differences(here, workers) == ["worker tcp://a:1: matplotlib 3.11.2 (here 3.10.9), numpy None (here 2.4.6)"]
    assert differences(here, {"tcp://b:1": here}) == []
    missing = ModuleNotFoundError("No module named 'trialmeta'")
    assert differences(here, {"tcp://c:1": missing}) == [
        "worker tcp://c:1: cannot run trialmeta (ModuleNotFoundError: No module named 'trialmeta')"]


def test_a_worker_dying_mid_run_fails_the_refresh_and_writes_nothing(tmp_path, monkeypatch, scheduler):
    # the first figure written kills a worker while the others are being drawn: the tasks it was
    # running fail (allowed-failures 0), the refresh stops and the previous outputs stay
    from trialmeta.pipeline import outputs

    out = refreshed_tiny(tmp_path) / "outputs"
    before = snapshot(out)
    trials = tmp_path / "registry"  # 63 figures: both workers busy when one dies
    shutil.copytree(TRIALS, trials)
    with distributed.Client(scheduler, set_as_default=False) as client:
        pids = list(client.run(os.getpid).values())
    put = outputs.Figures._put

    def kill_a_worker(self, *args):
        if pids:
            os.kill(pids.pop(), signal.SIGKILL)
            pids.clear()
        return put(self, *args)

    monkeypatch.setattr(outputs.Figures, "_put", kill_a_worker)
    with pytest.raises(TrialmetaError, match="Dask workers died while running a task"):
        trialmeta.refresh(trials, out, cache=False, executor="dask", scheduler=scheduler)
    assert snapshot(out) == before


def test_a_scheduler_lost_mid_run_fails_the_refresh_and_writes_nothing(tmp_path, monkeypatch):
    # a cluster of its own, stopped (scheduler and worker) when the first figure is written
    from trialmeta.pipeline import outputs

    out = refreshed_tiny(tmp_path) / "outputs"
    before = snapshot(out)
    trials = tmp_path / "registry"
    shutil.copytree(TRIALS, trials)
    local = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                                     silence_logs=50)
    put = outputs.Figures._put

    def stop_the_cluster(self, *args):
        local.close()
        return put(self, *args)

    monkeypatch.setattr(outputs.Figures, "_put", stop_the_cluster)
    monkeypatch.setenv("TRIALMETA_DASK_TIMEOUT", "2")  # (the client's attempts to reconnect)
    try:
        with pytest.raises(TrialmetaError, match="lost the Dask cluster"):
            trialmeta.refresh(trials, out, cache=False, executor="dask", scheduler=local.scheduler_address)
    finally:
        local.close()
    assert snapshot(out) == before

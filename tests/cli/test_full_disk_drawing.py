"""Issue 29: a disk that fills while figures are written (in the refresh process, fed by the
drawing workers) ends the refresh in exit 1 within seconds, the lock released and the previous
outputs unchanged: it hung (2 of 16 runs) holding the lock, or exited 3 with CancelledError."""

from __future__ import annotations

import errno
import os
import time

import pytest

from tiny_registry import snapshot, tiny_registry


@pytest.fixture
def built(tmp_path, run_cli):
    tiny_registry(tmp_path)
    code, _, err = run_cli("refresh", "--quiet", "--jobs", "1", cwd=tmp_path)
    assert code == 0, err
    return tmp_path


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("after", [0, 3])
def test_a_disk_that_fills_during_drawing_is_exit_1_and_releases_the_lock(built, run_cli, monkeypatch, jobs, after):
    import trialmeta.io as io_mod

    real, calls = io_mod.write_bytes, []

    def full(path, data):
        calls.append(path)
        if len(calls) > after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data)

    before = snapshot(built / "outputs")
    monkeypatch.setattr(io_mod, "write_bytes", full)
    start = time.monotonic()
    code, _, err = run_cli("refresh", "--quiet", "--no-cache", "--jobs", jobs, cwd=built)
    assert time.monotonic() - start < 60
    assert code == 1, err
    assert os.strerror(errno.ENOSPC) in err and "internal error" not in err and "Cancelled" not in err, err
    assert snapshot(built / "outputs") == before
    assert not [p for p in built.iterdir() if "trialmeta-staging" in p.name]
    monkeypatch.setattr(io_mod, "write_bytes", real)
    code, _, err = run_cli("refresh", "--quiet", "--no-cache", "--wait", "0", "--jobs", jobs, cwd=built)
    assert code == 0, err  # the lock was released


def test_a_failed_figure_batch_leaves_the_shared_workers_to_their_owner():
    """The race behind 'exit 3 with CancelledError' and the hang: a figure batch failing in one
    thread (a full disk while writing its files) shut down the worker pool it shared with the
    Excel build waited on in another thread, cancelling (or breaking) that build. Now the batch
    cancels only its own pending drawings; the refresh closes the pool on its way out."""
    import time as _time

    from test_refresh_cache import scene
    from trialmeta.pipeline import parallel

    workers = parallel.Workers(2)
    try:
        tasks = [(scene(text=f"HR 0.{i}"), ("svg",)) for i in range(50, 58)]
        other = workers.executor.submit(_time.sleep, 0.3)  # e.g. evidence.xlsx built in a worker
        batch = parallel.draw_all(tasks, 2, workers=workers)
        next(batch)
        batch.close()  # the consumer failed: the generator is closed
        assert other.result(timeout=30) is None  # neither cancelled nor broken
        assert workers.executor.submit(int, "7").result(timeout=30) == 7  # the pool still works
    finally:
        workers.close()

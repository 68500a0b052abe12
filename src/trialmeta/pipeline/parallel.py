"""Draw many scenes at once: a process pool over the machine's cores.

Scenes are plain data (picklable), so each worker receives a scene and returns the encoded
bytes of every requested format; the parent alone writes files. Results are tied to their
task by index, so what is written does not depend on the number of workers or on which
finishes first. Each worker draws headless (Agg, set up by :mod:`trialmeta.plot.render`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from typing import Callable, Iterator, Sequence

Task = tuple  # (scene, formats)

#: Where figures are drawn and analyses pooled: worker processes on this machine, or a Dask
#: distributed cluster (:mod:`trialmeta.pipeline.cluster`, the optional extra ``trialmeta[dask]``).
EXECUTORS = ("processes", "dask")


class Cancelled(Exception):
    """Drawing stopped on request (the refresh is failing or was interrupted)."""


def default_jobs() -> int:
    """All cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def draw(task: Task) -> tuple[bytes, ...]:
    """Render one scene once and encode it in each format (runs in a worker, or in-process)."""
    from trialmeta.plot import render

    scene, formats = task
    fig = render.render(scene)
    try:
        return render.encode(fig, formats)
    finally:
        render.close(fig)


def _cost(task: Task) -> int:
    scene, formats = task
    return len(formats) * sum(len(p.items) for p in scene.panels)


def _warm() -> None:
    """Import what drawing needs (matplotlib, its backends, the font list): ~0.3 s a worker."""
    from trialmeta.plot import render

    render.warm_up()


class Workers:
    """Worker processes started before the scenes are known, so that they import matplotlib while
    the caller is still computing (pass to :func:`draw_all`; :meth:`close` when done)."""

    def __init__(self, jobs: int):
        from concurrent.futures import ProcessPoolExecutor

        self.jobs = jobs
        self.executor = ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_worker_init)
        for _ in range(jobs):
            self.executor.submit(_warm)

    def close(self) -> None:
        _stop_pool(self.executor)


def _stop_pool(pool) -> None:
    for proc in list((getattr(pool, "_processes", None) or {}).values()):  # (None once shut down)
        proc.terminate()  # do not wait for figures nobody will write
    pool.shutdown(wait=True, cancel_futures=True)


def draw_all(tasks: Sequence[Task], jobs: int, done: Callable[[], None] = lambda: None,
             stop: Callable[[], bool] = lambda: False, workers: Workers | None = None
             ) -> Iterator[tuple[int, tuple[bytes, ...]]]:
    """Yield ``(index, bytes per format)`` for every task, drawing on ``jobs`` processes (or on
    ``workers``, started earlier, which stay up for the caller to close).

    ``done`` is called after each task (progress). With one job, or one task, everything is
    drawn in this process. An error in any task is raised here after the pool is stopped; so is
    :class:`Cancelled` within 0.1 s of ``stop()`` turning true (e.g. Ctrl-C in another thread).
    """
    if (jobs <= 1 or len(tasks) <= 1) and workers is None:
        for i, task in enumerate(tasks):
            if stop():
                raise Cancelled("figure drawing cancelled")
            yield i, draw(task)
            done()
        return
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # biggest first, so the last task to finish is a short one
    order = sorted(range(len(tasks)), key=lambda i: (-_cost(tasks[i]), i))
    pool = workers.executor if workers is not None else ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)), mp_context=_context(), initializer=_worker_init)
    try:
        pending = {pool.submit(draw, tasks[i]): i for i in order}
        while pending:
            finished, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            if stop():
                raise Cancelled("figure drawing cancelled")
            for future in sorted(finished, key=pending.get):
                i = pending.pop(future)
                yield i, future.result()
                done()
    except BaseException:
        if workers is None:
            _stop_pool(pool)
        else:  # shared: cancel only our drawings; the owner closes the pool (another thread may
            for future in pending:  # be waiting on other work of it, e.g. the Excel build)
                future.cancel()
        raise
    if workers is None:
        pool.shutdown(wait=True)


def check_executor(executor: str, scheduler: str | None) -> None:
    """Refuse an unknown executor, a scheduler without ``executor="dask"``, and Dask when it is not
    installed (without importing it: the default path never does).

    Raises
    ------
    UsageError
        Naming the option and what to do.
    """
    from importlib.util import find_spec

    from trialmeta.errors import UsageError

    if executor not in EXECUTORS:
        raise UsageError(f"--executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    if scheduler is not None and executor != "dask":
        raise UsageError("--scheduler is the address of a Dask scheduler: it needs --executor dask")
    if executor == "dask" and (find_spec("dask") is None or find_spec("distributed") is None):
        raise UsageError("--executor dask needs Dask distributed, which is not installed: "
                         "pip install 'trialmeta[dask]'")


def _context():
    """fork where available (workers start in milliseconds, with trialmeta already imported)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and sys.platform != "darwin" else "spawn")


def _worker_init() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and leaves outputs/ unchanged.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the refresh process dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)

"""Drawing and pooling on a Dask distributed cluster (``trialmeta refresh --executor dask``).

The one module of trialmeta that imports Dask (an optional extra, ``pip install 'trialmeta[dask]'``),
and only when a refresh asks for it: the default path (worker processes on this machine,
:mod:`trialmeta.pipeline.parallel`) never imports it.

A :class:`Cluster` stands in for :class:`trialmeta.pipeline.parallel.Workers`: its ``executor``
takes the same tasks (scenes and analyses are plain data, sent to the workers with each task;
a style sheet given as a file travels as its content), so workers need no access to the
registry's files, and every result is tied to its task as on this machine: the outputs are
byte for byte those of a local run, provided the workers run the same code and libraries,
which :func:`connect` checks before anything is computed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import math
import os
import platform
import sys
import threading
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterator

from trialmeta.errors import TrialmetaError, UsageError

#: The distributions whose versions decide the bytes of an output (figures, numbers, Word, Excel)
#: or whether a task travels (Dask's own serialisation): workers must match this machine.
LIBRARIES = ("numpy", "scipy", "pandas", "matplotlib", "pillow", "fonttools", "contourpy", "kiwisolver",
             "PyMARE", "lifelines", "pydantic", "openpyxl", "python-docx", "PyYAML",
             "dask", "distributed", "cloudpickle", "msgpack")


def connect_timeout() -> float:
    """Seconds to wait for the scheduler, and for its first worker: ``$TRIALMETA_DASK_TIMEOUT``, else 10."""
    value = os.environ.get("TRIALMETA_DASK_TIMEOUT", "10")
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not seconds > 0:
        raise UsageError(f"TRIALMETA_DASK_TIMEOUT: expected a number of seconds above 0, got {value!r}")
    return seconds


def environment() -> dict[str, str | None]:
    """What a worker must share with this machine for byte-identical outputs: Python, trialmeta's
    version and code (SHA-256 of its source files), the libraries' versions and any matplotlibrc
    (run on every worker by :func:`connect`, and here)."""
    import trialmeta
    from trialmeta.pipeline import cache

    rc = hashlib.sha256(b"".join(p.read_bytes() for p in cache._matplotlibrc_candidates() if p.is_file()))
    return {"python": platform.python_version(), "trialmeta": trialmeta.__version__,
            "trialmeta code": cache.code_digest()[:12], "matplotlibrc": rc.hexdigest()[:12],
            **cache.library_versions(LIBRARIES)}


def differences(here: dict, workers: dict[str, dict]) -> list[str]:
    """One line per worker whose :func:`environment` differs from ``here`` (or failed: an exception),
    naming each difference."""
    lines = []
    for address, theirs in sorted(workers.items()):
        if isinstance(theirs, BaseException):  # e.g. trialmeta not installed there
            lines.append(f"worker {address}: cannot run trialmeta ({type(theirs).__name__}: {theirs})")
            continue
        diff = [f"{k} {theirs.get(k)} (here {v})" for k, v in here.items() if theirs.get(k) != v]
        if diff:
            lines.append(f"worker {address}: {', '.join(diff)}")
    return lines


class Cluster:
    """A connection to a Dask scheduler (and the local cluster started for it, if any), with
    ``executor`` for :func:`trialmeta.pipeline.parallel.draw_all` and :meth:`distribute` for
    :func:`trialmeta.synthesis.run.run_analyses`. Closed by :func:`connect`."""

    def __init__(self, client, local=None):
        self.client, self.local = client, local
        self.executor = _Executor(client)

    @property
    def jobs(self) -> int:
        """Threads on the cluster's workers (one each, for matplotlib's sake)."""
        return max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))

    def distribute(self, fn: Callable, items: list, *shared) -> list:
        """``fn(items, *shared)`` computed in chunks on the workers (``fn`` maps a list to a list of
        the same length, item by item): the lists of the chunks joined in order. ``shared`` is sent
        to the workers once, not with every chunk."""
        if not items:
            return fn(items, *shared)
        size = math.ceil(len(items) / (2 * self.jobs))  # two chunks a worker: the last to finish is short
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        sent = _scatter(self.client, list(shared), broadcast=True) if shared else []
        futures = [self.executor.submit(fn, chunk, *sent) for chunk in chunks]
        try:
            return [x for f in futures for x in f.result()]
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        """Cancel what is left, disconnect, stop the local cluster; never raises (a lost scheduler
        must not hide the error that brought the refresh here)."""
        for step in (lambda: self.executor.shutdown(wait=False), self.client.close,
                     self.local.close if self.local is not None else None):
            if step is not None:
                with contextlib.suppress(Exception):
                    step()


class _Executor(cf.Executor):
    """``concurrent.futures`` futures of tasks run on the cluster (``Client.get_executor``, not
    deduplicated by key); a lost worker or scheduler is a :class:`TrialmetaError`, not Dask's
    exception, and drawings are sent with their style sheet's content."""

    def __init__(self, client):
        self._client = client
        self._inner = client.get_executor(pure=False)

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        from distributed import Future

        from trialmeta.pipeline import parallel

        if fn is parallel.draw:  # many small tasks: sent inline
            fn, args = draw_shipped, (args[0], _sheet_content(args[0][0]))
        else:  # a few, maybe large (the workbook's results, chunks of analyses): sent to a worker first
            data = [i for i, a in enumerate(args) if not isinstance(a, Future)]
            sent = _scatter(self._client, [args[i] for i in data]) if data else []
            args = tuple(sent[data.index(i)] if i in data else a for i, a in enumerate(args))
        inner = self._inner.submit(fn, *args, **kwargs)
        outer: cf.Future = cf.Future()

        def relay(f: cf.Future) -> None:
            if outer.done():  # (cancelled by the caller)
                return
            if f.cancelled():  # by the cluster: the scheduler was lost
                outer.set_exception(_translated(cf.CancelledError("the task was cancelled by the cluster")))
            elif f.exception() is not None:
                outer.set_exception(_translated(f.exception()))
            else:
                outer.set_result(f.result())

        inner.add_done_callback(relay)
        outer.add_done_callback(lambda o: inner.cancel() if o.cancelled() else None)
        return outer

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait)


def _scatter(client, data: list, broadcast: bool = False) -> list:
    """``client.scatter`` (futures of ``data`` on the workers); a lost cluster is a :class:`TrialmetaError`."""
    try:
        return client.scatter(data, broadcast=broadcast, hash=False)
    except (OSError, cf.CancelledError, TimeoutError) as exc:
        raise TrialmetaError(f"lost the Dask cluster while sending it data ({type(exc).__name__}: {exc}); "
                             "nothing was written") from None


def _translated(exc: BaseException) -> BaseException:
    """Dask's errors for a lost worker or scheduler as a :class:`TrialmetaError`; the task's own errors as they are."""
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError
    from distributed.comm.core import CommClosedError

    if isinstance(exc, KilledWorker):
        return TrialmetaError(f"Dask workers died while running a task ({exc}); nothing was written")
    if isinstance(exc, (CommClosedError, FutureCancelledError, cf.CancelledError)):
        return TrialmetaError(f"lost the Dask cluster while running a task ({type(exc).__name__}: {exc}); "
                              "nothing was written")
    return exc


def _sheet_content(scene) -> tuple[str, bytes] | None:
    """A scene's style sheet given as a file: (its name, its bytes), for a worker that cannot read it."""
    sheet = (getattr(scene, "metadata", None) or {}).get("stylesheet")
    if sheet and os.path.isfile(sheet):
        return Path(sheet).name, Path(sheet).read_bytes()
    return None


_DRAWING = threading.Lock()  # matplotlib is not thread-safe: one drawing at a time in a worker process


def draw_shipped(task, sheet: tuple[str, bytes] | None):
    """:func:`trialmeta.pipeline.parallel.draw` on a worker, the scene's style sheet file written
    there from its content (``sheet``) first."""
    import dataclasses
    import tempfile

    from trialmeta.pipeline import parallel

    with _DRAWING, contextlib.ExitStack() as stack:
        scene, formats = task
        if sheet is not None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trialmeta-style-")))
            (folder / sheet[0]).write_bytes(sheet[1])
            scene = dataclasses.replace(scene, metadata={**scene.metadata, "stylesheet": str(folder / sheet[0])})
        return parallel.draw((scene, formats))


def _warm() -> None:
    from trialmeta.pipeline import parallel

    parallel._warm()


@contextlib.contextmanager
def connect(scheduler: str | None, jobs: int, quiet: bool = True) -> Iterator[Cluster]:
    """A :class:`Cluster` on the Dask scheduler at ``scheduler`` (e.g. ``tcp://host:8786``) or, with
    None, on a local cluster of ``jobs`` worker processes (one thread each) started now; closed on
    leaving.

    Raises
    ------
    UsageError
        ``scheduler`` is not an address.
    TrialmetaError
        The scheduler cannot be reached within :func:`connect_timeout` seconds, has no worker within
        that time, or a worker runs other code or library versions than this machine (named).
    """
    import logging

    from distributed import Client, LocalCluster
    from distributed.comm.addressing import parse_address, parse_host_port

    if scheduler is not None:
        try:
            protocol, location = parse_address(scheduler)
            if protocol in ("tcp", "tls"):
                parse_host_port(location)
        except ValueError as exc:
            raise UsageError(f"--scheduler: {exc}") from None
    timeout = f"{connect_timeout():g}s"
    local = None
    if scheduler is None:
        if not quiet:
            print(f"starting a local Dask cluster: {jobs} worker process{'es' if jobs != 1 else ''}, one thread each "
                  "(no --scheduler given)", file=sys.stderr)
        # (its HTTP server on any free port: two local clusters at once do not collide on 8787)
        local = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=":0",
                             silence_logs=logging.ERROR)
    try:
        client = Client(local if local is not None else scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        if local is not None:
            local.close()
        raise TrialmetaError(f"cannot connect to the Dask scheduler at {scheduler} (within {timeout}): {exc}; "
                             "nothing was changed") from None
    cluster = Cluster(client, local)
    # a lost scheduler or worker is a TrialmetaError, not Dask's logged errors and tracebacks
    logs = [logging.getLogger(n) for n in ["distributed", *logging.root.manager.loggerDict]
            if n.startswith("distributed.")]
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.CRITICAL)
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (TimeoutError, OSError):
            raise TrialmetaError(f"the Dask scheduler at {scheduler} has no workers (waited {timeout}); start "
                                 f"some with: dask worker {scheduler} --nthreads 1") from None
        here = environment()
        wrong = differences(here, client.run(environment, on_error="return"))
        if wrong:
            raise TrialmetaError("Dask workers differ from this machine, so their outputs would not be byte-identical "
                                 "to a local run: " + "; ".join(wrong)
                                 + ". Install the same trialmeta and libraries on every worker "
                                 "(pip install -c constraints.txt ...)")
        # import matplotlib on every worker while this process validates and pools
        cluster.warming = [client.submit(_warm, pure=False, workers=[w]) for w in client.scheduler_info()["workers"]]
        if not quiet and scheduler is not None:
            print(f"drawing and pooling on the Dask scheduler at {scheduler}: {cluster.jobs} worker threads",
                  file=sys.stderr)
        yield cluster
    finally:
        cluster.close()
        for log, level in zip(logs, levels):
            log.setLevel(level)

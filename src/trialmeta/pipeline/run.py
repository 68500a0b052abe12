"""The pipeline's entry points: a whole refresh (:func:`refresh`, also ``trialmeta.refresh``) and
the forest plots and Word/Excel files of ``trialmeta forest`` / ``trialmeta export``."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping
from pathlib import Path

from trialmeta.errors import TrialmetaError
from trialmeta.pipeline.summary import RefreshSummary


def refresh(trials: str | Path = "trials", out: str | Path = "outputs", *, as_of: str | None = None,
            jobs: int | None = None, style=None, cache: bool = True, wait: float = 600.0, quiet: bool = True,
            today: str | None = None, cache_dir: str | Path | None = None,
            overwrite_edits: bool = False, executor: str = "processes", scheduler: str | None = None) -> RefreshSummary:
    """Rebuild the output folder ``out`` from the registry folder ``trials``, atomically.

    Byte for byte what ``trialmeta refresh TRIALS --out OUT`` writes. Nothing is written when
    the registry or its analyses are invalid, and ``out`` is replaced only if trialmeta wrote it.

    Parameters
    ----------
    trials : str or Path
        The registry folder: trial files and ``analyses.yaml``.
    out : str or Path
        The output folder (created if missing).
    as_of : str, optional
        Use only data cuts published on or before this date (YYYY, YYYY-MM or YYYY-MM-DD).
    jobs : int, optional
        Processes that draw the figures (default: every core; 1 draws in this process); with
        ``executor="dask"`` and no ``scheduler``, the workers of the local Dask cluster.
    style : str, dict or trialmeta.registry.figstyle.StyleSpec, optional
        Figure style over each analysis' ``style:``: a preset name (``"revman"``, ``"journal"``,
        ``"slide"``), or the fields of a ``style:`` block (e.g. ``{"preset": "journal", "footnotes":
        "short"}``).
    cache : bool
        Copy figures unchanged since the previous refresh, and skip a refresh when nothing it
        depends on changed (default); False redraws everything.
    wait : float
        Seconds to wait for another refresh of the same folder to finish (0: fail at once).
    quiet : bool
        No progress lines on stderr (default for Python callers).
    today : str, optional
        The date of a changelog entry (default: today).
    cache_dir : str or Path, optional
        Where the caches of output folders live (default: ``$TRIALMETA_CACHE_DIR``, else the
        user's cache folder; see :mod:`trialmeta.pipeline.store`). Never inside ``out``.
    overwrite_edits : bool
        Replace ``report.docx`` / ``evidence.xlsx`` (and the files of ``word/`` and ``excel/``) even
        when they changed since refresh wrote them (default: refuse, naming them; a person's edits are
        never silently replaced).
    executor : {"processes", "dask"}
        Where figures are drawn and analyses pooled: worker processes on this machine (default),
        or a Dask distributed cluster (``pip install 'trialmeta[dask]'``), with the same outputs
        byte for byte.
    scheduler : str, optional
        With ``executor="dask"``: the address of a Dask scheduler (e.g. ``"tcp://host:8786"``);
        None starts a local cluster of ``jobs`` worker processes.

    Returns
    -------
    RefreshSummary
        What changed (the changelog entry), what was drawn and reused, the warnings.

    Raises
    ------
    trialmeta.errors.InputError
        Located problems in a trial file or ``analyses.yaml``; nothing written.
    trialmeta.errors.TrialmetaError
        Any other problem a user can act on (a bad option, a folder trialmeta did not write,
        another refresh still running, a Dask scheduler that cannot be reached or whose workers
        run other versions, a Dask worker lost mid-run); nothing written.
    trialmeta.errors.UsageError
        ``scheduler`` without ``executor="dask"``, or Dask not installed.
    """
    from trialmeta import outdir
    from trialmeta.pipeline import parallel

    parallel.check_executor(executor, scheduler)
    trials, out = Path(trials), Path(out)
    as_of, style = as_of_date(as_of), figure_style(style)
    try:  # before any work, and before taking the lock beside it: refresh replaces only a folder it wrote
        outdir.check_target(out)
    except outdir.OutputRefused:
        if not outdir.has_leftovers(out):  # else it may be an interrupted swap, recovered below
            raise
    with outdir.refresh_lock(out, wait):
        rolled_forward = outdir.has_leftovers(out)  # an interrupted swap: the files recover() completes are ours
        outdir.recover(out)
        outdir.check_target(out)
        from trialmeta.pipeline import stamp, store

        kept = store.folder(out, cache_dir)
        if not overwrite_edits and not rolled_forward:
            stamp.refuse_edited(out, "refresh", store=kept)
        if cache:  # nothing it depends on changed: the outputs are already what a refresh writes
            key = stamp.run_key(trials, as_of, style, stamp.recorded_depends(out, kept))
            if stamp.up_to_date(out, key, kept):
                return RefreshSummary(out, up_to_date=True, as_of=as_of)
        from trialmeta.pipeline import refresh as run

        with _cluster(executor, scheduler, jobs, quiet) as cluster:  # (None: processes)
            return run.refresh(trials, out, as_of=as_of, quiet=quiet, jobs=jobs, cache=cache, style=style,
                               today=today, cache_dir=cache_dir, cluster=cluster)


@contextlib.contextmanager
def _cluster(executor: str, scheduler: str | None, jobs: int | None, quiet: bool):
    """None for ``"processes"`` (the refresh starts its worker processes); for ``"dask"``, a
    :class:`trialmeta.pipeline.cluster.Cluster` on ``scheduler``, or on a local cluster of ``jobs``
    worker processes (default: every core), closed on leaving."""
    if executor != "dask":
        yield None
        return
    from trialmeta.pipeline import cluster, parallel

    with cluster.connect(scheduler, parallel.default_jobs() if jobs is None else jobs, quiet) as connected:
        yield connected


def as_of_date(value: str | None) -> str | None:
    """``as_of`` as a date (YYYY, YYYY-MM or YYYY-MM-DD), or None; a bad value is a TrialmetaError."""
    if value is None:
        return None
    from trialmeta.registry.types import partial_date

    try:
        return partial_date(str(value))
    except ValueError as exc:
        raise TrialmetaError(f"as_of: {exc}") from None


def figure_style(style):
    """A :class:`~trialmeta.registry.figstyle.StyleSpec` from a preset name, a mapping of its
    fields or a StyleSpec (None stays None); a bad value is a TrialmetaError."""
    if style is None:
        return None
    from pydantic import ValidationError

    from trialmeta.registry.figstyle import StyleSpec

    if isinstance(style, StyleSpec):
        return style
    try:
        return StyleSpec(preset=style) if isinstance(style, str) else StyleSpec(**dict(style))
    except (ValidationError, TypeError) as exc:
        what = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise TrialmetaError(f"style: {what} (got {style!r})") from None


def write_forest_files(results, registry, out: Path, formats, *, trials: bool = True, jobs: int | None = None,
                       style=None) -> list[Path]:
    """Draw the forest plots of ``results`` (and, with ``trials``, of every trial with several
    populations) into ``out``; return the files. Drawn first in a temporary folder, then moved in:
    nothing half-written, and never a file trialmeta did not write replaced."""
    from trialmeta.pipeline.outputs import Figures, deliver, write_forests

    with tempfile.TemporaryDirectory(prefix="trialmeta-forest-") as tmp:
        staged = write_forests(results, registry, Path(tmp), formats, trials=trials,
                               figures=(batch := Figures(jobs=jobs)), style=style)
        batch.write()
        return deliver(staged, out)


def write_export_files(formats, results, registry, frame, evidence_doc: dict, out: Path, as_of=None,
                       style=None, evidence_status: dict | None = None, reference_docx: Path | None = None,
                       overwrite_edits: bool = False, cache_dir=None, per: str | None = None,
                       full: bool = False) -> list[Path]:
    """Write ``report.docx`` and/or ``evidence.xlsx`` of ``results`` into ``out``; return the
    files (written first in a temporary folder, as :func:`write_forest_files`). ``evidence_status``:
    the living-evidence state (:func:`trialmeta.living.state.saved_state`), for the report's section.
    ``per``, ``full``: one file per analysis or chapter, or the single document beyond the limit
    (:func:`trialmeta.pipeline.export.write_exports`). A file that changed since refresh wrote it into
    ``out`` is refused (before any work) unless ``overwrite_edits``."""
    from trialmeta.pipeline import stamp, store
    from trialmeta.pipeline.export import export_files, write_exports
    from trialmeta.pipeline.outputs import deliver

    if not overwrite_edits:
        stamp.refuse_edited(out, "export", export_files(formats, results, per, full), store.folder(out, cache_dir))

    with tempfile.TemporaryDirectory(prefix="trialmeta-export-") as tmp:
        staged = write_exports(Path(tmp), formats, results, registry, frame, evidence_doc, as_of, style,
                               evidence_status=evidence_status, reference_docx=reference_docx, per=per, full=full,
                               quiet=False)
        return deliver(staged, out, staging=Path(tmp))

"""``trialmeta refresh``: validate -> pool every analysis -> write every output, atomically.

Outputs are built in a temporary directory beside ``outputs/`` and exchanged with it in one
atomic ``renameat2(RENAME_EXCHANGE)`` call (see :func:`trialmeta.outdir.staging_dir`), so an
invalid trial file, a failed analysis, a full disk or a kill at any moment leaves the
previous ``outputs/`` untouched. Text outputs are deterministic: rerunning on unchanged
inputs rewrites them byte for byte (the changelog gets an entry only when something moved).
"""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from trialmeta import io, tables
from trialmeta.outdir import staging_dir
from trialmeta.report import changelog, evidence
from trialmeta.synthesis.history import evolution, evolution_frame
from trialmeta.pipeline.summary import RefreshSummary
from trialmeta.pipeline.compute import CHANGELOG, EVIDENCE, Computed, build_evidence, compute, _style_files  # noqa: F401
from trialmeta.pipeline.progress import Display


def refresh(trials: Path, out: Path, as_of: str | None = None, quiet: bool = False, today: str | None = None,
            jobs: int | None = None, cache: bool = True, style=None, cache_dir=None, cluster=None) -> RefreshSummary:
    """Rebuild ``out`` from the registry at ``trials``; return what it did (``str()``: one line).
    The caller holds ``out``'s lock (:func:`trialmeta.pipeline.run.refresh` takes it). ``style``: the
    command line's figure style (:class:`trialmeta.registry.figstyle.StyleSpec`), if any.

    Figures are drawn on ``jobs`` processes (default: every core); with ``cache``, those whose
    key is unchanged since the previous refresh are copied from ``out`` (see :mod:`trialmeta.pipeline.cache`).
    What the next refresh needs is kept in ``out``'s cache folder under ``cache_dir``
    (:mod:`trialmeta.pipeline.store`), never in ``out``. ``cluster``: a Dask cluster
    (:func:`trialmeta.pipeline.cluster.connect`) that pools and draws instead of this machine.

    Raises
    ------
    InputError
        Located problems in a trial file or the analyses file; nothing is written.
    """
    from trialmeta.pipeline import store

    progress = Display(7, quiet)  # step lines and one bar for every figure drawn
    from trialmeta.pipeline.cache import FigureCache

    kept = store.folder(out, cache_dir)
    keys = FigureCache(out if cache else None, kept)  # the previous refresh's keys, and this one's
    run = compute(trials, out, as_of, style, today, progress, keys, cluster)
    # figures will probably be drawn: start the workers now, to import matplotlib meanwhile
    # (without worker processes the figures are drawn in one thread, after the other: matplotlib
    # is not thread-safe)
    drawing = not cache or run.previous is None or run.entry is not None
    with _workers(jobs if drawing else 1, cluster) as workers, staging_dir(out) as stage, \
            ThreadPoolExecutor(3 if workers else 1, "trialmeta-figures") as side:
        how = _Drawing(jobs, cache, quiet, workers, side, kept, keys, progress)
        figures, drawn, reused = _write_outputs(run, stage, out, as_of, style, progress, how)
        from trialmeta.pipeline import stamp  # last: the key of this run and every file it wrote

        depends = _style_files(run.spec, style)
        stamp.write(stage, stamp.run_key(trials, as_of, style, depends), depends)
        taken = store.take(stage, kept)  # the cache is no output: out of the folder before the swap
    store.install(taken, kept)
    progress.step(f"swapped in {io.display(out)}")
    return RefreshSummary(out, trials=len(run.registry.trials), results=len(run.frame), analyses=len(run.results),
                          pooled=len(run.results) - len(run.reused),
                          figures=figures, drawn=drawn, reused=reused, changes=run.entry,
                          warnings=tuple(run.registry.warnings), as_of=as_of)


@dataclass(frozen=True)
class _Drawing:
    """How this refresh draws: ``jobs``, the figure cache on or off, progress shown or not, the
    worker processes (None: in this process) and the threads that feed them (and build the workbook)."""

    jobs: int | None
    cache: bool
    quiet: bool
    workers: object
    side: ThreadPoolExecutor
    store: Path
    keys: object  # the run's FigureCache (figures, parts, exports)
    display: object = None  # the run's progress display (one bar for every figure)


def _write_outputs(run: Computed, stage: Path, out: Path, as_of, style, progress: Display, how: _Drawing) -> tuple:
    """Write every output of ``run`` into ``stage``; return the number of figure files and of
    figures drawn and reused.

    The forest plots are drawn (another thread feeding the workers) while this thread computes
    the history, writes the tables and builds the Word and Excel files."""
    registry, results = run.registry, run.results
    io.write_text(stage / EVIDENCE, json.dumps(run.evidence, indent=2, ensure_ascii=False) + "\n")
    io.write_text(stage / "results.csv", tables.frame_csv(run.frame))
    io.write_text(stage / "results.json",
                  json.dumps({"results": tables.records(run.frame)}, indent=2, ensure_ascii=False) + "\n")
    from trialmeta.pipeline.export import DOCX_FIGURES, write_exports

    from trialmeta.pipeline.network_outputs import write_network_outputs

    forests = _figure_batch(stage, out, how.jobs, how.cache, how.quiet, how.workers, how.keys,
                            display=how.display)
    network_figures = write_network_outputs(stage, run.networks, forests.cache, run.evidence.get("networks"))
    web, scenes = _forest_scenes(run, stage, style, how.keys)  # (scenes: the Word report's, notes outside)
    figures = _write_forest_figures(stage, results, registry, forests, style, scenes, web) + network_figures
    km = _write_km(stage, registry, forests)
    planned = forests.planned()
    histories = _figure_batch(stage, out, how.jobs, how.cache, how.quiet, how.workers, forests.cache,
                              display=how.display)
    drawing = [how.side.submit(forests.write)]
    # the workbook needs only the evidence: started now, it is built (in a worker) while the rest is written
    workbook = how.side.submit(write_exports, stage, ("xlsx",), results, registry, run.frame, run.evidence, as_of,
                               style, forests.cache, how.jobs, None, {}, how.workers, evidence_status=run.status)
    try:
        history = _history(run, stage, as_of, how.keys)
        kept = f" ({len(run.reused)} unchanged: their parts reused)" if run.reused else ""
        progress.step(f"pooled {len(results)} analyses{kept} and {len(run.indirect)} indirect comparisons")
        _write_tables(stage, results, history, how.keys, run.keys)
        from trialmeta.report import sof

        io.write_text(stage / "sof.md", sof.document(results, registry, _kept_section(stage, how.keys, run.keys)))
        progress.step("wrote evidence.json, results and evidence tables")
        history_scenes: dict = {}
        figures += _write_history_figures(stage, history, histories, history_scenes, how.keys, run.keys)
        from trialmeta.pipeline.outputs import write_rob_plots

        figures += len(write_rob_plots(results, stage / "rob", ("png", "svg"), figures=histories))
        drawing.append(how.side.submit(histories.write))
        log = changelog.prepend(io.read_text(out / CHANGELOG) if (out / CHANGELOG).is_file() else None, run.entry)
        io.write_text(stage / CHANGELOG, log)
        write_exports(stage, ("docx",), results, registry, run.frame, run.evidence, as_of, style, forests.cache,
                      how.jobs, {r.name: _when_drawn(drawing[0], png) for r in results
                                 if (png := stage / DOCX_FIGURES / f"{r.name}.png") in planned},
                      scenes, how.workers, evidence_status=run.status,
                      history={n: (s, _when_drawn(drawing[1], stage / DOCX_FIGURES / f"history-{n}.png"), history[n])
                               for n, s in history_scenes.items()}, quiet=how.quiet)
        for d in (*drawing, workbook):
            d.result()
    except BaseException:
        forests.cancel()
        histories.cancel()
        raise
    finally:
        if how.display is not None:
            how.display.close()
    drawn, reused = forests.drawn + histories.drawn, forests.reused + histories.reused
    progress.step(f"wrote {figures} figure files: {drawn} figures drawn, {reused} unchanged (copied)")
    progress.step(f"reconstructed {km} Kaplan-Meier curves")
    _write_report(stage, run, history, log, as_of, progress.quiet, how.keys)
    forests.cache.write(stage)  # (after the exports: their keys are in it too)
    progress.step("wrote report.html, report.docx, evidence.xlsx and CHANGELOG.md")
    return figures, drawn, reused


def _history(run: Computed, stage: Path, as_of, cache) -> dict:
    """Every analysis' history of the evidence: recomputed for the analyses whose part was not
    reused (:mod:`trialmeta.pipeline.parts`), whose parts are then kept for the next refresh."""
    from trialmeta.pipeline import parts

    todo = [r for r in run.results if r.name not in run.reused]
    fresh = evolution(run.registry, run.spec, todo, as_of) if todo else {}
    history = {r.name: run.reused[r.name][1] if r.name in run.reused else fresh[r.name] for r in run.results}
    parts.write(stage, cache, run.keys, run.results, history, run.reused)
    return history


def _kept_section(stage: Path, cache, keys: dict):
    """``section(result, make)`` for :func:`trialmeta.report.sof.document`: each analysis' section
    kept with its parts (:func:`trialmeta.pipeline.parts.memo`)."""
    from trialmeta.pipeline import parts

    def section(r, make) -> str:
        return parts.memo(stage, cache, f"{(parts.PARTS / r.name).as_posix()}.sof.pkl", keys.get(r.name),
                          lambda: make(r))
    return section


def _write_report(stage: Path, run: Computed, history, log: str, as_of, quiet: bool, cache=None) -> None:
    """``index.html`` and one page per analysis (:mod:`trialmeta.report.site`) and, for a registry of
    at most ``SINGLE_PAGE_LIMIT`` analyses, the single self-contained ``report.html``. With ``cache``, an
    analysis' page made under its unchanged key (:mod:`trialmeta.pipeline.parts`: its inputs and the
    code) is linked from the previous outputs, not made again."""
    import sys

    from trialmeta.report import site

    results = run.results
    io.write_text(stage / site.INDEX, site.index_page(run.registry, results, log, as_of))
    from trialmeta.pipeline import parts

    for r in results:
        parts.text(stage, cache, f"{site.ANALYSES_DIR}/{r.name}.html", run.keys.get(r.name),
                   lambda r=r: site.analysis_page(r, run.registry, bool(history.get(r.name))))
    if len(results) <= site.SINGLE_PAGE_LIMIT:
        from trialmeta.report.html import report_html

        io.write_text(stage / "report.html", report_html(run.registry, results, run.indirect, history, log, as_of,
                                                         stage, networks=run.evidence.get("networks", ()),
                                                         evidence_status=run.status))
    elif not quiet:
        print(f"note: {len(results)} analyses: report.html (one page inlining every figure) is written for at most "
              f"{site.SINGLE_PAGE_LIMIT}; open index.html (one page per analysis)", file=sys.stderr)


def _when_drawn(drawing, path: Path):
    """The bytes of a figure file of the batch running in ``drawing``, once it has finished."""
    def read() -> bytes:
        drawing.result()
        return io.read_bytes(path)
    return read


def _write_tables(stage: Path, results, history, cache=None, keys: dict | None = None) -> None:
    """The evidence tables of every analysis (``tables/<name>.*``), each copied from the previous
    outputs when its analysis' key is unchanged (:func:`trialmeta.pipeline.parts.text`), and
    ``evidence.md`` assembled from them."""
    from trialmeta.pipeline.parts import text

    combined = ["# Evidence tables\n\nGenerated by `trialmeta refresh` from `trials/`; one section per "
                "analysis of `trials/analyses.yaml`.\n"]
    for r in results:
        key = (keys or {}).get(r.name)
        text(stage, cache, f"tables/{r.name}.csv", key, lambda: evidence.to_csv(r))
        md = text(stage, cache, f"tables/{r.name}.md", key, lambda: evidence.to_markdown(r))
        text(stage, cache, f"tables/{r.name}.html", key, lambda: evidence.standalone_html(r))
        text(stage, cache, f"tables/{r.name}-history.csv", key,
             lambda: tables.frame_csv(evolution_frame(r.name, history[r.name])))
        combined.append(md)
    io.write_text(stage / "evidence.md", "\n".join(combined))


def _figure_batch(stage: Path, out: Path, jobs: int | None, cache: bool, quiet: bool, workers=None,
                  shared=None, store: Path | None = None, display=None):
    """A batch of figures for ``stage``; ``shared``: the cache of another batch of this refresh;
    ``store``: the cache folder of ``out``."""
    from trialmeta.pipeline.cache import FigureCache
    from trialmeta.pipeline.outputs import Figures

    return Figures(stage, shared or FigureCache(out if cache else None, store), jobs, quiet, workers, display)


@contextlib.contextmanager
def _workers(jobs: int | None, cluster=None):
    """Worker processes started now (None with one job), closed on leaving; or ``cluster``, if
    given (its owner closes it)."""
    from trialmeta.pipeline.parallel import Workers, default_jobs

    if cluster is not None:
        yield cluster
        return
    jobs = default_jobs() if jobs is None else jobs
    workers = Workers(jobs) if jobs > 1 else None
    try:
        yield workers
    finally:
        if workers is not None:
            workers.close()


def _forest_scenes(run: Computed, stage: Path, style, cache) -> tuple[dict, dict]:
    """Analysis name -> its forest plot's scene, and its scene in the Word report (the title and
    notes outside the image: :func:`trialmeta.pipeline.export.document_style`), each kept with the
    analysis' parts and built again only when its key changes (:func:`trialmeta.pipeline.parts.memo`)."""
    from trialmeta.pipeline import parts
    from trialmeta.pipeline.export import document_style
    from trialmeta.plot.forest import forest_scene
    from trialmeta.plot.style import resolve

    web, word = {}, {}
    for r in run.results:
        key, base = run.keys.get(r.name), (parts.PARTS / r.name).as_posix()
        web[r.name] = parts.memo(stage, cache, f"{base}.forest.pkl", key,
                                 lambda: forest_scene(r, resolve(r.spec.style, style)))
        word[r.name] = parts.memo(stage, cache, f"{base}.document.pkl", key,
                                  lambda: forest_scene(r, document_style(r, style)))
    return web, word


def _write_forest_figures(stage: Path, results, registry, batch, style=None, word_scenes=None, scenes=None) -> int:
    """Queue every forest plot in ``batch``; return how many files they make. The Word report's
    figures (palette PNGs under ``.cache/docx``, of ``word_scenes``, kept in the cache folder) are queued
    in the same batch."""
    from trialmeta.pipeline.export import DOCX_FIGURES
    from trialmeta.pipeline.outputs import write_forests

    return len(write_forests(results, registry, stage / "forest", ("png", "svg", "pdf"), figures=batch, style=style,
                             word_dir=stage / DOCX_FIGURES, word_scenes=word_scenes, scenes=scenes))


def _write_history_figures(stage: Path, history, batch, scenes: dict | None = None, cache=None,
                           keys: dict | None = None) -> int:
    """Queue every history figure in ``batch``; return how many files they make (``scenes``: filled
    with each figure's scene, kept with its analysis' parts: :func:`trialmeta.pipeline.parts.memo`)."""
    from trialmeta.pipeline import parts
    from trialmeta.pipeline.export import DOCX_FIGURES
    from trialmeta.pipeline.outputs import write_history_plots
    from trialmeta.plot.history import history_scene

    def scene(name, steps):
        return parts.memo(stage, cache, f"{(parts.PARTS / name).as_posix()}.history.pkl", (keys or {}).get(name),
                          lambda: history_scene(name, steps))

    return len(write_history_plots(history, stage / "history", ("png", "svg"), figures=batch, scenes=scenes,
                                   word_dir=stage / DOCX_FIGURES, make_scene=scene))


def _write_km(stage: Path, registry, batch) -> int:
    from trialmeta.pipeline.km_outputs import write_km

    write_km(registry, stage / "km", figures=batch)
    return len(registry.curves)


"""Figure files: every figure of a run rendered and written under the output folder.

The figures themselves come from :mod:`trialmeta.plot` as scenes (plain data); this module
queues them in a :class:`Figures` batch, which renders each scene once (in a process pool,
:mod:`trialmeta.pipeline.parallel`), or copies it from the previous outputs when its key is
unchanged (:mod:`trialmeta.pipeline.cache`), and writes it in every requested format through
:mod:`trialmeta.io`, so :mod:`trialmeta.plot` never touches a file.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable, Sequence

from trialmeta import io
from trialmeta.plot.figures import FORMATS, check_formats


def file_path(stem: Path, fmt: str) -> Path:
    """The file of one figure format: ``<stem>.png`` for "png" and for "png@300" (a PNG at 300 dpi)."""
    return Path(stem).parent / f"{Path(stem).name}.{fmt.split('@')[0]}"


class Figures:
    """A batch of figure files: scenes are queued by :meth:`add` and drawn by :meth:`write`.

    Parameters
    ----------
    root : Path, optional
        The output folder; manifest paths are relative to it (needed with ``cache``).
    cache : trialmeta.pipeline.cache.FigureCache, optional
        Reuse unchanged figures of the previous outputs and record this run's keys.
    jobs : int, optional
        Worker processes (default: every core).
    quiet : bool
        No progress bar (there is none either when stderr is not a terminal).
    workers : trialmeta.pipeline.parallel.Workers, optional
        Processes started earlier (already importing matplotlib) to draw on; closed by their owner.
    display : trialmeta.pipeline.progress.Display, optional
        The run's progress display: this batch's figures join its one bar (else the batch has
        its own bar).
    """

    def __init__(self, root: Path | None = None, cache=None, jobs: int | None = None, quiet: bool = False,
                 workers=None, display=None):
        from trialmeta.pipeline.parallel import default_jobs

        self.root, self.cache, self.quiet, self.workers, self.display = root, cache, quiet, workers, display
        self.jobs = default_jobs() if jobs is None else jobs
        self.queue: list[tuple] = []
        self.drawn = self.reused = 0
        self._stop = threading.Event()

    def planned(self) -> set[Path]:
        """Every file queued and not yet written."""
        return {path for _, files in self.queue for path, _ in files}

    def cancel(self) -> None:
        """Stop a :meth:`write` running in another thread (its workers are terminated)."""
        self._stop.set()

    def add(self, scene, stem: Path, formats: Iterable[str], elsewhere: dict[str, Path] | None = None) -> list[Path]:
        """Queue ``scene`` for ``<stem>.<format>`` in each format, or the path ``elsewhere`` gives a
        format (drawn from the same render, e.g. the Word report's copy); return those paths."""
        files = tuple((file_path(stem, fmt), fmt) for fmt in formats) \
            + tuple((Path(path), fmt) for fmt, path in (elsewhere or {}).items())
        self.queue.append((scene, files))
        return [path for path, _ in files]

    def write(self) -> None:
        """Copy the unchanged figures, draw the others (all cores) and write every file."""
        from trialmeta.pipeline import parallel, progress

        todo = []
        for scene, files in self.queue:
            cached = self._cached(scene, files)
            if cached is None:
                todo.append((scene, files))
            else:
                for path, key, data in cached:
                    self._put(path, key, data)
                self.reused += 1
        self.queue = []
        parts = self._parts(todo)
        left = [0] * len(todo)
        for i, _ in parts:
            left[i] += 1
        bar = (self.display.batch(len(todo)) if self.display is not None
               else progress.bar(len(todo), "drawing figures", self.quiet))
        try:
            for j, encoded in parallel.draw_all([(todo[i][0], tuple(f for _, f in files)) for i, files in parts],
                                                self.jobs, stop=self._stop.is_set, workers=self.workers):
                i, files = parts[j]
                keys = self._keys(todo[i][0], [f for _, f in files])
                for (path, _), key, data in zip(files, keys, encoded):
                    self._put(path, key, data)
                left[i] -= 1
                if not left[i]:
                    self.drawn += 1
                    bar.update()
        finally:
            bar.close()

    def _parts(self, todo) -> list[tuple[int, tuple]]:
        """The drawing tasks, ``(scene index, files)``: each scene whole or, when there are fewer
        scenes than twice the workers (a few changed figures), split into its raster and its vector
        files, so that they use every core (a second render of a scene costs ~0.05 s; the bytes
        are the same either way)."""
        if self.jobs <= 1 or len(todo) >= 2 * self.jobs:
            return [(i, files) for i, (_, files) in enumerate(todo)]
        parts = []
        for i, (_, files) in enumerate(todo):
            raster = tuple(f for f in files if f[1].split("@")[0] in ("png", "palette"))
            vector = tuple(f for f in files if f not in raster)
            parts += [(i, group) for group in (raster, vector) if group]
        return parts

    def _keys(self, scene, formats) -> list[str | None]:
        if self.cache is None:
            return [None] * len(formats)
        from trialmeta.pipeline.cache import file_key, scene_digest

        digest = scene_digest(scene)
        return [file_key(digest, fmt) for fmt in formats]

    def _cached(self, scene, files) -> list[tuple] | None:
        """Every file's previous bytes, or None if any must be drawn (a scene is drawn whole)."""
        if self.cache is None:
            return None
        out = []
        for (path, _), key in zip(files, self._keys(scene, [f for _, f in files])):
            data = self.cache.fetch(self._rel(path), key)
            if data is None:
                return None
            out.append((path, key, data))
        return out

    def _rel(self, path: Path) -> str:
        return Path(path).relative_to(self.root).as_posix()

    def _put(self, path: Path, key: str | None, data: bytes) -> None:
        if self.cache is not None:
            self.cache.put(self._rel(path), key, data, path)
        else:
            io.write_bytes(path, data)


def write_scene(scene, stem: Path, formats: Iterable[str], figures: Figures | None = None) -> list[Path]:
    """Write ``<stem>.<format>`` of ``scene`` for each format (rendered once); return the paths.

    With ``figures``, the scene is only queued in that batch (written by its ``write()``).
    """
    if figures is not None:
        return figures.add(scene, stem, formats)
    batch = Figures(jobs=1, quiet=True)
    paths = batch.add(scene, stem, formats)
    batch.write()
    return paths


#: Forest plots are print figures: their PNGs are 300 dpi (history and Kaplan-Meier figures 200).
FOREST_DPI = 300
#: The Word report's copy of a forest plot (:func:`trialmeta.plot.render.encode`).
WORD_FORMAT = f"palette@{FOREST_DPI}"


def write_forests(results: Sequence, registry, out_dir: Path, formats: Iterable[str] = FORMATS, *,
                  trials: bool = True, figures: Figures | None = None, style=None,
                  word_dir: Path | None = None, scenes: dict | None = None,
                  word_scenes: dict | None = None) -> list[Path]:
    """Write the forest of every analysis in ``results`` and, with ``trials``, the subgroup
    forest of every trial and endpoint with two or more populations. PNGs are 300 dpi.

    Parameters
    ----------
    results : sequence of AnalysisResult
    registry : trialmeta.registry.load.Registry
    out_dir : Path
        Directory to write into (created if needed), e.g. ``outputs/forest``.
    formats : iterable of {"png", "svg", "pdf"}
    trials : bool
        Also write the single-trial forests.
    figures : Figures, optional
        Queue the figures in this batch instead of drawing them now (on every core).
    style : trialmeta.registry.figstyle.StyleSpec, optional
        The command line's figure style, over each analysis' ``style:``; the single-trial
        forests, which belong to no analysis, take it alone.
    word_dir : Path, optional
        Also write each analysis' forest for the Word report as ``<word_dir>/<name>.png``, a 300 dpi
        palette PNG of its ``word_scenes`` scene (``pipeline.export.forest_scenes``: the title and
        notes outside the image), in the same cached batch; for an analysis drawn in the default
        style, that scene is also written as ``<out_dir>/<name>-document.svg/.pdf`` (of the SVG and
        PDF ``formats``): the figure without its title and notes, for any document that prints
        them as text (the ``document`` preset).
    scenes : dict, optional
        Analysis name -> its forest scene, if already built.
    word_scenes : dict, optional
        Analysis name -> its scene in the Word report (required with ``word_dir``).

    Returns
    -------
    list of Path
        Every file written, in order (the Word copies excepted).
    """
    from trialmeta.plot.forest import forest_scene
    from trialmeta.plot.style import resolve, style_for
    from trialmeta.plot.trial_forest import trial_forests

    formats = tuple(f"png@{FOREST_DPI}" if f == "png" else f for f in check_formats(formats))
    word = {r.name: {WORD_FORMAT: Path(word_dir) / f"{r.name}.png"} for r in results} if word_dir is not None else {}
    built = scenes or {}
    scenes = [(r.name, built[r.name] if r.name in built else forest_scene(r, resolve(r.spec.style, style)))
              for r in results]
    if trials:
        scenes += [(f"trial-{t}-{e.lower()}", s)
                   for t, e, s in trial_forests(registry, results, style_for(style) if style is not None else None)]
    batch = figures if figures is not None else Figures()
    paths = []
    plain = {r.name for r in results if resolve(r.spec.style, style) is None}  # drawn in the default style
    vector = tuple(f for f in formats if f in ("svg", "pdf"))
    for name, scene in scenes:
        paths += batch.add(scene, Path(out_dir) / name, formats)
        if name in word:  # the Word report's figure: its own scene (title and notes outside the image)
            variants = vector if name in plain else ()
            paths += [p for p in batch.add(word_scenes[name], Path(out_dir) / f"{name}-document", variants, word[name])
                      if p not in word[name].values()]
    if figures is None:
        batch.write()
    return paths


def write_history_plots(history: dict, out_dir: Path, formats=("png", "svg"),
                        figures: Figures | None = None, scenes: dict | None = None,
                        word_dir: Path | None = None, make_scene=None) -> list[Path]:
    """One cumulative figure per analysis with at least one step; returns the paths written.
    ``scenes``: a dict given is filled with analysis name -> its scene; ``word_dir``: also write each
    as ``<word_dir>/history-<name>.png`` (the Word report's copy, 300 dpi palette PNG, of the same render);
    ``make_scene(name, steps)``: the scene (default :func:`trialmeta.plot.history.history_scene`)."""
    from trialmeta.plot.history import history_scene

    written = []
    for name, steps in sorted(history.items()):
        if steps:
            scene = (make_scene or history_scene)(name, steps)
            if scenes is not None:
                scenes[name] = scene
            if word_dir is None:
                written += write_scene(scene, Path(out_dir) / name, formats, figures)
                continue
            batch = figures if figures is not None else Figures(jobs=1, quiet=True)
            word = Path(word_dir) / f"history-{name}.png"
            written += [p for p in batch.add(scene, Path(out_dir) / name, formats, {WORD_FORMAT: word}) if p != word]
            if figures is None:
                batch.write()
    return written


def write_rob_plots(results, out_dir: Path, formats=("png", "svg"), figures: Figures | None = None) -> list[Path]:
    """The risk-of-bias traffic-light and weighted summary plots (``<name>-traffic-light``,
    ``<name>-summary``) of every analysis with at least one assessed study; returns the paths written."""
    from trialmeta.plot.rob_plots import summary_scene, traffic_light_scene

    written = []
    for r in results:
        if getattr(r, "risk_of_bias", None):
            written += write_scene(traffic_light_scene(r), Path(out_dir) / f"{r.name}-traffic-light", formats, figures)
            written += write_scene(summary_scene(r), Path(out_dir) / f"{r.name}-summary", formats, figures)
    return written


def deliver(staged: Sequence[Path], out: Path, staging: Path | None = None) -> list[Path]:
    """Move files written in a temporary folder into ``out`` (created if needed), refusing before
    anything moves if one would replace a file that no trialmeta manifest lists; record them in
    ``out``'s manifest. Returns the new paths. With ``staging`` (the temporary folder), a file keeps
    its path below it (``word/chapters/x.docx``); else its name."""
    import shutil

    from trialmeta import outdir

    names = [Path(p).relative_to(staging).as_posix() if staging is not None else Path(p).name for p in staged]
    root, prefix = outdir.claim(out, names)
    Path(out).mkdir(parents=True, exist_ok=True)
    paths = []
    for p, name in zip(staged, names):
        (Path(out) / name).parent.mkdir(parents=True, exist_ok=True)
        paths.append(Path(shutil.move(str(p), Path(out) / name)))
    outdir.record(root, [prefix + n for n in names])
    return paths



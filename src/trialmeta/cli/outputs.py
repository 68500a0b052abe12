"""Figure files: every figure of a run rendered and written under the output folder.

The figures themselves come from :mod:`trialmeta.plot` as scenes (plain data); this module
renders each once and writes it in every requested format through :mod:`trialmeta.io`, so
:mod:`trialmeta.plot` never touches a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from trialmeta import io
from trialmeta.plot.figures import FORMATS, check_formats


def write_scene(scene, stem: Path, formats: Iterable[str]) -> list[Path]:
    """Render ``scene`` once and write ``<stem>.<format>`` for each format; return the paths."""
    from trialmeta.plot import render

    fig = render.render(scene)
    written = []
    try:
        for fmt in formats:
            path = Path(stem).parent / f"{Path(stem).name}.{fmt}"
            io.write_bytes(path, render.to_bytes(fig, fmt))
            written.append(path)
    finally:
        render.close(fig)
    return written


def write_forests(results: Sequence, registry, out_dir: Path, formats: Iterable[str] = FORMATS, *,
                  trials: bool = True, style=None) -> list[Path]:
    """Write the forest of every analysis in ``results`` and, with ``trials``, the subgroup
    forest of every trial and endpoint with two or more populations.

    Parameters
    ----------
    results : sequence of AnalysisResult
    registry : trialmeta.registry.load.Registry
    out_dir : Path
        Directory to write into (created if needed), e.g. ``outputs/forest``.
    formats : iterable of {"png", "svg", "pdf"}
    trials : bool
        Also write the single-trial forests.
    style : trialmeta.registry.figstyle.StyleSpec, optional
        The command line's figure style, over each analysis' ``style:`` (single-trial forests
        keep the default style).

    Returns
    -------
    list of Path
        Every file written, in order.
    """
    from trialmeta.plot.forest import forest_scene
    from trialmeta.plot.style import resolve
    from trialmeta.plot.trial_forest import trial_forests

    formats = check_formats(formats)
    scenes = [(r.name, forest_scene(r, resolve(r.spec.style, style))) for r in results]
    if trials:
        scenes += [(f"trial-{t}-{e.lower()}", s) for t, e, s in trial_forests(registry, results)]
    paths = []
    for name, scene in scenes:
        paths += write_scene(scene, Path(out_dir) / name, formats)
    return paths


def write_history_plots(history: dict, out_dir: Path, formats=("png", "svg")) -> list[Path]:
    """One cumulative figure per analysis with at least one step; returns the paths written."""
    from trialmeta.plot.history import history_scene

    written = []
    for name, steps in sorted(history.items()):
        if steps:
            written += write_scene(history_scene(name, steps), Path(out_dir) / name, formats)
    return written


def write_km_figure(result, stem: Path, formats=("png", "svg"), title: str = "",
                    labels: dict[str, str] | None = None) -> list[Path]:
    """Render the Kaplan-Meier figure of one reconstruction and write ``stem.<format>``."""
    from trialmeta.plot.km import km_scene

    return write_scene(km_scene(result, title, labels), stem, formats)


def write_km(registry, out: Path) -> list[Path]:
    """Write each reconstruction's figure, patient data and summary under ``out``; return the paths."""
    from trialmeta.registry.km import FORMATS as KM_FORMATS, stem
    from trialmeta.survival.reconstruct import ipd_csv

    written = []
    for t in registry.trials:
        for i, r in enumerate(t.trial.results):
            recon = registry.curves.get((t.trial.id, i))
            if recon is None:
                continue
            base = out / stem(t.trial.id, r)
            arms = t.trial.arms
            pop = next(p.label for p in t.trial.populations if p.key == r.population)
            cut = next(c.label for c in t.trial.data_cuts if c.key == r.data_cut)
            title = f"{t.trial.acronym}: {r.endpoint}, {pop} ({cut}; {r.km.source} {r.km.figure})"
            written += write_km_figure(recon, base, KM_FORMATS, title=title,
                                       labels={"experimental": arms.experimental.label,
                                               "control": arms.control.label})
            ipd = base.parent / f"{base.name}-ipd.csv"
            io.write_text(ipd, ipd_csv(recon))
            written.append(ipd)
    return written
